"""Probe: the anomaly detector with training that down-weights the batch's least likely rows.

    python -m benchmarks.anomaly_robust LOW HIGH

Patches the training objective (``tabvae.training.NegativeELBO``) for every fit in the process: in
each batch, a row whose negative ELBO lies more than ``LOW`` robust standard deviations (1.4826 x
MAD) above the batch median counts less, linearly down to nothing at ``HIGH``; the weights are
rescaled to average 1. A cluster of anomalies among the training rows then pulls less on the
density both models learn, while the rows themselves stay in the training set (unlike ``trim``).
Not the library's objective (``docs/decisions/anomaly-detector.md``).

Scores, with the default detector and seeds 0-2: the contextual anomalies among 1,500 Adult rows
of ``tests/test_augment_anomaly.py``, and on cardio, thyroid and satellite the unsupervised,
clean semi-supervised and 5 % contamination ROC-AUC of ``benchmarks.anomaly``'s splits. One JSON
line per table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

import tabvae.training as training
from benchmarks.anomaly import contaminated, load_dataset, semi_split
from tabvae import TabularVAEAnomalyDetector
from tabvae.model import elbo

SEEDS = (0, 1, 2)


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


def _auc(y, score) -> float:
    return float(roc_auc_score(y, -score))


def contextual(seed: int) -> float:
    """ROC-AUC of the injected contextual anomalies of the detector's test, against 300 normal rows."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from conftest import load_slice
    from test_augment_anomaly import _corrupt

    adult = load_slice("adult")
    detector = TabularVAEAnomalyDetector(random_state=seed).fit(adult)
    normal, bad = detector.score_samples(adult.sample(300, random_state=2)), detector.score_samples(_corrupt(adult))
    return _auc(np.r_[np.zeros(len(normal)), np.ones(len(bad))], np.r_[normal, bad])


def table(name: str, seed: int) -> dict:
    """Unsupervised, clean semi-supervised and 5 % contamination ROC-AUC of one seed's split."""
    X, y, _ = load_dataset(name, 15000)
    y = np.asarray(y)
    normal, anomalies, test = semi_split(y, seed)
    rows = contaminated(normal, anomalies, 0.05)[0]
    fit = lambda idx: TabularVAEAnomalyDetector(random_state=seed).fit(X.iloc[idx])  # noqa: E731
    return {
        "unsupervised": _auc(y, TabularVAEAnomalyDetector(random_state=seed).fit(X).score_samples(X)),
        "semisupervised": _auc(y[test], fit(normal).score_samples(X.iloc[test])),
        "contamination 5 %": _auc(y[test], fit(rows).score_samples(X.iloc[test])),
    }


def main(argv=None) -> None:
    low, high = (float(a) for a in (argv or sys.argv[1:]))
    torch.set_num_threads(1)
    training.NegativeELBO.forward = weighted_objective(low, high)  # type: ignore[method-assign]
    print(json.dumps({"ramp": [low, high], "contextual": [round(contextual(s), 4) for s in SEEDS]}), flush=True)
    for name in ("cardio", "thyroid", "satellite"):
        runs = [table(name, s) for s in SEEDS]
        means = {k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]}
        print(json.dumps({"ramp": [low, high], "table": name, **means}), flush=True)


if __name__ == "__main__":
    main()
