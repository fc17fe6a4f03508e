from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"
SHARED_TABLES = ["adult", "default_credit", "online_shoppers", "beijing_pm25", "california_housing", "magic_gamma"]


def load_slice(name: str) -> pd.DataFrame:
    """A 1,500-row slice of a table in ../shared/data (copied into tests/data)."""
    return pd.read_csv(DATA / f"{name}.csv.gz")


def make_mixed(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Every column kind tabvae supports, with missing values where the dtype allows them."""
    rng = np.random.RandomState(seed)
    miss = lambda p: rng.rand(n) < p  # noqa: E731
    return pd.DataFrame(
        {
            "float": np.where(miss(0.1), np.nan, rng.lognormal(size=n)),
            "bimodal": np.concatenate([rng.normal(-5, 1, n // 2), rng.normal(5, 1, n - n // 2)]),
            "int": rng.randint(0, 1000, n),
            "Int64": pd.array(np.where(miss(0.2), None, rng.randint(-50, 50, n)), dtype="Int64"),
            "Float64": pd.array(np.where(miss(0.1), None, rng.rand(n).round(3)), dtype="Float64"),
            "uint8": rng.randint(0, 200, n).astype("uint8"),
            "code": rng.randint(1, 4, n),
            "object": np.where(miss(0.15), None, rng.choice(["red", "green", "blue"], n)).astype(object),
            "string": pd.Series(rng.choice(["a", "b", "c", "d"], n), dtype="string"),
            "ordered": pd.Categorical(
                rng.choice(["low", "mid", "high"], n), categories=["low", "mid", "high"], ordered=True
            ),
            "mixed": pd.Series([["x", 1, 2.5][i] for i in rng.randint(0, 3, n)], dtype=object),
            "bool": rng.rand(n) < 0.3,
            "boolean": pd.array(np.where(miss(0.2), None, rng.rand(n) < 0.5), dtype="boolean"),
            "date": pd.Series(pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.randint(0, 700, n), unit="D")).where(
                ~miss(0.05)
            ),
            "ts_tz": (pd.to_datetime("2022-03-01") + pd.to_timedelta(rng.randint(0, 10**7, n), unit="s")).tz_localize(
                "Europe/Paris"
            ),
            "ts_s": (pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.randint(0, 10**6, n), unit="s")).astype(
                "datetime64[s]"
            ),
            "constant": 7,
        }
    )


@pytest.fixture
def mixed():
    return make_mixed()


@pytest.fixture(scope="session")
def adult_slice():
    return load_slice("adult")
