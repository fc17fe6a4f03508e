"""Choose the amount of synthetic rows and the strategy by cross-validation on the real rows.

In every fold one VAE is fitted on the training fold only, one pool of rows
per strategy is drawn from it, and the downstream estimator is fitted on the
training fold plus each amount of each pool and scored on the test fold.  The
"no synthetic rows" arm is always scored, so every arm's lift over it is
measured on the same folds.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold, StratifiedKFold

from .strategies import TARGET, allocate, fit_estimator, make_pools, take

AUTO_AMOUNTS = (0.5, 1.0, 2.0)  # synthetic rows as a share of the real rows, besides none
DEFAULT_SCORING = {"binary": "roc_auc", "multiclass": "roc_auc_ovr", "regression": "r2"}


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


def cross_validate(table, classification, fit_vae, strategies, amounts, estimator, scorer, splitter, rng) -> dict:
    """Scores of every (strategy, amount) arm and of no augmentation on each fold.

    Parameters
    ----------
    table : DataFrame
        Real rows, features plus the :data:`TARGET` column.
    fit_vae : callable ``(rows, seed) -> fitted TabularVAE``
    strategies : sequence of str
    amounts : sequence of float
        Synthetic rows as a share of the training fold's rows.
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
        {"strategy": s, "n_new": float(a)} for s in strategies for a in amounts
    ]
    y = table[TARGET]
    folds = list(splitter.split(table.drop(columns=TARGET), y))
    scores = np.full((len(params), len(folds)), np.nan)
    for k, (train, test) in enumerate(folds):
        real, held = table.iloc[train].reset_index(drop=True), table.iloc[test]
        seed = rng.randint(2**31 - 1)
        vae = fit_vae(real, seed)
        counts = {a: share_counts(real[TARGET], classification, a) for a in amounts}
        pools = make_pools(vae, real, strategies, counts[max(amounts)], seed)
        for i, p in enumerate(params):
            synthetic = real.iloc[:0] if i == 0 else take(pools[p["strategy"]], counts[p["n_new"]])
            model = fit_estimator(estimator, real, synthetic)
            scores[i, k] = scorer(model, held.drop(columns=TARGET), held[TARGET])
    return {"params": params, "scores": scores}


def summarize(search: dict) -> tuple[dict, int]:
    """``cv_results_`` (scikit-learn search layout) and the index of the chosen arm.

    The arm with the best mean score is chosen when its mean lift over no
    augmentation is larger than the standard error of that lift over the
    folds; otherwise no augmentation is chosen.
    """
    params, scores = search["params"], search["scores"]
    lift = scores - scores[0]
    n_folds = scores.shape[1]
    results = {
        "params": params,
        "param_strategy": np.array([p["strategy"] for p in params], dtype=object),
        "param_n_new": np.array([p["n_new"] for p in params]),
        **{f"split{k}_test_score": scores[:, k] for k in range(n_folds)},
        "mean_test_score": scores.mean(axis=1),
        "std_test_score": scores.std(axis=1),
        "mean_lift": lift.mean(axis=1),
        "std_lift": lift.std(axis=1, ddof=1) if n_folds > 1 else np.zeros(len(params)),
    }
    results["rank_test_score"] = pd.Series(-results["mean_test_score"]).rank(method="min").to_numpy().astype(int)
    best = 1 + int(np.argmax(results["mean_test_score"][1:]))
    standard_error = results["std_lift"][best] / np.sqrt(n_folds)
    if not results["mean_lift"][best] > standard_error:
        best = 0
    return results, best
