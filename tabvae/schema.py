"""Column kinds, schema inference and input validation.

A :class:`Schema` is the contract between a user's DataFrame and the rest of
tabvae: for every column it records *what kind of thing it holds* (which picks
the column encoder) and *how to give it back* (the exact pandas dtype, category
order, time zone).  It is plain data, so it serialises to JSON for saving.
"""

from __future__ import annotations

import datetime
import decimal
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Integer columns with at most this many distinct values are modelled as
# categories by default: codes such as SEX {1, 2} or PAY_0 {-2..8} are labels,
# and a categorical head reproduces their exact frequencies, which a Gaussian
# head on a quantile scale does not.  Override per column with
# ``categorical_columns`` / ``numeric_columns``.
DISCRETE_INTEGER_LEVELS = 20


@dataclass
class ColumnSpec:
    """How one column is modelled and how to restore it.

    Attributes
    ----------
    name : str
        Column name.
    kind : str
        One of ``numeric``, ``integer``, ``categorical``, ``boolean``,
        ``datetime``, ``constant``.
    dtype : str
        :func:`dtype_name` of the column's dtype (``str(dtype)`` with the storage of
        string dtypes), used to give the column back in its own dtype.
    null_rate : float
        Share of missing values in the training data.
    categories : list or None
        For ``category`` dtypes, the declared categories (in order).
    ordered : bool
        Whether a ``category`` dtype is ordered.
    """

    name: str
    kind: str
    dtype: str
    null_rate: float = 0.0
    categories: list | None = None
    ordered: bool = False

    def restore_dtype(self, values: pd.Series) -> pd.Series:
        """Cast decoded ``values`` back to this column's original dtype."""
        if self.dtype == "category":
            cat = pd.Categorical(values, categories=self.categories, ordered=self.ordered)
            return pd.Series(cat, index=values.index, name=self.name)
        if self.dtype == "object":
            return values.astype(object).rename(self.name)
        return values.astype(pandas_dtype(self.dtype)).rename(self.name)


@dataclass
class Schema:
    """The ordered column specs of a table."""

    columns: list[ColumnSpec] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def align(self, X: Any, *, what: str = "X") -> pd.DataFrame:
        """``X`` as a DataFrame of these columns, in this order.

        A DataFrame is matched by column name (any order); an array by
        position, its numeric columns parsed as numbers.  A ValueError names
        missing or unexpected columns.
        """
        names = self.names
        df = check_dataframe(X, what=what)
        if isinstance(X, pd.DataFrame):
            missing, extra = column_difference(df.columns, names)
            if missing or extra:
                raise ValueError(
                    f"{what} columns do not match the columns seen in fit: missing {missing}, "
                    f"unexpected {extra}. Pass the same columns (any order)."
                )
            return self._parse_numbers(df[names], what, only_text=True)
        if df.shape[1] != len(names):
            raise ValueError(
                f"{what} has {df.shape[1]} features, but TabularVAE is expecting {len(names)} features as input."
            )
        df.columns = names
        return self._parse_numbers(df, what, only_text=False)

    def _parse_numbers(self, df: pd.DataFrame, what: str, only_text: bool) -> pd.DataFrame:
        """``df`` with its number columns parsed as numbers (with ``only_text``, those not already
        numeric; a copy where any changes); a ValueError names a column whose values are not numbers."""
        names = [
            s.name
            for s in self.columns
            if s.kind in ("numeric", "integer") and not (only_text and pd.api.types.is_numeric_dtype(df[s.name].dtype))
        ]
        df = df.copy() if names and only_text else df
        for name in names:
            try:
                df[name] = pd.to_numeric(df[name], errors="raise")
            except (ValueError, TypeError) as err:
                raise ValueError(
                    f"{what} column {name!r} holds values that are not numbers ({err}); it held numbers in fit. "
                    "Convert or drop them (e.g. pd.to_numeric(col, errors='coerce') makes them missing)."
                ) from None
        return df

    def to_dict(self) -> dict:
        return {"columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, d: dict) -> Schema:
        return cls([ColumnSpec(**c) for c in d["columns"]])

    def sdmetrics_metadata(self) -> dict:
        """SDMetrics single-table metadata derived from this schema."""
        sdtype = {
            "numeric": "numerical",
            "integer": "numerical",
            "categorical": "categorical",
            "boolean": "boolean",
            "datetime": "datetime",
            "constant": "categorical",
        }
        return {"columns": {c.name: {"sdtype": sdtype[c.kind]} for c in self.columns}}


def dtype_name(dtype) -> str:
    """``str(dtype)``, keeping what it drops for pandas' string dtypes.

    ``str`` gives ``"string"`` or ``"str"`` whatever the storage (python or pyarrow), and
    ``"string[pyarrow]"`` both for ``StringDtype("pyarrow")`` and for ``ArrowDtype(pa.string())``,
    so those would come back in another dtype. They are written ``str[storage]``,
    ``string[storage]`` and ``arrow:string``; :func:`pandas_dtype` reads them back.
    """
    if isinstance(dtype, pd.StringDtype):
        nan_missing = getattr(dtype, "na_value", pd.NA) is not pd.NA  # pandas 3's default str dtype
        return f"{'str' if nan_missing else 'string'}[{dtype.storage}]"
    if isinstance(dtype, pd.ArrowDtype) and str(dtype) == "string[pyarrow]":
        return "arrow:string"
    return str(dtype)


def pandas_dtype(name: str):
    """Parse a dtype string written by :func:`dtype_name`."""
    kind, _, storage = name.rstrip("]").partition("[")
    if storage == "pyarrow_numpy" and kind in ("str", "string"):  # pandas 2.1-2.2's NaN string dtype
        kind, storage = "str", "pyarrow"
    if kind == "str":  # pandas 3's default string dtype (missing values are NaN)
        return _string_dtype(storage or None, nan_missing=True)
    if kind == "string" and storage in ("python", "pyarrow"):
        return _string_dtype(storage)
    if name.startswith("arrow:"):
        import pyarrow as pa

        return pd.ArrowDtype(pa.type_for_alias(name[len("arrow:") :]))
    return pd.api.types.pandas_dtype(name)


def _string_dtype(storage, nan_missing: bool = False):
    """``StringDtype`` with ``storage`` (pandas' default storage where pyarrow is missing).

    The NaN-missing string dtype is ``StringDtype(na_value=nan)`` from pandas 2.3 and
    ``StringDtype("pyarrow_numpy")`` in pandas 2.1-2.2; without pyarrow there it is ``object``.
    """
    if nan_missing:
        try:
            return pd.StringDtype(storage, na_value=np.nan)
        except ImportError:
            return pd.StringDtype(na_value=np.nan)
        except TypeError:  # pandas < 2.3: no na_value keyword
            pass
        try:
            return pd.StringDtype("pyarrow_numpy")
        except ImportError:
            return object
    try:
        return pd.StringDtype(storage)
    except ImportError:
        return pd.StringDtype()


# --------------------------------------------------------------------------- validation


def check_dataframe(X: Any, *, what: str = "X") -> pd.DataFrame:
    """Return ``X`` as a DataFrame, or raise a clear error.

    Accepts a DataFrame (returned as is, never modified) or a 2-D array-like,
    whose columns are named ``x0, x1, ...``.
    """
    if isinstance(X, pd.DataFrame):
        df = X
    elif isinstance(X, pd.Series):
        raise TypeError(f"{what} is a pandas Series; pass a DataFrame (use series.to_frame()) or a 2-D array.")
    elif isinstance(X, (list, tuple)) and len(X) and all(isinstance(r, Mapping) for r in X):
        raise TypeError(f"{what} is a list of records (dicts); build a DataFrame first: pd.DataFrame({what}).")
    elif _is_sparse(X):
        raise TypeError(
            f"{what} is a sparse matrix; sparse input is not supported. Convert it with "
            "X.toarray() or pass a DataFrame."
        )
    elif hasattr(X, "__array__") or isinstance(X, (list, tuple)):
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(
                f"{what} must be a DataFrame or a 2-D array; got an array with "
                f"{arr.ndim} dimension(s) and shape {arr.shape}. Reshape your data: a single "
                "feature with X.reshape(-1, 1) or a single row with X.reshape(1, -1)."
            )
        if np.iscomplexobj(arr):
            raise ValueError(f"{what} holds complex numbers; Complex data not supported.")
        df = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    else:
        raise TypeError(f"{what} must be a pandas DataFrame or a 2-D array, got {type(X).__name__}.")
    if df.shape[1] == 0:
        raise ValueError(
            f"{what} has 0 columns: 0 feature(s) (shape=({df.shape[0]}, 0)) while a minimum "
            "of 1 is required. tabvae needs at least one column."
        )
    if df.shape[0] == 0:
        raise ValueError(f"{what} has 0 rows (0 sample(s)); at least 1 row is required.")
    dupes = df.columns[df.columns.duplicated()].unique().tolist()
    if dupes:
        raise ValueError(f"{what} has duplicate column names {dupes}; rename them so every column name is unique.")
    bad = [c for c in df.columns if not isinstance(c, str)]
    if bad:
        raise TypeError(
            f"{what} has non-string column names {bad[:5]}; tabvae needs string names "
            "(e.g. df.columns = df.columns.astype(str))."
        )
    return df


def _is_sparse(X) -> bool:
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is a dependency
        return False
    return sp.issparse(X)


def _check_values(name: str, s: pd.Series) -> None:
    """Reject values no encoder can model (complex, infinite, nested objects) or save (see
    :func:`_check_scalar_types`)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        _check_scalar_types(name, {type(v) for v in s.dtype.categories})
    if pd.api.types.is_complex_dtype(s.dtype):
        raise ValueError(
            f"Column {name!r} has complex dtype {s.dtype}; Complex data not supported. "
            "Split it into real and imaginary columns."
        )
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        if np.isinf(values).any():
            n = int(np.isinf(values).sum())
            raise ValueError(
                f"Column {name!r} contains {n} infinite value(s); replace them with "
                "NaN (missing) or a finite number before fitting."
            )
    if s.dtype == object:
        sample = s.dropna()
        kinds = {type(v) for v in sample.to_numpy()}
        nested = [k for k in kinds if issubclass(k, (list, tuple, dict, set, np.ndarray, pd.Series))]
        if nested:
            raise TypeError(
                f"Column {name!r} holds {nested[0].__name__} values; tabvae models scalar "
                "values only. Flatten the column into scalar columns or drop it."
            )
        if any(issubclass(k, complex) for k in kinds):
            raise ValueError(f"Column {name!r} holds complex numbers; Complex data not supported.")
        _check_scalar_types(name, kinds)
        if (
            any(issubclass(k, float) for k in kinds)
            and np.isinf(pd.to_numeric(sample[[isinstance(v, float) for v in sample]], errors="coerce")).any()
        ):
            raise ValueError(
                f"Column {name!r} contains infinite value(s); replace them with NaN or a finite number before fitting."
            )


# The value types of object and category columns that a model saves as they are, and what to do with others.
_SCALAR_TYPES = (str, bool, int, float, np.bool_, np.integer, np.floating)
_ADVICE = (
    (decimal.Decimal, "decimal.Decimal values; convert them with df[{0!r}].astype(float)"),
    ((bytes, bytearray), "bytes; decode them to text with df[{0!r}].str.decode('utf-8')"),
    (
        datetime.datetime,
        "datetime objects (e.g. Timestamps in several time zones, or a category of Timestamps); convert them "
        "with pd.to_datetime(df[{0!r}], utc=True)",
    ),
    (datetime.date, "datetime.date values; convert them with pd.to_datetime(df[{0!r}])"),
)


def _check_scalar_types(name: str, kinds: set[type]) -> None:
    """A TypeError naming the column and what to do when an object or category column holds values other
    than strings, numbers and booleans: a fitted model could not be saved."""
    for kind in kinds:
        if issubclass(kind, _SCALAR_TYPES):
            continue
        what = next((advice for t, advice in _ADVICE if issubclass(kind, t)), None)
        what = what or f"{kind.__name__} values; convert them to strings, numbers or datetimes"
        raise TypeError(
            f"Column {name!r} holds {what.format(name)}. Categories and object columns hold strings, numbers "
            "and booleans only."
        )


def as_rows(X: Any) -> Any:
    """A Series (a row taken with ``df.iloc[i]``) as a one-row DataFrame, with its values' own types;
    anything else as is."""
    return X.to_frame().T.infer_objects() if isinstance(X, pd.Series) else X


# --------------------------------------------------------------------------- inference


def infer_schema(
    df: pd.DataFrame,
    *,
    categorical_columns: Iterable[str] | None = None,
    numeric_columns: Iterable[str] | None = None,
    warn: bool = True,
) -> Schema:
    """Infer the kind of every column of ``df``.

    Parameters
    ----------
    df : DataFrame
        Training table (validated with :func:`check_dataframe` first).
    categorical_columns, numeric_columns : iterable of str, optional
        Columns forced to be modelled as categories / as numbers, overriding
        inference (e.g. integer-coded categories, or a 5-level integer that is
        really a count).
    warn : bool, default=True
        Warn about columns that are entirely missing.

    Returns
    -------
    Schema
    """
    df = check_dataframe(df)
    forced_cat = _check_names(df, categorical_columns, "categorical_columns")
    forced_num = _check_names(df, numeric_columns, "numeric_columns")
    both = forced_cat & forced_num
    if both:
        raise ValueError(
            f"Columns {sorted(both)} are in both categorical_columns and numeric_columns; "
            "name each column in at most one of them."
        )
    specs = []
    for name in df.columns:
        s = df[name]
        _check_values(name, s)
        specs.append(_infer_column(name, s, name in forced_cat, name in forced_num, warn))
    return Schema(specs)


def column_difference(have: Iterable, expected: Iterable) -> tuple[list, list]:
    """The ``expected`` columns missing from ``have``, and the columns of ``have`` not expected."""
    have, expected = list(have), list(expected)
    return [c for c in expected if c not in have], [c for c in have if c not in expected]


def _check_names(df: pd.DataFrame, names, param: str) -> set:
    if names is None:
        return set()
    if isinstance(names, str):
        raise TypeError(f"{param} must be a list of column names, got the string {names!r}; use [{names!r}].")
    names = list(names)
    unknown = [n for n in names if n not in df.columns]
    if unknown:
        raise ValueError(
            f"{param} names columns that are not in the data: {unknown}. Available columns: {list(df.columns)}."
        )
    return set(names)


def _infer_column(name: str, s: pd.Series, force_cat: bool, force_num: bool, warn: bool) -> ColumnSpec:
    dtype = s.dtype
    null_rate = float(s.isna().mean())
    spec = ColumnSpec(name=name, kind="categorical", dtype=dtype_name(dtype), null_rate=null_rate)
    if isinstance(dtype, pd.CategoricalDtype):
        spec.categories = _jsonable_list(dtype.categories)
        spec.ordered = bool(dtype.ordered)
    n_unique = s.nunique(dropna=True)
    if n_unique <= 1 and (null_rate == 0.0 or null_rate == 1.0):
        if null_rate == 1.0 and warn:
            warnings.warn(
                f"Column {name!r} is entirely missing; it will be reproduced as all-missing.",
                UserWarning,
                stacklevel=4,
            )
        spec.kind = "constant"
        return spec
    is_bool = pd.api.types.is_bool_dtype(dtype)
    is_num = pd.api.types.is_numeric_dtype(dtype) and not is_bool
    if force_num:
        if not is_num:
            raise ValueError(
                f"Column {name!r} is in numeric_columns but has dtype {dtype}, which is not "
                "numeric; convert it with pd.to_numeric first or drop it from numeric_columns."
            )
        spec.kind = "integer" if pd.api.types.is_integer_dtype(dtype) else "numeric"
    elif force_cat or isinstance(dtype, pd.CategoricalDtype):
        spec.kind = "categorical"
    elif is_bool:
        spec.kind = "boolean"
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        spec.kind = "datetime"
    elif pd.api.types.is_timedelta64_dtype(dtype):
        raise TypeError(
            f"Column {name!r} has timedelta dtype {dtype}, which tabvae does not model; "
            "convert it to a number (e.g. s.dt.total_seconds()) first."
        )
    elif pd.api.types.is_integer_dtype(dtype):
        spec.kind = "categorical" if n_unique <= DISCRETE_INTEGER_LEVELS else "integer"
    elif is_num:
        spec.kind = "numeric"
    elif dtype == object or pd.api.types.is_string_dtype(dtype):
        spec.kind = "categorical"
    else:
        raise TypeError(
            f"Column {name!r} has unsupported dtype {dtype}. Supported: numbers, integers, "
            "booleans, strings/objects, categories and datetimes; convert or drop it."
        )
    return spec


def python_scalar(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (so it serialises to JSON); anything else as is."""
    return value.item() if isinstance(value, np.generic) else value


def _jsonable_list(values) -> list:
    return [python_scalar(v) for v in list(values)]
