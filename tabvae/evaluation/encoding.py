"""Tables as numbers for the evaluation's models: tree features, a distance space, and associations."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..schema import Schema
from .common import quiet

NUMERIC_KINDS = ("numeric", "integer", "datetime")
_TREE_MAX_LEVELS = 253  # HistGradientBoosting categorical codes must stay below max_bins=255
_DISTANCE_MAX_LEVELS = 200
_ASSOC_BINS = 10
_ASSOC_MAX_LEVELS = 50


def as_float(s: pd.Series, kind: str) -> np.ndarray:
    """Numbers as float64 (datetimes as seconds since 1970, UTC); NaN when missing."""
    if kind == "datetime":
        dt = pd.to_datetime(s, errors="coerce", utc=True)
        return ((dt - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64").to_numpy()
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()


def frequent_levels(s: pd.Series, limit: int) -> list:
    """The ``limit`` most frequent non-missing values (ties in pandas' order: first seen first in
    pandas 3, unspecified in pandas 2; it matters only when ``limit`` cuts through a tie)."""
    counts = s.value_counts(dropna=True)
    return list(counts.index[counts.to_numpy() > 0][:limit])


def level_codes(s: pd.Series, levels: list) -> np.ndarray:
    """Float codes: position in ``levels``, ``len(levels)`` if unseen, NaN if missing."""
    values = pd.Series(s.to_numpy(dtype=object))
    codes = values.map({v: i for i, v in enumerate(levels)}).astype("float64")
    unseen = values.notna().to_numpy() & codes.isna().to_numpy()
    out = codes.to_numpy().copy()  # writable under pandas 3
    out[unseen] = len(levels)
    return out


def integer_codes(s: pd.Series, levels: list) -> np.ndarray:
    """Integer codes: position in ``levels``, ``len(levels)`` if unseen, ``len(levels) + 1`` if missing."""
    codes = level_codes(s, levels)
    return np.where(np.isnan(codes), len(levels) + 1, codes).astype(int)


@dataclass
class TreeEncoding:
    """Columns as a float matrix for HistGradientBoosting (categories as codes)."""

    columns: list
    kinds: list
    levels: dict

    @classmethod
    def fit(cls, schema: Schema, reference: pd.DataFrame, columns: list) -> TreeEncoding:
        kinds = [schema[c].kind for c in columns]
        levels = {
            c: frequent_levels(reference[c], _TREE_MAX_LEVELS) for c, k in zip(columns, kinds) if k not in NUMERIC_KINDS
        }
        return cls(list(columns), kinds, levels)

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([k not in NUMERIC_KINDS for k in self.kinds], dtype=bool)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        cols = [
            as_float(df[c], k) if k in NUMERIC_KINDS else level_codes(df[c], self.levels[c])
            for c, k in zip(self.columns, self.kinds)
        ]
        return np.column_stack(cols) if cols else np.empty((len(df), 0))


@dataclass
class DistanceEncoding:
    """Common space for distances: quantile-scaled numbers, weighted one-hot categories."""

    numeric: list
    kinds: dict
    quantiles: Any
    levels: dict

    @classmethod
    def fit(cls, schema: Schema, train: pd.DataFrame, seed: int) -> DistanceEncoding:
        from sklearn.preprocessing import QuantileTransformer

        kinds = {c.name: c.kind for c in schema}
        numeric = [c for c, k in kinds.items() if k in NUMERIC_KINDS]
        quantiles = None
        if numeric:
            quantiles = QuantileTransformer(n_quantiles=min(1000, len(train)), random_state=seed)
            with quiet():
                quantiles.fit(_numeric_block(train, numeric, kinds))
        levels = {
            c: frequent_levels(train[c], _DISTANCE_MAX_LEVELS) for c, k in kinds.items() if k not in NUMERIC_KINDS
        }
        return cls(numeric, kinds, quantiles, levels)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks = []
        if self.numeric:
            with quiet():
                scaled = self.quantiles.transform(_numeric_block(df, self.numeric, self.kinds))
            blocks.append(np.nan_to_num(scaled, nan=-1.0))
        for name, levels in self.levels.items():
            codes = integer_codes(df[name], levels)
            onehot = np.zeros((len(df), len(levels) + 2))
            onehot[np.arange(len(df)), codes] = 1.0 / math.sqrt(2.0)
            blocks.append(onehot)
        return np.hstack(blocks)


def _numeric_block(df: pd.DataFrame, names: list, kinds: dict) -> np.ndarray:
    return np.column_stack([as_float(df[c], kinds[c]) for c in names])


def tree_model(task: str, categorical_mask: np.ndarray, seed: int):
    """The fixed HistGradientBoosting model used for detection and utility."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    mask = categorical_mask if categorical_mask.any() else None
    return cls(categorical_features=mask, random_state=seed)


def association_matrix(df: pd.DataFrame, ref: pd.DataFrame, schema: Schema, names: list) -> pd.DataFrame:
    """Pearson for numeric pairs, Cramér's V otherwise (binning/levels from ``ref``)."""
    numeric = {c: schema[c].kind in NUMERIC_KINDS for c in names}
    floats = {c: as_float(df[c], schema[c].kind) for c in names if numeric[c]}
    codes = {c: _discrete_codes(df[c], ref[c], schema[c].kind) for c in names}
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if numeric[a] and numeric[b]:
                value = _pearson(floats[a], floats[b])
            else:
                value = _cramers_v(codes[a], codes[b])
            out.loc[a, b] = out.loc[b, a] = value
    return out


def _discrete_codes(s: pd.Series, ref: pd.Series, kind: str) -> np.ndarray:
    """Integer codes: 10 bins from ``ref`` for numbers, top levels for labels; missing last."""
    if kind in NUMERIC_KINDS:
        ref_x = as_float(ref, kind)
        finite = ref_x[np.isfinite(ref_x)]
        edges = np.histogram_bin_edges(finite if finite.size else [0.0], bins=_ASSOC_BINS)[1:-1]
        x = as_float(s, kind)
        return np.where(np.isnan(x), len(edges) + 1, np.digitize(x, edges)).astype(int)
    return integer_codes(s, frequent_levels(ref, _ASSOC_MAX_LEVELS))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Bias-uncorrected Cramér's V of two integer code arrays (0 if undefined)."""
    kb = int(b.max()) + 1
    table = np.bincount(a * kb + b, minlength=(int(a.max()) + 1) * kb).reshape(-1, kb).astype(float)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 0.0
    n = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / n / (min(table.shape) - 1)))
