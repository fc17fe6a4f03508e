"""Rules on value combinations: :class:`FunctionalDependency`, :class:`FixedCombinations`, :class:`StructuralLevel`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnSpec
from .base import Conditions, Constraint
from .values import (
    Combinations,
    as_column_list,
    column_from_json,
    column_to_json,
    condition_mask,
    equals,
    fresh_name,
    narrow,
)


def _member_codes(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """For each row, the index of its combination of ``cols`` within ``df``."""
    return Combinations.of(df[cols]).find(df[cols])


def _restored(values: np.ndarray, spec: ColumnSpec, index: pd.Index) -> pd.Series:
    return spec.restore_dtype(pd.Series(values, index=index, dtype=object))


class FunctionalDependency(Constraint):
    """The ``determinant`` column(s) fix the ``dependent`` column: equal determinants, equal dependents.

    The dependent is not modelled: it is dropped from the modelled table and
    restored from the mapping learned at fit (missing values count as a
    value), so every sampled row obeys the rule.  A determinant value (or
    combination) never seen in training, which a continuous or multi-column
    determinant can produce, gets the dependent's most frequent training value;
    add a :class:`FixedCombinations` on a multi-column determinant to keep it to
    the combinations seen in training.

    Parameters
    ----------
    determinant : str or list of str
    dependent : str
    """

    params = ("determinant", "dependent")
    implied_ = False  # set by ConstraintSet when the reverse dependency is enforced (then this one holds too)

    def __init__(self, determinant: str | list[str], dependent: str):
        self.determinant = determinant
        self.dependent = dependent

    def _det(self) -> list[str]:
        det = as_column_list(self.determinant, "determinant", "FunctionalDependency")
        if not isinstance(self.dependent, str):
            raise TypeError(f"FunctionalDependency: dependent must be a column name, got {self.dependent!r}.")
        if self.dependent in det:
            raise ValueError(f"{self!r}: the dependent {self.dependent!r} is also a determinant.")
        return det

    def column_names(self) -> list[str]:
        return [*self._det(), self.dependent]

    def _enforced(self) -> bool:
        return not self.implied_

    def reads(self) -> list[str]:
        return self._det() if self._enforced() else []

    def owns(self) -> list[str]:
        return [self.dependent] if self._enforced() else []

    def fit(self, df: pd.DataFrame, specs: dict[str, ColumnSpec]) -> FunctionalDependency:
        super().fit(df, specs)
        det = self._det()
        self.combos_ = Combinations.of(df[det])
        _, first = np.unique(self.combos_.find(df[det]), return_index=True)
        self.values_ = df[self.dependent].iloc[first].reset_index(drop=True)
        mode = df[self.dependent].value_counts(dropna=False).index[0]
        self.fallback_index_ = int(np.flatnonzero(equals(self.values_, mode))[0])
        return self

    def violations(self, df: pd.DataFrame) -> np.ndarray:
        """Rows whose dependent differs from the most frequent dependent of their determinant in ``df``."""
        pairs = pd.DataFrame({"g": _member_codes(df, self._det()), "d": _member_codes(df, [self.dependent])})
        modes = pairs.value_counts().reset_index().drop_duplicates("g").set_index("g")["d"]
        return pairs["d"].to_numpy() != modes.reindex(pairs["g"]).to_numpy()

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        return df if not self._enforced() else df.drop(columns=[self.dependent])

    def inverse_transform(self, df: pd.DataFrame) -> pd.DataFrame:
        if not self._enforced():
            return df
        idx = self.combos_.find(df[self._det()])
        idx[idx < 0] = self.fallback_index_
        values = self.values_.astype(object).to_numpy()[idx]
        return df.assign(**{self.dependent: _restored(values, self.specs_[self.dependent], df.index)})

    def translate(self, conditions: Conditions) -> Conditions:
        if not self._enforced() or self.dependent not in conditions:
            return conditions
        conditions = dict(conditions)
        cond = conditions.pop(self.dependent)
        matched = np.flatnonzero(condition_mask(self.values_, cond))
        det, why = self._det(), f"no value of {self.determinant!r} gives {self.dependent}={cond!r}"
        if len(det) == 1:
            return narrow(conditions, det[0], self.combos_.column(0, matched), why)
        if len(matched) != 1:
            raise ValueError(
                f"Condition {self.dependent}={cond!r} cannot be translated exactly: {self!r} "
                f"maps {len(matched)} combinations of {det} to it. Condition on {det} instead."
            )
        for j, c in enumerate(det):
            conditions = narrow(conditions, c, self.combos_.column(j, matched), why)
        return conditions

    def fitted_state(self) -> dict[str, Any]:
        return {
            "combinations": self.combos_.to_json(),
            "values": column_to_json(self.values_),
            "fallback_index": self.fallback_index_,
            "implied": not self._enforced(),
        }

    def restore(self, fitted: dict[str, Any], specs: dict[str, ColumnSpec]) -> None:
        super().restore(fitted, specs)
        self.combos_ = Combinations.from_json(fitted["combinations"], [specs[c] for c in self._det()])
        self.values_ = column_from_json(fitted["values"], specs[self.dependent])
        self.fallback_index_ = fitted["fallback_index"]
        self.implied_ = fitted["implied"]

    def __repr__(self) -> str:
        return f"FunctionalDependency({self.determinant!r}, {self.dependent!r})"


class FixedCombinations(Constraint):
    """Only the value combinations of ``columns`` seen in training can be sampled.

    The columns are modelled as one categorical column whose levels are the
    combinations seen in training; sampled rows split it back into the
    columns, in their own dtypes.

    Parameters
    ----------
    columns : list of str
        At least two columns.
    """

    params = ("columns",)

    def __init__(self, columns: list[str]):
        self.columns = columns

    def column_names(self) -> list[str]:
        cols = as_column_list(self.columns, "columns", "FixedCombinations")
        if len(cols) < 2:
            raise ValueError(f"FixedCombinations needs at least two columns, got {cols}.")
        return cols

    def owns(self) -> list[str]:
        return self.column_names()

    def fit(self, df: pd.DataFrame, specs: dict[str, ColumnSpec]) -> FixedCombinations:
        cols = self.column_names()
        self.specs_ = {c: specs[c] for c in cols}
        self.combos_ = Combinations.of(df[cols])
        self.labels_ = self._labels()
        self.key_ = fresh_name("+".join(cols), df.columns)
        return self

    def _labels(self) -> list[str]:
        rows = self.combos_.frame(self.column_names(), np.arange(len(self.combos_))).astype(object)
        labels = [" | ".join(map(str, r)) for r in rows.itertuples(index=False)]
        return labels if len(set(labels)) == len(labels) else [f"{i}: {lab}" for i, lab in enumerate(labels)]

    def violations(self, df: pd.DataFrame) -> np.ndarray:
        return self.combos_.find(df[self.column_names()]) < 0

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        cols = self.column_names()
        idx = self.combos_.find(df[cols])
        key = np.where(idx >= 0, np.asarray(self.labels_, dtype=object)[np.maximum(idx, 0)], None)
        out = df.drop(columns=cols)
        out.insert(list(df.columns).index(cols[0]), self.key_, pd.Series(key, index=df.index, dtype=object))
        return out

    def inverse_transform(self, df: pd.DataFrame) -> pd.DataFrame:
        cols = self.column_names()
        idx = pd.Index(self.labels_).get_indexer(df[self.key_].astype(object))
        parts = self.combos_.frame(cols, np.maximum(idx, 0))  # the network never writes an unseen key
        out = df.drop(columns=[self.key_])
        return out.assign(**{c: _restored(parts[c].astype(object).to_numpy(), self.specs_[c], df.index) for c in cols})

    def translate(self, conditions: Conditions) -> Conditions:
        cols = self.column_names()
        on = [c for c in cols if c in conditions]
        if not on:
            return conditions
        every = self.combos_.frame(cols, np.arange(len(self.combos_)))
        ok = np.logical_and.reduce([condition_mask(every[c], conditions[c]) for c in on])
        rest = {k: v for k, v in conditions.items() if k not in on}
        why = f"no combination of {cols} seen in training meets { ({c: conditions[c] for c in on}) }"
        return narrow(rest, self.key_, pd.Series(np.asarray(self.labels_, dtype=object)[ok], dtype=object), why)

    def fitted_state(self) -> dict[str, Any]:
        return {"combinations": self.combos_.to_json(), "key": self.key_}

    def restore(self, fitted: dict[str, Any], specs: dict[str, ColumnSpec]) -> None:
        super().restore(fitted, specs)
        self.combos_ = Combinations.from_json(fitted["combinations"], [specs[c] for c in self.column_names()])
        self.labels_, self.key_ = self._labels(), fitted["key"]


class StructuralLevel(Constraint):
    """``column`` holds ``level`` exactly in the rows where ``when_column`` holds ``when_value``.

    Example: ``StructuralLevel("OnlineSecurity", "No internet service",
    "InternetService", "No")``.  In the modelled table the level is replaced
    by the column's most frequent other value (a placeholder the network
    learns to write in those rows); sampled rows get the level back exactly
    where ``when_column == when_value`` and never elsewhere.

    Parameters
    ----------
    column : str
    level : scalar (not missing)
    when_column : str
    when_value : scalar (not missing)
    """

    params = ("column", "level", "when_column", "when_value")

    def __init__(self, column: str, level: Any, when_column: str, when_value: Any):
        self.column, self.level = column, level
        self.when_column, self.when_value = when_column, when_value

    def column_names(self) -> list[str]:
        if not (isinstance(self.column, str) and isinstance(self.when_column, str)) or self.column == self.when_column:
            raise ValueError(f"{self!r}: column and when_column must be two different column names.")
        if pd.isna(self.level) or pd.isna(self.when_value):
            raise ValueError(f"{self!r}: level and when_value must not be missing values.")
        return [self.column, self.when_column]

    def reads(self) -> list[str]:
        return [self.when_column]

    def owns(self) -> list[str]:
        return [self.column]

    def fit(self, df: pd.DataFrame, specs: dict[str, ColumnSpec]) -> StructuralLevel:
        super().fit(df, specs)
        other = ~equals(df[self.when_column], self.when_value)
        if not other.any():
            raise ValueError(
                f"{self!r}: every training row has {self.when_column}={self.when_value!r}; "
                "the rule needs rows without it."
            )
        self.placeholder_ = df[self.column][other].value_counts(dropna=False).index[:1].to_series()
        self.others_ = df[self.when_column][other].drop_duplicates().reset_index(drop=True)
        return self

    def violations(self, df: pd.DataFrame) -> np.ndarray:
        return equals(df[self.when_column], self.when_value) != equals(df[self.column], self.level)

    def _set(self, df: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
        return df.assign(**{self.column: _restored(values, self.specs_[self.column], df.index)})

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        values = df[self.column].astype(object).to_numpy(copy=True)
        values[equals(df[self.when_column], self.when_value)] = self.placeholder_.iloc[0]
        return self._set(df, values)

    def inverse_transform(self, df: pd.DataFrame) -> pd.DataFrame:
        values = df[self.column].astype(object).to_numpy(copy=True)
        when = equals(df[self.when_column], self.when_value)
        values[equals(df[self.column], self.level) & ~when] = self.placeholder_.iloc[0]
        values[when] = self.level
        return self._set(df, values)

    def translate(self, conditions: Conditions) -> Conditions:
        if self.column not in conditions:
            return conditions
        cond = conditions[self.column]
        if isinstance(cond, (tuple, set, frozenset)):
            raise ValueError(
                f"Condition {self.column}={cond!r} cannot be translated exactly through {self!r}; give one value."
            )
        rest = {k: v for k, v in conditions.items() if k != self.column}
        if not pd.isna(cond) and cond == self.level:
            return narrow(
                rest,
                self.when_column,
                pd.Series([self.when_value], dtype=object),
                f"{self.column}={cond!r} needs {self.when_column}={self.when_value!r}",
            )
        return narrow(
            {**rest, self.column: cond},
            self.when_column,
            self.others_,
            f"{self.column}={cond!r} needs {self.when_column} other than {self.when_value!r}",
        )

    def fitted_state(self) -> dict[str, Any]:
        return {"placeholder": column_to_json(self.placeholder_), "others": column_to_json(self.others_)}

    def restore(self, fitted: dict[str, Any], specs: dict[str, ColumnSpec]) -> None:
        super().restore(fitted, specs)
        self.placeholder_ = column_from_json(fitted["placeholder"], specs[self.column])
        self.others_ = column_from_json(fitted["others"], specs[self.when_column])
