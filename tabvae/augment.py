"""Augment a training set with synthetic rows: an imbalanced-learn resampler and a plain helper.

The target is modelled jointly with the features.  For classification the
target is a conditioning column of the VAE, so rows of a requested class are
generated directly (no rejection); for regression the target is generated
with the features.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state

from .estimator import TabularVAE
from .schema import DISCRETE_INTEGER_LEVELS, check_dataframe

TARGET = "__target__"


def _is_classification(y: pd.Series) -> bool:
    if pd.api.types.is_float_dtype(y.dtype):
        return False
    if pd.api.types.is_integer_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype):
        return y.nunique() <= DISCRETE_INTEGER_LEVELS
    return True


def _class_targets(y: pd.Series, strategy) -> dict:
    """Rows to add per class for an imbalanced-learn style ``sampling_strategy``."""
    counts = y.value_counts()
    majority = counts.max()
    if strategy in ("auto", "not majority"):
        return {c: int(majority - n) for c, n in counts.items() if n < majority}
    if strategy == "minority":
        c = counts.idxmin()
        return {c: int(majority - counts[c])}
    if strategy == "all":
        return {c: int(majority - n) for c, n in counts.items()}
    if isinstance(strategy, numbers.Real) and not isinstance(strategy, bool):
        if len(counts) != 2 or not 0 < strategy <= 1:
            raise ValueError("A float sampling_strategy is the wanted minority/majority ratio in (0, 1] "
                             f"and needs a binary target; got {strategy!r} with {len(counts)} classes.")
        c = counts.idxmin()
        return {c: max(0, int(round(strategy * majority)) - int(counts[c]))}
    if isinstance(strategy, dict):
        unknown = [c for c in strategy if c not in counts.index]
        if unknown:
            raise ValueError(f"sampling_strategy names classes not in y: {unknown}; classes are {list(counts.index)}.")
        short = {c: n for c, n in strategy.items() if n < counts[c]}
        if short:
            raise ValueError(f"sampling_strategy asks for fewer rows than exist for {short}; it adds rows only.")
        return {c: int(n - counts[c]) for c, n in strategy.items()}
    raise ValueError(
        "sampling_strategy must be 'auto', 'not majority', 'minority', 'all', a float ratio or a "
        f"dict {{class: count}}, got {strategy!r}."
    )


class TabVAEResampler(BaseEstimator):
    """Add synthetic rows from a :class:`TabularVAE` fitted on ``(X, y)``.

    Compatible with imbalanced-learn: ``fit_resample(X, y)`` works in
    ``imblearn.pipeline.Pipeline``, where it runs on training folds only.

    Parameters
    ----------
    sampling_strategy : str, float or dict, default="auto"
        For classification, as in imbalanced-learn: ``"auto"`` /
        ``"not majority"`` bring every class up to the majority count,
        ``"minority"`` only the smallest class, a float is the wanted
        minority/majority ratio (binary), a dict gives the wanted count per
        class.  Ignored when ``n_new`` is given.
    n_new : int or float, optional
        Add this many rows (an int) or this fraction of ``len(X)`` (a float),
        drawn from the joint distribution (regression targets too).
    vae : TabularVAE, optional
        Template model (cloned; its parameters are kept).  Default
        ``TabularVAE()``.
    random_state : None, int or RandomState, default=None

    Examples
    --------
    >>> from tabvae import TabularVAE
    >>> from tabvae.augment import TabVAEResampler
    >>> from tabvae.datasets import load_adult
    >>> df = load_adult().head(600)
    >>> X, y = df.drop(columns="income"), df["income"]
    >>> res = TabVAEResampler(vae=TabularVAE(epochs=2), random_state=0)
    >>> X_res, y_res = res.fit_resample(X, y)
    >>> y_res.value_counts().nunique()  # classes now balanced
    1
    """

    def __init__(self, *, sampling_strategy="auto", n_new=None, vae=None, random_state=None):
        self.sampling_strategy = sampling_strategy
        self.n_new = n_new
        self.vae = vae
        self.random_state = random_state

    def fit_resample(self, X, y):
        """Fit the VAE on ``(X, y)`` and return the rows plus synthetic ones.

        Returns
        -------
        X_resampled : DataFrame (or ndarray if X was an array)
        y_resampled : Series (or ndarray if y was an array)
        """
        was_array = not isinstance(X, pd.DataFrame)
        X_df = check_dataframe(X)
        y_s = pd.Series(np.asarray(y) if not isinstance(y, pd.Series) else y.to_numpy(), name=TARGET,
                        dtype=y.dtype if isinstance(y, pd.Series) else None)
        if len(y_s) != len(X_df):
            raise ValueError(f"X has {len(X_df)} rows but y has {len(y_s)}; they must match.")
        if y_s.isna().any():
            raise ValueError("y contains missing values; drop or impute those rows first.")
        if TARGET in X_df.columns:
            raise ValueError(f"X has a column named {TARGET!r}, which tabvae reserves for the target.")
        classification = _is_classification(y_s)
        rng = check_random_state(self.random_state)
        table = X_df.reset_index(drop=True).assign(**{TARGET: y_s.to_numpy()})
        table[TARGET] = table[TARGET].astype(y_s.dtype)
        vae = clone(self.vae) if self.vae is not None else TabularVAE()
        params = {"random_state": rng.randint(2**31 - 1)}
        if classification:
            params["conditional_columns"] = [TARGET]
            params["categorical_columns"] = list(set(vae.categorical_columns or []) | {TARGET})
        self.vae_ = vae.set_params(**params).fit(table)
        new = self._generate(table, y_s, classification, rng)
        out = pd.concat([table, new], ignore_index=True)
        X_out, y_out = out.drop(columns=TARGET), out[TARGET].rename(getattr(y, "name", None))
        if was_array:
            return X_out.to_numpy(), y_out.to_numpy()
        return X_out, y_out

    def _generate(self, table, y, classification, rng) -> pd.DataFrame:
        seed = rng.randint(2**31 - 1)
        if self.n_new is not None:
            n = self.n_new if isinstance(self.n_new, numbers.Integral) else int(round(self.n_new * len(table)))
            if n < 0 or isinstance(self.n_new, bool):
                raise ValueError(f"n_new must be a non-negative int or a float fraction, got {self.n_new!r}.")
            return self.vae_.sample(n, random_state=seed) if n else table.iloc[:0]
        if not classification:
            raise ValueError("y looks continuous (regression); pass n_new to say how many rows to add.")
        parts = [self.vae_.sample(k, conditions={TARGET: c}, random_state=seed + i)
                 for i, (c, k) in enumerate(_class_targets(y, self.sampling_strategy).items()) if k > 0]
        return pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]


def augment(X, y, *, n_new=None, sampling_strategy="auto", vae=None, random_state=None):
    """Return ``(X_aug, y_aug)``: the rows of ``(X, y)`` plus synthetic rows.

    A plain function for users without imbalanced-learn; see
    :class:`TabVAEResampler` for the parameters.

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
    return TabVAEResampler(sampling_strategy=sampling_strategy, n_new=n_new, vae=vae,
                           random_state=random_state).fit_resample(X, y)
