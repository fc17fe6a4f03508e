"""Privacy: distances to the closest training record, the closer-to-train share, exact copies and a
membership-inference attack."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import Schema
from .encoding import NUMERIC_KINDS, DistanceEncoding, as_float
from .metrics import ATTACK_KEYS, PRIVACY_KEYS

# Closer-to-train share above which synthetic rows look memorised.
CLOSER_SHARE_BOUND = 0.53
# Membership-attack ROC-AUC above which (with its interval above 0.5) the report warns.
ATTACK_AUC_BOUND = 0.55
# Rows attacked per class (members, non-members), neighbours of the reference density, bootstrap draws.
ATTACK_MAX_ROWS = 2000
_ATTACK_NEIGHBOURS = 5
_BOOTSTRAP_DRAWS = 200


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
    scores.update(membership_attack(T, S, H, seed))
    return {k: scores[k] for k in PRIVACY_KEYS}


def privacy_notes(scores: dict, n_synthetic: int, n_reference: int) -> list[str]:
    """Plain warnings when the closer-to-train share or the membership attack points at memorised rows."""
    return _memorisation_notes(scores, n_synthetic, n_reference) + _attack_notes(scores)


def _memorisation_notes(scores: dict, n_synthetic: int, n_reference: int) -> list[str]:
    """A warning when the closer-to-train share points at memorised training rows.

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


def _attack_notes(scores: dict) -> list[str]:
    """A warning when the membership attack beats :data:`ATTACK_AUC_BOUND` and its interval excludes 0.5."""
    auc = scores.get("membership_attack_auc", np.nan)
    low = scores.get("membership_attack_auc_low", np.nan)
    if not (auc > ATTACK_AUC_BOUND and low > 0.5):
        return []
    return [
        f"A membership-inference attack tells training rows from holdout rows with ROC-AUC {auc:.3f} "
        f"(95% interval {low:.3f}-{scores['membership_attack_auc_high']:.3f}; 0.5 = no leak): the synthetic "
        "rows reveal which real rows were used for training. Refit with fewer epochs or early_stopping=True, "
        "merge categories seen only a few times and clip extreme values before fitting, and check again."
    ]


def membership_attack(T: np.ndarray, S: np.ndarray, H: np.ndarray, seed: int) -> dict:
    """ROC-AUC of a distance-based membership-inference attack, with a 95% bootstrap interval.

    The attacker sees only the synthetic rows ``S`` and real rows from the same population
    that were not used for training. ``H`` (the encoded holdout) is split at random: up to
    :data:`ATTACK_MAX_ROWS` rows become the non-members to attack, the rest the attacker's
    reference sample. As many members are drawn from ``T`` (the encoded training rows).
    A candidate row ``x`` scores ``r / (r + d)``, where ``d`` is its distance to the nearest
    synthetic row and ``r`` its mean distance to its five nearest reference rows: 1 when a
    synthetic row copies it, about 0.5 when synthetic rows are no closer to it than typical
    real rows are. As ``r`` and ``d`` estimate the inverse local densities of the real and the
    synthetic data, the score ranks rows like a density ratio (DOMIAS); the normalisation keeps
    outliers, far from everything, from looking like non-members. The interval resamples the
    members and the non-members (200 draws, percentiles 2.5 and 97.5); it leaves out the
    chance in which rows ended up in the training, holdout and synthetic tables, so the AUC
    of independent data can stray from 0.5 somewhat beyond it. NaN when the holdout has
    fewer than 2 rows.
    """
    rng = np.random.default_rng(seed + 3)
    n = min(len(T), len(H) // 2, ATTACK_MAX_ROWS)
    if n < 1:
        return dict.fromkeys(ATTACK_KEYS, np.nan)
    order = rng.permutation(len(H))
    reference = H[order[n:]]
    members = T[np.sort(rng.choice(len(T), size=n, replace=False))]
    candidates = np.vstack([members, H[order[:n]]])
    d_syn = _neighbour_distances(S, candidates, 1)[:, 0]
    d_ref = _neighbour_distances(reference, candidates, min(_ATTACK_NEIGHBOURS, len(reference))).mean(axis=1)
    total = d_ref + d_syn
    score = np.divide(d_ref, total, out=np.full(len(total), 0.5), where=total > 0)
    is_member = np.r_[np.ones(n, dtype=bool), np.zeros(n, dtype=bool)]
    low, high = _bootstrap_auc(score[is_member], score[~is_member], rng)
    return dict(zip(ATTACK_KEYS, (_auc(score[is_member], score[~is_member]), low, high)))


def _auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC-AUC: the chance that a positive scores above a negative (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([positive, negative]))[: len(positive)]
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks.sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _bootstrap_auc(positive: np.ndarray, negative: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """2.5th and 97.5th percentiles of the AUC over resamples of each class."""
    draws = [
        _auc(rng.choice(positive, size=len(positive)), rng.choice(negative, size=len(negative)))
        for _ in range(_BOOTSTRAP_DRAWS)
    ]
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


def _nn_distance(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row."""
    return _neighbour_distances(reference, query, 1)[:, 0]


def _neighbour_distances(reference: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Euclidean distances from each query row to its ``k`` nearest reference rows, nearest first.

    The neighbours are found by sklearn; the distances are then recomputed exactly
    so that identical rows are at distance exactly 0.
    """
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(reference)
    nearest = index.kneighbors(query, return_distance=False)
    return np.sort(np.sqrt(((query[:, None, :] - reference[nearest]) ** 2).sum(axis=2)), axis=1)


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
