"""Augment a training set with synthetic rows: an imbalanced-learn resampler and a plain helper.

The target is modelled jointly with the features.  For classification the
target is a conditioning column of the VAE, so rows of a requested class are
generated directly (no rejection); for regression the target is generated
with the features.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state

from ..estimator import TabularVAE
from ..schema import DISCRETE_INTEGER_LEVELS, check_dataframe
from .search import (
    AUTO_STRATEGY,
    amount_counts,
    auto_amounts,
    check_estimator,
    check_scoring,
    check_splitter,
    counts_for,
    cross_validate,
    summarize,
)
from .strategies import TARGET, class_targets, default_estimator, make_pools, strategies_for, take


def _is_classification(y: pd.Series) -> bool:
    if pd.api.types.is_float_dtype(y.dtype):
        return False
    if pd.api.types.is_integer_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype):
        return y.nunique() <= DISCRETE_INTEGER_LEVELS
    return True


# The template VAE when none is given: trained to the end on every row, raw values kept, and the
# autoregressive decoder at every size (the one the lift was measured with).
DEFAULT_VAE: dict[str, Any] = {
    "early_stopping": False,
    "config": {"value_protection": 0, "decoder": "autoregressive"},
}


def _check_xy(X, y) -> tuple[pd.DataFrame, pd.Series]:
    """X as a DataFrame and y as a Series named :data:`TARGET`, paired row by row.

    When both are pandas objects, y is aligned on X's index; their indexes
    must hold the same labels.  Otherwise they are paired by position.
    """
    X_df = check_dataframe(X)
    if isinstance(y, pd.Series) and isinstance(X, pd.DataFrame) and not y.index.equals(X.index):
        if not (X.index.is_unique and y.index.is_unique and set(X.index) == set(y.index)):
            raise ValueError(
                "X and y are pandas objects with different index labels, so their rows cannot be paired; "
                "give them the same index (e.g. y.index = X.index if they are in the same order)."
            )
        y = y.loc[X.index]
    y_s = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y))
    if y_s.ndim != 1 or len(y_s) != len(X_df):
        raise ValueError(f"X has {len(X_df)} rows but y has {len(y_s)}; they must match.")
    if y_s.isna().any():
        raise ValueError("y contains missing values; drop or impute those rows first.")
    if TARGET in X_df.columns:
        raise ValueError(f"X has a column named {TARGET!r}, which tabvae reserves for the target.")
    return X_df, y_s.rename(TARGET)


class TabVAEResampler(BaseEstimator):
    """Add synthetic rows from a :class:`TabularVAE` fitted on ``(X, y)``.

    Compatible with imbalanced-learn: ``fit_resample(X, y)`` works in
    ``imblearn.pipeline.Pipeline``, where it runs on training folds only.

    Parameters
    ----------
    n_new : "auto", int, float or None, default="auto"
        How many rows to add.  ``"auto"`` chooses between no rows and three
        amounts of ``"refined"`` rows by ``cv``-fold cross-validation on
        ``(X, y)``: for classification the rows the classes lack to reach the
        majority count (``"balance"``, as SMOTE adds), and 1 or 2 times
        ``len(X)`` given to the rarest classes first; for regression 0.5, 1
        or 2 times ``len(X)``.  In each fold one VAE is fitted on the
        training fold only, and ``estimator`` is fitted on the training fold
        plus each amount and scored with ``scoring`` on the test fold.  The
        first amount ("balance", or 1 × for regression and balanced classes)
        is kept unless another beats it by more than the standard error of
        their difference over the folds; rows are added only when the kept
        amount's mean lift over none exceeds half its standard error and it
        gains in more than half of the folds, so no rows (and no final VAE
        fit) is the answer when the folds show no clear gain.  This costs ``cv`` VAE fits plus four estimator
        fits per fold on top of the final fit: on 500 rows of Adult, one
        thread, 38 s against 6.6 s for one fit of the VAE (5.8 times;
        ``python -m benchmarks.augmentation --cost``).
        An int adds that many rows, a float that share of ``len(X)``
        (classes in proportion to their counts in ``y``); ``None`` adds the
        rows ``sampling_strategy`` asks for (classification only).
    strategy : str, default="auto"
        How rows are generated: ``"conditional"`` (classification: rows drawn
        for each class), ``"joint"`` (regression: target drawn with the
        features), ``"latent_neighbours"`` (decoded interpolations between the
        latent codes of a real row and a near neighbour of its class),
        ``"refined"`` (classification: conditional rows whose label a model of
        the real rows contradicts with probability >= 0.9 are dropped;
        regression: joint rows with the target predicted by a model of the
        real rows).  ``"latent_neighbours"`` and ``"refined"`` may add fewer
        rows than asked (``n_new_`` says how many).  ``"auto"`` is
        ``"refined"`` with ``n_new="auto"``, else ``"conditional"`` /
        ``"joint"``; a named strategy with ``n_new="auto"`` has its amounts
        searched instead.
    sampling_strategy : str, float or dict, default="auto"
        Used when ``n_new=None``, as in imbalanced-learn: ``"auto"`` /
        ``"not majority"`` bring every class up to the majority count,
        ``"minority"`` only the smallest class, ``"all"`` every class, a
        float is the wanted minority/majority ratio (binary), a dict gives
        the wanted count per class.
    estimator : estimator, optional
        Downstream model scored by ``n_new="auto"`` (cloned).  Default:
        ``HistGradientBoostingClassifier`` / ``Regressor`` (random_state=0)
        with text and boolean columns as native categorical features.  The
        ``"refined"`` strategy always uses that default model.
    scoring : str or callable, optional
        A scikit-learn scorer name (``sklearn.metrics.get_scorer``) or
        callable.  Default: ``"roc_auc"`` for a binary target,
        ``"roc_auc_ovr"`` for several classes, ``"r2"`` for regression.
    cv : int or splitter, default=5
        Folds of ``n_new="auto"``: shuffled K-fold, stratified for
        classification; or a scikit-learn splitter.
    vae : TabularVAE, optional
        Template model (cloned; its parameters are kept).  Default
        ``TabularVAE(early_stopping=False, config={"value_protection": 0,
        "decoder": "autoregressive"})``: rows that train a model in-house
        need neither the small-table early stop nor rare-value protection of
        shared samples, and both cost lift
        (``docs/decisions/augmentation-auto.md``); the decoder is the one the
        lift was measured with, on small tables too.  Pass a template with
        those defaults before sharing the augmented rows.
    random_state : None, int or RandomState, default=None

    Attributes
    ----------
    vae_ : TabularVAE or None
        The VAE fitted on all rows; None when no rows were added.
    n_new_ : int
        Rows added.
    strategy_ : str or None
        Strategy used; None when no rows were added.
    cv_results_ : dict of arrays
        With ``n_new="auto"``: one entry per arm (the first is no
        augmentation): ``params``, ``param_strategy``, ``param_n_new`` (share
        of ``len(X)``, or ``"balance"``), ``split<k>_test_score``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score``, and ``mean_lift`` /
        ``std_lift``, the score minus the no-augmentation score on the same
        fold, averaged over folds, with its standard deviation.
    best_index_ : int
        Index of the chosen arm in ``cv_results_`` (``n_new="auto"``).
    best_score_ : float
        Its mean cross-validated score (``n_new="auto"``).

    Examples
    --------
    >>> from tabvae import TabularVAE
    >>> from tabvae import TabVAEResampler
    >>> from tabvae.datasets import load_adult
    >>> df = load_adult().head(600)
    >>> X, y = df.drop(columns="income"), df["income"]
    >>> res = TabVAEResampler(n_new=None, vae=TabularVAE(epochs=2), random_state=0)
    >>> X_res, y_res = res.fit_resample(X, y)
    >>> y_res.value_counts().nunique()  # classes now balanced
    1
    """

    def __init__(
        self,
        *,
        n_new="auto",
        strategy="auto",
        sampling_strategy="auto",
        estimator=None,
        scoring=None,
        cv=5,
        vae=None,
        random_state=None,
    ):
        self.n_new = n_new
        self.strategy = strategy
        self.sampling_strategy = sampling_strategy
        self.estimator = estimator
        self.scoring = scoring
        self.cv = cv
        self.vae = vae
        self.random_state = random_state

    def fit_resample(self, X, y):
        """Fit the VAE on ``(X, y)`` and return the rows plus synthetic ones.

        Returns
        -------
        X_resampled : DataFrame (or ndarray if X was not a DataFrame)
        y_resampled : Series (or ndarray if y was not a Series)
        """
        X_df, y_s = _check_xy(X, y)
        classification = _is_classification(y_s)
        strategies = self._check_strategy(classification)
        rng = check_random_state(self.random_state)
        table = X_df.reset_index(drop=True).assign(**{TARGET: y_s.to_numpy()})
        table[TARGET] = table[TARGET].astype(y_s.dtype)
        if isinstance(self.n_new, str) and self.n_new == "auto":
            counts = self._search(table, classification, strategies, rng)
        else:
            self.strategy_ = strategies[0]
            counts = self._counts(y_s, classification)
        total = sum(counts.values()) if isinstance(counts, dict) else counts
        self.n_new_ = int(total)
        self.vae_ = None
        new = table.iloc[:0]
        if total:
            seed = rng.randint(2**31 - 1)
            self.vae_ = self._fit_vae(table, classification, seed)
            new = take(make_pools(self.vae_, table, [self.strategy_], counts, seed)[self.strategy_], counts)
            self.n_new_ = len(new)
        else:
            self.strategy_ = None
        out = pd.concat([table, new], ignore_index=True)
        X_out, y_out = out.drop(columns=TARGET), out[TARGET].rename(getattr(y, "name", None))
        return (
            X_out if isinstance(X, pd.DataFrame) else X_out.to_numpy(),
            y_out if isinstance(y, pd.Series) else y_out.to_numpy(),
        )

    def _check_strategy(self, classification: bool) -> list[str]:
        """The strategies to use: all of the task's for "auto" with n_new="auto", else one."""
        valid = strategies_for(classification)
        if self.strategy == "auto":
            return [AUTO_STRATEGY] if isinstance(self.n_new, str) and self.n_new == "auto" else [valid[0]]
        if self.strategy not in valid:
            task = "classification" if classification else "regression"
            raise ValueError(
                f"strategy must be 'auto' or one of {list(valid)} for a {task} target, got {self.strategy!r}."
            )
        return [self.strategy]

    def _counts(self, y: pd.Series, classification: bool):
        """Rows to add for a fixed ``n_new``: a dict per class (classification) or an int."""
        n_new = self.n_new
        if n_new is None:
            if not classification:
                raise ValueError("y looks continuous (regression); pass n_new to say how many rows to add.")
            return class_targets(y, self.sampling_strategy)
        if isinstance(n_new, bool) or not isinstance(n_new, numbers.Real) or float(n_new) < 0:
            raise ValueError(f"n_new must be 'auto', None, a non-negative int or a float fraction, got {n_new!r}.")
        n = int(n_new) if isinstance(n_new, numbers.Integral) else int(round(float(n_new) * len(y)))
        return counts_for(y, classification, n)

    def _search(self, table, classification, strategies, rng):
        """Cross-validate the amounts and strategies; set the search attributes; the counts to add."""
        estimator = default_estimator(classification) if self.estimator is None else self.estimator
        check_estimator(estimator)
        y = table[TARGET]
        scorer = check_scoring(self.scoring, y, classification)
        splitter = check_splitter(self.cv, y, classification, rng.randint(2**31 - 1))
        amounts, default = auto_amounts(y, classification)
        search = cross_validate(
            table,
            classification,
            lambda rows, seed: self._fit_vae(rows, classification, seed),
            strategies,
            amounts,
            estimator,
            scorer,
            splitter,
            rng,
        )
        self.cv_results_, self.best_index_ = summarize(search, 1 + default)
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        best = self.cv_results_["params"][self.best_index_]
        self.strategy_ = best["strategy"]
        return amount_counts(y, classification, best["n_new"])

    def _fit_vae(self, table: pd.DataFrame, classification: bool, seed: int) -> TabularVAE:
        """A clone of the template VAE fitted on ``table``, conditioned on the target for classification."""
        vae = clone(self.vae) if self.vae is not None else TabularVAE(**DEFAULT_VAE)
        params: dict[str, Any] = {"random_state": seed}
        if classification:
            params["conditional_columns"] = [TARGET]
            params["categorical_columns"] = list(set(vae.categorical_columns or []) | {TARGET})
        return vae.set_params(**params).fit(table)


def augment(
    X,
    y,
    *,
    n_new="auto",
    strategy="auto",
    sampling_strategy="auto",
    estimator=None,
    scoring=None,
    cv=5,
    vae=None,
    random_state=None,
):
    """Return ``(X_aug, y_aug)``: the rows of ``(X, y)`` plus synthetic rows.

    A plain function for users without imbalanced-learn; see
    :class:`TabVAEResampler` for the parameters.  With the default
    ``n_new="auto"`` the amount (possibly none) and the strategy are chosen by
    cross-validation with ``estimator`` and ``scoring``.

    Examples
    --------
    >>> from tabvae import TabularVAE, augment
    >>> from tabvae.datasets import load_adult
    >>> df = load_adult().head(600)
    >>> X_aug, y_aug = augment(df.drop(columns="income"), df["income"], n_new=300,
    ...                        vae=TabularVAE(epochs=2), random_state=0)
    >>> len(X_aug)
    900
    """
    return TabVAEResampler(
        n_new=n_new,
        strategy=strategy,
        sampling_strategy=sampling_strategy,
        estimator=estimator,
        scoring=scoring,
        cv=cv,
        vae=vae,
        random_state=random_state,
    ).fit_resample(X, y)
