""":class:`ConstraintSet`: the ordered, fitted constraints of a table, as one reversible transform."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from ..schema import Schema, check_dataframe, infer_schema
from .base import Conditions, Constraint, Predicate, constraint_from_dict
from .categorical import FunctionalDependency
from .order import Range


class ConstraintSet:
    """Constraints enforced by construction: a reversible transform in front of the model.

    ``fit`` checks the constraints against each other and against the
    training frame; ``transform`` turns a user frame into the modelled frame
    (dependents dropped, inequalities as ratios or gaps, fixed combinations as one
    key column...); ``inverse_transform`` turns modelled rows back into user
    rows that obey every rule.  :class:`Predicate` rules are not part of the
    transform: sampling keeps the rows that :meth:`accepts` (bounded rejection).

    Parameters
    ----------
    constraints : list of Constraint or dict
        The rules; a dict is read by :func:`constraint_from_dict` (the CLI's file format).

    Attributes
    ----------
    rules_ : list of Constraint
        Fitted copies of the rules, in transform order (inverse: reversed).
    schema_ : Schema
        Kinds and dtypes of the columns the rules name.
    columns_ : list of str
        The user frame's columns, in order.

    Examples
    --------
    >>> import pandas as pd
    >>> from tabvae.constraints import ConstraintSet, Inequality
    >>> df = pd.DataFrame({"start": [1, 2, 5], "end": [3, 2, 9]})
    >>> cs = ConstraintSet([Inequality("start", "end")]).fit(df)
    >>> cs.transform(df)["end"].tolist()  # modelled as the ratio end / start (start > 0)
    [3.0, 1.0, 1.8]
    >>> cs.inverse_transform(cs.transform(df)).equals(df)
    True
    """

    def __init__(self, constraints: list[Constraint | dict[str, Any]] | tuple = ()):
        self.constraints = constraints

    # ------------------------------------------------------------------ fit

    def fit(self, X: pd.DataFrame) -> ConstraintSet:
        """Check the rules and learn what they need from the training frame ``X``."""
        df = check_dataframe(X)
        rules = prepare(self.constraints)
        for r in rules:
            unknown = [c for c in r.column_names() if c not in df.columns]
            if unknown:
                raise ValueError(
                    f"{r!r} names column(s) {unknown}, which are not in X; columns are {list(df.columns)}."
                )
        names = [c for c in df.columns if any(c in r.column_names() for r in rules)]
        self.schema_ = infer_schema(df[names], warn=False) if names else Schema([])
        specs = {s.name: s for s in self.schema_}
        self.rules_ = [r.fit(df, specs) for r in transform_order(rules)]
        self.columns_ = list(df.columns)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "rules_"):
            raise ValueError("This ConstraintSet is not fitted yet; call fit(X) first.")

    # ------------------------------------------------------------------ transform

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The modelled frame of the user frame ``X`` (same rows)."""
        self._check_fitted()
        df = check_dataframe(X)
        missing = [c for c in self.columns_ if c not in df.columns]
        if missing:
            raise ValueError(f"X lacks the columns {missing} seen in fit.")
        out = df[self.columns_]
        for r in self.rules_:
            out = r.transform(out)
        return out

    def fit_transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """User rows, in the fitted columns' order and dtypes, from modelled rows ``X``."""
        self._check_fitted()
        out = X
        for r in reversed(self.rules_):
            out = r.inverse_transform(out)
        return out[self.columns_]

    # ------------------------------------------------------------------ rules on rows

    def check(self, X: pd.DataFrame) -> dict[str, int]:
        """Per rule (by its repr), the number of rows of the user frame ``X`` that break it.

        A :class:`FunctionalDependency` counts the rows whose dependent differs
        from the most frequent dependent of their determinant in ``X``; a
        :class:`FixedCombinations`, the rows whose combination was not seen in fit.
        """
        self._check_fitted()
        return {repr(r): int(r.violations(X).sum()) for r in self.rules_}

    @property
    def predicates(self) -> list[Predicate]:
        self._check_fitted()
        return [r for r in self.rules_ if isinstance(r, Predicate)]

    def accepts(self, X: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of the user frame ``X`` that meet every :class:`Predicate`."""
        ok = np.ones(len(X), dtype=bool)
        for p in self.predicates:
            ok &= ~p.violations(X)
        return ok

    def translate_conditions(self, conditions: Conditions) -> Conditions:
        """Conditions on user columns as conditions on the modelled columns.

        A condition on a dependent becomes one on the determinant values that
        give it; one on a member of a fixed combination, a set of combination
        keys; one on an inequality's ``high`` a ratio or gap range (``low`` must then be
        fixed to one value).  Values become a frozenset where several modelled
        values meet the condition.  A ValueError says when a condition cannot
        be translated exactly or contradicts a rule.
        """
        self._check_fitted()
        if not isinstance(conditions, dict):
            raise TypeError(f"conditions must be a dict {{column: value or (low, high)}}, got {conditions!r}.")
        unknown = [c for c in conditions if c not in self.columns_]
        if unknown:
            raise ValueError(f"Unknown column(s) {unknown} in conditions; columns are {self.columns_}.")
        for r in self.rules_:
            conditions = r.translate(conditions)
        return conditions

    # ------------------------------------------------------------------ state

    def get_state(self) -> dict[str, Any]:
        """The fitted set as a JSON-safe dict (a ValueError for a Predicate, which holds code)."""
        self._check_fitted()
        return {
            "columns": self.columns_,
            "schema": self.schema_.to_dict(),
            "rules": [r.get_state() for r in self.rules_],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ConstraintSet:
        """A fitted set from :meth:`get_state`'s dict."""
        rules = [constraint_from_dict(d) for d in state["rules"]]
        out = cls([r.to_dict() for r in rules])
        out.schema_, out.columns_ = Schema.from_dict(state["schema"]), list(state["columns"])
        specs = {s.name: s for s in out.schema_}
        for r, d in zip(rules, state["rules"]):
            r.restore(d["fitted"], specs)
        out.rules_ = rules
        return out

    def __repr__(self) -> str:
        rules = getattr(self, "rules_", None) or [
            constraint_from_dict(c) if isinstance(c, dict) else c for c in self.constraints
        ]
        return "ConstraintSet([" + ", ".join(map(repr, rules)) + "])"


def fit_constraints(constraints: Any, X: pd.DataFrame) -> tuple[ConstraintSet | None, pd.DataFrame]:
    """A model's ``constraints`` parameter fitted on ``X`` (None for None), and the frame the model learns."""
    if constraints is None:
        return None, X
    cs = ConstraintSet(constraints)
    return cs, cs.fit_transform(X)


def prepare(constraints: Any) -> list[Constraint]:
    """Copies of the rules, checked one by one and against each other (before seeing data)."""
    if isinstance(constraints, (str, dict, Constraint)) or not isinstance(constraints, (list, tuple)):
        raise TypeError(
            f"constraints must be a list of constraints, got {type(constraints).__name__}; wrap a single one in a list."
        )
    rules = [constraint_from_dict(c) if isinstance(c, dict) else c for c in constraints]
    for r in rules:
        if not isinstance(r, Constraint):
            raise TypeError(f"constraints holds {r!r}, which is not a tabvae constraint.")
    rules = [copy.copy(r) for r in rules]
    for i, r in enumerate(rules):
        r.column_names()  # checks the parameters
        if r in rules[:i]:
            raise ValueError(f"{r!r} is given twice.")
        if isinstance(r, FunctionalDependency):
            r.implied_ = _reverse_given(r, rules[:i])
    _check_owners(rules)
    return rules


def _reverse_given(rule: Constraint, earlier: list[Constraint]) -> bool:
    """Whether ``rule`` is a one-column dependency whose reverse comes earlier (then it holds by construction)."""
    if not isinstance(rule, FunctionalDependency) or len(rule.column_names()) != 2:
        return False
    return (
        FunctionalDependency(rule.dependent, rule.column_names()[0]) in earlier
        or FunctionalDependency([rule.dependent], rule.column_names()[0]) in earlier
    )


def _check_owners(rules: list[Constraint]) -> None:
    owner: dict[str, Constraint] = {}
    ranged: dict[str, Constraint] = {}
    for r in rules:
        for c in r.owns():
            if c in owner:
                raise ValueError(
                    f"Column {c!r} would be generated by two rules, {owner[c]!r} and {r!r}; a column "
                    "can be the dependent, inequality high, structural column or fixed-combination "
                    "member of one rule only. Drop one of them."
                )
            owner[c] = r
        if isinstance(r, Range):
            if r.column in ranged:
                raise ValueError(
                    f"Column {r.column!r} has two Range rules, {ranged[r.column]!r} and {r!r}; merge them into one."
                )
            ranged[r.column] = r


def transform_order(rules: list[Constraint]) -> list[Constraint]:
    """``rules`` ordered so that each inverse step reads only columns already restored.

    Rule R comes before rule S when S's inverse writes a column R's inverse
    reads (the inverse runs in reverse).  A cycle, such as ``a <= b`` with
    ``b <= a``, is a ValueError.
    """
    before = {
        i: {j for j, s in enumerate(rules) if j != i and set(s.writes()) & set(r.reads())} for i, r in enumerate(rules)
    }
    order: list[int] = []
    while len(order) < len(rules):
        ready = [i for i in range(len(rules)) if i not in order and all(k in order for k in before if i in before[k])]
        if not ready:
            stuck = [rules[i] for i in range(len(rules)) if i not in order]
            raise ValueError(
                f"The constraints {stuck} depend on each other in a cycle (each rebuilds a column "
                "another needs); drop one of them."
            )
        order.append(ready[0])
    return [rules[i] for i in order]
