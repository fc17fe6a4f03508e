"""Probe: n_new="auto" deciding on pooled out-of-fold predictions instead of per-fold scores.

    python -m benchmarks.augmentation_pooled --sizes 100,200 --seeds 20,21,...,29 --arms auto \\
        --out benchmarks/results/augmentation_pooled.jsonl

Runs :mod:`benchmarks.augmentation` (same arguments, same splits, seeds and fold VAEs) with one
change to the search of ``n_new="auto"``: the rule of
:func:`tabvae.augmentation.search.summarize` (keep the default amount unless a rival beats it by
one standard error; no rows unless the kept amount's lift exceeds ``MIN_GAIN_SE`` standard errors)
is applied to the score of the *pooled* out-of-fold predictions of every arm (each row predicted
by the model of the fold that held it out; ROC-AUC for binary targets, R² for regression), with
standard errors from 200 paired bootstrap draws of the rows, instead of to the mean and spread of
the five per-fold scores. On 100 rows a fold holds 20 rows and a handful of positives, so each
per-fold ROC-AUC is coarse; the pooled score ranks all rows at once. Binary and regression targets
only. Not the library's rule (``docs/decisions/augmentation-auto.md``).
"""

from __future__ import annotations

import sys

import numpy as np
from sklearn.metrics import r2_score, roc_auc_score

import tabvae.augmentation.resampler as resampler
from tabvae.augmentation import search

N_BOOTSTRAP = 200
_summarize, _cross_validate = search.summarize, search.cross_validate


def cross_validate(table, classification, fit_vae, strategies, amounts, estimator, scorer, splitter, rng) -> dict:
    """:func:`search.cross_validate`, also keeping each arm's out-of-fold predictions (``oof``)."""
    calls: list[tuple[np.ndarray, np.ndarray]] = []  # (held-out positions, predictions), arm by arm, fold by fold

    def recording(model, X, y):
        pred = model.predict_proba(X)[:, 1] if classification else model.predict(X)
        calls.append((table.index.get_indexer(X.index), pred))
        return scorer(model, X, y)

    out = _cross_validate(table, classification, fit_vae, strategies, amounts, estimator, recording, splitter, rng)
    n_arms = len(out["params"])
    oof = np.full((n_arms, len(table)), np.nan)
    for j, (rows, pred) in enumerate(calls):
        oof[j % n_arms, rows] = pred
    y = table[search.TARGET].to_numpy()
    y = (y == np.unique(y)[-1]).astype(int) if classification else y
    return {**out, "oof": oof, "y": y, "classification": classification}


def _pooled(y: np.ndarray, oof: np.ndarray, classification: bool) -> np.ndarray:
    """The pooled score of every arm: (n_arms,)."""
    if classification:
        return np.array([roc_auc_score(y, p) if 0 < y.sum() < len(y) else np.nan for p in oof])
    return np.array([r2_score(y, p) for p in oof])


def summarize(found: dict, default: int) -> tuple[dict, int]:
    """:func:`search.summarize`'s results, with the arm chosen by the same rule on pooled scores."""
    results, _ = _summarize(found, default)
    y, oof, classification = found["y"], found["oof"], found["classification"]
    rng = np.random.RandomState(0)
    full = _pooled(y, oof, classification)
    boot = np.array([_pooled(y[b], oof[:, b], classification) for b in rng.randint(len(y), size=(N_BOOTSTRAP, len(y)))])

    def se(i: int, j: int) -> float:
        return float(np.nanstd(boot[:, i] - boot[:, j], ddof=1))

    best = default
    rival = 1 + int(np.argmax(full[1:]))
    if rival != best and full[rival] - full[best] > se(rival, best):
        best = rival
    if full[best] - full[0] <= search.MIN_GAIN_SE * se(best, 0):
        best = 0
    return results, best


if __name__ == "__main__":
    from benchmarks import augmentation

    search.cross_validate = resampler.cross_validate = cross_validate  # type: ignore[assignment]
    search.summarize = resampler.summarize = summarize  # type: ignore[assignment]
    augmentation.main(sys.argv[1:])
