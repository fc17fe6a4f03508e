"""Fit time of ``TabularVAEAnomalyDetector`` against one default ``TabularVAE`` fit on the same rows.

    python -m benchmarks.anomaly_fit_time

For each labelled table of the anomaly benchmark (shuttle subsampled to 15,000 rows, as there) and
both protocols (the normal rows of seed 0's semi-supervised training split; every row), times a
default generator fit, the default detector and the detector with ``trim=0.1``, interleaved, five
times each (seeds 0 to 4: the default fit's early stop varies by seed), with one torch thread.
Prints one JSON line per table and protocol (means, and the default fit's seconds per seed) and
writes them to ``results/anomaly_fit_time.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from benchmarks.anomaly import DATASETS, load_dataset, semi_split

OUT = Path(__file__).resolve().parent / "results" / "anomaly_fit_time.json"
# What each timed fit is: None for a default generator fit, else the detector's parameters.
SEEDS = range(5)
FITS: dict[str, dict | None] = {"default fit": None, "detector": {}, "detector trim=0.1": {"trim": 0.1}}


def _fit(kind: str, rows, seed: int) -> float:
    from tabvae import TabularVAE, TabularVAEAnomalyDetector

    params = FITS[kind]
    t0 = time.perf_counter()
    if params is None:
        TabularVAE(random_state=seed).fit(rows)
    else:
        TabularVAEAnomalyDetector(random_state=seed, **params).fit(rows)
    return time.perf_counter() - t0


def main() -> None:
    import torch

    torch.set_num_threads(1)
    records = []
    for name in DATASETS:
        X, y, _ = load_dataset(name, 15000)
        normal = X.iloc[semi_split(y, 0)[0]]
        for protocol, rows in (("semisupervised", normal), ("unsupervised", X)):
            seconds = {k: [] for k in FITS}
            for seed in SEEDS:
                for kind in FITS:
                    seconds[kind].append(_fit(kind, rows, seed))
            mean = {k: float(np.mean(v)) for k, v in seconds.items()}
            record = {
                "dataset": name,
                "protocol": protocol,
                "rows": len(rows),
                **{k: round(v, 2) for k, v in mean.items()},
                "default fit per seed": [round(v, 2) for v in seconds["default fit"]],
            }
            record["ratio"] = round(mean["detector"] / mean["default fit"], 2)
            record["ratio trim=0.1"] = round(mean["detector trim=0.1"] / mean["default fit"], 2)
            print(json.dumps(record), flush=True)
            records.append(record)
    OUT.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
