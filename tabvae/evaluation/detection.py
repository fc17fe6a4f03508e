"""Detection: can a classifier tell real rows from synthetic ones?"""

from __future__ import annotations

import numpy as np

from ..schema import Schema
from .common import quiet, seeded_global_numpy, subsample
from .encoding import TreeEncoding, tree_model
from .fidelity import for_sdmetrics

MIN_ROWS_DETECTION = 10


def detection_scores(real_full, real, synthetic, schema: Schema, seed: int, notes: list) -> dict:
    """Both detection scores on the evaluated rows; ``real_full`` (all real rows) names unseen categories."""
    return {
        "logistic_detection": _logistic_detection(real_full, real, synthetic, schema, seed, notes),
        "detection_auc": _classifier_auc(real, synthetic, schema, seed, notes),
    }


def _logistic_detection(real_full, real, synthetic, schema: Schema, seed: int, notes: list) -> float:
    """SDMetrics LogisticDetection, leaving out rows with labels unseen in ``real``.

    Its one-hot encoder is fitted on ``real`` (the evaluated rows) and fails on
    any other label, so synthetic rows holding such a label are dropped here,
    with a note that tells a label absent from all real rows (already penalised
    by Column Shapes) from one the subsample of real rows happens to miss.
    """
    from sdmetrics.single_table import LogisticDetection

    unseen = _rows_with_unseen_labels(real, synthetic, schema)
    if unseen.any():
        notes.extend(_left_out_notes(unseen, _rows_with_unseen_labels(real_full, synthetic, schema), len(real)))
        synthetic = synthetic[~unseen]
    if len(synthetic) < MIN_ROWS_DETECTION:
        return float("nan")
    try:
        with quiet(), seeded_global_numpy(seed):
            score = LogisticDetection.compute(
                for_sdmetrics(real, schema), for_sdmetrics(synthetic, schema), schema.sdmetrics_metadata()
            )
            return float(score)
    except Exception as err:  # sdmetrics raises IncomputableMetricError and friends
        notes.append(f"LogisticDetection could not be computed: {type(err).__name__}: {err}")
        return float("nan")


def _left_out_notes(unseen: np.ndarray, absent: np.ndarray, n_real: int) -> list[str]:
    """Notes on the synthetic rows LogisticDetection leaves out, by why their label is unseen."""
    sampled_out = unseen & ~absent
    reasons = (
        (absent, "categories absent from the real data"),
        (
            sampled_out,
            f"categories that are in the real data but not among the {n_real:,} real rows sampled for the "
            "evaluation (max_rows)",
        ),
    )
    return [
        f"LogisticDetection left out {int(rows.sum())} synthetic row(s) ({100 * rows.mean():.1f}%) holding {why}."
        for rows, why in reasons
        if rows.any()
    ]


def _rows_with_unseen_labels(real, synthetic, schema: Schema) -> np.ndarray:
    """Mask of synthetic rows with a categorical value (or a missing one) not in ``real``."""
    mask = np.zeros(len(synthetic), dtype=bool)
    for spec in schema:
        if spec.kind in ("categorical", "constant"):
            r, s = real[spec.name], synthetic[spec.name]
            known = s.isin(r.dropna().unique()).to_numpy().copy()  # pandas 3 hands out read-only views
            if r.isna().any():
                known |= s.isna().to_numpy()
            mask |= ~known
    return mask


def _classifier_auc(real, synthetic, schema: Schema, seed: int, notes: list) -> float:
    """Cross-validated ROC-AUC of a tree classifier telling real from synthetic."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    n = min(len(real), len(synthetic))
    if n < MIN_ROWS_DETECTION:
        notes.append(f"Classifier detection skipped: only {n} rows per side.")
        return float("nan")
    rng = np.random.default_rng(seed + 1)
    enc = TreeEncoding.fit(schema, real, schema.names)
    X = np.vstack([enc.transform(subsample(real, n, rng)), enc.transform(subsample(synthetic, n, rng))])
    y = np.r_[np.ones(n), np.zeros(n)]
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    aucs = []
    for train, test in folds.split(X, y):
        clf = tree_model("classification", enc.categorical_mask, seed).fit(X[train], y[train])
        aucs.append(roc_auc_score(y[test], clf.predict_proba(X[test])[:, 1]))
    raw = float(np.mean(aucs))
    if raw < 0.4:
        notes.append(
            f"The detection classifier scored AUC {raw:.3f}, well below 0.5 (reported as 0.5): "
            "it learned the opposite of the truth, which happens when synthetic rows are "
            "copies of real rows. Check the privacy scores."
        )
    return float(np.mean(np.maximum(aucs, 0.5)))
