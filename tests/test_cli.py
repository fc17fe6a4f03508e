"""The ``tabvae`` command line: as a subprocess for start-up and end-to-end runs, in process for the rest."""

import os
import subprocess
import sys
import tempfile

import pandas as pd
import pytest
from conftest import make_mixed

from tabvae import TabularVAE, load
from tabvae.cli import main

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
        (["fit", "nope.csv", "-o", "new.tabvae"], "tabvae: error: no such file: nope.csv"),
        (["sample", "nope.tabvae", "-n", "5", "-o", "x.csv"], "tabvae: error: No model file at 'nope.tabvae'"),
        (
            ["sample", "MODEL", "-n", "5", "-o", "x.csv", "--condition", "colour=red"],
            "tabvae: error: unknown column in --condition: 'colour'",
        ),
        (["sample", "MODEL", "-n", "5", "-o", "x.txt"], "tabvae: error: output must end in .csv"),
        (
            ["fit", "DATA", "-o", "new.tabvae", "--categorical", "nope"],
            "categorical_columns names columns that are not in the data",
        ),
        (["fit", "BINARY", "-o", "new.tabvae"], "tabvae: error: cannot read"),
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
    r = tabvae("demo", "--epochs", "1", "-q", "--decoder", "autoregressive", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "UCI Adult: 26,049 training rows" in r.stdout and "fit in" in r.stdout
    out = os.path.join(tempfile.gettempdir(), "tabvae-demo", "adult_synthetic.csv")
    assert f"synthetic rows to {out}" in r.stdout and len(pd.read_csv(out)) == 26_049
    assert list(tmp_path.iterdir()) == []  # nothing in the current directory


# ---------------------------------------------------------------- start-up: no torch for help, version, bad input

NO_TORCH = """
import sys
from tabvae.cli import main
codes = []
for argv in {argvs!r}:
    try:
        codes.append(main(argv))
    except SystemExit as e:
        codes.append(e.code)
print("exit codes:", codes)
print("torch imported:", "torch" in sys.modules)
"""


def test_help_version_and_bad_input_do_not_import_torch(tmp_path):
    argvs = [
        ["--help"],
        ["--version"],
        ["fit", "--help"],
        ["fit", "nosuch.csv", "-o", str(tmp_path / "m.tabvae")],
        ["fit", "d.csv", "-o", str(tmp_path / "nodir" / "m.tabvae")],
        ["sample", "m.tabvae", "-n", "ten", "-o", "x.csv"],
    ]
    r = subprocess.run([sys.executable, "-c", NO_TORCH.format(argvs=argvs)], capture_output=True, text=True)
    assert "torch imported: False" in r.stdout, r.stdout + r.stderr
    assert "tabvae 0." in r.stdout and "no such file: nosuch.csv" in r.stderr
    assert "exit codes: [0, 0, 0, 2, 2, 2]" in r.stdout


def test_help_texts():
    r = tabvae("sample", "--help")
    assert "to sample on" in r.stdout and "default: none, the model's own stream" in r.stdout
    r = tabvae("score", "--help")
    assert "model file written by 'tabvae fit'" in r.stdout and "rows to score" in r.stdout
    assert "to score on" in r.stdout


# ---------------------------------------------------------------- in process: conditions, outputs


@pytest.fixture(scope="module")
def typed_model(tmp_path_factory):
    df = make_mixed(300)[["float", "int", "object", "bool", "date", "constant"]]
    d = tmp_path_factory.mktemp("typed")
    TabularVAE(epochs=2, random_state=0).fit(df).save(d / "m.tabvae")
    df.to_csv(d / "data.csv", index=False)
    return d


def run(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr()


@pytest.mark.parametrize(
    "condition, message",
    [
        ("bool=maybe", "'bool' is a boolean column; give true or false"),
        ("float=abc", "'float' is a numeric column; give a number or a range LOW:HIGH"),
        ("date=2021-01-05", "'date' is a datetime column; give a range LOW..HIGH"),
        ("date=2021-01-01..someday", "'someday' is not a date or time"),
        ("constant=8", "'constant' holds only 7 in training"),
        ("object=purple", "value never seen in training"),
    ],
)
def test_bad_condition_values_name_the_column(typed_model, tmp_path, capsys, condition, message):
    code, out = run(
        capsys, "sample", typed_model / "m.tabvae", "-n", 5, "-o", tmp_path / "x.csv", "--condition", condition
    )
    assert code == 2 and message in out.err and len(out.err.strip().splitlines()) == 1, out.err
    assert not (tmp_path / "x.csv").exists()


def test_conditions_parsed_by_kind(typed_model, tmp_path, capsys):
    args = ["--condition", "bool=true", "--condition", "date=2021-03-01..2021-06-30", "--condition", "constant=7"]
    code, out = run(capsys, "sample", typed_model / "m.tabvae", "-n", 20, "-o", tmp_path / "x.csv", "--seed", 0, *args)
    assert code == 0, out.err
    rows = pd.read_csv(tmp_path / "x.csv", parse_dates=["date"])
    assert rows["bool"].all() and rows["date"].between("2021-03-01", "2021-06-30").all() and (rows.constant == 7).all()


def test_outputs_checked_before_the_work(typed_model, tmp_path, capsys):
    m, data = typed_model / "m.tabvae", typed_model / "data.csv"
    for args in [
        ["fit", data, "-o", tmp_path / "nodir" / "m.tabvae"],
        ["sample", m, "-n", 5, "-o", tmp_path / "nodir" / "x.csv"],
        ["score", m, data, "-o", tmp_path / "nodir" / "x.csv"],
    ]:
        code, out = run(capsys, *args)
        assert code == 2 and "does not exist" in out.err and "Traceback" not in out.err, out.err
    code, out = run(capsys, "sample", m, "-n", 5, "-o", tmp_path)
    assert code == 2 and "output must end in" in out.err


def test_existing_outputs_need_force(typed_model, tmp_path, capsys):
    m, data = typed_model / "m.tabvae", typed_model / "data.csv"
    for name, args in [
        ("m.tabvae", ["fit", data, "--epochs", 1, "-q", "-o"]),
        ("x.csv", ["sample", m, "-n", 5, "-o"]),
        ("s.csv", ["score", m, data, "-o"]),
    ]:
        target = tmp_path / name
        target.write_text("keep me")
        code, out = run(capsys, *args, target)
        assert code == 2 and "exists; pass --force" in out.err and target.read_text() == "keep me"
        code, out = run(capsys, *args, target, "--force")
        assert code == 0 and target.read_bytes() != b"keep me", out.err


def test_interrupted_sample_leaves_no_file(typed_model, tmp_path, capsys, monkeypatch):
    from tabvae import cli_io

    written = []

    def write_then_interrupt(self, chunk):
        written.append(len(chunk))
        chunk.to_csv(self.path, index=False)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_io.TableWriter, "write", write_then_interrupt)
    out_path = tmp_path / "x.csv"
    code, out = run(capsys, "sample", typed_model / "m.tabvae", "-n", 50, "--chunk-size", 10, "-o", out_path)
    assert code == 130 and written == [10] and list(tmp_path.iterdir()) == []


def test_threads_option(typed_model, tmp_path, capsys):
    code, out = run(capsys, "sample", typed_model / "m.tabvae", "-n", 5, "-o", tmp_path / "x.csv", "--threads", 2)
    assert code == 0, out.err
    with pytest.raises(SystemExit):
        main(["sample", str(typed_model / "m.tabvae"), "-n", "5", "-o", str(tmp_path / "y.csv"), "--threads", "0"])
    assert "expected a positive integer or \"auto\", got '0'" in capsys.readouterr().err
