"""Memorisation on small tables: closer-to-train share and fidelity on 150 / 500 / 2,000-row slices.

For every shared table, slice size ``n`` and seed ``k``: ``n`` training rows are
drawn from the seed's 80 % split (stratified for classification) and ``n``
holdout rows from its 20 % test part; tabvae is fitted on the slice with each
setting of ``--configs`` and 2,000 rows are sampled.  Each line of the output
JSONL holds the closer-to-train share and the membership-attack AUC, and
Column Shapes, Column Pair Trends and LogisticDetection against up to 2,000
further unseen test rows (fidelity to the table, not to the memorised slice),
the fit time and the epochs run.  With ``--control``, a line per slice scores
2,000 unseen real rows in place of synthetic ones: the chance level of that
train/holdout pair, about 0.5 on average but not on every slice.  With
``--marginals``, a line per slice scores rows whose columns are each drawn on
their own from the slice's encoded values: no row can be copied, so what they
score above chance is the slice's own support (:func:`marginals`)::

    python -m benchmarks.small_tables --sizes 150,500,2000 --seeds 0 \\
        --configs '[{}, {"early_stopping": true}]' --control --marginals --out benchmarks/results/small_tables.jsonl

``--configs`` holds keyword arguments of :class:`tabvae.TabularVAE` (a ``config``
key takes a dict of :class:`tabvae.TrainingConfig` fields).  One torch thread.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from benchmarks.run import DATASETS, REPO, load_dataset, machine_info, split

N_SYNTHETIC = 2_000
CHANCE, MARGINALS = "real rows", "columns drawn independently"  # the baselines' "params" in the JSONL
N_UNSEEN = 2_000  # test rows (not the holdout) that fidelity is scored against
KEYS = (
    "closer_to_train_share",
    "membership_attack_auc",
    "column_shapes",
    "column_pair_trends",
    "logistic_detection",
)


def _slice(name: str, n: int, k: int):
    """``(target, task, train, holdout, rest)``: the ``n``-row slice of seed ``k``, ``n`` holdout rows from
    its test part (at most half of it) and the test rows left, which unseen rows are drawn from."""
    df, target, task = load_dataset(name)
    train, test = split(df, target, task, k, max_train=n)
    holdout = test.sample(n=min(n, len(test) // 2), random_state=k)
    return target, task, train, holdout.reset_index(drop=True), test.drop(holdout.index)


def _baseline_row(name: str, n: int, k: int, label: str, scores) -> dict:
    row = {"dataset": name, "n": n, "seed": k, "params": label}
    row.update({key: scores.scores.get(key) for key in KEYS[:2]})
    return row


def one(name: str, n: int, k: int, params: dict) -> dict:
    """Fit on an ``n``-row slice of ``name`` (seed ``k``) and score the sample."""
    from tabvae import TabularVAE, evaluate

    target, task, train, holdout, rest = _slice(name, n, k)
    unseen = rest.sample(n=min(N_UNSEEN, len(rest)), random_state=k).reset_index(drop=True)
    model = TabularVAE(random_state=k, **params)
    t0 = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - t0
    synthetic = model.sample(N_SYNTHETIC, random_state=k)
    privacy = evaluate(train, synthetic, target=target, task=task, holdout=holdout, random_state=k).scores
    fidelity = evaluate(unseen, synthetic, target=target, task=task, random_state=k).scores
    row = {"dataset": name, "n": n, "seed": k, "params": params, "fit_s": round(fit_s, 2)}
    row["epochs_run"] = len(model.history_["loss"])
    row.update({key: privacy.get(key) for key in KEYS[:2]})
    row.update({key: fidelity.get(key) for key in KEYS[2:]})
    return row


def control(name: str, n: int, k: int) -> dict:
    """The closer-to-train share of unseen real rows in place of synthetic ones: this split's chance level."""
    from tabvae import evaluate

    target, task, train, holdout, rest = _slice(name, n, k)
    unseen = rest.sample(n=min(N_SYNTHETIC, len(rest)), random_state=k + 1).reset_index(drop=True)
    scores = evaluate(train, unseen, target=target, task=task, holdout=holdout, random_state=k)
    return _baseline_row(name, n, k, CHANCE, scores)


def marginals(name: str, n: int, k: int) -> dict:
    """The closer-to-train share of rows that copy no training row: every column drawn on its own.

    Each column of 2,000 rows is drawn from the slice's own encoded values (the default encoders,
    value protection included) and decoded: a generator that keeps each column's support and shape
    but cannot copy a row.  What it scores above chance is the support of the slice itself.
    """
    import numpy as np

    from tabvae import TabularVAE, evaluate

    target, task, train, holdout, _ = _slice(name, n, k)
    encoder = TabularVAE().fit_encoder(train)
    cont, codes = encoder.transform(train)
    rng = np.random.RandomState(k)
    pick = lambda block: block[rng.randint(len(block), size=(N_SYNTHETIC, block.shape[1])), np.arange(block.shape[1])]  # noqa: E731
    rows = encoder.inverse_transform(pick(cont).astype(np.float32), pick(codes), rng)
    scores = evaluate(train, rows, target=target, task=task, holdout=holdout, random_state=k)
    return _baseline_row(name, n, k, MARGINALS, scores)


def _setting(params) -> str:
    """A row's label in the report: a baseline's name, or its TabularVAE keyword arguments."""
    if isinstance(params, str):
        return "unseen real rows (chance)" if params == CHANCE else params
    return json.dumps(params) if params else "defaults"


def report(rows: list[dict]) -> str:
    """Markdown: per table and slice size, the mean over seeds of each setting, and the chance level."""
    import pandas as pd

    df = pd.DataFrame(rows)
    df["setting"] = df["params"].map(_setting)
    means = df.groupby(["dataset", "n", "setting"], sort=False)[list(KEYS)].mean()
    seeds = df.groupby(["dataset", "n", "setting"], sort=False)["seed"].nunique()
    lines = [
        "| table | rows | setting | seeds | closer-to-train | attack AUC | Column Shapes | Column Pair Trends | "
        "LogisticDetection |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, n, setting), r in means.iterrows():
        cells = " | ".join("" if pd.isna(r[k]) else f"{r[k]:.3f}" for k in KEYS)
        lines.append(f"| {name} | {n} | {setting} | {seeds[(name, n, setting)]} | {cells} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--sizes", default="150,500,2000")
    p.add_argument("--seeds", default="0")
    p.add_argument("--configs", default="[{}]", help="JSON list of TabularVAE keyword arguments")
    p.add_argument("--control", action="store_true", help="also score unseen real rows (chance level)")
    p.add_argument("--marginals", action="store_true", help="also score rows whose columns are drawn independently")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "small_tables.jsonl")
    p.add_argument("--report", action="store_true", help="print the markdown table of --out and exit")
    args = p.parse_args(argv)
    if args.report:
        print(report([json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]))
        return
    torch.set_num_threads(1)
    configs = json.loads(args.configs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    with args.out.open("a") as f:
        for name in args.datasets.split(","):
            for n in (int(s) for s in args.sizes.split(",")):
                for k in (int(s) for s in args.seeds.split(",")):
                    for wanted, baseline in ((args.control, control), (args.marginals, marginals)):
                        if wanted:
                            row = baseline(name, n, k)
                            f.write(json.dumps(row) + "\n")
                            print(name, n, k, row["params"], round(row["closer_to_train_share"], 3), flush=True)
                    for params in configs:
                        row = one(name, n, k, params)
                        row["machine"] = {key: machine[key] for key in ("cpu_model", "git_commit")}
                        f.write(json.dumps(row) + "\n")
                        f.flush()
                        shown = {key: round(row[key], 3) for key in KEYS if row[key] is not None}
                        print(name, n, k, json.dumps(params), row["fit_s"], row["epochs_run"], shown, flush=True)


if __name__ == "__main__":
    main()
