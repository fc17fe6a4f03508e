"""The table encoder: one column encoder per column and the encoded layout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import ColumnSpec, Schema
from .base import ColumnEncoder
from .categorical import MAX_CATEGORIES, CategoricalEncoder
from .constant import ConstantEncoder
from .datetime import DatetimeEncoder
from .numeric import NumericEncoder


@dataclass(frozen=True)
class Layout:
    """Where each column lives in the encoded blocks.

    ``continuous[name]`` and ``codes[name]`` are ``slice`` objects into the
    continuous and code blocks; ``cardinalities`` lists the number of codes of
    every categorical part, in block order.
    """

    n_continuous: int
    cardinalities: tuple[int, ...]
    continuous: dict
    codes: dict
    value_gates: tuple[int, ...] = ()  # per continuous dim: the part whose code 0 means "a value", or -1

    @property
    def n_continuous_columns(self) -> int:
        """Columns modelled (at least partly) as continuous values."""
        return sum(s.stop > s.start for s in self.continuous.values())


def make_encoder(
    spec: ColumnSpec, *, max_categories: int = MAX_CATEGORIES, clip: bool = True, discrete_levels: int = 0
) -> ColumnEncoder:
    """The encoder for one column kind."""
    if spec.kind in ("numeric", "integer"):
        return NumericEncoder(spec, clip=clip, discrete_levels=discrete_levels)
    if spec.kind in ("categorical", "boolean"):
        return CategoricalEncoder(spec, max_categories=max_categories)
    if spec.kind == "datetime":
        return DatetimeEncoder(spec, clip=clip)
    if spec.kind == "constant":
        return ConstantEncoder(spec)
    raise ValueError(f"Column {spec.name!r}: unknown kind {spec.kind!r}")


class TableEncoder:
    """Encode a whole DataFrame into ``(continuous, codes)`` arrays and back.

    Parameters
    ----------
    schema : Schema
    max_categories : int, default=256
        Cap on codes per categorical column (see :class:`CategoricalEncoder`).
    clip : bool, default=True
        Keep decoded numbers and datetimes within the training range.
    discrete_levels : int, default=0
        Numeric and integer columns with at most this many distinct, often
        repeated values are modelled as codes (see :class:`NumericEncoder`).
    """

    def __init__(
        self, schema: Schema, *, max_categories: int = MAX_CATEGORIES, clip: bool = True, discrete_levels: int = 0
    ):
        self.schema = schema
        self.max_categories = max_categories
        self.clip = clip
        self.discrete_levels = discrete_levels

    def fit(self, df: pd.DataFrame) -> TableEncoder:
        self.encoders_ = {
            spec.name: make_encoder(
                spec, max_categories=self.max_categories, clip=self.clip, discrete_levels=self.discrete_levels
            ).fit(df[spec.name])
            for spec in self.schema
        }
        self.layout_ = self._layout()
        return self

    def __getitem__(self, name: str) -> ColumnEncoder:
        """The fitted encoder of column ``name``."""
        return self.encoders_[name]

    def _layout(self) -> Layout:
        cont: dict[str, slice] = {}
        codes: dict[str, slice] = {}
        cards: list[int] = []
        gates: list[int] = []
        i = j = 0
        for name, enc in self.encoders_.items():
            cont[name] = slice(i, i + enc.n_continuous)
            codes[name] = slice(j, j + len(enc.cardinalities))
            cards.extend(enc.cardinalities)
            gates.extend([j if enc.value_gated else -1] * enc.n_continuous)
            i, j = i + enc.n_continuous, j + len(enc.cardinalities)
        return Layout(i, tuple(cards), cont, codes, tuple(gates))

    def transform(self, df: pd.DataFrame, extrapolate: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Encode ``df``; returns ``continuous`` (n, C) float64 and ``codes`` (n, K) int64.

        Codes of category levels never seen in fit are -1.  With
        ``extrapolate``, numbers beyond the training range map past the extreme
        z instead of onto it (used when scoring rows).  The continuous
        block stays float64 here so that encode -> decode is exact (a float32
        z cannot tell apart two timestamps one second apart over a decade);
        the model casts it to float32 when moving it to the device.
        """
        parts = [self.encoders_[name].transform(df[name], extrapolate) for name in self.schema.names]
        n = len(df)
        cont = np.concatenate([p[0] for p in parts] + [np.zeros((n, 0))], axis=1)
        codes = np.concatenate([p[1] for p in parts] + [np.zeros((n, 0), np.int64)], axis=1)
        return cont.astype(np.float64, copy=False), codes.astype(np.int64, copy=False)

    def check_missing(self, df: pd.DataFrame, *, what: str = "X") -> None:
        """A ValueError naming the first number or datetime column of ``df`` with missing values where
        the training column had none (the model gives them no probability)."""
        for spec in self.schema:
            if (
                spec.kind in ("numeric", "integer", "datetime")
                and not self.encoders_[spec.name].has_missing_
                and df[spec.name].isna().any()
            ):
                raise ValueError(
                    f"{what} has missing values in column {spec.name!r}, which had none in fit, so the "
                    "model gives them no probability. Impute them, or refit on data with missing values there."
                )

    def transform_known(self, df: pd.DataFrame, *, what: str = "X") -> tuple[np.ndarray, np.ndarray]:
        """:meth:`transform`, refusing what fit gave no probability (a ValueError naming the columns):
        missing values in a number or datetime column that had none, and category levels never seen."""
        self.check_missing(df, what=what)
        cont, codes = self.transform(df)
        unknown = codes < 0
        if unknown.any():
            report = {}
            for name, sl in self.layout_.codes.items():
                rows = unknown[:, sl].any(axis=1)
                if rows.any():
                    report[name] = df.loc[rows, name].drop_duplicates().head(5).tolist()
            raise ValueError(
                f"{what} holds category values never seen in fit: {report}. "
                "Map them to known levels or refit on data that includes them."
            )
        return cont, codes

    def log_jacobian(self, df: pd.DataFrame) -> pd.DataFrame:
        """Per-cell log |dz/dx| (see :meth:`NumericEncoder.log_jacobian`); 0 for categories."""
        return pd.DataFrame(
            {name: self.encoders_[name].log_jacobian(df[name]) for name in self.schema.names}, index=df.index
        )

    def inverse_transform(self, continuous: np.ndarray, codes: np.ndarray, rng: np.random.RandomState) -> pd.DataFrame:
        """Decode blocks back to a DataFrame with the original columns and dtypes."""
        lay = self.layout_
        columns = {
            name: self.encoders_[name]
            .inverse_transform(continuous[:, lay.continuous[name]], codes[:, lay.codes[name]], rng)
            .reset_index(drop=True)
            for name in self.schema.names
        }
        return pd.DataFrame(columns)

    def get_state(self) -> dict:
        return {
            "schema": self.schema.to_dict(),
            "max_categories": self.max_categories,
            "clip": self.clip,
            "discrete_levels": self.discrete_levels,
            "encoders": {name: enc.get_state() for name, enc in self.encoders_.items()},
        }

    @classmethod
    def from_state(cls, state: dict) -> TableEncoder:
        schema = Schema.from_dict(state["schema"])
        self = cls(
            schema, max_categories=state["max_categories"], clip=state["clip"], discrete_levels=state["discrete_levels"]
        )
        self.encoders_ = {
            spec.name: make_encoder(spec, max_categories=self.max_categories, clip=self.clip).set_state(
                state["encoders"][spec.name]
            )
            for spec in schema
        }
        self.layout_ = self._layout()
        return self
