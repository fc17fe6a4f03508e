"""The table encoder: one column encoder per column and the encoded layout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import RARE_REPLACEMENTS, check_choice, check_int
from ..schema import ColumnSpec, Schema
from .base import ColumnEncoder
from .categorical import MAX_CATEGORIES, CategoricalEncoder
from .constant import ConstantEncoder
from .datetime import DatetimeEncoder
from .numeric import NumericEncoder
from .privacy import (
    ColumnBudget,
    PreprocessingBudget,
    check_public,
    split_budget,
)

VALUE_PROTECTION = 5  # default k: categories of fewer rows are not emitted, numbers cut to their k-th extremes


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
    spec: ColumnSpec,
    *,
    max_categories: int = MAX_CATEGORIES,
    clip: bool = True,
    discrete_levels: int = 0,
    protection: int = 0,
    rare_replacement: str = "frequent",
    public: Any = None,
    budget: ColumnBudget | None = None,
) -> ColumnEncoder:
    """The encoder for one column kind; ``public`` is a column's public bounds or levels."""
    if spec.kind in ("numeric", "integer"):
        return NumericEncoder(
            spec, clip=clip, discrete_levels=discrete_levels, protection=protection, bounds=public, budget=budget
        )
    if spec.kind in ("categorical", "boolean"):
        return CategoricalEncoder(
            spec,
            max_categories=max_categories,
            protection=protection,
            rare_replacement=rare_replacement,
            levels=None if public is None else list(public),
            budget=budget,
        )
    if spec.kind == "datetime":
        return DatetimeEncoder(spec, clip=clip, protection=protection, bounds=public, budget=budget)
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
    value_protection : int, default=5
        Categories seen in fewer than this many rows are merged into the
        "other" code before training and never decoded; numbers and datetimes
        are clipped to their ``value_protection``-th smallest and largest
        training values, which bound the decoded range.  The fitted encoders
        hold neither the protected levels nor the raw extremes (the schema
        keeps a category dtype's declared categories).  0 keeps the raw
        values (``docs/decisions/value-protection.md``).
    rare_replacement : {"frequent", "placeholder"}, default="frequent"
        What a protected category decodes to: a kept level drawn by the kept
        levels' training shares, or the text ``"_RARE_"`` where the dtype
        holds text.
    dp : PreprocessingBudget or None, default=None
        Fit every column from noisy counts and histograms under this budget,
        so the fitted state is differentially private given the schema
        (``docs/decisions/differential-privacy-preprocessing.md``).  Value
        protection then comes from the noise.
    public_bounds : dict or None, default=None
        ``{column: (low, high)}`` for numeric and datetime columns: the values
        are clipped to these bounds too; under ``dp`` they are the range (no
        budget is spent on finding one).
    public_levels : dict or None, default=None
        ``{column: [levels]}`` for categorical columns: the category list
        (all kept, however rare); other values are treated as protected.
        Under ``dp``, boolean columns default to ``[False, True]``.

    Notes
    -----
    ``fit`` adds the placeholder to the categories of a ``category`` column
    that emits it (the schema it keeps is that of the decoded table).  The
    declared categories of a ``category`` dtype stay in the schema, protected
    ones included, so that sampled columns keep their dtype.
    """

    def __init__(
        self,
        schema: Schema,
        *,
        max_categories: int = MAX_CATEGORIES,
        clip: bool = True,
        discrete_levels: int = 0,
        value_protection: int = VALUE_PROTECTION,
        rare_replacement: str = "frequent",
        dp: PreprocessingBudget | None = None,
        public_bounds: dict | None = None,
        public_levels: dict | None = None,
    ):
        self.schema = schema
        self.max_categories = max_categories
        self.clip = clip
        self.discrete_levels = discrete_levels
        self.value_protection = value_protection
        self.rare_replacement = rare_replacement
        self.dp = dp
        self.public_bounds = public_bounds
        self.public_levels = public_levels

    @classmethod
    def for_config(cls, schema: Schema, cfg: Any, *, clip: bool, dp: PreprocessingBudget | None = None) -> TableEncoder:
        """An unfitted encoder with the column settings of a :class:`~tabvae.TrainingConfig` ``cfg``."""
        names = ("value_protection", "rare_replacement", "public_bounds", "public_levels")
        protection = {name: getattr(cfg, name) for name in names}
        return cls(
            schema,
            max_categories=cfg.max_categories,
            clip=clip,
            discrete_levels=cfg.discrete_levels,
            dp=dp,
            **protection,
        )

    def fit(self, df: pd.DataFrame) -> TableEncoder:
        check_int("value_protection", self.value_protection, 0)
        check_choice("rare_replacement", self.rare_replacement, RARE_REPLACEMENTS)
        check_public(self.schema, self.public_bounds, self.public_levels)
        public = {**(self.public_bounds or {}), **self._public_levels()}
        budgets = self._budgets(public)
        self.encoders_ = {
            spec.name: make_encoder(
                spec,
                max_categories=self.max_categories,
                clip=self.clip,
                discrete_levels=self.discrete_levels,
                protection=self.value_protection,
                rare_replacement=self.rare_replacement,
                public=public.get(spec.name),
                budget=budgets.get(spec.name),
            ).fit(df[spec.name])
            for spec in self.schema
        }
        self.schema = Schema([enc.spec for enc in self.encoders_.values()])
        self.layout_ = self._layout()
        return self

    def _budgets(self, public: dict) -> dict[str, ColumnBudget]:
        """Each column's share of ``dp`` (none without it)."""
        if self.dp is None:
            return {}
        if not isinstance(self.dp, PreprocessingBudget):
            raise TypeError(f"dp must be a PreprocessingBudget or None, got {self.dp!r}.")
        self.dp.check()
        return split_budget(self.dp, self.schema, public)

    def _public_levels(self) -> dict:
        """The public levels, with ``[False, True]`` for boolean columns under ``dp``."""
        levels = dict(self.public_levels or {})
        if self.dp is not None:
            for spec in self.schema:
                if spec.kind == "boolean" and spec.dtype in ("bool", "boolean"):
                    levels.setdefault(spec.name, [False, True])
        return levels

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
            "value_protection": self.value_protection,
            "rare_replacement": self.rare_replacement,
            "dp": None if self.dp is None else {"epsilon": self.dp.epsilon, "delta": self.dp.delta},
            "encoders": {name: enc.get_state() for name, enc in self.encoders_.items()},
        }

    @classmethod
    def from_state(cls, state: dict) -> TableEncoder:
        schema = Schema.from_dict(state["schema"])
        self = cls(
            schema,
            max_categories=state["max_categories"],
            clip=state["clip"],
            discrete_levels=state["discrete_levels"],
            value_protection=state.get("value_protection", 0),  # saved before value protection: off
            rare_replacement=state.get("rare_replacement", "frequent"),
        )
        dp = state.get("dp")
        self.dp = None if dp is None else PreprocessingBudget(epsilon=dp["epsilon"], delta=dp["delta"])
        self.encoders_ = {
            spec.name: make_encoder(spec, max_categories=self.max_categories, clip=self.clip).set_state(
                state["encoders"][spec.name]
            )
            for spec in schema
        }
        self.layout_ = self._layout()
        return self
