import numpy as np
import pandas as pd
import pytest

from tabvae.schema import Schema, check_dataframe, infer_schema


def test_inferred_kinds(mixed):
    kinds = {c.name: c.kind for c in infer_schema(mixed)}
    assert kinds == {
        "float": "numeric",
        "bimodal": "numeric",
        "int": "integer",
        "Int64": "integer",
        "Float64": "numeric",
        "uint8": "integer",
        "code": "categorical",
        "object": "categorical",
        "string": "categorical",
        "ordered": "categorical",
        "mixed": "categorical",
        "bool": "boolean",
        "boolean": "boolean",
        "date": "datetime",
        "ts_tz": "datetime",
        "ts_s": "datetime",
        "constant": "constant",
    }


def test_schema_records_dtype_order_and_null_rate(mixed):
    schema = infer_schema(mixed)
    assert schema.names == list(mixed.columns)
    assert schema["ordered"].categories == ["low", "mid", "high"] and schema["ordered"].ordered
    assert schema["ts_tz"].dtype == str(mixed["ts_tz"].dtype)  # e.g. datetime64[ns, Europe/Paris]
    assert schema["Int64"].null_rate == pytest.approx(mixed["Int64"].isna().mean())
    assert Schema.from_dict(schema.to_dict()) == schema


def test_string_storage_and_arrow_dtypes_come_back():
    # str(dtype) says "string" for either storage, and "string[pyarrow]" for StringDtype("pyarrow")
    # and ArrowDtype(pa.string()) alike; the schema must tell them apart.
    pa = pytest.importorskip("pyarrow")
    from tabvae import TabularVAE

    rng = np.random.RandomState(0)
    df = pd.DataFrame(
        {
            "python": pd.Series(rng.choice(["a", "b", None], 200), dtype=pd.StringDtype("python")),
            "pyarrow": pd.Series(rng.choice(["a", "b", "c"], 200), dtype=pd.StringDtype("pyarrow")),
            "arrow": pd.Series(rng.choice(["x", "y"], 200), dtype=pd.ArrowDtype(pa.string())),
            "arrow_int": pd.Series(rng.randint(0, 1000, 200), dtype=pd.ArrowDtype(pa.int64())),
        }
    )
    model = TabularVAE(epochs=2, random_state=0, device="cpu").fit(df)
    out = model.sample(50, random_state=0)
    for name in df.columns:
        assert type(out[name].dtype) is type(df[name].dtype) and out[name].dtype == df[name].dtype, name
    assert out["pyarrow"].dtype.storage == "pyarrow" and out["python"].dtype.storage == "python"


def _string_dtypes():
    """The string and Arrow dtypes this pandas can build (pandas 2.2 has no na_value=nan)."""
    pa = pytest.importorskip("pyarrow")
    makers = [
        lambda: pd.StringDtype("python"),
        lambda: pd.StringDtype("pyarrow"),
        lambda: pd.StringDtype("python", na_value=np.nan),
        lambda: pd.StringDtype("pyarrow", na_value=np.nan),
        lambda: pd.ArrowDtype(pa.string()),
        lambda: pd.ArrowDtype(pa.large_string()),
        lambda: pd.ArrowDtype(pa.int64()),
    ]
    out = []
    for make in makers:
        try:
            out.append(make())
        except (TypeError, ValueError):
            pass
    return out


def test_dtype_names_read_back():
    from tabvae.schema import dtype_name, pandas_dtype

    for dtype in _string_dtypes():
        back = pandas_dtype(dtype_name(dtype))
        assert type(back) is type(dtype) and back == dtype, (dtype, dtype_name(dtype), back)
        if isinstance(dtype, pd.StringDtype):
            assert back.storage == dtype.storage


@pytest.mark.parametrize("name", ["str", "str[python]", "string[pyarrow_numpy]"])
def test_nan_string_names_from_other_pandas_versions(name):
    # "str": pandas 3 (and 2.3 with future.infer_string); "string[pyarrow_numpy]": pandas 2.1-2.2.
    from tabvae.schema import pandas_dtype

    dtype = pandas_dtype(name)
    values = pd.Series(["a", None], dtype=dtype)
    assert dtype == object or np.isnan(dtype.na_value)  # missing values stay NaN, as written
    assert values.isna().tolist() == [False, True]


def test_old_string_names_still_load():
    from tabvae.schema import pandas_dtype

    # Written by str(dtype) before the storage was kept.
    assert isinstance(pandas_dtype("string"), pd.StringDtype) and pandas_dtype("string").na_value is pd.NA
    assert pandas_dtype("object") == object


def test_overrides():
    df = pd.DataFrame({"zip": np.arange(100) % 50, "n": np.arange(100) % 3})
    kinds = {c.name: c.kind for c in infer_schema(df, categorical_columns=["zip"], numeric_columns=["n"])}
    assert kinds == {"zip": "categorical", "n": "integer"}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"categorical_columns": ["nope"]}, r"categorical_columns names columns that are not in the data: \['nope'\]"),
        ({"numeric_columns": ["s"]}, r"Column 's' is in numeric_columns but has dtype (object|str)"),
        ({"categorical_columns": ["x"], "numeric_columns": ["x"]}, r"in both categorical_columns and numeric_columns"),
        ({"categorical_columns": "x"}, r"must be a list of column names"),
    ],
)
def test_bad_overrides(kwargs, match):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]})
    with pytest.raises((ValueError, TypeError), match=match):
        infer_schema(df, **kwargs)


@pytest.mark.parametrize(
    "X, exc, match",
    [
        ("not a table", TypeError, "must be a pandas DataFrame or a 2-D array, got str"),
        (pd.Series([1, 2]), TypeError, "is a pandas Series"),
        (np.arange(5), ValueError, "got an array with 1 dimension"),
        (pd.DataFrame(), ValueError, "has 0 columns"),
        (pd.DataFrame({"a": []}), ValueError, "has 0 rows"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), ValueError, r"duplicate column names \['a'\]"),
        (pd.DataFrame({0: [1.0]}), TypeError, "non-string column names"),
    ],
)
def test_bad_tables(X, exc, match):
    with pytest.raises(exc, match=match):
        check_dataframe(X)


@pytest.mark.parametrize(
    "column, exc, match",
    [
        (pd.Series([1.0, np.inf, 2.0]), ValueError, r"Column 'c' contains 1 infinite value"),
        (pd.Series([1 + 2j, 3j, 1j]), ValueError, r"Column 'c' has complex dtype"),
        (pd.Series([[1, 2], [3], [4]]), TypeError, r"Column 'c' holds list values"),
        (pd.Series([{"a": 1}, {"b": 2}, None]), TypeError, r"Column 'c' holds dict values"),
        (pd.Series(pd.to_timedelta([1, 2, 3], unit="D")), TypeError, r"Column 'c' has timedelta dtype"),
    ],
)
def test_bad_columns(column, exc, match):
    with pytest.raises(exc, match=match):
        infer_schema(pd.DataFrame({"c": column, "ok": [1.0, 2.0, 3.0]}))


def test_all_missing_column_warns():
    with pytest.warns(UserWarning, match="Column 'gone' is entirely missing"):
        schema = infer_schema(pd.DataFrame({"gone": [np.nan] * 4, "x": [1.0, 2, 3, 4]}))
    assert schema["gone"].kind == "constant"


def test_sdmetrics_metadata_from_schema(mixed):
    meta = infer_schema(mixed).sdmetrics_metadata()["columns"]
    assert meta["float"] == {"sdtype": "numerical"} and meta["object"] == {"sdtype": "categorical"}
    assert meta["date"] == {"sdtype": "datetime"} and meta["bool"] == {"sdtype": "boolean"}
