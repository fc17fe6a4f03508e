import os
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
    resolved = ("numeric_frequencies_", "kl_weight_", "kl_warmup_", "early_stopping_", "decoder_")  # what "auto" became
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

    config = TrainingConfig(
        hidden_dims=(16,), prior="standard", decoder="autoregressive", robust_ramp=(2.0, 4.0), stop_when_settled=True
    )
    model = TabularVAE(epochs=1, random_state=0, config=config)
    model.fit(make_mixed(100)).save(tmp_path / "c.tabvae")
    twin = load(tmp_path / "c.tabvae")
    assert twin.config == model.config and isinstance(twin.config, TrainingConfig)
    assert twin.decoder_ == model.decoder_ == "autoregressive"  # asked for, on a table where "auto" would not


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
