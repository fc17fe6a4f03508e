"""Discovered constraints on the shared tables: violations in 100,000 sampled rows, and fidelity with and without.

    python -m benchmarks.constraints_check [--tables adult,...] [--max-train 10000]

For each table (seed 0, the benchmark's 80/20 split, at most ``--max-train`` training rows):
``discover_constraints`` on the training rows, a default ``TabularVAE`` fitted with those rules and one
without, 100,000 rows sampled from the constrained model and checked with ``ConstraintSet.check``, and
Column Shapes, Column Pair Trends and LogisticDetection of 10,000 rows from each model against the
training rows (``tabvae.evaluate``).  Prints a markdown table.
"""

from __future__ import annotations

import argparse
import time

import torch

from tabvae import TabularVAE, discover_constraints, evaluate

from .run import DATASETS, load_dataset, split


def fidelity(train, synthetic) -> dict:
    scores = evaluate(train, synthetic, random_state=0).to_dict()["scores"]
    return {k: scores[k] for k in ("column_shapes", "column_pair_trends", "logistic_detection")}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tables", default=",".join(DATASETS))
    p.add_argument("--max-train", type=int, default=10_000)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    print(
        "| table | rules | violations in 100,000 rows | shapes with / without | trends with / without | "
        "LogisticDetection with / without | fit s with / without |"
    )
    print("|---|---:|---:|---|---|---|---|")
    for name in args.tables.split(","):
        df, target, task = load_dataset(name)
        train, _ = split(df, target, task, 0, args.max_train)
        rules = discover_constraints(train)
        t0 = time.perf_counter()
        with_rules = TabularVAE(constraints=rules, random_state=0).fit(train) if rules else None
        fit_with = time.perf_counter() - t0
        t0 = time.perf_counter()
        without = TabularVAE(random_state=0).fit(train)
        fit_without = time.perf_counter() - t0
        base = fidelity(train, without.sample(10_000, random_state=1))
        if with_rules is None:
            print(
                f"| {name} | 0 | – | – / {base['column_shapes']:.3f} | – / {base['column_pair_trends']:.3f} | "
                f"– / {base['logistic_detection']:.3f} | – / {fit_without:.1f} |",
                flush=True,
            )
            continue
        broken = sum(with_rules.constraints_.check(with_rules.sample(100_000, random_state=2)).values())
        ruled = fidelity(train, with_rules.sample(10_000, random_state=1))
        cells = " | ".join(f"{ruled[k]:.3f} / {base[k]:.3f}" for k in base)
        print(f"| {name} | {len(rules)} | {broken} | {cells} | {fit_with:.1f} / {fit_without:.1f} |", flush=True)


if __name__ == "__main__":
    main()
