import numpy as np
import pandas as pd
import pytest

from tabvae.schema import Schema, check_dataframe, infer_schema


def test_inferred_kinds(mixed):
    kinds = {c.name: c.kind for c in infer_schema(mixed)}
    assert kinds == {
        "float": "numeric", "bimodal": "numeric", "int": "integer", "Int64": "integer",
        "Float64": "numeric", "uint8": "integer", "code": "categorical", "object": "categorical",
        "string": "categorical", "ordered": "categorical", "mixed": "categorical", "bool": "boolean",
        "boolean": "boolean", "date": "datetime", "ts_tz": "datetime", "ts_s": "datetime",
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
    from tabvae.schema import pandas_dtype

    rng = np.random.RandomState(0)
    df = pd.DataFrame({
        "python": pd.Series(rng.choice(["a", "b", None], 200), dtype=pd.StringDtype("python")),
        "pyarrow": pd.Series(rng.choice(["a", "b", "c"], 200), dtype=pd.StringDtype("pyarrow")),
        "arrow": pd.Series(rng.choice(["x", "y"], 200), dtype=pd.ArrowDtype(pa.string())),
        "arrow_int": pd.Series(rng.randint(0, 1000, 200), dtype=pd.ArrowDtype(pa.int64())),
    })
    out = TabularVAE(epochs=2, random_state=0, device="cpu").fit(df).sample(50, random_state=0)
    for name in df.columns:
        assert type(out[name].dtype) is type(df[name].dtype) and out[name].dtype == df[name].dtype, name
    assert out["pyarrow"].dtype.storage == "pyarrow" and out["python"].dtype.storage == "python"
    assert pandas_dtype("string") == pd.StringDtype()  # model files written before storage was kept


def test_overrides():
    df = pd.DataFrame({"zip": np.arange(100) % 50, "n": np.arange(100) % 3})
    kinds = {c.name: c.kind for c in infer_schema(df, categorical_columns=["zip"], numeric_columns=["n"])}
    assert kinds == {"zip": "categorical", "n": "integer"}


@pytest.mark.parametrize("kwargs, match", [
    ({"categorical_columns": ["nope"]}, r"categorical_columns names columns that are not in the data: \['nope'\]"),
    ({"numeric_columns": ["s"]}, r"Column 's' is in numeric_columns but has dtype (object|str)"),
    ({"categorical_columns": ["x"], "numeric_columns": ["x"]}, r"in both categorical_columns and numeric_columns"),
    ({"categorical_columns": "x"}, r"must be a list of column names"),
])
def test_bad_overrides(kwargs, match):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]})
    with pytest.raises((ValueError, TypeError), match=match):
        infer_schema(df, **kwargs)


@pytest.mark.parametrize("X, exc, match", [
    ("not a table", TypeError, "must be a pandas DataFrame or a 2-D array, got str"),
    (pd.Series([1, 2]), TypeError, "is a pandas Series"),
    (np.arange(5), ValueError, "got an array with 1 dimension"),
    (pd.DataFrame(), ValueError, "has 0 columns"),
    (pd.DataFrame({"a": []}), ValueError, "has 0 rows"),
    (pd.DataFrame([[1, 2]], columns=["a", "a"]), ValueError, r"duplicate column names \['a'\]"),
    (pd.DataFrame({0: [1.0]}), TypeError, "non-string column names"),
])
def test_bad_tables(X, exc, match):
    with pytest.raises(exc, match=match):
        check_dataframe(X)


@pytest.mark.parametrize("column, exc, match", [
    (pd.Series([1.0, np.inf, 2.0]), ValueError, r"Column 'c' contains 1 infinite value"),
    (pd.Series([1 + 2j, 3j, 1j]), ValueError, r"Column 'c' has complex dtype"),
    (pd.Series([[1, 2], [3], [4]]), TypeError, r"Column 'c' holds list values"),
    (pd.Series([{"a": 1}, {"b": 2}, None]), TypeError, r"Column 'c' holds dict values"),
    (pd.Series(pd.to_timedelta([1, 2, 3], unit="D")), TypeError, r"Column 'c' has timedelta dtype"),
])
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
