"""How much the detector's fully trained model should count: an offline replay on stored bounds.

    python -m benchmarks.anomaly_handicap --seeds 0,1 [--trim 0.05]

For every table of the anomaly benchmark and seed: the unsupervised protocol, and the semi-supervised
split clean and with 5 % contamination (as ``benchmarks.anomaly``).  One default
``TabularVAEAnomalyDetector`` is fitted per setting and its four bounds per row (brief / fully trained
model x encoded / data units) are stored (the detector's private ``_all_bounds``: this is an ablation,
not a benchmark of the public API).  The scores are then recombined offline: each row's tail shares
under the four bounds, the fully trained model's (in both units, or in data units only) multiplied by a
handicap, and the smallest kept.
``--trim q`` first fits a 3-epoch model, drops the share q of training rows it scores lowest, fits the
detector on the rest and keeps the tail shares on all training rows.  Prints ROC-AUC per table and the
mean over tables.
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from tabvae import TabularVAE, TabularVAEAnomalyDetector
from tabvae.anomaly import DEFAULT_TEMPLATE

from .anomaly import DATASETS, contaminated, load_dataset, semi_split

HANDICAPS = (1, 2, 5, 10)


def fitted_detector(X, seed: int, trim: float) -> TabularVAEAnomalyDetector:
    """The default detector, fitted on X or, with ``trim``, on the rows a 3-epoch model scores highest."""
    template = TabularVAE(**copy.deepcopy(DEFAULT_TEMPLATE))
    keep = np.arange(len(X))
    if trim:
        brief = TabularVAEAnomalyDetector(vae=template.set_params(epochs=3), scoring_epochs=None, random_state=seed)
        score = brief.fit(X).score_samples(X)
        keep = np.sort(np.argsort(score, kind="stable")[int(trim * len(X)) :])
    return TabularVAEAnomalyDetector(vae=TabularVAE(**copy.deepcopy(DEFAULT_TEMPLATE)), random_state=seed).fit(
        X.iloc[keep]
    )


def aucs(X_fit, X_score, y_score, seed: int, trim: float) -> dict[str, float]:
    det = fitted_detector(X_fit, seed, trim)
    reference = {k: np.sort(b) for k, b in det._all_bounds(X_fit).items()}
    shares = {
        k: (np.searchsorted(reference[k], b, side="right") + 1) / (len(X_fit) + 1)
        for k, b in det._all_bounds(X_score).items()
    }
    brief = [s for k, s in shares.items() if k.startswith("brief")]
    full = [s for k, s in shares.items() if k.startswith("full")]
    out = {}
    for h in HANDICAPS:
        out[f"handicap {h}, both units"] = roc_auc_score(y_score, -np.minimum.reduce(brief + [s * h for s in full]))
        data_only = brief + [shares["full/encoded"], shares["full/data"] * h]
        out[f"handicap {h}, data units"] = roc_auc_score(y_score, -np.minimum.reduce(data_only))
    out["brief model only"] = roc_auc_score(y_score, -np.minimum.reduce(brief))
    return out


def settings(X, y, seed: int):
    """(name, rows to fit, rows to score, their labels) for the three protocols."""
    yield "unsupervised", X, X, y
    normal, anomalies, te = semi_split(y, seed)
    for rate in (0.0, 0.05):
        yield f"contamination {rate:.0%}", X.iloc[contaminated(normal, anomalies, rate)[0]], X.iloc[te], y[te]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--trim", type=float, default=0.0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    results: dict[tuple[str, str], dict[str, list[float]]] = {}
    for name in DATASETS:
        X, y, _ = load_dataset(name, 15000)
        for seed in map(int, args.seeds.split(",")):
            for setting, X_fit, X_score, y_score in settings(X, y, seed):
                for combo, auc in aucs(X_fit, X_score, y_score, seed, args.trim).items():
                    results.setdefault((setting, combo), {}).setdefault(name, []).append(auc)
    print("| setting | scores | " + " | ".join(DATASETS) + " | mean |")
    print("|---|---|" + "---|" * (len(DATASETS) + 1))
    for (setting, combo), per_table in results.items():
        means = [float(np.mean(per_table[t])) for t in DATASETS]
        print(f"| {setting} | {combo} | " + " | ".join(f"{m:.4f}" for m in means) + f" | {np.mean(means):.4f} |")


if __name__ == "__main__":
    main()
