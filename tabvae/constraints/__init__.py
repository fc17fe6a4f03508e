"""Rules every sampled row obeys: declared constraints, enforced by construction, and their discovery.

:class:`ConstraintSet` turns the user's table into the table the model learns
(a dependent column dropped, an inequality's high side as a non-negative gap,
a fixed combination as one key column...) and turns sampled rows back, so
that every row obeys the rules exactly.  :func:`discover_constraints` proposes
rules that hold in every row of a table.
"""

from .base import Constraint, Predicate, constraint_from_dict
from .categorical import FixedCombinations, FunctionalDependency, StructuralLevel
from .constraint_set import ConstraintSet, fit_constraints
from .discovery import discover_constraints
from .order import Inequality, Range

__all__ = [
    "Constraint",
    "ConstraintSet",
    "FixedCombinations",
    "FunctionalDependency",
    "Inequality",
    "Predicate",
    "Range",
    "StructuralLevel",
    "constraint_from_dict",
    "discover_constraints",
    "fit_constraints",
]
