"""Choose the amount of synthetic rows (and the strategy) by cross-validation on the real rows.

In every fold one VAE is fitted on the training fold only, one pool of rows
per strategy is drawn from it, and the downstream estimator is fitted on the
training fold plus each amount of each pool and scored on the test fold.  The
"no synthetic rows" arm is always scored, so every arm's lift over it is
measured on the same folds.

An amount is a share of the real rows, or ``"balance"``: the rows the
classes lack to reach the majority count.  For classification, rows go to the
rarest classes first (:func:`~tabvae.augmentation.strategies.fill_up`).
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold, StratifiedKFold

from .strategies import TARGET, allocate, class_targets, fill_up, fit_estimator, make_pools, take

# What n_new="auto" searches, and the arm it keeps unless the folds say otherwise
# (docs/decisions/augmentation-auto.md).
AUTO_STRATEGY = "refined"
BALANCE = "balance"  # the rows the classes lack to reach the majority count
AUTO_AMOUNTS = {"classification": (BALANCE, 1.0, 2.0), "regression": (0.5, 1.0, 2.0)}
DEFAULT_AMOUNT = {"classification": BALANCE, "regression": 1.0}
DEFAULT_SCORING = {"binary": "roc_auc", "multiclass": "roc_auc_ovr", "regression": "r2"}
# Rows are added only when the kept arm's mean lift over no rows exceeds this
# many standard errors of the per-fold lift, and it gains in most folds
# (docs/decisions/augmentation-auto.md).
MIN_GAIN_SE = 0.5


def check_scoring(scoring, y: pd.Series, classification: bool):
    """A scikit-learn scorer for ``scoring`` (a name, a callable, or None for the task's default)."""
    if callable(scoring):
        return scoring
    if scoring is None:
        task = "regression" if not classification else "binary" if y.nunique() == 2 else "multiclass"
        scoring = DEFAULT_SCORING[task]
    try:
        return get_scorer(scoring)
    except (ValueError, TypeError):
        raise ValueError(
            f"scoring={scoring!r} is not a scikit-learn scorer name; use one of "
            "sklearn.metrics.get_scorer_names() (e.g. 'roc_auc', 'accuracy', 'r2') or a callable "
            "scorer(estimator, X, y)."
        ) from None


def check_estimator(estimator) -> None:
    """Raise a TypeError unless ``estimator`` has ``fit`` and ``predict``."""
    missing = [m for m in ("fit", "predict") if not callable(getattr(estimator, m, None))]
    if missing:
        raise TypeError(
            f"estimator must be a scikit-learn estimator with fit and predict; {type(estimator).__name__} "
            f"has no {' or '.join(missing)}."
        )


def check_splitter(cv, y: pd.Series, classification: bool, seed: int):
    """Shuffled (stratified for classification) K-fold for an int ``cv``; a splitter object as is."""
    if hasattr(cv, "split"):
        return cv
    if not isinstance(cv, numbers.Integral) or isinstance(cv, bool) or int(cv) < 2:
        raise ValueError(f"cv must be an int >= 2 or a scikit-learn splitter, got {cv!r}.")
    if not classification:
        if len(y) < int(cv):
            raise ValueError(f"cv={cv} folds need at least {cv} rows; y has {len(y)}.")
        return KFold(cv, shuffle=True, random_state=seed)
    counts = y.value_counts()
    if counts.min() < cv:
        raise ValueError(
            f"class {counts.idxmin()!r} has {counts.min()} row(s), fewer than cv={cv} folds need; "
            "pass a smaller cv, or a number as n_new to skip the cross-validation."
        )
    return StratifiedKFold(cv, shuffle=True, random_state=seed)


def counts_for(y: pd.Series, classification: bool, n: int):
    """``n`` new rows: split over the classes in proportion (classification) or a plain count."""
    return allocate(y, n) if classification else n


def share_counts(y: pd.Series, classification: bool, share: float):
    """``share * len(y)`` new rows, as :func:`counts_for` splits them."""
    return counts_for(y, classification, int(round(share * len(y))))


def auto_amounts(y: pd.Series, classification: bool) -> tuple[list, int]:
    """The amounts ``n_new="auto"`` scores and the index of the default one.

    ``"balance"`` is left out when the classes are already balanced; the
    default is then one share of the real rows.
    """
    task = "classification" if classification else "regression"
    amounts = [a for a in AUTO_AMOUNTS[task] if a != BALANCE or sum(class_targets(y, "auto").values())]
    default = DEFAULT_AMOUNT[task] if DEFAULT_AMOUNT[task] in amounts else 1.0
    return amounts, amounts.index(default)


def amount_counts(y: pd.Series, classification: bool, amount):
    """New rows for an ``n_new="auto"`` amount: per class (rarest first) for classification, else a count."""
    if amount == BALANCE:
        return class_targets(y, "auto")
    n = int(round(float(amount) * len(y)))
    return fill_up(y, n) if classification else n


def cross_validate(table, classification, fit_vae, strategies, amounts, estimator, scorer, splitter, rng) -> dict:
    """Scores of every (strategy, amount) arm and of no augmentation on each fold.

    Parameters
    ----------
    table : DataFrame
        Real rows, features plus the :data:`TARGET` column.
    fit_vae : callable ``(rows, seed) -> fitted TabularVAE``
    strategies : sequence of str
    amounts : sequence of float or "balance"
        Synthetic rows as a share of the training fold's rows, or the rows its
        classes lack (:func:`amount_counts`).
    estimator, scorer, splitter
        Downstream model (cloned per fit), scikit-learn scorer, and K-fold splitter.
    rng : RandomState

    Returns
    -------
    dict
        ``params`` (list of {"strategy", "n_new"}; the first is no augmentation)
        and ``scores``, an array of shape (n_arms, n_folds).
    """
    params = [{"strategy": "none", "n_new": 0.0}] + [
        {"strategy": s, "n_new": a if a == BALANCE else float(a)} for s in strategies for a in amounts
    ]
    y = table[TARGET]
    folds = list(splitter.split(table.drop(columns=TARGET), y))
    scores = np.full((len(params), len(folds)), np.nan)
    for k, (train, test) in enumerate(folds):
        real, held = table.iloc[train].reset_index(drop=True), table.iloc[test]
        seed = rng.randint(2**31 - 1)
        vae = fit_vae(real, seed)
        counts = {a: amount_counts(real[TARGET], classification, a) for a in amounts}
        pools = make_pools(vae, real, strategies, _most(counts.values()), seed)
        for i, p in enumerate(params):
            synthetic = real.iloc[:0] if i == 0 else take(pools[p["strategy"]], counts[p["n_new"]])
            model = fit_estimator(estimator, real, synthetic)
            scores[i, k] = scorer(model, held.drop(columns=TARGET), held[TARGET])
    return {"params": params, "scores": scores}


def _most(counts):
    """The largest of several counts: elementwise over classes for dicts."""
    counts = list(counts)
    if isinstance(counts[0], dict):
        classes = dict.fromkeys(c for k in counts for c in k)
        return {c: max(k.get(c, 0) for k in counts) for c in classes}
    return max(counts)


def summarize(search: dict, default: int) -> tuple[dict, int]:
    """``cv_results_`` (scikit-learn search layout) and the index of the chosen arm.

    ``default`` indexes the arm kept unless the folds say otherwise.  Another
    arm replaces it when its mean score beats the default's by more than the
    standard error of their paired difference over the folds.  No
    augmentation is chosen unless the kept arm's mean lift over it exceeds
    :data:`MIN_GAIN_SE` standard errors and it gains in more than half of the
    folds, i.e. unless the folds show a gain.
    """
    params, scores = search["params"], search["scores"]
    lift = scores - scores[0]
    n_folds = scores.shape[1]
    results = {
        "params": params,
        "param_strategy": np.array([p["strategy"] for p in params], dtype=object),
        "param_n_new": np.array([p["n_new"] for p in params], dtype=object),
        **{f"split{k}_test_score": scores[:, k] for k in range(n_folds)},
        "mean_test_score": scores.mean(axis=1),
        "std_test_score": scores.std(axis=1),
        "mean_lift": lift.mean(axis=1),
        "std_lift": lift.std(axis=1, ddof=1) if n_folds > 1 else np.zeros(len(params)),
    }
    results["rank_test_score"] = pd.Series(-results["mean_test_score"]).rank(method="min").to_numpy().astype(int)
    best = default
    rival = 1 + int(np.argmax(results["mean_test_score"][1:]))
    if rival != best and _mean_minus_error(scores[rival] - scores[best]) > 0:
        best = rival
    if not shows_gain(lift[best]):
        best = 0
    return results, best


def shows_gain(lift: np.ndarray) -> bool:
    """Whether per-fold lifts (n_folds,) over no rows show a gain.

    The mean must exceed :data:`MIN_GAIN_SE` standard errors, and more than
    half of the folds must gain.
    """
    return _mean_minus_error(lift, MIN_GAIN_SE) > 0 and 2 * int((lift > 0).sum()) > len(lift)


def _mean_minus_error(diff: np.ndarray, k: float = 1.0) -> float:
    """Mean of per-fold differences minus ``k`` standard errors (one fold: the mean)."""
    if len(diff) < 2:
        return float(diff.mean())
    return float(diff.mean() - k * diff.std(ddof=1) / np.sqrt(len(diff)))
