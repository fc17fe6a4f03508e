"""Categorical and boolean columns: frequency-capped categories with an "other" bucket.

The network sees at most ``max_categories`` categories per column: the most
frequent levels keep their own code, all rarer levels share one "other" code,
and a missing value has a code of its own.  When the model emits "other", the
decoder draws one of the rare levels from their empirical distribution, so rare
levels still appear at their observed frequencies (without their correlations
with other columns) while memory and time stay bounded for a column with
50,000 distinct values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import python_scalar
from .base import ColumnEncoder, code_missing, is_missing

MAX_CATEGORIES = 256


class CategoricalEncoder(ColumnEncoder):
    """Integer codes for the frequent levels, one "other" code, one "missing" code.

    Parameters
    ----------
    spec : ColumnSpec
    max_categories : int, default=256
        Most codes the network sees for this column ("other" and "missing"
        included).
    """

    def __init__(self, spec, max_categories: int = MAX_CATEGORIES):
        super().__init__(spec)
        self.max_categories = max_categories

    def fit(self, column: pd.Series) -> CategoricalEncoder:
        counts = level_counts(column)
        has_missing = bool(is_missing(column).any())
        budget = max(1, self.max_categories - int(has_missing))
        if len(counts) > budget:
            kept, rare = counts.iloc[: budget - 1], counts.iloc[budget - 1 :]
        else:
            kept, rare = counts, counts.iloc[:0]
        self.levels_ = [python_scalar(v) for v in kept.index]
        self.rare_levels_ = [python_scalar(v) for v in rare.index]
        self.rare_probs_ = (rare.to_numpy(float) / rare.sum()).tolist() if len(rare) else []
        self.has_missing_ = has_missing
        self._set_dims()
        return self

    def _set_dims(self):
        self.other_code_ = len(self.levels_) if self.rare_levels_ else None
        self.missing_code_ = len(self.levels_) + bool(self.rare_levels_) if self.has_missing_ else None
        n_codes = len(self.levels_) + bool(self.rare_levels_) + bool(self.has_missing_)
        self.n_continuous = 0
        self.cardinalities = (n_codes,)
        self._index = pd.Index(self.levels_, dtype=object)
        self._rare_index = pd.Index(self.rare_levels_, dtype=object)

    def transform(self, column: pd.Series, extrapolate: bool = False):
        """Codes of ``column``; levels never seen in training get code -1."""
        values = column.astype(object)
        codes = self._index.get_indexer(values).astype(np.int64)
        if self.other_code_ is not None:
            codes[(codes < 0) & (self._rare_index.get_indexer(values) >= 0)] = self.other_code_
        code_missing(codes, is_missing(column), self.missing_code_)
        return np.zeros((len(column), 0)), codes[:, None]

    def seen_values(self) -> list:
        """Every level seen in training, the frequent ones first."""
        return list(self.levels_) + list(self.rare_levels_)

    def inverse_transform(self, continuous, codes, rng):
        # The few distinct values are cast to the column's dtype once, then taken row by row:
        # casting a million decoded objects (to Arrow strings, say) cost far more than the take.
        codes, n_levels = codes[:, 0], len(self.levels_)
        table = [*self.levels_, np.nan, *self.rare_levels_]  # level codes, the missing slot, rare levels
        rows = np.clip(codes, 0, n_levels)  # the missing code and "other" point at the missing slot
        if self.other_code_ is not None:
            is_other = codes == self.other_code_
            if is_other.any():
                picks = rng.choice(len(self.rare_levels_), size=int(is_other.sum()), p=self.rare_probs_)
                rows[is_other] = n_levels + 1 + picks
        if not (rows == n_levels).any():  # no missing value drawn: keep NaN out of the cast
            table[n_levels] = self.levels_[0] if n_levels else table[n_levels]
        typed = self.spec.restore_dtype(pd.Series(table, dtype=object))
        return typed.take(rows).reset_index(drop=True)

    def get_state(self):
        return {
            "max_categories": self.max_categories,
            "levels": self.levels_,
            "rare_levels": self.rare_levels_,
            "rare_probs": self.rare_probs_,
            "has_missing": self.has_missing_,
        }

    def set_state(self, state):
        self.max_categories = state["max_categories"]
        self.levels_ = state["levels"]
        self.rare_levels_ = state["rare_levels"]
        self.rare_probs_ = state["rare_probs"]
        self.has_missing_ = state["has_missing"]
        self._set_dims()
        return self


def level_counts(column: pd.Series) -> pd.Series:
    """Count of each non-missing level, most frequent first, ties in order of first appearance.

    ``Series.value_counts`` orders levels of equal count differently in pandas 2
    and 3; the explicit stable sort gives the same level order, and so the same
    seeded fit, under both.
    """
    codes, uniques = pd.factorize(column.astype(object), use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    order = np.argsort(-counts, kind="stable")
    return pd.Series(counts[order], index=pd.Index(uniques, dtype=object)[order])
