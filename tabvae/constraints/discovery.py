""":func:`discover_constraints`: candidate rules that hold in every row of a table."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import permutations
from typing import Any

import numpy as np
import pandas as pd

from ..schema import check_dataframe, infer_schema, python_scalar
from .base import Constraint
from .categorical import FunctionalDependency, StructuralLevel
from .constraint_set import prepare, transform_order
from .order import Inequality
from .values import lookup_index


def discover_constraints(
    X: Any, *, min_support: int = 30, min_rows_per_level: int = 5, min_levels: int = 3, min_chance: float = 0.01
) -> list[Constraint]:
    """Rules that hold in every row of ``X`` and are backed by enough rows to be more than chance.

    Three kinds are searched:

    - :class:`FunctionalDependency` between categorical columns (strings,
      categories, booleans, integers with at most 20 levels): every level of
      the determinant comes with one value of the dependent;
    - :class:`Inequality` between two numeric or two datetime columns (not
      integer codes modelled as categories): one is at most (or below) the
      other on every row where both are present;
    - :class:`StructuralLevel`: a level of one categorical column appears
      exactly in the rows where another column has a given level (e.g.
      "No internet service" iff ``InternetService == "No"``).

    The rules are returned so that they can all be used together: a rule that
    conflicts with one already kept (a second rule generating the same column,
    a cycle) is left out, and so is an ordering implied by two others
    (``a <= c`` when ``a <= b`` and ``b <= c`` hold).  Of a one-to-one pair
    both directions are kept; the second holds by construction of the first.
    Each rule's ``support`` says how many rows (and determinant levels) back it;
    ``print(rule)`` shows it.

    Parameters
    ----------
    X : DataFrame
    min_support : int, default=30
        Rows a rule must be backed by: for an ordering, the rows with both
        columns present; for a structural level, the rows with the level and
        the rows without it (each); for a dependency, the whole table.
    min_rows_per_level : int, default=5
        A dependency is proposed only if every level of its determinant occurs
        in at least this many rows.
    min_levels : int, default=3
        A dependency is proposed only if its determinant has at least this
        many levels (a two-level determinant matches a two-level dependent by
        coincidence far too often).
    min_chance : float, default=0.01
        An ordering is proposed only if at least this share of the pairs of
        values taken from two different rows would break it: an ordering
        that chance alone keeps (columns on different scales, such as a count
        of hours and a pressure) says nothing about how the values of a row
        go together, and the model's clipping to each column's range
        already keeps it.

    Returns
    -------
    list of Constraint
        Dependencies first, then structural levels, then orderings.

    Notes
    -----
    Discovery over-fits on small tables: a rule that holds in every one of
    few rows may be coincidence.  With 40 rows, two unrelated five-level
    columns often pair up one-to-one; two numeric columns drawn independently
    are ordered on all of 5 rows with probability 1/16.  The thresholds ask
    for enough rows behind each rule (a rule seen in 3 rows is never
    proposed), but they cannot prove a rule: review the list before using it,
    and check it on held-out rows when you have them
    (:meth:`ConstraintSet.check`).

    Examples
    --------
    >>> from tabvae.constraints import discover_constraints
    >>> from tabvae.datasets import load_adult
    >>> for rule in discover_constraints(load_adult()):
    ...     print(rule)
    FunctionalDependency('education', 'education-num')  # support: 32561 rows, 16 levels
    FunctionalDependency('education-num', 'education')  # support: 32561 rows, 16 levels
    """
    df = check_dataframe(X)
    for name, value in (
        ("min_support", min_support),
        ("min_rows_per_level", min_rows_per_level),
        ("min_levels", min_levels),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    if isinstance(min_chance, bool) or not isinstance(min_chance, (int, float)) or not 0 <= min_chance <= 1:
        raise ValueError(f"min_chance must be a number in [0, 1], got {min_chance!r}.")
    schema = infer_schema(df, warn=False)
    cats = [s.name for s in schema if s.kind in ("categorical", "boolean")]
    codes = {c: pd.factorize(lookup_index(df[c]))[0] for c in cats}
    found = [*_dependencies(df, codes, min_support, min_rows_per_level, min_levels)]
    found += _structural_levels(df, cats, min_support)
    nums = [s.name for s in schema if s.kind in ("numeric", "integer", "datetime")]
    found += _orderings(df, nums, min_support, min_chance)
    kept: list[Constraint] = []
    for rule in found:
        if not _implied(rule, kept) and _compatible(kept + [rule]):
            kept.append(rule)
    return kept


def _with_support(rule: Constraint, **support: int) -> Constraint:
    rule.support = {k: int(v) for k, v in support.items()}
    return rule


def _dependencies(
    df: pd.DataFrame, codes: dict[str, np.ndarray], min_support: int, min_rows: int, min_levels: int
) -> Iterator[Constraint]:
    """Functional dependencies between categorical columns, determinants with fewer levels first."""
    if len(df) < min_support:
        return
    n_levels = {c: int(v.max()) + 1 for c, v in codes.items()}
    ok = [c for c, v in codes.items() if n_levels[c] >= min_levels and np.bincount(v).min() >= min_rows]
    for a, b in sorted(permutations(codes, 2), key=lambda p: n_levels[p[0]]):
        if a in ok and len(np.unique(codes[a] * n_levels[b] + codes[b])) == n_levels[a]:
            yield _with_support(FunctionalDependency(a, b), rows=len(df), levels=n_levels[a])


def _structural_levels(df: pd.DataFrame, cats: list[str], min_support: int) -> list[Constraint]:
    """Levels of different columns that occur in exactly the same rows, tied to the first of them."""
    same: dict[bytes, list[tuple[str, Any]]] = {}
    for c in cats:
        counts = df[c].value_counts()  # missing values are not levels here
        for level in counts.index[(counts >= min_support) & (len(df) - counts >= min_support)]:
            mask = (df[c].astype(object) == level).fillna(False).to_numpy(bool)
            same.setdefault(np.packbits(mask).tobytes(), []).append((c, python_scalar(level)))
    rules = []
    for members in same.values():
        (root, value), rows = members[0], int((df[members[0][0]].astype(object) == members[0][1]).sum())
        for col, level in members[1:]:
            if col != root:
                rules.append(_with_support(StructuralLevel(col, level, root, value), rows=rows))
    return rules


def _orderings(df: pd.DataFrame, cols: list[str], min_support: int, min_chance: float) -> list[Constraint]:
    """``a <= b`` (or ``a < b``) on every row where both are present, most supported first."""
    found = []
    for i, a in enumerate(cols):
        for b in cols[i + 1 :]:
            rule = _ordering(df, a, b, min_support, min_chance)
            if rule is not None:
                found.append(rule)
    pairs = {(r.low, r.high) for r in found}  # type: ignore[attr-defined]
    direct = [r for r in found if not any((r.low, b) in pairs and (b, r.high) in pairs for b in cols)]  # type: ignore[attr-defined]
    return sorted(direct, key=lambda r: -r.support["rows"])  # type: ignore[index]


def _ordering(df: pd.DataFrame, a: str, b: str, min_support: int, min_chance: float) -> Constraint | None:
    if pd.api.types.is_datetime64_any_dtype(df[a].dtype) != pd.api.types.is_datetime64_any_dtype(df[b].dtype):
        return None
    if (getattr(df[a].dtype, "tz", None) is None) != (getattr(df[b].dtype, "tz", None) is None):
        return None
    both = (df[a].notna() & df[b].notna()).to_numpy()
    if both.sum() < min_support:
        return None
    x, y = _numbers(df[a])[both], _numbers(df[b])[both]
    for low, high, lo, hi in ((a, b, x, y), (b, a, y, x)):
        strict = bool((lo < hi).all())
        if (lo <= hi).all() and _chance_breaks(lo, hi, strict) >= min_chance:
            return _with_support(Inequality(low, high, strict=strict), rows=int(both.sum()))
    return None


def _numbers(s: pd.Series) -> np.ndarray:
    """Numbers, or datetimes as int64 nanoseconds (UTC), as one comparable array."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        naive = s.dt.tz_convert(None) if getattr(s.dtype, "tz", None) is not None else s
        return naive.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return s.to_numpy(dtype="float64", na_value=np.nan)


def _chance_breaks(low: np.ndarray, high: np.ndarray, strict: bool) -> float:
    """The share of (low, high) pairs taken from two independent rows that break ``low <= high`` (``<``)."""
    below = np.searchsorted(np.sort(high), low, side="right" if strict else "left")  # highs under each low
    return float(below.sum()) / (len(low) * len(high))


def _implied(rule: Constraint, kept: list[Constraint]) -> bool:
    """A structural level between two columns that a kept dependency already ties."""
    if isinstance(rule, StructuralLevel):
        pair = {rule.column, rule.when_column}
        return any(isinstance(r, FunctionalDependency) and set(r.column_names()) == pair for r in kept)
    return False


def _compatible(rules: list[Constraint]) -> bool:
    try:
        transform_order(prepare(rules))
    except ValueError:
        return False
    return True
