"""Fit time of ``TabularVAE`` on one data set's benchmark split, in a fresh process per fit.

Each fit runs in a new Python process (as in ``benchmarks.run``), with one torch
thread, so the one-off costs of a first fit (lazy imports, allocator warm-up) are
counted the way a user pays them::

    python -m benchmarks.fit_time --dataset adult --params '{}' --repeats 3
    python -m benchmarks.fit_time --dataset adult --params '{"discrete_levels": 0}' --repeats 3

To compare two commits, run the same command in a checkout of each, alternating.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings


def fit_once(dataset: str, params: dict, seed: int, max_train: int) -> float:
    import torch

    from tabvae import TabularVAE

    from .run import load_dataset, split

    torch.set_num_threads(1)
    df, target, task = load_dataset(dataset)
    train, _ = split(df, target, task, seed, max_train)
    start = time.perf_counter()
    TabularVAE(random_state=seed, **params).fit(train)
    return time.perf_counter() - start


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="adult")
    ap.add_argument("--params", default="{}", help="JSON dict of TabularVAE parameters")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-train", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes, one fit each")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    params = json.loads(args.params)
    if args.worker:
        warnings.filterwarnings("ignore")
        print(f"{fit_once(args.dataset, params, args.seed, args.max_train):.2f}")
        return
    cmd = [sys.executable, "-m", "benchmarks.fit_time", "--worker", "--dataset", args.dataset,
           "--params", args.params, "--seed", str(args.seed), "--max-train", str(args.max_train)]
    times = [float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()[-1])
             for _ in range(args.repeats)]
    print(json.dumps({"dataset": args.dataset, "params": params, "seed": args.seed, "fit_s": times}))


if __name__ == "__main__":
    main()
