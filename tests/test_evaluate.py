"""Tests for tabvae.evaluation (small frames; the whole file runs in well under a minute)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from tabvae import EvaluationReport, evaluate
from tabvae.schema import infer_schema

ADULT = Path(__file__).resolve().parents[1] / "tabvae" / "datasets" / "data" / "adult.csv.gz"


def make_frame(n: int, seed: int) -> pd.DataFrame:
    """2 numeric, 1 integer, 2 categorical columns and a binary target, all related."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = 0.8 * x1 + 0.6 * rng.normal(size=n)
    count = np.round(50 + 20 * x1 + 5 * rng.normal(size=n)).astype(int)
    c1 = np.where(x1 < -0.5, "a", np.where(x1 < 0.5, "b", "c"))
    c2 = np.where(rng.random(n) < 0.7, np.where(c1 == "a", "u", "v"), rng.choice(["u", "v", "w"], n))
    y = x1 + (c2 == "v") + 0.5 * rng.normal(size=n) > 0.5
    return pd.DataFrame({"x1": x1, "x2": x2, "count": count, "c1": c1, "c2": c2, "y": np.where(y, "yes", "no")})


def shuffle_columns(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Permute every column independently: same marginals, no relationships."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: df[c].to_numpy()[rng.permutation(len(df))] for c in df.columns})


def shift_and_noise(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = df.copy()
    out["x1"] = out["x1"] + 1.0 + rng.normal(scale=0.5, size=len(df))
    out["x2"] = out["x2"] * 2.0
    out["count"] = out["count"] + 15
    out["c2"] = rng.choice(["u", "v", "w"], len(df), p=[0.1, 0.2, 0.7])
    return out


class FakeModel:
    history_ = {
        "loss": [5.0, 3.0, 2.0, 1.5],
        "reconstruction": [4.5, 2.7, 1.8, 1.3],
        "kl": [0.5, 0.3, 0.2, 0.2],
        "val_loss": [5.2, 3.3, 2.4, 2.0],
    }


@pytest.fixture(scope="module")
def real():
    return make_frame(500, 0)


@pytest.fixture(scope="module")
def holdout():
    return make_frame(300, 1)


@pytest.fixture(scope="module")
def identical(real, holdout):
    return evaluate(real, real.copy(), target="y", holdout=holdout, model=FakeModel())


@pytest.fixture(scope="module")
def independent(real):
    return evaluate(real, make_frame(500, 2))


# --------------------------------------------------------------------------- fidelity & detection


def test_identical_data_scores_near_perfect(identical):
    s = identical.scores
    assert s["column_shapes"] > 0.98
    assert s["column_pair_trends"] > 0.95
    assert s["quality_score"] > 0.95
    assert abs(s["detection_auc"] - 0.5) < 0.05
    assert s["logistic_detection"] > 0.9
    assert isinstance(identical, EvaluationReport)


def test_same_distribution_is_hard_to_detect(independent):
    assert independent.scores["detection_auc"] < 0.65
    assert independent.scores["column_shapes"] > 0.9


def test_shuffled_columns_lose_pair_trends(real, identical):
    report = evaluate(real, shuffle_columns(real, 3))
    assert report.scores["column_shapes"] > 0.98  # marginals untouched
    assert report.scores["column_pair_trends"] < identical.scores["column_pair_trends"] - 0.15
    assert report.scores["detection_auc"] > 0.8


def test_shifted_data_loses_column_shapes(real, identical):
    report = evaluate(real, shift_and_noise(real, 4))
    assert report.scores["column_shapes"] < identical.scores["column_shapes"] - 0.15
    shapes = report.column_shapes.set_index("column")["score"]
    assert shapes["x1"] < 0.8 and shapes["c2"] < 0.8
    assert shapes["c1"] == pytest.approx(1.0)


def test_trend_score_averages_all_pairs(identical, real):
    n = real.shape[1]
    pairs = identical.pair_trends
    assert len(pairs) == n * (n - 1) // 2
    assert set(pairs["metric"]) == {"CorrelationSimilarity", "ContingencySimilarity"}
    assert identical.scores["column_pair_trends"] == pytest.approx(pairs["score"].mean())


def test_column_shapes_table(identical):
    shapes = identical.column_shapes
    assert list(shapes["column"]) == ["x1", "x2", "count", "c1", "c2", "y"]
    metric = shapes.set_index("column")["metric"]
    assert metric["x1"] == "KSComplement" and metric["c1"] == "TVComplement"


# --------------------------------------------------------------------------- determinism


def test_same_random_state_gives_identical_results(real, holdout):
    synth = shift_and_noise(real, 5)
    a = evaluate(real, synth, target="y", holdout=holdout, random_state=7, max_rows=300)
    b = evaluate(real, synth, target="y", holdout=holdout, random_state=7, max_rows=300)
    assert a.to_dict() == b.to_dict()
    assert np.isfinite(a.scores["membership_attack_auc"])
    pd.testing.assert_frame_equal(a.pair_trends, b.pair_trends)


def test_global_numpy_random_state_untouched(real):
    np.random.seed(123)
    expected = np.random.random_sample(3)
    np.random.seed(123)
    evaluate(real, shuffle_columns(real, 6))
    np.testing.assert_array_equal(np.random.random_sample(3), expected)


def test_inputs_are_not_modified():
    df = make_frame(200, 8)
    df.loc[::7, "x1"] = np.nan
    df.loc[::9, "c1"] = None
    df["c2"] = df["c2"].astype("category")
    df["flag"] = df["x2"] > 0
    df["when"] = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.arange(200) % 97, unit="D")
    synth = shuffle_columns(df, 9)
    synth["c2"] = synth["c2"].astype("category")
    before_real, before_synth = df.copy(deep=True), synth.copy(deep=True)
    report = evaluate(
        df,
        synth,
        target="y",
        holdout=make_frame(200, 10).assign(
            flag=True, when=pd.Timestamp("2021-02-01"), c2=lambda d: d["c2"].astype("category")
        ),
    )
    pd.testing.assert_frame_equal(df, before_real)
    pd.testing.assert_frame_equal(synth, before_synth)
    assert np.isfinite(report.scores["column_shapes"])
    assert np.isfinite(report.scores["exact_copy_share"])


# --------------------------------------------------------------------------- utility


def test_classification_utility(identical):
    util = identical.utility
    assert list(util.index) == ["TSTR", "TRTR"] and list(util.columns) == ["roc_auc", "f1"]
    assert identical.task == "classification"
    assert identical.scores["trtr_roc_auc"] > 0.8
    # identical data -> identical models
    assert identical.scores["tstr_roc_auc"] == pytest.approx(identical.scores["trtr_roc_auc"])


def test_regression_task_inferred_and_multiclass(real):
    reg = evaluate(real, make_frame(400, 11), target="x2", max_rows=300)
    assert reg.task == "regression"
    assert {"tstr_r2", "tstr_rmse", "trtr_r2", "trtr_rmse"} <= set(reg.scores)
    assert reg.scores["trtr_r2"] > 0.3
    assert any("No holdout given" in n for n in reg.notes)
    multi = evaluate(real, make_frame(400, 12), target="c1", task="classification", max_rows=300)
    assert multi.scores["tstr_roc_auc"] > 0.8  # c1 is a function of x1


# --------------------------------------------------------------------------- privacy


def test_privacy_detects_copies_of_training_rows():
    data = make_frame(800, 13)
    train, hold = data.iloc[:400], data.iloc[400:]
    report = evaluate(train, train.copy(), holdout=hold)
    s = report.scores
    assert s["exact_copy_share"] == 1.0
    assert s["holdout_exact_copy_share"] == 0.0
    assert s["closer_to_train_share"] > 0.95
    assert s["dcr_synthetic_median"] == 0.0 and s["dcr_median_ratio"] == 0.0
    assert s["dcr_holdout_median"] > 0
    assert any("partly memorised its training rows" in n for n in report.notes)
    assert s["membership_attack_auc"] > 0.9  # identity generator: every member is found
    assert s["membership_attack_auc_low"] > 0.5
    assert any("membership-inference attack" in n for n in report.notes)


def test_privacy_honest_generator_looks_like_holdout(real, holdout):
    report = evaluate(real, make_frame(300, 14), holdout=holdout)
    s = report.scores
    assert s["exact_copy_share"] == 0.0
    assert 0.35 < s["closer_to_train_share"] < 0.65
    assert 0.7 < s["dcr_median_ratio"] < 1.4
    assert not any("memorised" in n for n in report.notes)
    assert 0.4 < s["membership_attack_auc"] < 0.6
    assert s["membership_attack_auc_low"] < s["membership_attack_auc"] < s["membership_attack_auc_high"]
    assert not any("membership-inference attack" in n for n in report.notes)


def test_membership_attack_on_independent_data_is_chance():
    from tabvae.evaluation.encoding import DistanceEncoding
    from tabvae.evaluation.privacy import membership_attack

    train, hold, synth = make_frame(2000, 20), make_frame(2000, 21), make_frame(2000, 22)
    enc = DistanceEncoding.fit(infer_schema(train), train, 0)
    T, H, S = enc.transform(train), enc.transform(hold), enc.transform(synth)
    result = membership_attack(T, S, H, seed=3)
    assert 0.45 < result["membership_attack_auc"] < 0.55
    low, high = result["membership_attack_auc_low"], result["membership_attack_auc_high"]
    assert low < result["membership_attack_auc"] < high and high - low < 0.1
    assert membership_attack(T, S, H, seed=3) == result
    assert membership_attack(T, S, H, seed=4) != result
    assert membership_attack(T, T, H, seed=3)["membership_attack_auc"] == 1.0


def test_membership_attack_note_needs_its_interval_above_chance():
    from tabvae.evaluation.privacy import privacy_notes

    base = {"closer_to_train_share": 0.5}
    high = {"membership_attack_auc": 0.6, "membership_attack_auc_low": 0.56, "membership_attack_auc_high": 0.64}
    assert privacy_notes({**base, **high}, 10_000, 10_000)
    assert not privacy_notes({**base, **high, "membership_attack_auc_low": 0.49}, 10_000, 10_000)
    assert not privacy_notes({**base, **high, "membership_attack_auc": 0.54}, 10_000, 10_000)


def test_memorisation_note_needs_more_than_chance():
    from tabvae.evaluation.privacy import privacy_notes

    assert privacy_notes({"closer_to_train_share": 0.56}, 10_000, 10_000)  # 0.53 bound
    assert not privacy_notes({"closer_to_train_share": 0.525}, 10_000, 10_000)
    # Two standard errors: 0.558 with 300 synthetic rows and 10,000 reference rows,
    # 0.60 with 2,000 synthetic rows but only 80 reference rows.
    assert not privacy_notes({"closer_to_train_share": 0.55}, 300, 10_000)
    assert privacy_notes({"closer_to_train_share": 0.58}, 300, 10_000)
    assert not privacy_notes({"closer_to_train_share": 0.58}, 2_000, 80)
    assert privacy_notes({"closer_to_train_share": 0.62}, 2_000, 80)


def test_privacy_skipped_without_holdout(independent):
    assert "exact_copy_share" not in independent.scores
    assert "membership_attack_auc" not in independent.scores
    assert any("Privacy metrics skipped" in n for n in independent.notes)
    assert independent.to_dict()["privacy_evaluated"] is False


# --------------------------------------------------------------------------- outputs


def test_to_dict_is_json_serialisable(identical):
    d = identical.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["scores"]["column_shapes"] == pytest.approx(identical.scores["column_shapes"])
    expected = {
        "quality_score",
        "column_shapes",
        "column_pair_trends",
        "logistic_detection",
        "detection_auc",
        "tstr_roc_auc",
        "tstr_f1",
        "trtr_roc_auc",
        "trtr_f1",
        "dcr_synthetic_median",
        "dcr_holdout_median",
        "dcr_median_ratio",
        "dcr_synthetic_p05",
        "dcr_holdout_p05",
        "dcr_p05_ratio",
        "closer_to_train_share",
        "exact_copy_share",
        "holdout_exact_copy_share",
        "membership_attack_auc",
        "membership_attack_auc_low",
        "membership_attack_auc_high",
    }
    assert set(d["scores"]) == expected
    assert all(isinstance(v, float) for v in d["scores"].values())
    assert d["groups"]["detection_auc"] == "detection"
    assert d["groups"]["membership_attack_auc"] == "privacy"
    assert d["history"]["loss"] == FakeModel.history_["loss"]


def test_to_frame_is_tidy(identical):
    frame = identical.to_frame()
    assert list(frame.columns) == ["metric", "value", "group"]
    assert set(frame["group"]) == {"fidelity", "detection", "utility", "privacy"}
    assert len(frame) == len(identical.scores)


def test_summary_mentions_each_part(identical):
    text = identical.summary()
    for word in ("Fidelity", "Detection", "Utility", "Privacy", "membership attack AUC"):
        assert word in text


def test_plots_are_figures(identical):
    fig = identical.plot_distributions(columns=["x1", "c1", "count"])
    assert isinstance(fig, Figure)
    assert sum(ax.get_visible() for ax in fig.axes) == 3
    heat = identical.plot_correlation_difference()
    assert isinstance(heat, Figure)
    diff = identical.correlation_difference()
    assert np.allclose(diff.to_numpy(), 0.0)  # identical data: no difference
    assert isinstance(identical.plot_training_curve(), Figure)
    with pytest.raises(ValueError, match="Unknown columns"):
        identical.plot_distributions(columns=["nope"])


def test_shuffled_correlation_difference_is_visible(real):
    report = evaluate(real, shuffle_columns(real, 15), max_rows=300)
    diff = report.correlation_difference()
    assert diff.loc["x1", "x2"] > 0.5  # Pearson 0.8 -> ~0


def test_to_html_is_self_contained(identical, tmp_path):
    path = tmp_path / "report.html"
    identical.to_html(path)
    text = path.read_text(encoding="utf-8")
    assert "<img" in text and "data:image/png;base64," in text
    assert "http://" not in text and "https://" not in text
    for heading in ("Column shapes", "Column pair trends", "Privacy", "utility", "Training curve"):
        assert heading in text
    assert "how to read it" in text
    assert "Membership-inference attack" in text and "0.5 = it cannot tell them apart" in text


def test_html_without_model_or_holdout(independent, tmp_path):
    text = Path(independent.to_html(tmp_path / "r.html")).read_text(encoding="utf-8")
    assert "Training curve" not in text
    assert "Not evaluated" in text
    assert "Membership-inference attack" not in text
    with pytest.raises(ValueError, match="history"):
        independent.plot_training_curve()


# --------------------------------------------------------------------------- metadata & real data


def test_metadata_schema_is_used(real):
    schema = infer_schema(real, categorical_columns=["count"])
    report = evaluate(real, shuffle_columns(real, 16), metadata=schema, max_rows=200)
    assert report.column_shapes.set_index("column").loc["count", "metric"] == "TVComplement"
    small = real.iloc[:150]
    sd = evaluate(small, small, metadata=schema.sdmetrics_metadata(), max_rows=200)
    assert sd.scores["column_shapes"] == pytest.approx(1.0)


def test_adult_slice():
    df = pd.read_csv(ADULT, nrows=2400)
    train, hold, synth = df.iloc[:1200], df.iloc[1200:1800], df.iloc[1800:]
    report = evaluate(train, synth, target="income", holdout=hold)
    s = report.scores
    assert s["column_shapes"] > 0.9
    assert s["detection_auc"] < 0.7
    assert s["tstr_roc_auc"] > 0.8
    assert 0.3 < s["closer_to_train_share"] < 0.7
    json.dumps(report.to_dict(), allow_nan=False)


def test_none_and_nan_are_the_same_missing_value():
    # Parquet gives back None where CSV gives NaN; sdmetrics' one-hot encoders must not see two labels.
    df = pd.read_csv(ADULT, nrows=1600)
    train, synth = df.iloc[:800], df.iloc[800:]
    assert synth["workclass"].isna().any()
    as_none = synth.astype({"workclass": object}).copy()
    as_none["workclass"] = as_none["workclass"].where(as_none["workclass"].notna(), None)
    as_string = synth.astype({"workclass": "string"})  # pd.NA
    a, b, c = evaluate(train, synth), evaluate(train, as_none), evaluate(train, as_string)
    for other in (b, c):
        assert np.isfinite(other.scores["logistic_detection"])
        assert not any("could not be computed" in note for note in other.notes)
        assert a.scores["logistic_detection"] == other.scores["logistic_detection"]


def test_binning_note_when_an_outlier_moves_sdmetrics_bins():
    # One extreme real value stretches the real bins of x1; a synthetic table without it is
    # cut on its own narrower range, so sdmetrics compares mismatched bins.
    from tabvae.evaluation.fidelity import shared_bin_similarity

    real = make_frame(600, 3)
    real.loc[0, "x1"] = 40.0
    synthetic = real.iloc[1:].reset_index(drop=True)
    report = evaluate(real, synthetic)
    notes = [n for n in report.notes if "Column Pair Trends" in n]
    assert len(notes) == 1 and "x1 x c1" in notes[0]
    assert shared_bin_similarity(real["x1"], synthetic["x1"], real["c1"], synthetic["c1"]) > 0.99
    # bins="own" is sdmetrics' own-range binning: it reproduces the report's pair score.
    pair = report.pair_trends.set_index(["column_1", "column_2"]).loc[("x1", "c1"), "score"]
    own = shared_bin_similarity(real["x1"], synthetic["x1"], real["c1"], synthetic["c1"], bins="own")
    assert own == pytest.approx(pair) and own < 0.9
    assert shared_bin_similarity(real["x1"], real["x1"], real["c1"], real["c1"]) == 1.0
    assert not any("Column Pair Trends" in n for n in evaluate(real, real.copy()).notes)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "mutate, kwargs, match",
    [
        (lambda r, s, h: (r, s.drop(columns=["c2"]), h), {}, r"missing columns \['c2'\]"),
        (lambda r, s, h: (r, s.assign(extra=1), h), {}, r"extra columns \['extra'\]"),
        (lambda r, s, h: (r, s.iloc[:0], h), {}, "synthetic has 0 rows"),
        (lambda r, s, h: (r.iloc[:0], s, h), {}, "real has 0 rows"),
        (lambda r, s, h: (r, s.drop(columns=["y"]), h), {"target": "y"}, "target 'y' is not a column of synthetic"),
        (lambda r, s, h: (r, s, h), {"target": "nope"}, "target 'nope' is not a column of real"),
        (lambda r, s, h: (r, s, h.rename(columns={"x1": "z"})), {}, r"real and holdout columns differ"),
        (lambda r, s, h: (r, s, h), {"target": "y", "task": "clustering"}, "Unknown task 'clustering'"),
        (lambda r, s, h: (r, s, h), {"task": "regression"}, "without a target"),
        (lambda r, s, h: (r, s, h), {"max_rows": 0}, "max_rows"),
        (lambda r, s, h: (r, s, h), {"model": object()}, "history_"),
    ],
)
def test_bad_inputs_raise(real, holdout, mutate, kwargs, match):
    r, s, h = mutate(real, real.copy(), holdout)
    with pytest.raises(ValueError, match=match):
        evaluate(r, s, holdout=h, **kwargs)


# --------------------------------------------------------------------------- task inference and the CLI


def binary_float_target(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(y=(frame["y"] == "yes").astype(float))


def test_two_valued_numeric_target_is_classification(real, holdout):
    real_f, hold_f = binary_float_target(real), binary_float_target(holdout)
    assert infer_schema(real_f)["y"].kind == "numeric"
    report = evaluate(real_f, binary_float_target(make_frame(400, 17)), target="y", holdout=hold_f, max_rows=300)
    assert report.task == "classification"
    assert {"tstr_roc_auc", "tstr_f1", "trtr_roc_auc", "trtr_f1"} <= set(report.scores)
    assert report.scores["trtr_roc_auc"] > 0.8
    (note,) = [n for n in report.notes if n.startswith("Utility task inferred")]
    assert "classification" in note and "exactly two distinct values in real (0.0 and 1.0)" in note
    assert "task='regression'" in note
    forced = evaluate(real_f, real_f, target="y", task="regression", max_rows=300)
    assert forced.task == "regression" and "trtr_r2" in forced.scores
    assert not any(n.startswith("Utility task inferred") for n in forced.notes)


def test_many_valued_numeric_target_note_says_regression(real):
    report = evaluate(real, make_frame(300, 18), target="x2", max_rows=300)
    assert report.task == "regression"
    assert any(n.startswith("Utility task inferred as regression") and "'x2'" in n for n in report.notes)


def test_cli_evaluate_task_option(real, tmp_path):
    from tabvae.cli import main

    real_f = binary_float_target(real)
    real_f.to_csv(tmp_path / "real.csv", index=False)
    binary_float_target(make_frame(300, 19)).to_csv(tmp_path / "synthetic.csv", index=False)
    args = ["evaluate", str(tmp_path / "real.csv"), str(tmp_path / "synthetic.csv"), "--target", "y"]
    for task, expected in (("auto", "classification"), ("regression", "regression")):
        out = tmp_path / f"{task}.json"
        assert main([*args, "--task", task, "--json", str(out)]) in (0, None)
        assert json.loads(out.read_text())["task"] == expected
    assert main([*args[:3], "--task", "regression"]) == 2  # a task without a target


def test_unseen_category_note_uses_the_full_real_table():
    # 'rare' is in one real row that the 50-row subsample of real leaves out; 'never' is in no real row.
    real = make_frame(400, 20)
    real.loc[7, "c2"] = "rare"
    synthetic = make_frame(50, 21)
    synthetic.loc[:9, "c2"] = "rare"
    synthetic.loc[10:12, "c2"] = "never"
    report = evaluate(real, synthetic, max_rows=50)
    assert "rare" not in set(report.real_evaluated["c2"])
    notes = [n for n in report.notes if n.startswith("LogisticDetection left out")]
    assert notes == [
        "LogisticDetection left out 3 synthetic row(s) (6.0%) holding categories absent from the real data.",
        "LogisticDetection left out 10 synthetic row(s) (20.0%) holding categories that are in the real data "
        "but not among the 50 real rows sampled for the evaluation (max_rows).",
    ]
    assert np.isfinite(report.scores["logistic_detection"])


def test_histograms_label_their_y_axis(identical):
    fig = identical.plot_distributions(columns=["x1", "count", "c1"])
    assert [ax.get_ylabel() for ax in fig.axes[:3]] == ["density", "density", "share of rows"]


def test_cli_evaluate_help_describes_the_positional_arguments(capsys):
    from tabvae.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "real real table the synthetic one imitates (CSV, TSV or Parquet" in text
    assert "synthetic synthetic table with the same columns" in text
    assert "--task {auto,classification,regression} utility task for --target" in text
