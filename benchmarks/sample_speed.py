"""Sampling speed of a default model of Adult, one torch thread on the CPU (or a GPU).

    python -m benchmarks.sample_speed                       # fit, save the model, time its sampling
    python -m benchmarks.sample_speed --model adult.tabvae  # time a saved model, e.g. under another checkout

The model is a default ``TabularVAE(random_state=0)`` fitted on Adult's benchmark training split
(26,048 rows, ``benchmarks.step_speed.adult_train``); it is saved next to the results so that
another checkout can time the same model
(``PYTHONPATH=<checkout> python -m benchmarks.sample_speed --model ... --tag ...``).  Each
``sample(n, random_state=0)`` for n = 26,048 and 1,000,000 is timed ``--repeats`` times, after one
1,000-row warm-up.  Writes ``results/sample_speed<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

import tabvae
from tabvae import TabularVAE, load

from .step_speed import adult_train

RESULTS = Path(__file__).parent / "results"
SIZES = (26_048, 1_000_000)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="a saved model to time (default: fit one and save it as --save)")
    p.add_argument("--save", default=str(RESULTS / "sample_speed_adult.tabvae"), help="where a fitted model goes")
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--tag", default="", help="suffix of the results file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    out: dict = {"tabvae": tabvae.__version__, "torch": torch.__version__, "machine": platform.platform()}
    out["device"] = args.device
    if args.model:
        model = load(args.model, device=args.device)
    else:
        train = adult_train()
        t = time.perf_counter()
        model = TabularVAE(random_state=0, device=args.device).fit(train)
        out["fit_s"] = round(time.perf_counter() - t, 3)
        model.save(args.save)
    model.sample(1_000, random_state=0)
    for n in SIZES:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            model.sample(n, random_state=0)
            times.append(round(time.perf_counter() - t, 3))
        out[f"sample_{n}_s"] = times
        print(f"sample {n:>9,} rows: " + ", ".join(f"{s:.2f} s" for s in times), flush=True)
    (RESULTS / f"sample_speed{args.tag}.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
