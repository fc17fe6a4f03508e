"""Privacy: distances to the closest training record, the closer-to-train share and exact copies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import Schema
from .encoding import NUMERIC_KINDS, DistanceEncoding, as_float
from .metrics import PRIVACY_KEYS

# Closer-to-train share above which synthetic rows look memorised.
CLOSER_SHARE_BOUND = 0.53


def privacy_scores(real_full, train, synthetic, holdout, schema: Schema, seed: int) -> dict:
    """Distance to closest record, closer-to-train share and exact-copy shares."""
    enc = DistanceEncoding.fit(schema, train, seed)
    T, S, H = enc.transform(train), enc.transform(synthetic), enc.transform(holdout)
    d_syn, d_hold = _nn_distance(T, S), _nn_distance(T, H)
    scores = {
        "dcr_synthetic_median": float(np.median(d_syn)),
        "dcr_holdout_median": float(np.median(d_hold)),
        "dcr_synthetic_p05": float(np.percentile(d_syn, 5)),
        "dcr_holdout_p05": float(np.percentile(d_hold, 5)),
    }
    scores["dcr_median_ratio"] = _ratio(scores["dcr_synthetic_median"], scores["dcr_holdout_median"])
    scores["dcr_p05_ratio"] = _ratio(scores["dcr_synthetic_p05"], scores["dcr_holdout_p05"])
    scores["closer_to_train_share"] = _closer_share(T, H, S, seed)
    train_hashes = _row_hashes(real_full, schema)
    scores["exact_copy_share"] = float(np.isin(_row_hashes(synthetic, schema), train_hashes).mean())
    scores["holdout_exact_copy_share"] = float(np.isin(_row_hashes(holdout, schema), train_hashes).mean())
    return {k: scores[k] for k in PRIVACY_KEYS}


def privacy_notes(scores: dict, n_synthetic: int, n_reference: int) -> list[str]:
    """A plain warning when the closer-to-train share points at memorised training rows.

    The bound is :data:`CLOSER_SHARE_BOUND` (0.53), widened to two standard errors of the
    share of an honest generator, so that few rows do not raise it by chance. The share
    counts ``n_synthetic`` rows against train and holdout samples of ``n_reference`` rows
    each; both add variance: 0.25 / n_synthetic for the rows, and a conservative
    0.125 / n_reference for the two reference samples.
    """
    share = scores["closer_to_train_share"]
    se = np.sqrt(0.25 / max(n_synthetic, 1) + 0.125 / max(n_reference, 1))
    margin = max(CLOSER_SHARE_BOUND - 0.5, 2 * se)
    if not share > 0.5 + margin:
        return []
    return [
        f"{share:.1%} of synthetic rows are closer to a training row than to a holdout row "
        f"(50% is chance, more than {0.5 + margin:.1%} is unlikely by chance here): the generator "
        "has partly memorised its training rows. With TabularVAE on a table of a few thousand rows "
        "or fewer, refit with epochs=100 or early_stopping=True and check again."
    ]


def _nn_distance(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row.

    The neighbour is found by sklearn; the distance is then recomputed exactly
    so that identical rows are at distance exactly 0.
    """
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(reference)
    nearest = index.kneighbors(query, return_distance=False)[:, 0]
    return np.sqrt(((query - reference[nearest]) ** 2).sum(axis=1))


def _closer_share(T: np.ndarray, H: np.ndarray, S: np.ndarray, seed: int) -> float:
    """Share of synthetic rows closer to a train sample than to an equal-size holdout."""
    m = min(len(T), len(H))
    rng = np.random.default_rng(seed + 2)
    t = T[np.sort(rng.choice(len(T), size=m, replace=False))]
    h = H[np.sort(rng.choice(len(H), size=m, replace=False))]
    d_t, d_h = _nn_distance(t, S), _nn_distance(h, S)
    return float(np.mean(d_t < d_h) + 0.5 * np.mean(d_t == d_h))


def _ratio(num: float, den: float) -> float:
    if den == 0:
        return 1.0 if num == 0 else float("inf")
    return num / den


def _row_hashes(df: pd.DataFrame, schema: Schema) -> np.ndarray:
    """One 64-bit hash per row of a dtype-normalised copy (numbers as floats, labels as text)."""
    canon = {}
    for spec in schema:
        s = df[spec.name]
        if spec.kind in NUMERIC_KINDS:
            x = as_float(s, spec.kind)
            canon[spec.name] = np.where(np.isnan(x), np.inf, x)
        else:
            canon[spec.name] = s.astype(object).where(s.notna(), "\x00<NA>").astype(str).to_numpy()
    frame = pd.DataFrame(canon)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()
