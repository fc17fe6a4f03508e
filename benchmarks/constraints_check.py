"""Discovered constraints on the shared tables: violations in 100,000 sampled rows, and fidelity with and without.

    python -m benchmarks.constraints_check [--tables adult,...] [--max-train 10000] [--seeds 0,1,2]

For each table (the benchmark's 80/20 split of seed 0, at most ``--max-train`` training rows):
``discover_constraints`` on the training rows; then, for each seed of ``--seeds``, a default ``TabularVAE``
fitted with those rules and one without (both with ``random_state=seed``), 100,000 rows sampled from the
constrained model and checked with ``ConstraintSet.check``, and Column Shapes, Column Pair Trends and
LogisticDetection of 10,000 rows from each model against the training rows (``tabvae.evaluate``).
Prints a markdown table: one row per seed and, with several seeds, their mean (violations summed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from tabvae import TabularVAE, discover_constraints, evaluate

from .run import DATASETS, load_dataset, split

METRICS = ("column_shapes", "column_pair_trends", "logistic_detection")


def fidelity(train, synthetic) -> dict:
    scores = evaluate(train, synthetic, random_state=0).to_dict()["scores"]
    return {k: scores[k] for k in METRICS}


def one_seed(train, rules, seed: int) -> dict:
    """Figures of the models fitted with and without ``rules`` with ``random_state=seed``."""
    t0 = time.perf_counter()
    with_rules = TabularVAE(constraints=rules, random_state=seed).fit(train) if rules else None
    fit_with = time.perf_counter() - t0
    t0 = time.perf_counter()
    without = TabularVAE(random_state=seed).fit(train)
    out = {
        "fit_without": time.perf_counter() - t0,
        **{f"{k}_without": v for k, v in fidelity(train, without.sample(10_000, random_state=1)).items()},
    }
    if with_rules is not None:
        out["violations"] = sum(with_rules.constraints_.check(with_rules.sample(100_000, random_state=2)).values())
        out["fit_with"] = fit_with
        out.update({f"{k}_with": v for k, v in fidelity(train, with_rules.sample(10_000, random_state=1)).items()})
    return out


def row(name: str, label: str, n_rules: int, r: dict) -> str:
    def pair(k: str, fmt: str) -> str:
        return f"{format(r[k + '_with'], fmt) if k + '_with' in r else '–'} / {format(r[k + '_without'], fmt)}"

    broken = r.get("violations", "–")
    cells = " | ".join(pair(k, ".3f") for k in METRICS)
    return f"| {name} | {label} | {n_rules} | {broken} | {cells} | {pair('fit', '.1f')} |"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tables", default=",".join(DATASETS))
    p.add_argument("--max-train", type=int, default=10_000)
    p.add_argument("--seeds", default="0", help="comma-separated random_state values of the fitted models")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    torch.set_num_threads(1)
    print(
        "| table | seed | rules | violations in 100,000 rows | shapes with / without | trends with / without | "
        "LogisticDetection with / without | fit s with / without |"
    )
    print("|---|---|---:|---:|---|---|---|---|")
    for name in args.tables.split(","):
        df, target, task = load_dataset(name)
        train, _ = split(df, target, task, 0, args.max_train)
        rules = discover_constraints(train)
        runs = []
        for seed in seeds:
            runs.append(one_seed(train, rules, seed))
            print(row(name, str(seed), len(rules), runs[-1]), flush=True)
        if len(runs) > 1:
            mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
            if "violations" in mean:
                mean["violations"] = sum(r["violations"] for r in runs)
            print(row(name, "mean", len(rules), mean), flush=True)


if __name__ == "__main__":
    main()
