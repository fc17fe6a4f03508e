"""Differentially private training on Adult: fit time against the default fit, the accountant's epsilon,
Column Shapes and the membership-attack AUC.

    OMP_NUM_THREADS=1 python -m benchmarks.dp_check [--epsilon 3] [--batch-size 500] [--epochs auto] [--no-default]
        [--out benchmarks/results/dp_check.json]

Uses the benchmark's first split (``benchmarks.run.split(df, "income", "classification", 0, None)``),
one thread, and writes ``--out`` (``benchmarks/results/dp_check.json``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch

import tabvae
from benchmarks.run import split

DATA = Path("/work/shared/data/adult.csv")
OUT = Path(__file__).resolve().parent / "results" / "dp_check.json"


def fit_and_score(train: pd.DataFrame, test: pd.DataFrame, **params) -> dict:
    """Fit seconds, the DP figures and the evaluation scores of one model."""
    start = time.perf_counter()
    model = tabvae.TabularVAE(random_state=0, **params).fit(train)
    seconds = time.perf_counter() - start
    synth = model.sample(len(train), random_state=0)
    scores = tabvae.evaluate(train, synth, target="income", holdout=test).scores
    keep = ("column_shapes", "column_pair_trends", "membership_attack_auc", "membership_attack_auc_high")
    return {
        "params": {k: v for k, v in params.items()},
        "fit_seconds": round(seconds, 1),
        "dp_epsilon_": model.dp_epsilon_,
        "dp_delta_": model.dp_delta_,
        "dp_noise_multiplier_": model.dp_noise_multiplier_,
        **{k: round(float(scores[k]), 4) for k in keep},
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epsilon", type=float, default=3.0)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--epochs", default="auto")
    p.add_argument("--no-default", action="store_true", help="skip the default (non-private) fit")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    df = pd.read_csv(DATA, skipinitialspace=True, na_values="?")
    train, test = split(df, "income", "classification", 0, None)
    epochs = args.epochs if args.epochs == "auto" else int(args.epochs)
    runs = {} if args.no_default else {"default": fit_and_score(train, test)}
    dp = dict(dp_epsilon=args.epsilon, batch_size=args.batch_size, epochs=epochs)
    runs["dp"] = fit_and_score(train, test, **dp)
    if "default" in runs:
        runs["time_ratio"] = round(runs["dp"]["fit_seconds"] / runs["default"]["fit_seconds"], 2)
    runs["rows"] = {"train": len(train), "holdout": len(test)}
    print(json.dumps(runs, indent=2))
    args.out.write_text(json.dumps(runs, indent=2) + "\n")
    return runs


if __name__ == "__main__":
    main()
