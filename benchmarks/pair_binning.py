"""How much of Column Pair Trends is sdmetrics binning each table on its own range.

For a pair of one numeric and one categorical column, SDMetrics' quality report cuts the
numeric column into 10 bins and compares the two contingency tables. sdmetrics 0.32 computes
those bins separately for the real and the synthetic table (``np.histogram_bin_edges`` of
each), so a synthetic column whose minimum or maximum differs from the real one's is cut at
other places, and its bin 3 is not the real bin 3. SDMetrics' stated method (sdmetrics PR #368)
bins both on the real column's edges, the outer ones open. This script fits ``TabularVAE``
with its defaults on the benchmark's split and prints each such pair's score both ways and
the table's Column Pair Trends with the report's pairs replaced by the real-edge ones::

    python -m benchmarks.pair_binning --datasets shuttle,adult --seed 0
    python -m benchmarks.pair_binning --datasets default_credit --max-train 2000 --params '{"epochs": 100}'

The benchmark tables keep the report's score; this is a diagnostic of the metric.
``tabvae.evaluate`` adds a note to its report when the two differ by more than 0.01.
"""

from __future__ import annotations

import argparse
import json
import warnings

import pandas as pd

from .run import load_dataset, split


def pair_scores(real: pd.DataFrame, synthetic: pd.DataFrame, numeric: str, other: str) -> tuple[float, float]:
    """(score with each table's own edges, as sdmetrics 0.32; score with the real column's edges)."""
    from tabvae.evaluate import shared_bin_similarity

    args = (real[numeric], synthetic[numeric], real[other], synthetic[other])
    return shared_bin_similarity(*args, bins="own"), shared_bin_similarity(*args)


def run_table(name: str, seed: int, max_train: int, params: dict | None = None) -> dict:
    import torch

    from tabvae import TabularVAE
    from tabvae.evaluate import evaluate
    from tabvae.schema import infer_schema

    torch.set_num_threads(1)
    df, target, task = load_dataset(name)
    train, test = split(df, target, task, seed, max_train)
    schema = infer_schema(train, warn=False)
    synthetic = TabularVAE(random_state=seed, **(params or {})).fit(train).sample(len(train), random_state=seed)
    report = evaluate(train, synthetic, target=target, task=task, holdout=test, random_state=seed,
                      metadata=schema)
    numeric = {c.name for c in schema.columns if c.kind in ("numeric", "integer")}
    discrete = {c.name for c in schema.columns if c.kind not in ("numeric", "integer", "datetime")}
    pairs = report.pair_trends.copy()
    # One numeric and one discrete column (datetime pairs are left as the report scores them).
    mixed = (pairs.column_1.isin(numeric) & pairs.column_2.isin(discrete)) | (
        pairs.column_2.isin(numeric) & pairs.column_1.isin(discrete))
    worst = []
    for i in pairs.index[mixed]:
        a, b = pairs.at[i, "column_1"], pairs.at[i, "column_2"]
        num, other = (a, b) if a in numeric else (b, a)
        own, fixed = pair_scores(train[[num, other]], synthetic[[num, other]], num, other)
        worst.append((round(pairs.at[i, "score"], 4), round(own, 4), round(fixed, 4), num, other))
        pairs.at[i, "score"] = fixed
    worst.sort()
    return {"dataset": name, "seed": seed, "max_train": max_train, "params": params or {},
            "column_pair_trends": report.scores["column_pair_trends"],
            "with_real_edges": float(pairs.score.mean()), "mixed_pairs": int(mixed.sum()),
            "worst_pairs (report, own edges, real edges, numeric, other)": worst[:5]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="shuttle")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-train", type=int, default=10_000)
    ap.add_argument("--params", default="{}", help="JSON dict of TabularVAE parameters")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    for name in args.datasets.split(","):
        print(json.dumps(run_table(name, args.seed, args.max_train, json.loads(args.params))), flush=True)


if __name__ == "__main__":
    main()
