"""The constraint protocol, the registry of constraint types, and :class:`Predicate`.

A constraint is a reversible step between the user's table and the table the
VAE models.  ``fit`` learns what the step needs from the training frame (and
raises a ValueError when the frame breaks the rule); ``transform`` rewrites a
user frame into modelled columns; ``inverse_transform`` turns modelled columns
back into the user's, so that the rule holds by construction.  ``reads`` and
``writes`` name the user columns the inverse step reads and writes, from which
:class:`~tabvae.constraints.ConstraintSet` orders the steps; ``owns`` names
the columns whose values the step generates (each column has at most one owner).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnSpec

Conditions = dict[str, Any]
REGISTRY: dict[str, type[Constraint]] = {}


class Constraint:
    """Base class of the constraints; see the module docstring for the protocol.

    Attributes
    ----------
    support : dict or None
        Set by :func:`~tabvae.constraints.discover_constraints`: how many rows
        (and levels) back the rule in the table it was found in.
    """

    params: tuple[str, ...] = ()
    support: dict[str, int] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        REGISTRY[cls.__name__] = cls

    # ------------------------------------------------------------------ roles

    def column_names(self) -> list[str]:
        """Every user column the rule names."""
        raise NotImplementedError

    def reads(self) -> list[str]:
        """User columns ``inverse_transform`` reads as final values."""
        return []

    def writes(self) -> list[str]:
        """User columns ``inverse_transform`` writes or changes."""
        return self.owns()

    def owns(self) -> list[str]:
        """User columns whose values this rule generates (dropped or rewritten in the modelled table)."""
        return []

    # ------------------------------------------------------------------ steps

    def fit(self, df: pd.DataFrame, specs: dict[str, ColumnSpec]) -> Constraint:
        """Learn from the training frame ``df``; a ValueError if ``df`` breaks the rule."""
        self.specs_ = {c: specs[c] for c in self.column_names()}
        self.check_holds(df)
        return self

    def check_holds(self, df: pd.DataFrame) -> None:
        """A ValueError naming the rule, the number of rows that break it and the first of them."""
        bad = np.flatnonzero(self.violations(df))
        if len(bad):
            row = df.iloc[bad[0]]
            example = ", ".join(f"{c}={row[c]!r}" for c in self.column_names() or df.columns[:8])
            raise ValueError(
                f"{self!r} does not hold in the training data: {len(bad)} row(s) break it, "
                f"e.g. row {df.index[bad[0]]!r} ({example}). Fix the data or drop the constraint."
            )

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """User columns to modelled columns (this step's part)."""
        return df

    def inverse_transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Modelled columns back to user columns (this step's part)."""
        return df

    def violations(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of the user frame ``df`` that break the rule."""
        raise NotImplementedError

    def translate(self, conditions: Conditions) -> Conditions:
        """Conditions on user columns rewritten onto this step's modelled columns."""
        return conditions

    # ------------------------------------------------------------------ state

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-safe dict with the ``type`` (the CLI's file format)."""
        return {"type": type(self).__name__, **{p: getattr(self, p) for p in self.params}}

    def get_state(self) -> dict[str, Any]:
        """Parameters and learned state, JSON-safe."""
        return {**self.to_dict(), "fitted": self.fitted_state()}

    def fitted_state(self) -> dict[str, Any]:
        return {}

    def restore(self, fitted: dict[str, Any], specs: dict[str, ColumnSpec]) -> None:
        """Set the learned state from :meth:`fitted_state`'s dict."""
        self.specs_ = {c: specs[c] for c in self.column_names()}

    # ------------------------------------------------------------------ display

    def __repr__(self) -> str:
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.params)
        return f"{type(self).__name__}({args})"

    def __str__(self) -> str:
        if not self.support:
            return repr(self)
        return f"{self!r}  # support: " + ", ".join(f"{v} {k}" for k, v in self.support.items())

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self))


def constraint_from_dict(d: Any) -> Constraint:
    """A constraint from ``{"type": name, **parameters}`` (see :meth:`Constraint.to_dict`)."""
    if not isinstance(d, dict) or "type" not in d:
        raise ValueError(f"A constraint must be a dict with a 'type' key, got {d!r}.")
    cls = REGISTRY.get(d["type"])
    if cls is None or cls is Predicate:
        known = sorted(k for k in REGISTRY if k != "Predicate")
        raise ValueError(
            f"Unknown constraint type {d['type']!r}; known types are {known} "
            "(a Predicate holds code, so it cannot come from a file)."
        )
    params = {k: v for k, v in d.items() if k not in ("type", "fitted")}
    unknown = sorted(set(params) - set(cls.params))
    if unknown:
        raise ValueError(f"{d['type']} does not take {unknown}; its parameters are {list(cls.params)}.")
    return cls(**params)


class Predicate(Constraint):
    """A rule on whole rows, enforced by bounded rejection at sampling time.

    Parameters
    ----------
    fn : callable
        ``fn(frame) -> boolean array-like of len(frame)``, True for the rows
        that obey the rule (vectorised; for a per-row function use
        ``lambda df: df.apply(f, axis=1)``).
    name : str, optional
        Shown in errors and in :meth:`ConstraintSet.check`; default ``fn.__name__``.

    Notes
    -----
    A model with a Predicate cannot be saved: a model file holds no code, so
    loading one never runs any.  Declare the rule again after loading.
    """

    params = ("name",)

    def __init__(self, fn: Callable[[pd.DataFrame], Any], name: str | None = None):
        if not callable(fn):
            raise TypeError(f"Predicate: fn must be callable (frame -> boolean mask), got {type(fn).__name__}.")
        self.fn = fn
        self.name = name if name is not None else getattr(fn, "__name__", "predicate")

    def column_names(self) -> list[str]:
        return []

    def violations(self, df: pd.DataFrame) -> np.ndarray:
        mask = np.asarray(self.fn(df))
        if mask.shape != (len(df),):
            raise ValueError(
                f"Predicate {self.name!r} must return one boolean per row ({len(df)}), "
                f"got an array of shape {mask.shape}."
            )
        return ~mask.astype(bool)

    def get_state(self) -> dict[str, Any]:
        raise ValueError(
            f"Predicate {self.name!r} cannot be saved: a model file holds no code, so loading "
            "never runs any. Drop the Predicate before saving and declare it again after loading."
        )
