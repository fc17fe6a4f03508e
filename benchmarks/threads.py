"""Fit time of TabularVAE by ``n_threads``, on an idle machine and next to a second, identical fit.

    env -u OMP_NUM_THREADS python -m benchmarks.threads --threads 1 2

A default fit of 5,000 Adult rows for 20 epochs, timed once per thread count
after a one-epoch warm-up; "busy" times it while another process runs the
same fit (same thread count) in a loop.  docs/decisions/threads.md holds the
figures that chose ``n_threads="auto"``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time


def fit_seconds(n_threads: int, epochs: int = 20) -> float:
    from tabvae import TabularVAE
    from tabvae.datasets import load_adult

    df = load_adult().head(5000)
    start = time.perf_counter()
    TabularVAE(epochs=epochs, n_threads=n_threads, random_state=0).fit(df)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)  # the busy neighbour: fit in a loop
    args = ap.parse_args()
    if args.child:
        while True:
            fit_seconds(args.child)
    fit_seconds(1, epochs=1)  # warm-up: imports, first allocations
    for n in args.threads:
        idle = fit_seconds(n)
        neighbour = subprocess.Popen([sys.executable, "-m", "benchmarks.threads", "--child", str(n)])
        try:
            time.sleep(3)  # let it import and start fitting
            busy = fit_seconds(n)
        finally:
            neighbour.kill()
            neighbour.wait()
        print(f"n_threads={n}: idle {idle:.1f} s, next to a second fit {busy:.1f} s", flush=True)


if __name__ == "__main__":
    main()
