"""The contract every column encoder follows.

An encoder turns one column into two blocks the network understands and back:

* ``continuous``: float64, shape ``(n, n_continuous)`` - values on a roughly
  standard-normal scale, modelled by Gaussian decoder heads;
* ``codes``: int64, shape ``(n, len(cardinalities))`` - category indices,
  modelled by softmax decoder heads.

Categories are kept as integer codes rather than one-hot floats so that the
encoded table of a million rows with a wide categorical stays small; the model
one-hot encodes a batch at a time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import ColumnSpec


class ColumnEncoder:
    """Base class: reversible fit / transform / inverse_transform of one column.

    Subclasses set ``n_continuous`` and ``cardinalities`` in ``fit`` and
    implement ``get_state`` / ``from_state`` with JSON-safe values only, so
    that saved models load without unpickling.  ``value_gated`` means the
    continuous dimension holds a value only where the first categorical part
    has code 0 (a numeric column's "value" state; missing or spike otherwise).
    """

    n_continuous: int = 0
    cardinalities: tuple[int, ...] = ()
    value_gated: bool = False
    has_missing_: bool  # set by ``fit`` where a column can be missing

    def __init__(self, spec: ColumnSpec):
        self.spec = spec

    def fit(self, column: pd.Series) -> ColumnEncoder:
        raise NotImplementedError

    def transform(self, column: pd.Series, extrapolate: bool = False) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def log_jacobian(self, column: pd.Series) -> np.ndarray:
        """log |d(encoding)/d(value)| per row: 0 for columns with no continuous part."""
        return np.zeros(len(column))

    def inverse_transform(self, continuous: np.ndarray, codes: np.ndarray, rng: np.random.RandomState) -> pd.Series:
        raise NotImplementedError

    def code_of(self, value: object) -> int:
        """The code ``value`` takes in this column's first categorical part (-1: never seen)."""
        return int(self.transform(pd.Series([value], dtype=object))[1][0, 0])

    def get_state(self) -> dict:
        raise NotImplementedError

    def set_state(self, state: dict) -> ColumnEncoder:
        raise NotImplementedError

    def _empty(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        return (np.zeros((n, self.n_continuous)), np.zeros((n, len(self.cardinalities)), np.int64))


def is_missing(column: pd.Series) -> np.ndarray:
    """Boolean mask of NaN / None / pd.NA / NaT."""
    return column.isna().to_numpy()


def code_missing(codes: np.ndarray, missing: np.ndarray, missing_code: int | None, absent: int = -1) -> np.ndarray:
    """Give the ``missing`` rows of ``codes`` their code: ``missing_code``, or ``absent`` for a
    column that had no missing values in training (-1: unseen, like an unknown category)."""
    codes[missing] = absent if missing_code is None else missing_code
    return codes


def missing_rows(codes: np.ndarray, missing_code: int | None) -> np.ndarray:
    """Boolean mask of the rows of a (n, parts) code block whose first part is ``missing_code``
    (none if the column had no missing values)."""
    return np.zeros(len(codes), bool) if missing_code is None else codes[:, 0] == missing_code
