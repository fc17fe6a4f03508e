import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_mixed

from tabvae import TabularVAE, load


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    df = make_mixed(300)
    model = TabularVAE(
        epochs=3, latent_dim=8, config={"hidden_dims": (32,)}, conditional_columns=["object"], random_state=0
    ).fit(df)
    path = tmp_path_factory.mktemp("m") / "model.tabvae"
    model.save(path)
    return df, model, path


def test_loaded_model_samples_identically(saved):
    df, model, path = saved
    twin = load(path)
    pd.testing.assert_frame_equal(model.sample(500, random_state=4), twin.sample(500, random_state=4))
    pd.testing.assert_frame_equal(
        model.sample(200, conditions={"object": "red"}, random_state=4),
        twin.sample(200, conditions={"object": "red"}, random_state=4),
    )
    np.testing.assert_array_equal(model.transform(df), twin.transform(df))
    assert twin.history_ == model.history_ and twin.get_params() == model.get_params()
    resolved = ("numeric_frequencies_", "kl_weight_", "kl_warmup_")  # what "auto" became
    assert [getattr(twin, a) for a in resolved] == [getattr(model, a) for a in resolved]


def test_state_round_trips_without_a_file(saved):
    import json

    df, model, _ = saved
    state, tensors = model.get_state()
    state = json.loads(json.dumps(state))  # JSON-safe
    twin = TabularVAE.from_state(state, tensors, device="cpu")
    pd.testing.assert_frame_equal(model.sample(200, random_state=7), twin.sample(200, random_state=7))
    np.testing.assert_array_equal(model.score_samples(df.head(50)), twin.score_samples(df.head(50)))
    assert twin.get_params() == model.get_params() and twin.config == {"hidden_dims": (32,)}
    assert twin.condition_table_.to_dict() == model.condition_table_.to_dict()


def test_training_config_survives_saving(tmp_path):
    from tabvae import TrainingConfig

    model = TabularVAE(epochs=1, random_state=0, config=TrainingConfig(hidden_dims=(16,), prior="standard"))
    model.fit(make_mixed(100)).save(tmp_path / "c.tabvae")
    twin = load(tmp_path / "c.tabvae")
    assert twin.config == model.config and isinstance(twin.config, TrainingConfig)


def test_newer_format_is_refused(saved, tmp_path):
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    _, _, path = saved
    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()["tabvae"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    meta["format_version"] += 1
    save_file(tensors, str(tmp_path / "new.tabvae"), metadata={"tabvae": json.dumps(meta)})
    with pytest.raises(ValueError, match="Upgrade tabvae"):
        load(tmp_path / "new.tabvae")


def test_loaded_model_continues_the_sampling_stream(tmp_path):
    df = make_mixed(200)
    a = TabularVAE(epochs=2, random_state=0).fit(df)
    a.sample(10)  # advance the stream, then save
    a.save(tmp_path / "m.tabvae")
    b = load(tmp_path / "m.tabvae")
    pd.testing.assert_frame_equal(a.sample(50), b.sample(50))


def test_file_holds_no_pickle(saved):
    _, _, path = saved
    head = Path(path).read_bytes()[:8]
    assert int.from_bytes(head, "little") > 0  # safetensors: 8-byte header length, then JSON
    assert b"\x80\x04\x95" not in Path(path).read_bytes()  # no pickle protocol-4 stream anywhere


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "not a readable tabvae model file"),
        (b"hello world, not a model", "not a readable tabvae model file"),
    ],
)
def test_bad_files(tmp_path, content, match):
    p = tmp_path / "bad.tabvae"
    p.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        load(p)


def test_truncated_and_missing_files(saved, tmp_path):
    _, _, path = saved
    p = tmp_path / "cut.tabvae"
    p.write_bytes(Path(path).read_bytes()[:5000])
    with pytest.raises(ValueError, match="not a readable tabvae model file"):
        load(p)
    with pytest.raises(FileNotFoundError, match="No model file"):
        load(tmp_path / "nothing.tabvae")


def test_foreign_safetensors_file(tmp_path):
    import torch
    from safetensors.torch import save_file

    p = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(p))
    with pytest.raises(ValueError, match="not a readable tabvae model file|not a tabvae model"):
        load(p)


def test_save_to_a_bad_path_names_it(saved, tmp_path, monkeypatch):
    _, model, _ = saved
    with pytest.raises(FileNotFoundError, match=r"nodir.*does not exist"):
        model.save(tmp_path / "nodir" / "m.tabvae")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        model.save(tmp_path)
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # a read-only directory (the tests may run as root)
    with pytest.raises(PermissionError, match="is not writable"):
        model.save(tmp_path / "m.tabvae")
    monkeypatch.undo()
    model.save(tmp_path / "m.tabvae")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tabvae"]  # no temporary file left behind


def test_unreadable_file_is_reported_as_such(saved, monkeypatch):
    import builtins

    _, _, path = saved
    real_open = builtins.open

    def no_permission(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_permission)
    with pytest.raises(PermissionError, match="permission denied"):
        load(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_directory_is_not_a_missing_file(saved, tmp_path):
    _, _, path = saved
    d = tmp_path / "locked"
    d.mkdir()
    (d / "m.tabvae").write_bytes(Path(path).read_bytes())
    d.chmod(0)
    try:
        with pytest.raises(PermissionError, match="permission denied"):
            load(d / "m.tabvae")
    finally:
        d.chmod(0o700)


# ---------------------------------------------------------------- command line (run as a subprocess)


def tabvae(*args, cwd=None, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "tabvae.cli", *args], capture_output=True, text=True, cwd=cwd, input=stdin, timeout=600
    )


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory, adult_slice):
    d = tmp_path_factory.mktemp("cli")
    adult_slice.head(600).to_csv(d / "adult.csv", index=False)
    r = tabvae("fit", str(d / "adult.csv"), "-o", str(d / "m.tabvae"), "--epochs", "3", "-q")
    assert r.returncode == 0, r.stderr
    assert "fitted 600 rows x 15 columns" in r.stdout
    return d


def test_cli_sample_csv_and_parquet(cli_files):
    d = cli_files
    r = tabvae(
        "sample", str(d / "m.tabvae"), "-n", "2500", "-o", str(d / "s.csv"), "--seed", "1", "--chunk-size", "1000"
    )
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(d / "s.csv")) == 2500
    r = tabvae(
        "sample",
        str(d / "m.tabvae"),
        "-n",
        "300",
        "-o",
        str(d / "s.parquet"),
        "--condition",
        "sex=Female",
        "--condition",
        "age=30:40",
    )
    assert r.returncode == 0, r.stderr
    out = pd.read_parquet(d / "s.parquet")
    assert len(out) == 300 and (out.sex == "Female").all() and out.age.between(30, 40).all()


def test_cli_stdin_and_score(cli_files, adult_slice):
    d = cli_files
    r = tabvae(
        "fit", "-", "-o", str(d / "m2.tabvae"), "--epochs", "2", "-q", stdin=adult_slice.head(200).to_csv(index=False)
    )
    assert r.returncode == 0, r.stderr
    r = tabvae("score", str(d / "m.tabvae"), str(d / "adult.csv"), "-o", str(d / "scores.csv"))
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(d / "scores.csv")) == 600


def test_cli_evaluate_writes_report(cli_files):
    d = cli_files
    tabvae("sample", str(d / "m.tabvae"), "-n", "600", "-o", str(d / "syn.csv"), "--seed", "0")
    r = tabvae(
        "evaluate",
        str(d / "adult.csv"),
        str(d / "syn.csv"),
        "--target",
        "income",
        "--model",
        str(d / "m.tabvae"),
        "--report",
        str(d / "r.html"),
        "--json",
        str(d / "r.json"),
    )
    assert r.returncode == 0, r.stderr
    assert os.path.getsize(d / "r.html") > 10_000 and "<img" in (d / "r.html").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "nope.csv", "-o", "m.tabvae"], "tabvae: error: no such file: nope.csv"),
        (["sample", "nope.tabvae", "-n", "5", "-o", "x.csv"], "tabvae: error: No model file at 'nope.tabvae'"),
        (
            ["sample", "MODEL", "-n", "5", "-o", "x.csv", "--condition", "colour=red"],
            "tabvae: error: unknown column in --condition: 'colour'",
        ),
        (["sample", "MODEL", "-n", "5", "-o", "x.txt"], "tabvae: error: output must end in .csv"),
        (
            ["fit", "DATA", "-o", "m.tabvae", "--categorical", "nope"],
            "categorical_columns names columns that are not in the data",
        ),
        (["fit", "BINARY", "-o", "m.tabvae"], "tabvae: error: cannot read"),
    ],
)
def test_cli_user_errors_are_one_line(cli_files, args, message):
    d = cli_files
    (d / "binary.csv").write_bytes(bytes(range(256)) * 4)
    subs = {"MODEL": str(d / "m.tabvae"), "DATA": str(d / "adult.csv"), "BINARY": str(d / "binary.csv")}
    r = tabvae(*[subs.get(a, a) for a in args], cwd=d)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_fit_with_autoregressive_decoder(cli_files):
    d = cli_files
    r = tabvae(
        "fit",
        str(d / "adult.csv"),
        "-o",
        str(d / "ar.tabvae"),
        "--epochs",
        "2",
        "-q",
        "--decoder",
        "autoregressive",
        "--kl-weight",
        "0.5",
        "--numeric-frequencies",
        "6",
        "--kl-warmup",
        "0.25",
    )
    assert r.returncode == 0, r.stderr
    model = load(d / "ar.tabvae")
    params = model.get_params()
    assert params["config__decoder"] == "autoregressive" and params["kl_weight"] == 0.5
    assert params["config__numeric_frequencies"] == 6 and model.model_.ar.periodic is not None
    assert params["config__kl_warmup"] == 0.25


def test_cli_bad_number_and_help():
    r = tabvae("sample", "m.tabvae", "-n", "ten", "-o", "x.csv")
    assert r.returncode == 2 and "expected a positive integer, got 'ten'" in r.stderr
    r = tabvae("fit", "d.csv", "-o", "m.tabvae", "--kl-weight", "-1")
    assert r.returncode == 2 and "expected a positive number, got '-1'" in r.stderr
    r = tabvae("fit", "d.csv", "-o", "m.tabvae", "--decoder", "flow")
    assert r.returncode == 2 and "invalid choice: 'flow'" in r.stderr
    r = tabvae("fit", "d.csv", "-o", "m.tabvae", "--numeric-frequencies", "40")
    assert r.returncode == 2 and "invalid choice: 40" in r.stderr
    r = tabvae("fit", "d.csv", "-o", "m.tabvae", "--kl-warmup", "1")
    assert r.returncode == 2 and "expected a number in [0, 1), got '1'" in r.stderr
    for cmd in ["fit", "sample", "evaluate", "score", "demo"]:
        r = tabvae(cmd, "--help")
        assert r.returncode == 0 and "usage: tabvae " + cmd in r.stdout


def test_cli_demo_runs_end_to_end(tmp_path):
    # README's first command; one epoch so it takes seconds (its scores are then meaningless).
    r = tabvae("demo", "--epochs", "1", "-q", "--decoder", "autoregressive", "-o", str(tmp_path / "s.csv"))
    assert r.returncode == 0, r.stderr
    assert "UCI Adult: 26,049 training rows" in r.stdout and "fit in" in r.stdout
    assert len(pd.read_csv(tmp_path / "s.csv")) == 26_049
