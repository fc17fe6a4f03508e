"""Probe: the anomaly detector with training that down-weights the batch's least likely rows.

    python -m benchmarks.anomaly_robust LOW HIGH [benchmarks.anomaly options]

Patches the training objective (``tabvae.training.NegativeELBO``) for every fit in the process: in
each batch, a row whose negative ELBO lies more than ``LOW`` robust standard deviations (1.4826 x
MAD) above the batch median counts less, linearly down to nothing at ``HIGH``; the weights are
rescaled to average 1. A cluster of anomalies among the training rows then pulls less on the
density both models learn, while the rows themselves stay in the training set (unlike ``trim``).
Not the library's objective (``docs/decisions/anomaly-detector.md``).

Prints the ROC-AUC of the contextual anomalies among the 1,500 Adult rows of ``tests/data``
(:func:`benchmarks.explain_check.contextual_anomalies` against 300 of the rows, default detector,
seeds 0-2), then runs :mod:`benchmarks.anomaly` with the default detector on cardio, thyroid and
satellite, seeds 0-2, into ``--out`` (default ``/tmp/anomaly_robust.json``); options given after
``LOW HIGH`` replace those.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

import tabvae.training as training
from benchmarks import anomaly
from benchmarks.explain_check import contextual_anomalies
from tabvae import TabularVAEAnomalyDetector
from tabvae.model import elbo

ADULT_SLICE = Path(__file__).resolve().parents[1] / "tests" / "data" / "adult.csv.gz"
DEFAULTS = "--detectors tabvae --seeds 3 --threads 1 --iw 0 --datasets cardio thyroid satellite"
OUT = "/tmp/anomaly_robust.json"


def weighted_objective(low: float, high: float):
    """``NegativeELBO.forward`` with each row's loss weighted by how far above the batch's median it lies."""

    def forward(self, cont, codes, eps, kl_weight, cond=None):
        loss, rec, kl = elbo(self.vae, cont, codes, eps, kl_weight, cond)  # (B,) each
        with torch.no_grad():
            median = loss.median()
            z = (loss - median) / (1.4826 * (loss - median).abs().median() + 1e-6)
            weight = ((high - z) / (high - low)).clamp(0, 1)
            weight = weight / weight.mean().clamp_min(1e-6)
        return loss * weight, rec, kl

    return forward


def contextual(adult: pd.DataFrame, seed: int) -> float:
    """ROC-AUC of :func:`contextual_anomalies` against 300 of ``adult``'s rows, the detector fitted on ``adult``."""
    detector = TabularVAEAnomalyDetector(random_state=seed).fit(adult)
    normal = detector.score_samples(adult.sample(300, random_state=2))
    bad = detector.score_samples(contextual_anomalies(adult))
    return float(roc_auc_score(np.r_[np.zeros(len(normal)), np.ones(len(bad))], -np.r_[normal, bad]))


def main(argv=None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    low, high = float(args[0]), float(args[1])
    torch.set_num_threads(1)
    training.NegativeELBO.forward = weighted_objective(low, high)  # type: ignore[method-assign]
    adult = pd.read_csv(ADULT_SLICE)
    print(json.dumps({"ramp": [low, high], "contextual": [round(contextual(adult, s), 4) for s in (0, 1, 2)]}))
    anomaly.main(args[2:] or [*DEFAULTS.split(), "--out", OUT])


if __name__ == "__main__":
    main()
