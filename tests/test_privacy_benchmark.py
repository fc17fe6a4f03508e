"""The privacy benchmark's bookkeeping: the public-range fallback, merging rows and the markdown page."""

from __future__ import annotations

import json

import pandas as pd

from benchmarks.privacy import asks_for_public, merge, public_config, report


def test_public_config_takes_the_dictionary_ranges_by_column_kind():
    train = pd.DataFrame({"SEX": pd.Categorical([1, 2] * 10), "LIMIT_BAL": [1000.5 * i for i in range(20)]})
    assert public_config("default_credit", train) == {"public_levels": {"SEX": [1, 2]}}
    assert public_config("magic_gamma", train) == {}


def test_only_the_encoders_request_for_public_ranges_triggers_the_fallback():
    assert asks_for_public(ValueError("Give the column public bounds or a larger epsilon."))
    assert asks_for_public(ValueError("Give it public_levels or a larger epsilon."))
    assert not asks_for_public(ValueError("dp_epsilon must be > 0"))
    assert not asks_for_public(RuntimeError("Give the column public bounds"))


def test_merge_replaces_a_cell_and_report_lists_every_row(tmp_path):
    path = tmp_path / "privacy.json"
    scores = {"column_shapes": 0.9, "tstr_roc_auc": 0.8, "membership_attack_auc": 0.5}
    ok = {"dataset": "adult", "epsilon": 3.0, "public_bounds": False, "status": "ok", "scores": scores}
    ok.update(dp_epsilon_=2.99, fit_seconds=12.0)
    failed = {"dataset": "adult", "epsilon": 1.0, "public_bounds": False, "status": "error", "error": "ValueError: x"}
    merge(path, [ok, failed], "cmd a")
    merge(path, [{**ok, "fit_seconds": 11.0}], "cmd b")
    rows = json.loads(path.read_text())["rows"]
    assert [(r["epsilon"], r.get("fit_seconds")) for r in rows] == [(1.0, None), (3.0, 11.0)]
    page = report(path)
    assert "| adult | 1.0 | – | none | failed (1) |" in page
    assert "1. adult at ε = 1.0, none: ValueError: x" in page
    assert "| adult | 3.0 | 2.99 | none | 0.900 |" in page
    assert "`cmd a`; `cmd b`" in page
