"""Probe: the anomaly detector with another ``config.robust_ramp`` in its template.

    python -m benchmarks.anomaly_robust LOW HIGH [benchmarks.anomaly options]
    python -m benchmarks.anomaly_robust none [benchmarks.anomaly options]

Sets the detector's default template (``tabvae.anomaly.DEFAULT_TEMPLATE``) to train with
``robust_ramp=(LOW, HIGH)``, or with none: in each batch, a row whose negative ELBO lies more than
``LOW`` robust standard deviations (1.4826 x MAD) above the batch median counts less, linearly down
to nothing at ``HIGH``. The shipped template uses (2, 4) (``docs/decisions/anomaly-detector.md``).

Prints the ROC-AUC of the contextual anomalies among the 1,500 Adult rows of ``tests/data``
(:func:`benchmarks.explain_check.contextual_anomalies` against 300 of the rows, default detector,
seeds 0-2), then runs :mod:`benchmarks.anomaly` with the default detector on cardio, thyroid and
satellite, seeds 0-2, into ``--out`` (default ``/tmp/anomaly_robust.json``); options given after
the ramp replace those.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

from benchmarks import anomaly
from benchmarks.explain_check import contextual_anomalies
from tabvae import TabularVAEAnomalyDetector
from tabvae.anomaly import DEFAULT_TEMPLATE

ADULT_SLICE = Path(__file__).resolve().parents[1] / "tests" / "data" / "adult.csv.gz"
DEFAULTS = "--detectors tabvae --seeds 3 --threads 1 --iw 0 --datasets cardio thyroid satellite"
OUT = "/tmp/anomaly_robust.json"


def contextual(adult: pd.DataFrame, seed: int) -> float:
    """ROC-AUC of :func:`contextual_anomalies` against 300 of ``adult``'s rows, the detector fitted on ``adult``."""
    detector = TabularVAEAnomalyDetector(random_state=seed).fit(adult)
    normal = detector.score_samples(adult.sample(300, random_state=2))
    bad = detector.score_samples(contextual_anomalies(adult))
    return float(roc_auc_score(np.r_[np.zeros(len(normal)), np.ones(len(bad))], -np.r_[normal, bad]))


def main(argv=None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    ramp, rest = (None, args[1:]) if args[0] == "none" else ((float(args[0]), float(args[1])), args[2:])
    torch.set_num_threads(1)
    DEFAULT_TEMPLATE["config"]["robust_ramp"] = ramp  # deep-copied by every fit
    adult = pd.read_csv(ADULT_SLICE)
    print(json.dumps({"ramp": ramp, "contextual": [round(contextual(adult, s), 4) for s in (0, 1, 2)]}))
    anomaly.main(rest or [*DEFAULTS.split(), "--out", OUT])


if __name__ == "__main__":
    main()
