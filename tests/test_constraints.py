"""Declared constraints (tabvae.constraints.ConstraintSet) and their discovery (discover_constraints).

The weather table ``tests/data/beijing_weather_constraints.csv.gz`` (500 rows) is built by
:func:`build_weather` from ``shared/data/beijing_pm25.csv`` (UCI "Beijing PM2.5", Liang et al. 2015,
CC BY 4.0): every 60th row of the file from the first (rows 0, 60, ..., 29940), with

- ``timestamp``: the row's ``year``, ``month``, ``day``, ``hour`` as one datetime;
- ``precipitation_since``: ``timestamp`` minus ``Is + Ir`` hours (the source's cumulated hours of
  snow and of rain) where that sum is positive, else missing (NaT) -- an ordering with missing values,
  ``precipitation_since < timestamp``;
- ``wind``: ``"calm"`` where the wind direction ``cbwd`` is ``"cv"`` (calm and variable), else
  ``"strong"`` where the cumulated wind speed ``Iws`` is above 20 m/s, else ``"light"`` -- a
  structural level, ``wind == "calm"`` exactly when ``cbwd == "cv"``;
- the source's ``pm2.5`` (33 missing), ``DEWP``, ``TEMP``, ``PRES``, ``cbwd`` and ``Iws`` as they are.
  Dew point at most the temperature (``DEWP <= TEMP``) is a real ordering (it holds in all 500 rows).

``test_weather_file_is_built_as_documented`` rebuilds it when ``../shared/data`` is present.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tabvae.constraints import (
    ConstraintSet,
    FixedCombinations,
    FunctionalDependency,
    Inequality,
    Predicate,
    Range,
    StructuralLevel,
    constraint_from_dict,
    discover_constraints,
)
from tabvae.datasets import load_adult

DATA = Path(__file__).parent / "data"
WEATHER = DATA / "beijing_weather_constraints.csv.gz"
SOURCE = Path(__file__).parents[2] / "shared" / "data" / "beijing_pm25.csv"


def build_weather(source: Path) -> pd.DataFrame:
    """The weather test table from the Beijing PM2.5 file (see the module docstring)."""
    raw = pd.read_csv(source).iloc[::60].head(500).reset_index(drop=True)
    stamp = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    wet = raw["Is"] + raw["Ir"]
    wind = np.where(raw["cbwd"] == "cv", "calm", np.where(raw["Iws"] > 20, "strong", "light"))
    return pd.DataFrame(
        {
            "timestamp": stamp,
            "precipitation_since": (stamp - pd.to_timedelta(wet, unit="h")).where(wet > 0),
            "pm2.5": raw["pm2.5"],
            "DEWP": raw["DEWP"],
            "TEMP": raw["TEMP"],
            "PRES": raw["PRES"],
            "cbwd": raw["cbwd"],
            "wind": wind,
            "Iws": raw["Iws"],
        }
    )


@pytest.fixture(scope="module")
def weather():
    return pd.read_csv(WEATHER, parse_dates=["timestamp", "precipitation_since"])


def round_trip(df, rules):
    cs = ConstraintSet(rules).fit(df)
    modelled = cs.transform(df)
    back = cs.inverse_transform(modelled)
    pd.testing.assert_frame_equal(back, df)
    return cs, modelled


@pytest.fixture
def table():
    """Small table with every constrained column kind, missing values included."""
    rng = np.random.RandomState(0)
    n = 60
    edu = rng.choice(["HS", "BSc", "MSc", None], n)
    start = pd.Series(pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.randint(0, 100, n), unit="D"))
    return pd.DataFrame(
        {
            "edu": edu,
            "edu_num": pd.array([{"HS": 9, "BSc": 13, "MSc": 14}.get(e) for e in edu], dtype="Int64"),
            "city": pd.Categorical(rng.choice(["Paris", "Lyon", "Nice"], n)),
            "zip": rng.choice([75, 69, 6], n),
            "lo": rng.randint(0, 50, n),
            "hi": rng.randint(50, 90, n),
            "x": np.where(rng.rand(n) < 0.2, np.nan, rng.rand(n).round(2)),
            "y": np.where(rng.rand(n) < 0.2, np.nan, 1.0 + rng.rand(n).round(2)),
            "start": start.dt.tz_localize("Europe/Paris").where(rng.rand(n) > 0.1),
            "end": (start + pd.to_timedelta(rng.randint(0, 48, n), unit="h")).dt.tz_localize("Europe/Paris"),
            "net": rng.choice(["No", "DSL", "Fiber"], n),
        }
    ).assign(sec=lambda d: np.where(d["net"] == "No", "No internet", rng.choice(["Yes", "No"], n)))


# --------------------------------------------------------------------------- each class: round trip


def test_functional_dependency_drops_dependent_and_round_trips(table):
    cs, modelled = round_trip(table, [FunctionalDependency("edu", "edu_num")])
    assert "edu_num" not in modelled.columns
    assert cs.check(table) == {"FunctionalDependency('edu', 'edu_num')": 0}


def test_functional_dependency_multi_column_determinant(table):
    df = table.assign(label=table["city"].astype(str) + "-" + table["net"])
    _, modelled = round_trip(df, [FunctionalDependency(["city", "net"], "label")])
    assert "label" not in modelled.columns


def test_fixed_combinations_one_key_column_and_dtypes_back(table):
    df = table.assign(zip=table["city"].map({"Paris": 75, "Lyon": 69, "Nice": 6}).astype("int64"))
    cs, modelled = round_trip(df, [FixedCombinations(["city", "zip", "edu"])])
    key = cs.rules_[0].key_
    assert key in modelled.columns and not {"city", "zip", "edu"} & set(modelled.columns)
    assert modelled[key].nunique() == len(df[["city", "zip", "edu"]].astype(str).drop_duplicates())


def test_structural_level_round_trip_and_placeholder(table):
    cs, modelled = round_trip(table, [StructuralLevel("sec", "No internet", "net", "No")])
    assert "No internet" not in set(modelled["sec"])
    # the network writes the level in a row without net == "No": it is replaced; net == "No" always gets it
    fake = modelled.assign(sec=["No internet"] * len(modelled))
    out = cs.inverse_transform(fake)
    assert ((out["sec"] == "No internet") == (out["net"] == "No")).all()


def test_inequality_integers_gap_and_round_trip(table):
    _, modelled = round_trip(table, [Inequality("lo", "hi")])
    assert modelled["hi"].tolist() == (table["hi"] - table["lo"]).tolist()


def test_inequality_floats_with_missing_values():
    df = pd.DataFrame({"x": [0.5, np.nan, 1.25, 2.0, np.nan, 3.0], "y": [0.75, 4.5, np.nan, 2.0, np.nan, 3.5]})
    cs, modelled = round_trip(df, [Inequality("x", "y")])
    extra = cs.rules_[0].extra_  # y where x is missing is kept in its own column
    assert extra in modelled.columns
    assert modelled["y"].isna().tolist() == [False, True, True, False, True, False]


def test_inequality_datetimes_tz_and_missing(table):
    cs, modelled = round_trip(table, [Inequality("start", "end")])
    assert cs.rules_[0].unit_ns_ == 3_600 * 10**9  # gaps are whole hours
    assert pd.api.types.is_integer_dtype(modelled["end"].dtype)


def test_inequality_inverse_clamps_negative_and_strict_gaps(table):
    cs = ConstraintSet([Inequality("lo", "hi", strict=True), Inequality("x", "y", strict=True)]).fit(table)
    modelled = cs.transform(table).assign(hi=-5, y=-1.0)
    out = cs.inverse_transform(modelled)
    both = out["x"].notna() & out["y"].notna()
    assert (out["hi"] > out["lo"]).all() and (out["y"][both] > out["x"][both]).all()
    assert set(cs.check(out).values()) == {0}


@pytest.fixture
def positive():
    """Pairs with a positive ``low`` in every row: floats (with missing values) and integers."""
    rng = np.random.RandomState(1)
    n = 80
    rooms = rng.randint(2, 400, n)
    size = rng.lognormal(0, 1, n)
    return pd.DataFrame(
        {
            "beds": rooms // rng.randint(2, 8, n) + 1,  # int64, beds < rooms
            "rooms": rooms,
            "width": np.where(rng.rand(n) < 0.1, np.nan, size),
            "length": np.where(rng.rand(n) < 0.1, np.nan, size * rng.uniform(1, 3, n)),
        }
    )


def test_inequality_positive_low_models_the_ratio_and_round_trips(positive):
    cs, modelled = round_trip(positive, [Inequality("beds", "rooms"), Inequality("width", "length")])
    assert all(r.ratio_ for r in cs.rules_)
    np.testing.assert_allclose(modelled["rooms"], positive["rooms"] / positive["beds"])
    np.testing.assert_allclose(modelled["length"], positive["length"] / positive["width"])
    back = cs.inverse_transform(modelled)
    assert back["rooms"].dtype == np.int64 and back["rooms"].tolist() == positive["rooms"].tolist()  # exact


def test_inequality_ratio_strict_integers_hold_after_rounding(positive):
    df = positive[["beds", "rooms"]].assign(rooms=lambda d: d["rooms"].clip(lower=d["beds"] + 1))
    cs = ConstraintSet([Inequality("beds", "rooms", strict=True)]).fit(df)
    rule = cs.rules_[0]
    assert rule.ratio_ and rule.floor_ == (df["rooms"] / df["beds"]).min() > 1
    rng = np.random.RandomState(0)
    fake = pd.DataFrame({"beds": rng.randint(1, 30, 5000), "rooms": rng.uniform(0, 1.2, 5000)})
    fake.loc[:9, "beds"] = [0, -3, -1, 0, -7, 1, 1, 2, 3, 4]  # a low the training rows never had
    out = cs.inverse_transform(fake)
    assert out["rooms"].dtype == np.int64 and (out["rooms"] >= out["beds"] + 1).all()
    assert cs.check(out) == {"Inequality('beds' < 'rooms')": 0}


def test_inequality_ratio_strict_integers_in_sampled_rows(positive):
    from tabvae import TabularVAE

    df = positive[["beds", "rooms"]].assign(rooms=lambda d: d["rooms"].clip(lower=d["beds"] + 1))
    model = TabularVAE(epochs=2, constraints=[Inequality("beds", "rooms", strict=True)], random_state=0).fit(df)
    rows = model.sample(5_000, random_state=0)
    assert (rows.dtypes == df.dtypes).all()
    assert model.constraints_.check(rows) == {"Inequality('beds' < 'rooms')": 0}


def test_inequality_low_at_zero_keeps_the_gap(positive):
    df = positive.assign(beds=positive["beds"] - 1, width=positive["width"].fillna(0.0))  # low reaches 0
    cs, modelled = round_trip(df, [Inequality("beds", "rooms"), Inequality("width", "length")])
    assert not any(r.ratio_ for r in cs.rules_)
    assert modelled["rooms"].tolist() == (df["rooms"] - df["beds"]).tolist()


def test_inequality_ratio_state_and_conditions(positive):
    cs = ConstraintSet([Inequality("beds", "rooms"), Inequality("width", "length", strict=True)]).fit(positive)
    state = json.loads(json.dumps(cs.get_state()))
    loaded = ConstraintSet.from_state(state)
    assert [r.ratio_ for r in loaded.rules_] == [True, True]
    modelled = cs.transform(positive)
    pd.testing.assert_frame_equal(loaded.inverse_transform(modelled), positive)
    assert loaded.translate_conditions({"beds": 4, "rooms": (8, 20)}) == {"beds": 4, "rooms": (2.0, 5.0)}
    with pytest.raises(ValueError, match="models 'rooms' as the ratio rooms / beds.*positive value"):
        loaded.translate_conditions({"beds": 0, "rooms": 8})
    with pytest.raises(ValueError, match="Conditions cannot be met"):
        loaded.translate_conditions({"beds": 4, "rooms": 3})
    for rule in state["rules"]:  # a state written before ratios existed restores as a gap
        del rule["fitted"]["ratio"]
    assert not any(r.ratio_ for r in ConstraintSet.from_state(state).rules_)


def test_chained_rules_restore_in_order(table):
    df = table.assign(mid=table["lo"] + 5, top=table["hi"] + 40)
    rules = [Inequality("mid", "top"), Inequality("lo", "mid"), Range("top", 0, 200)]
    cs, _ = round_trip(df, rules)
    assert [type(r).__name__ for r in cs.rules_].index("Range") == 0  # clipped after top is rebuilt


def test_range_clips_and_validates(table):
    cs, _ = round_trip(table, [Range("lo", 0, 60), Range("start", "2023-06-01", None)])
    out = cs.inverse_transform(cs.transform(table).assign(lo=500))
    assert (out["lo"] == 60).all() and out["lo"].dtype == table["lo"].dtype
    with pytest.raises(ValueError, match=r"Range\(column='lo'.*does not hold.*row"):
        ConstraintSet([Range("lo", 10, 20)]).fit(table)


def test_predicate_accepts_and_cannot_be_saved(table):
    even = Predicate(lambda d: d["lo"] % 2 == 0, name="even lo")
    cs = ConstraintSet([even]).fit(table[table["lo"] % 2 == 0])
    assert cs.accepts(table).tolist() == (table["lo"] % 2 == 0).tolist()
    assert cs.check(table) == {"Predicate(name='even lo')": int((table["lo"] % 2).sum())}
    with pytest.raises(ValueError, match="does not hold in the training data"):
        ConstraintSet([even]).fit(table.assign(lo=1))
    with pytest.raises(ValueError, match="Predicate 'even lo' cannot be saved"):
        cs.get_state()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "rules, match",
    [
        ([Inequality("lo", "nope")], r"names column\(s\) \['nope'\], which are not in X"),
        ([FunctionalDependency("edu", "zip"), FunctionalDependency("city", "zip")], "generated by two rules"),
        ([FixedCombinations(["city", "zip"]), FunctionalDependency("edu", "zip")], "generated by two rules"),
        ([Inequality("lo", "hi"), Inequality("hi", "lo")], "cycle"),
        ([Inequality("lo", "hi"), Inequality("hi", "x"), Inequality("x", "lo")], "cycle"),
        ([Inequality("city", "net")], "needs two numeric or two datetime columns"),
        ([Inequality("lo", "start")], "needs two numeric or two datetime columns"),
        ([Range("net", 0, 1)], "needs a numeric or datetime column"),
        ([Range("lo", 5, 1)], "low is above high"),
        ([Range("lo", 0, 80), Range("lo", 0, 90)], "two Range rules"),
        ([Inequality("lo", "hi"), Inequality("lo", "hi")], "given twice"),
        ([FunctionalDependency("net", "city")], r"FunctionalDependency\('net', 'city'\) does not hold.*row"),
        ([FixedCombinations(["city"])], "at least two columns"),
        ([StructuralLevel("sec", "Yes", "net", "DSL")], "does not hold"),
    ],
)
def test_contradictory_or_unknown_constraints_raise(table, rules, match):
    with pytest.raises(ValueError, match=match):
        ConstraintSet(rules).fit(table)


def test_bad_constraint_arguments_raise(table):
    with pytest.raises(TypeError, match="list of constraints"):
        ConstraintSet(Inequality("lo", "hi")).fit(table)
    with pytest.raises(TypeError, match="not a tabvae constraint"):
        ConstraintSet(["lo <= hi"]).fit(table)
    with pytest.raises(ValueError, match="Unknown constraint type 'Order'"):
        constraint_from_dict({"type": "Order", "low": "lo", "high": "hi"})
    with pytest.raises(ValueError, match=r"does not take \['lower'\]"):
        constraint_from_dict({"type": "Inequality", "lower": "lo", "high": "hi"})


def test_file_format_dicts(table):
    spec = json.loads(
        '[{"type": "Inequality", "low": "lo", "high": "hi", "strict": true},'
        ' {"type": "FunctionalDependency", "determinant": "edu", "dependent": "edu_num"}]'
    )
    cs = ConstraintSet(spec).fit(table)
    assert [r.to_dict() for r in cs.rules_] == spec


# --------------------------------------------------------------------------- state


def test_state_round_trip_is_json_and_gives_the_same_rows(table):
    rules = [
        FunctionalDependency("edu", "edu_num"),
        FixedCombinations(["city", "zip"]),
        Inequality("start", "end"),
        Inequality("x", "y"),
        Range("lo", 0, 60),
        StructuralLevel("sec", "No internet", "net", "No"),
    ]
    cs = ConstraintSet(rules).fit(table)
    loaded = ConstraintSet.from_state(json.loads(json.dumps(cs.get_state())))
    modelled = cs.transform(table)
    pd.testing.assert_frame_equal(loaded.transform(table), modelled)
    pd.testing.assert_frame_equal(loaded.inverse_transform(modelled), table)
    assert loaded.translate_conditions({"edu_num": 13, "zip": 75}) == cs.translate_conditions(
        {"edu_num": 13, "zip": 75}
    )


# --------------------------------------------------------------------------- conditions


def test_translate_conditions(table):
    df = table.assign(zip=table["city"].map({"Paris": 75, "Lyon": 69, "Nice": 6}).astype("int64"))
    cs = ConstraintSet(
        [
            FunctionalDependency("edu", "edu_num"),
            FixedCombinations(["city", "zip"]),
            Inequality("lo", "hi"),
            StructuralLevel("sec", "No internet", "net", "No"),
        ]
    ).fit(df)
    key = cs.rules_[[type(r) for r in cs.rules_].index(FixedCombinations)].key_
    assert cs.translate_conditions({"edu_num": 13}) == {"edu": "BSc"}
    assert cs.translate_conditions({"edu_num": (10, 20)}) == {"edu": frozenset({"BSc", "MSc"})}
    assert cs.translate_conditions({"edu_num": None}) == {"edu": None}  # missing maps from missing
    assert cs.translate_conditions({"zip": 75}) == {key: "Paris | 75"}
    assert cs.translate_conditions({"lo": 10, "hi": (20, 30)}) == {"lo": 10, "hi": (10, 20)}
    assert cs.translate_conditions({"sec": "No internet"}) == {"net": "No"}
    assert cs.translate_conditions({"sec": "Yes"}) == {"sec": "Yes", "net": frozenset({"DSL", "Fiber"})}
    with pytest.raises(ValueError, match="cannot be translated exactly.*fix 'lo' to one value"):
        cs.translate_conditions({"hi": 60})
    with pytest.raises(ValueError, match="Conditions cannot be met"):
        cs.translate_conditions({"edu_num": 13, "edu": "HS"})
    with pytest.raises(ValueError, match="Conditions cannot be met"):
        cs.translate_conditions({"zip": 75, "city": "Nice"})
    with pytest.raises(ValueError, match="Unknown column"):
        cs.translate_conditions({"nope": 1})


# --------------------------------------------------------------------------- discovery


def test_discovery_thresholds():
    rng = np.random.RandomState(0)
    n = 200
    a = rng.choice(list("pqrst"), n)
    df = pd.DataFrame(
        {
            "a": a,
            "b": pd.Series(a).map(dict(zip("pqrst", "vwxyz"))),
            "noise": rng.choice(list("jkl"), n),
            "u": (u := rng.rand(n)),
            "v": np.where(np.arange(n) < 3, u + 0.01, np.nan),
        }
    )
    assert FunctionalDependency("a", "b") in discover_constraints(df)
    # an ordering seen in 3 rows (u < v where both are present) and a dependency seen in 3 rows are not proposed
    assert discover_constraints(df) == discover_constraints(df, min_support=30)
    assert not any(isinstance(r, Inequality) for r in discover_constraints(df))
    assert discover_constraints(df.head(3), min_rows_per_level=1, min_levels=1) == []
    assert any(isinstance(r, Inequality) for r in discover_constraints(df, min_support=3))
    # a level seen 3 times blocks a dependency: every determinant level needs min_rows_per_level rows
    rare = df.assign(a=np.where(np.arange(n) < 3, "rare", df["a"]), b=np.where(np.arange(n) < 3, "R", df["b"]))
    assert FunctionalDependency("a", "b") not in discover_constraints(rare)
    assert FunctionalDependency("a", "b") not in discover_constraints(df, min_levels=6)
    # an ordering that chance alone keeps (columns on different scales) is not proposed
    scales = pd.DataFrame({"hours": np.arange(n) % 24, "pressure": 20 + np.arange(n) * 5.0})
    assert discover_constraints(scales) == []
    assert discover_constraints(scales, min_chance=0) == [Inequality("hours", "pressure", strict=True)]
    with pytest.raises(ValueError, match="min_support must be a positive int"):
        discover_constraints(df, min_support=0)


def test_discovery_rules_print_with_support():
    df = load_adult().head(2000)
    rules = discover_constraints(df, min_rows_per_level=1)
    assert str(rules[0]).startswith("FunctionalDependency('education', 'education-num')  # support: 2000 rows")


def test_discovery_on_weather_finds_structural_level_and_orderings(weather):
    rules = discover_constraints(weather)
    assert rules == [
        StructuralLevel("wind", "calm", "cbwd", "cv"),
        Inequality("DEWP", "TEMP"),
        Inequality("precipitation_since", "timestamp", strict=True),
    ]
    assert [r.support for r in rules] == [{"rows": 103}, {"rows": 500}, {"rows": 32}]
    round_trip(weather, rules)


def test_weather_file_is_built_as_documented(weather):
    if not SOURCE.exists():
        pytest.skip("shared/data/beijing_pm25.csv is not on this machine")
    pd.testing.assert_frame_equal(build_weather(SOURCE), weather)


def test_discovery_on_adult_holds_on_held_out_rows():
    df = load_adult()
    train = df.sample(frac=0.8, random_state=0)
    rules = discover_constraints(train)
    assert FunctionalDependency("education", "education-num") in rules
    assert FunctionalDependency("education-num", "education") in rules
    # every rule holds on the 20 % held out, and dependencies map the same way there (checked on all rows)
    cs = ConstraintSet(rules).fit(train)
    assert set(cs.check(df.drop(train.index)).values()) == {0}
    assert set(cs.check(df).values()) == {0}
    round_trip(df, rules)


# --------------------------------------------------------------------------- TabularVAE(constraints=...)


@pytest.fixture(scope="module")
def adult_rules_model():
    from conftest import load_slice

    from tabvae import TabularVAE

    df = load_slice("adult")
    rules = discover_constraints(df, min_rows_per_level=3)  # Preschool has 3 rows in the 1,500-row slice
    model = TabularVAE(epochs=2, constraints=rules, conditional_columns=["education"], random_state=0).fit(df)
    return df, rules, model


def test_adult_slice_discovered_rules_hold_in_100k_sampled_rows(adult_rules_model):
    df, rules, model = adult_rules_model
    assert FunctionalDependency("education", "education-num") in rules
    rows = model.sample(100_000, random_state=0)
    assert list(rows.columns) == list(df.columns) and (rows.dtypes == df.dtypes).all()
    assert set(model.constraints_.check(rows).values()) == {0}
    assert "education-num" not in model.schema_.names  # modelled through education


def test_constraints_with_conditions(adult_rules_model):
    _, _, model = adult_rules_model
    rows = model.sample(200, conditions={"education-num": 13, "age": (30, 40)}, random_state=0)
    assert (rows["education"] == "Bachelors").all() and (rows["education-num"] == 13).all()
    assert rows["age"].between(30, 40).all()
    per_row = model.sample(conditions=pd.DataFrame({"education-num": [9, 14, 9]}), n_samples=None, random_state=0)
    assert per_row["education-num"].tolist() == [9, 14, 9]
    assert set(model.constraints_.check(per_row).values()) == {0}


def test_constraints_saved_and_loaded(adult_rules_model, tmp_path):
    from tabvae import load

    df, _, model = adult_rules_model
    model.save(tmp_path / "m.tabvae")
    loaded = load(tmp_path / "m.tabvae")
    assert loaded.get_params()["constraints"] == model.constraints
    pd.testing.assert_frame_equal(loaded.sample(500, random_state=3), model.sample(500, random_state=3))
    np.testing.assert_allclose(loaded.score_samples(df.head(20)), model.score_samples(df.head(20)))


def test_weather_rules_and_predicate_in_the_model(weather):
    from tabvae import TabularVAE

    rules = [
        *discover_constraints(weather),
        Predicate(lambda d: d["TEMP"] + d["DEWP"] >= -42, name="not too cold and dry"),
    ]
    model = TabularVAE(epochs=2, constraints=rules, random_state=0).fit(weather)
    rows = model.sample(5_000, random_state=0)
    assert set(model.constraints_.check(rows).values()) == {0}
    assert rows["precipitation_since"].isna().any() and rows["precipitation_since"].notna().any()
    with pytest.raises(ValueError, match="Predicate 'not too cold and dry' cannot be saved"):
        model.get_state()
    never = TabularVAE(epochs=1, constraints=[Predicate(lambda d: d["TEMP"] > -100, name="x")], random_state=0)
    never.fit(weather).constraints_.rules_[0].fn = lambda d: d["TEMP"] > 1e9
    with pytest.raises(ValueError, match=r"meeting the predicates \['x'\].*acceptance rate 0"):
        never.sample(10, max_tries=1)


def test_cli_fit_with_constraints(tmp_path, capsys):
    from tabvae import load
    from tabvae.cli import main

    data = tmp_path / "weather.csv"
    pd.read_csv(WEATHER).to_csv(data, index=False)
    rules = tmp_path / "rules.json"
    rules.write_text('[{"type": "Inequality", "low": "DEWP", "high": "TEMP"}]')
    assert (
        main(["fit", str(data), "-o", str(tmp_path / "a.tabvae"), "--epochs", "1", "-q", "--constraints", str(rules)])
        == 0
    )
    assert load(tmp_path / "a.tabvae").constraints == [Inequality("DEWP", "TEMP")]
    assert (
        main(["fit", str(data), "-o", str(tmp_path / "b.tabvae"), "--epochs", "1", "-q", "--constraints", "discovered"])
        == 0
    )
    assert "discovered 2 constraint(s):\n  StructuralLevel(column='wind'" in capsys.readouterr().out
    rules.write_text('{"type": "Inequality"}')
    assert main(["fit", str(data), "-o", str(tmp_path / "c.tabvae"), "--constraints", str(rules)]) == 2
    assert "must hold a list of rules" in capsys.readouterr().err
    rules.write_text('[{"type": "Inequality", "low": "DEWP", "high": "nope"}]')
    assert main(["fit", str(data), "-o", str(tmp_path / "c.tabvae"), "--constraints", str(rules)]) == 2
    assert "not in X" in capsys.readouterr().err
