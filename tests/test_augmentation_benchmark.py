"""The augmentation benchmark's report: the last row of a cell wins, and the targets are computed."""

from benchmarks.augmentation import full_report, latest, replay_none_rule, report


def _row(table, size, seed, model, arm, lift, n_new=None):
    chosen = {"n_new": n_new} if arm == "auto" else None
    return dict(table=table, size=size, seed=seed, model=model, arm=arm, lift=lift, chosen=chosen)


def _rows():
    rows = []
    for seed, (auto, smote) in enumerate([(0.010, 0.002), (0.012, 0.000), (0.008, 0.004)]):
        rows += [
            _row("adult", 100, seed, "hgb", "none", 0.0),
            _row("adult", 100, seed, "hgb", "smote_nc", smote),
            _row("adult", 100, seed, "hgb", "auto", auto, n_new=0 if seed == 2 else 50),
        ]
    return rows


def test_the_last_row_of_a_cell_wins():
    rows = _rows() + [_row("adult", 100, 0, "hgb", "auto", -0.5, n_new=50)]
    df = latest(rows)
    assert len(df) == 9
    assert df.loc[(df["arm"] == "auto") & (df["seed"] == 0), "lift"].item() == -0.5


def test_report_states_the_targets_from_the_cells():
    text = report(_rows())
    # auto: mean +0.010 over three seeds, half-width 4.30 * 0.002 / sqrt(3) = 0.005, lower end +0.005
    assert "auto's 95 % lower end ≥ -0.003: 1 of 1 cells" in text
    assert "auto +0.0100, SMOTE-NC +0.0020" in text
    assert "auto ≥ +0.005 on 1 of 1 tables (adult +0.0100)" in text
    assert "| 100 | 1 | 3 | +0.0020 | +0.0100 | 1/1 |" in text
    cells = full_report(_rows())
    assert "| adult | 100 | hgb | 3 | +0.0020 ± 0.0050 | +0.0100 ± 0.0050 | 1/3 |" in cells


def test_replay_drops_rows_the_folds_did_not_show_helping():
    gain = {"n_new": 50, "share": "balance", "cv_arms": {"none@0.0": [0, 0], "refined@balance": [0.1, 0.0]}}
    rows = [
        _row("adult", 100, seed, "hgb", "auto", 0.01)
        | {"chosen": gain | {"cv_fold_scores": [[0.5, 0.5, 0.5], [0.6, 0.6, 0.6] if seed else [0.6, 0.4, 0.5]]}}
        for seed in range(3)
    ]
    table = replay_none_rule(rows, thresholds=(0.0,))
    assert "| as recorded | classification | +0.0100 | 1/1 (1/1) |" in table
    # seed 0's folds show no gain (mean difference 0), so its lift becomes 0: mean (0 + 0.01 + 0.01) / 3
    assert "| none unless gain > 0.0 SE | classification | +0.0067 |" in table
    # the fold-agreement rules: seed 0 has one gaining fold of three; no run has four folds
    assert "| none unless gain > 0.5 SE and ≥ 3 folds gain | classification | +0.0067 |" in table
    assert "| none unless gain > 0.5 SE and ≥ 4 folds gain | classification | +0.0000 |" in table


def test_replay_pools_the_seeds_of_another_file(tmp_path, capsys):
    import json

    from benchmarks.augmentation import main

    gain = {"n_new": 50, "share": "balance", "cv_arms": {"none@0.0": [0, 0], "refined@balance": [0.1, 0.0]}}
    rows = [
        _row("adult", 100, seed, "hgb", "auto", lift) | {"chosen": gain | {"cv_fold_scores": [[0.5] * 3, [0.6] * 3]}}
        for seed, lift in enumerate([0.01, 0.01, -0.02])
    ]
    first, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("".join(json.dumps(r) + "\n" for r in rows[:2]))
    other.write_text(json.dumps(rows[2]) + "\n")
    main(["--replay", "--out", str(first), "--pool", str(other)])
    out = capsys.readouterr().out
    assert out.strip() == replay_none_rule(rows)
    assert "| as recorded | classification | +0.0000 |" in out  # (0.01 + 0.01 - 0.02) / 3: seed 2 counted


def test_apply_rule_appends_auto_runs_the_shipped_rule_rejects(tmp_path, capsys):
    import json

    from benchmarks.augmentation import main

    arms = {"none@0.0": [0, 0], "refined@balance": [0.1, 0.0]}
    folds = {0: [0.57, 0.495, 0.495], 1: [0.6, 0.6, 0.6]}  # seed 0: a mean gain > 0.5 SE, from one fold
    rows = []
    for seed in (0, 1):
        gain = {"n_new": 50, "share": "balance", "cv_arms": arms, "cv_fold_scores": [[0.5] * 3, folds[seed]]}
        rows += [
            _row("adult", 100, seed, "hgb", "none", 0.0) | {"score": 0.8, "commit": "abc"},
            _row("adult", 100, seed, "hgb", "auto", 0.02) | {"score": 0.82, "chosen": gain, "commit": "abc"},
        ]
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    main(["--apply-rule", "--out", str(path)])
    assert "1 auto runs replayed" in capsys.readouterr().out
    df = latest([json.loads(line) for line in path.read_text().splitlines()])
    auto = df[df["arm"] == "auto"].set_index("seed")
    assert auto.loc[0, "lift"] == 0.0 and auto.loc[0, "score"] == 0.8 and auto.loc[0, "chosen"]["n_new"] == 0
    assert auto.loc[0, "replayed_from"] == "abc"
    assert auto.loc[1, "lift"] == 0.02 and auto.loc[1, "chosen"]["n_new"] == 50  # every fold gains: kept


def test_pooled_probe_adds_rows_only_when_the_pooled_score_gains():
    import numpy as np

    from benchmarks.augmentation_pooled import summarize

    rng = np.random.RandomState(0)
    y = np.tile([0, 1], 30)
    noisy = y + rng.normal(0, 1.0, size=60)  # pooled ROC-AUC about 0.75
    params = [{"strategy": "none", "n_new": 0.0}, {"strategy": "refined", "n_new": "balance"}]
    found = {"params": params, "scores": np.zeros((2, 5)), "y": y, "classification": True}
    _, best = summarize(found | {"oof": np.vstack([noisy, y + rng.normal(0, 0.1, size=60)])}, 1)
    assert best == 1  # the rows' arm ranks every row right
    _, best = summarize(found | {"oof": np.vstack([noisy, noisy])}, 1)
    assert best == 0  # no gain: no rows
