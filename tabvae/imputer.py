"""``TabVAEImputer``: :meth:`TabularVAE.impute` as a scikit-learn transformer, for Pipelines."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from .estimator import TabularVAE
from .imputation import METHODS


class TabVAEImputer(TransformerMixin, BaseEstimator):
    """Fill missing cells with a :class:`TabularVAE` fitted on the training rows.

    ``fit`` learns the table (missing cells included); ``transform`` fills each
    row's missing cells given its observed cells (:meth:`TabularVAE.impute`).
    Any column can be filled, including one that had no missing values in fit.
    Mixed types are kept: the output is a DataFrame with the input's dtypes, in
    the fitted column order, so ``set_output(transform="pandas")`` and Pipelines
    of mixed-type steps work.

    Parameters
    ----------
    vae : TabularVAE, optional
        Template model (cloned; its parameters are kept).  Default
        ``TabularVAE(config={"value_protection": 0})``: imputed cells go back
        into the user's own table, so rare levels and extremes stay imputable.
    method : {"mean", "sample"}, default="mean"
        ``"mean"``: numbers and datetimes get their conditional mean, categories
        their most likely value (a best single guess).  ``"sample"``: a draw
        from the conditional distribution.
    random_state : None, int or RandomState, default=None
        When given, seeds the fit (in place of the template's ``random_state``)
        and every ``transform``, which then gives the same output for the same
        rows.  ``None``: the template's seed, and each ``transform`` continues
        the model's stream.

    Attributes
    ----------
    vae_ : TabularVAE
        The fitted model.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> from tabvae import TabularVAE, TabVAEImputer
    >>> from tabvae.datasets import load_adult
    >>> df = load_adult().head(500)
    >>> imputer = TabVAEImputer(vae=TabularVAE(epochs=2), random_state=0).fit(df)
    >>> holes = df.head(20).copy()
    >>> holes.loc[:9, "age"] = np.nan
    >>> int(imputer.transform(holes)["age"].isna().sum())
    0
    """

    def __init__(self, vae: TabularVAE | None = None, method: str = "mean", random_state: Any = None) -> None:
        self.vae = vae
        self.method = method
        self.random_state = random_state

    def fit(self, X: Any, y: None = None) -> TabVAEImputer:
        """Fit a clone of the template VAE on ``X`` (missing cells allowed).

        Returns
        -------
        self : TabVAEImputer
        """
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}.")
        vae = clone(self.vae) if self.vae is not None else TabularVAE(config={"value_protection": 0})
        if self.random_state is not None:
            vae.set_params(random_state=self.random_state)
        self.vae_ = vae.fit(X)
        self.n_features_in_ = self.vae_.n_features_in_
        if hasattr(self.vae_, "feature_names_in_"):
            self.feature_names_in_ = self.vae_.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        """``X`` with its missing cells filled (its index and dtypes; the fitted column order).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        DataFrame of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        out = self.vae_.impute(X, random_state=self.random_state, method=self.method)
        assert isinstance(out, pd.DataFrame)  # one imputation
        return out[list(self.get_feature_names_out())] if isinstance(X, pd.DataFrame) else out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The fitted column names (``x0, x1, ...`` for a model fitted on an array)."""
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", [f"x{i}" for i in range(self.n_features_in_)])
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = tags.input_tags.string = tags.input_tags.categorical = True
        return tags
