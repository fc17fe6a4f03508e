"""Categorical and boolean columns: frequency-capped categories with an "other" bucket.

The network sees at most ``max_categories`` categories per column: the most
frequent levels keep their own code, all rarer levels share one "other" code,
and a missing value has a code of its own.  When the model emits "other", the
decoder draws one of the rare levels from their empirical distribution, so rare
levels still appear at their observed frequencies (without their correlations
with other columns) while memory and time stay bounded for a column with
50,000 distinct values.

With value protection (``protection=k``), levels seen in fewer than ``k``
rows join the "other" bucket before training and are forgotten: the fitted
state keeps only how often "other" stood for one of them, and the decoder
emits the replacement (the most frequent level, or a placeholder) in their
place (``docs/decisions/value-protection.md``).  Under a privacy budget the
level list comes from noisy counts instead (:mod:`.privacy`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..schema import python_scalar
from .base import ColumnEncoder, code_missing, is_missing
from .privacy import RARE_PLACEHOLDER, ColumnBudget, holds_missing, holds_text, private_counts, protect_counts

MAX_CATEGORIES = 256


class CategoricalEncoder(ColumnEncoder):
    """Integer codes for the frequent levels, one "other" code, one "missing" code.

    Parameters
    ----------
    spec : ColumnSpec
    max_categories : int, default=256
        Most codes the network sees for this column ("other" and "missing"
        included).
    protection : int, default=0
        Levels seen in fewer than this many rows are never emitted (0: off).
        They share the "other" code, which then decodes to the replacement.
        A level never seen in fit then also takes the "other" code, since the
        encoder cannot tell it from a protected one.  Under a ``budget`` the
        noisy threshold protects instead.
    rare_replacement : {"frequent", "placeholder"}, default="frequent"
        What a protected level becomes: one of the kept levels, drawn by their
        training shares (the distribution of the other levels is kept), or
        ``"_RARE_"`` (added to the categories of a ``category`` dtype).  A
        column whose dtype cannot hold text (bool, numbers) gets a kept level
        either way.  With no level of ``protection`` rows left,
        "frequent" gives a missing value (the median value for numpy integers
        and bool, which hold none).
    levels : list or None, default=None
        Public levels: the codes are these levels (all kept, however rare);
        other values are protected.
    budget : ColumnBudget or None, default=None
        Fit from noisy counts (:func:`~tabvae.encoders.privacy.private_counts`);
        the levels beyond ``max_categories`` are protected too, and whether
        the column has missing values is read from the schema.
    """

    def __init__(
        self,
        spec,
        max_categories: int = MAX_CATEGORIES,
        *,
        protection: int = 0,
        rare_replacement: str = "frequent",
        levels: list | None = None,
        budget: ColumnBudget | None = None,
    ):
        super().__init__(spec)
        self.max_categories = max_categories
        self.protection = protection
        self.rare_replacement = rare_replacement
        self.levels = levels
        self.budget = budget

    def fit(self, column: pd.Series) -> CategoricalEncoder:
        observed = level_counts(column)
        counts, protected, has_missing = observed, 0.0, bool(is_missing(column).any())
        if self.budget is not None:  # the rows of dropped levels are unknown: "other" is all replacement
            counts, has_missing = private_counts(observed, self.budget, self.levels), self.spec.null_rate > 0
        elif self.levels is not None:
            counts = observed.reindex(pd.Index(self.levels, dtype=object), fill_value=0)
            protected = float(observed.sum() - counts.sum())
            counts = counts.iloc[np.argsort(-counts.to_numpy(), kind="stable")]
        elif self.protection:
            counts, protected = protect_counts(observed, self.protection)
        budget = max(1, self.max_categories - int(has_missing))
        if len(counts) > budget:
            kept, rare = counts.iloc[: budget - 1], counts.iloc[budget - 1 :]
        else:
            kept, rare = counts, counts.iloc[:0]
        if self.budget is not None:  # levels beyond the cap are not drawn from their noisy shares
            rare = rare.iloc[:0]
        self.levels_ = [python_scalar(v) for v in kept.index]
        self.rare_levels_ = [python_scalar(v) for v in rare.index]
        self.rare_probs_ = (rare.to_numpy(float) / rare.sum()).tolist() if len(rare) else []
        self.has_missing_ = has_missing
        merged = protected > 0 or self.levels is not None or self.budget is not None
        other_rows = protected + float(rare.sum())
        self.protected_share_ = float(protected / other_rows if other_rows else 1.0) if merged else 0.0
        self.replacement_ = self._replacement(observed) if merged else None
        # "frequent": a protected row becomes one of the kept levels, drawn by their training shares
        frequent = bool(self.levels_) and self.replacement_ == self.levels_[0] and kept.sum() > 0
        self.replacement_probs_ = (kept.to_numpy(float) / kept.sum()).tolist() if frequent else None
        self.spec = self._placeholder_spec()
        self._set_dims()
        return self

    def _replacement(self, observed: pd.Series):
        """The value a protected level decodes to (None: a missing value).

        With no level left, the column emits missing values where its dtype
        holds them (so the dtype is kept and no value is made up); a column of
        numpy integers or bool takes its median value, as a number column of
        fewer than ``2 k`` values does.
        """
        placeholder = self.rare_replacement == "placeholder" and holds_text(self.spec)
        if placeholder:
            return RARE_PLACEHOLDER
        if self.levels_:
            return self.levels_[0]
        if holds_missing(self.spec):
            return None
        if self.budget is not None:
            raise ValueError(
                f"Column {self.spec.name!r}: no level passed the noisy threshold and its dtype "
                f"{self.spec.dtype} holds no missing value. Give it public_levels or a larger epsilon."
            )
        return _median(observed)

    def _placeholder_spec(self):
        """``spec``, with the placeholder added to the categories of a category dtype that emits it."""
        if self.spec.dtype != "category" or self.replacement_ != RARE_PLACEHOLDER:
            return self.spec
        if RARE_PLACEHOLDER in self.spec.categories:
            return self.spec
        return dataclasses.replace(self.spec, categories=[*self.spec.categories, RARE_PLACEHOLDER])

    def _set_dims(self):
        has_other = bool(self.rare_levels_) or self.protected_share_ > 0
        self.other_code_ = len(self.levels_) if has_other else None
        self.missing_code_ = len(self.levels_) + has_other if self.has_missing_ else None
        n_codes = len(self.levels_) + has_other + bool(self.has_missing_)
        self.n_continuous = 0
        self.cardinalities = (n_codes,)
        self._index = pd.Index(self.levels_, dtype=object)
        self._rare_index = pd.Index(self.rare_levels_, dtype=object)

    def transform(self, column: pd.Series, extrapolate: bool = False):
        """Codes of ``column``; levels never seen in training get code -1 (the "other" code where
        levels are protected)."""
        values = column.astype(object)
        codes = self._index.get_indexer(values).astype(np.int64)
        if self.other_code_ is not None:
            other = codes < 0
            if self.protected_share_ == 0:  # only the rare levels seen in fit
                other &= self._rare_index.get_indexer(values) >= 0
            codes[other] = self.other_code_
        code_missing(codes, is_missing(column), self.missing_code_)
        return np.zeros((len(column), 0)), codes[:, None]

    def seen_values(self) -> list:
        """Every level seen in training that may be emitted, the frequent ones first (and the placeholder)."""
        extra = [self.replacement_] if self.replacement_ == RARE_PLACEHOLDER else []
        return list(self.levels_) + list(self.rare_levels_) + extra

    def inverse_transform(self, continuous, codes, rng):
        # The few distinct values are cast to the column's dtype once, then taken row by row:
        # casting a million decoded objects (to Arrow strings, say) cost far more than the take.
        codes, n_levels = codes[:, 0], len(self.levels_)
        # level codes, the missing slot, rare levels, the replacement of protected levels
        table = [*self.levels_, np.nan, *self.rare_levels_]
        if self.replacement_ is not None:
            table.append(self.replacement_)
        rows = np.clip(codes, 0, n_levels)  # the missing code and "other" point at the missing slot
        if self.other_code_ is not None:
            is_other = codes == self.other_code_
            if is_other.any():
                rows[is_other] = self._draw_other(int(is_other.sum()), rng)
        if not (rows == n_levels).any():  # no missing value drawn: keep NaN out of the cast
            table[n_levels] = self.levels_[0] if n_levels else table[-1]
        typed = self.spec.restore_dtype(pd.Series(table, dtype=object))
        return typed.take(rows).reset_index(drop=True)

    def _draw_other(self, n: int, rng) -> np.ndarray:
        """Rows of the decoding table for ``n`` "other" codes: rare levels by their shares, or the replacement."""
        first, n_rare = len(self.levels_) + 1, len(self.rare_levels_)
        if self.protected_share_ == 0:
            return first + rng.choice(n_rare, size=n, p=self.rare_probs_)
        fill = first + n_rare if self.replacement_ is not None else first - 1  # else the missing slot
        if self.protected_share_ == 1:
            return self._fill(np.full(n, fill), fill, rng)
        p = [*(np.asarray(self.rare_probs_) * (1 - self.protected_share_)), self.protected_share_]
        picks = rng.choice(n_rare + 1, size=n, p=p)
        return self._fill(np.where(picks == n_rare, fill, first + picks), fill, rng)

    def _fill(self, rows: np.ndarray, fill: int, rng) -> np.ndarray:
        """``rows`` with each protected slot ``fill`` replaced by a kept level drawn by its share ("frequent")."""
        if self.replacement_probs_ is None:
            return rows
        slots = rows == fill
        rows[slots] = rng.choice(len(self.levels_), size=int(slots.sum()), p=self.replacement_probs_)
        return rows

    def get_state(self):
        return {
            "max_categories": self.max_categories,
            "levels": self.levels_,
            "rare_levels": self.rare_levels_,
            "rare_probs": self.rare_probs_,
            "has_missing": self.has_missing_,
            "protection": self.protection,
            "rare_replacement": self.rare_replacement,
            "protected_share": self.protected_share_,
            "replacement": self.replacement_,
            "replacement_probs": self.replacement_probs_,
        }

    def set_state(self, state):
        self.max_categories = state["max_categories"]
        self.levels_ = state["levels"]
        self.rare_levels_ = state["rare_levels"]
        self.rare_probs_ = state["rare_probs"]
        self.has_missing_ = state["has_missing"]
        self.protection = state.get("protection", 0)
        self.rare_replacement = state.get("rare_replacement", "frequent")
        self.protected_share_ = state.get("protected_share", 0.0)
        self.replacement_ = state.get("replacement")
        self.replacement_probs_ = state.get("replacement_probs")
        if self.replacement_probs_ is not None and len(self.replacement_probs_) != len(self.levels_):
            raise ValueError(
                f"invalid model state: column {self.spec.name!r} has {len(self.levels_)} levels but "
                f"{len(self.replacement_probs_)} replacement shares."
            )
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


def _median(counts: pd.Series) -> object:
    """The (lower) median of the levels of ``counts``, each repeated its count times (the most frequent level
    where the levels do not sort)."""
    values = pd.Series(np.repeat(counts.index.to_numpy(), counts.to_numpy()))
    if not len(values):
        return None
    try:
        return python_scalar(values.sort_values(kind="stable").iloc[(len(values) - 1) // 2])
    except TypeError:
        return python_scalar(counts.index[0])
