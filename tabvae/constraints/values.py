"""Cell values for constraints: JSON encoding of learned values, and lookup of value combinations.

Learned tables (the combinations a :class:`FixedCombinations` saw, the mapping
of a :class:`FunctionalDependency`) are stored column by column as JSON lists
and given back in the column's own dtype through its :class:`~tabvae.schema.ColumnSpec`.
Missing values are a value like any other: ``None`` in JSON, and one shared
level when combinations are looked up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnSpec, pandas_dtype, python_scalar

_NA = object()  # the level of every missing value (NaN, None, pd.NA, NaT) in a lookup


def column_to_json(values: pd.Series) -> list:
    """``values`` as a JSON-safe list: missing as None, datetimes as ISO strings in UTC."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if getattr(values.dtype, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        return [None if pd.isna(v) else v.isoformat() for v in values]
    return [None if _is_missing(v) else python_scalar(v) for v in values.astype(object)]


def column_from_json(values: list, spec: ColumnSpec) -> pd.Series:
    """Inverse of :func:`column_to_json` for a column described by ``spec``."""
    if spec.kind == "datetime" or spec.dtype.startswith("datetime64"):
        stamps = pd.Series(pd.to_datetime(pd.Series(values, dtype=object)))
        tz = getattr(pandas_dtype(spec.dtype), "tz", None)
        return spec.restore_dtype(stamps.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else stamps)
    return spec.restore_dtype(pd.Series(values, dtype=object))


def _is_missing(v: Any) -> bool:
    return v is None or (np.ndim(v) == 0 and bool(pd.isna(v)))


def lookup_index(values: pd.Series) -> pd.Index:
    """``values`` as an object Index in which every missing value is the same level."""
    obj = values.astype(object)
    return pd.Index(obj.where(obj.notna(), _NA), dtype=object)


class Combinations:
    """The distinct value combinations of some columns, and where rows fall among them.

    Parameters
    ----------
    levels : list of pandas.Series
        Per column, its distinct values (missing included).
    codes : ndarray of shape (n_combinations, n_columns)
        Each combination as positions in ``levels``.
    """

    def __init__(self, levels: list[pd.Series], codes: np.ndarray):
        self.levels = [s.reset_index(drop=True) for s in levels]
        self.codes = np.asarray(codes, np.int64).reshape(-1, len(levels))
        self._keys = self._flat(self.codes)
        self._order = np.argsort(self._keys, kind="stable")

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Combinations:
        """The combinations of the columns of ``frame``, in order of first appearance."""
        levels = [frame[c][~lookup_index(frame[c]).duplicated()] for c in frame.columns]
        codes = np.column_stack(
            [lookup_index(lv).get_indexer(lookup_index(frame[c])) for lv, c in zip(levels, frame.columns)]
        )
        _, first = np.unique(codes, axis=0, return_index=True)
        return cls(levels, codes[np.sort(first)])

    def __len__(self) -> int:
        return len(self.codes)

    def _flat(self, codes: np.ndarray) -> np.ndarray:
        dims = tuple(max(len(lv), 1) for lv in self.levels)
        return np.ravel_multi_index(tuple(codes.T), dims) if len(codes) else np.zeros(0, np.int64)

    def find(self, frame: pd.DataFrame) -> np.ndarray:
        """For each row of ``frame`` (same columns), the index of its combination, or -1 if unseen."""
        codes = np.column_stack(
            [lookup_index(lv).get_indexer(lookup_index(frame[c])) for lv, c in zip(self.levels, frame.columns)]
        )
        out = np.full(len(frame), -1, np.int64)
        known = (codes >= 0).all(axis=1)
        if known.any() and len(self):
            keys = self._flat(codes[known])
            pos = np.minimum(np.searchsorted(self._keys, keys, sorter=self._order), len(self) - 1)
            hit = self._keys[self._order[pos]] == keys
            out[np.flatnonzero(known)[hit]] = self._order[pos[hit]]
        return out

    def column(self, j: int, index: np.ndarray) -> pd.Series:
        """The values of column ``j`` of the combinations at ``index``."""
        return self.levels[j].iloc[self.codes[index, j]].reset_index(drop=True)

    def frame(self, names: list[str], index: np.ndarray) -> pd.DataFrame:
        """The combinations at ``index`` as a frame with column ``names``."""
        return pd.DataFrame({n: self.column(j, index) for j, n in enumerate(names)})

    def to_json(self) -> dict[str, Any]:
        return {"levels": [column_to_json(lv) for lv in self.levels], "codes": self.codes.tolist()}

    @classmethod
    def from_json(cls, d: dict[str, Any], specs: list[ColumnSpec]) -> Combinations:
        return cls([column_from_json(v, s) for v, s in zip(d["levels"], specs)], np.asarray(d["codes"]))


def fresh_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base`` with a numeric suffix, so that it is not in ``taken``."""
    taken = set(taken)
    name, i = base, 1
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    return name


def as_column_list(value: Any, param: str, owner: str) -> list[str]:
    """A column name or list of names as a non-empty list of str; a TypeError names ``param``."""
    cols = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if not cols or not all(isinstance(c, str) for c in cols):
        raise TypeError(f"{owner}: {param} must be a column name or a non-empty list of column names, got {value!r}.")
    if len(set(cols)) != len(cols):
        raise ValueError(f"{owner}: {param} names a column twice: {cols}.")
    return cols


def equals(values: pd.Series, value: Any) -> np.ndarray:
    """Boolean mask of the cells of ``values`` equal to ``value`` (missing equals missing)."""
    return np.asarray(lookup_index(values) == (_NA if _is_missing(value) else value), dtype=bool)


def condition_mask(values: pd.Series, condition: Any) -> np.ndarray:
    """Boolean mask of the cells of ``values`` meeting one condition.

    A condition is a value (None or NaN for missing), an inclusive ``(low, high)``
    tuple, or a set of values (any of them).
    """
    if isinstance(condition, tuple):
        low, high = condition
        return ((values >= low) & (values <= high)).fillna(False).to_numpy(bool)
    if isinstance(condition, (set, frozenset)):
        keys = [_NA if _is_missing(v) else v for v in condition]
        return np.asarray(lookup_index(values).isin(keys), dtype=bool)
    return equals(values, condition)


def as_condition(values: list) -> Any:
    """One value as itself, several as a frozenset (missing as None)."""
    values = [None if _is_missing(v) else v for v in values]
    return values[0] if len(values) == 1 else frozenset(values)


def narrow(conditions: dict[str, Any], column: str, candidates: pd.Series, why: str) -> dict[str, Any]:
    """``conditions`` with ``column`` restricted to the ``candidates`` values that meet its own condition.

    A ValueError says ``why`` when none is left.
    """
    if column in conditions:
        candidates = candidates[condition_mask(candidates, conditions[column])]
    kept = candidates[~lookup_index(candidates).duplicated()].tolist()
    if not kept:
        raise ValueError(f"Conditions cannot be met: {why}.")
    return {**conditions, column: as_condition(kept)}
