"""The ``tabvae`` command line: fit, sample, evaluate, score, demo.

User mistakes (a missing file, an unreadable table, an unknown column, a bad
number, an output that exists or cannot be written) print one
``tabvae: error: ...`` line and exit with status 2; only bugs print a
traceback.  Arguments and output paths are checked before any work starts,
and torch is imported only by the commands that use it, so ``--help``,
``--version`` and such mistakes answer at once.  Outputs are written under a
temporary name and renamed when complete, so an interrupted command leaves
no partial file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from typing import Any

from .cli_io import TABLE_SUFFIXES, TableWriter, UserError, check_output, read_table
from .persistence import atomic_output
from .version import __version__

EXIT_USAGE = 2


def _columns(value: str | None) -> list[str] | None:
    return None if not value else [c.strip() for c in value.split(",") if c.strip()]


def _number(value: str, convert, ok, expected: str):
    """``convert(value)`` if it parses and ``ok`` accepts it, else argparse's one-line error."""
    try:
        x = convert(value)
    except ValueError:
        x = None
    if x is None or not ok(x):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
    return x


def _positive_int(value: str) -> int:
    return _number(value, int, lambda n: n >= 1, "a positive integer")


def _positive_float(value: str) -> float:
    return _number(value, float, lambda x: 0 < x < float("inf"), "a positive number")


def _fraction(value: str) -> float:
    return _number(value, float, lambda x: 0 <= x < 1, "a number in [0, 1)")


def _threads(value: str) -> int | str:
    return "auto" if value == "auto" else _number(value, int, lambda n: n >= 1, 'a positive integer or "auto"')


def _condition(value: str) -> tuple[str, str]:
    if "=" not in value:
        raise argparse.ArgumentTypeError(f"a condition is COLUMN=VALUE, got {value!r}")
    col, val = value.split("=", 1)
    return col.strip(), val


# --------------------------------------------------------------------------- commands


def _model_options(args) -> dict:
    """TabularVAE parameters given on the command line (the rest keep the model's defaults).

    ``--decoder``, ``--kl-warmup`` and ``--numeric-frequencies`` are fields of the ``config``.
    """
    given = {"epochs": args.epochs, "kl_weight": args.kl_weight, "n_threads": args.threads}
    config = {"decoder": args.decoder, "kl_warmup": args.kl_warmup, "numeric_frequencies": args.numeric_frequencies}
    options = {k: v for k, v in given.items() if v is not None}
    config = {k: v for k, v in config.items() if v is not None}
    return {**options, "config": config} if config else options


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=_positive_int, help="training epochs (default: the model's default)")
    p.add_argument(
        "--decoder",
        choices=["auto", "autoregressive", "factorized"],
        help="autoregressive (each column also depends on the columns before it), factorized "
        "(columns independent given the latent code; faster sampling of wide tables) or auto "
        "(default: autoregressive from 5,000 rows, factorized below)",
    )
    p.add_argument(
        "--kl-weight",
        type=_positive_float,
        help="weight of the KL term (default: 0.6 with periodic features, 1.0 with the factorized "
        "decoder under 5,000 rows, else 0.75)",
    )
    p.add_argument(
        "--kl-warmup",
        type=_fraction,
        metavar="SHARE",
        help="share of the epochs over which the KL weight rises from 0 (default: 0.25 with periodic features, else 0)",
    )
    p.add_argument(
        "--numeric-frequencies",
        type=int,
        choices=range(17),
        metavar="F",
        help="feed numbers to the autoregressive decoder as sines and cosines at F frequencies "
        "(default: 6 on tables of at least 5,000 rows whose columns are at least 80%% "
        "continuous numbers, else 0; 0 turns them off)",
    )


def _constraints(value: str | None, df) -> list | None:
    """``--constraints``: None, ``discovered`` (printed, then used) or a JSON/YAML file with a list of rules."""
    from .constraints import constraint_from_dict, discover_constraints

    if value is None:
        return None
    if value == "discovered":
        rules = discover_constraints(df)
        print(f"discovered {len(rules)} constraint(s):" + "".join(f"\n  {r}" for r in rules))
        return rules
    try:
        with open(value) as f:
            text = f.read()
    except OSError as e:
        raise UserError(f"--constraints: cannot read {value}: {e.strerror}") from e
    rules = _parse_rules(text, yaml=value.endswith((".yaml", ".yml")), where=f"--constraints: {value}")
    if not isinstance(rules, list):
        raise UserError(f'{value} must hold a list of rules, e.g. [{{"type": "Inequality", "low": ..., "high": ...}}]')
    return [constraint_from_dict(d) for d in rules]


def _parse_rules(text: str, yaml: bool, where: str) -> Any:
    if yaml:
        try:
            pyyaml = importlib.import_module("yaml")
        except ImportError as e:
            raise UserError(f"{where}: reading YAML needs PyYAML (pip install pyyaml); or write it as JSON") from e
        try:
            return pyyaml.safe_load(text)
        except pyyaml.YAMLError as e:
            raise UserError(f"{where} is not valid YAML: {e}") from e
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f"{where} is not valid JSON: {e}") from e


def cmd_fit(args) -> None:
    check_output(args.output, args.force)
    df = read_table(args.data)
    from . import TabularVAE

    params = dict(
        constraints=_constraints(args.constraints, df),
        verbose=not args.quiet,
        random_state=args.seed,
        device=args.device,
        categorical_columns=_columns(args.categorical),
        numeric_columns=_columns(args.numeric),
    )
    params.update(_model_options(args))
    start = time.perf_counter()
    from .distributed import is_launched

    if is_launched():  # under torchrun: data-parallel, rank 0 saves and reports
        import torch.distributed as dist

        from .distributed import fit_distributed

        model = fit_distributed(TabularVAE(**params), df)
        if dist.get_rank() != 0:
            return
    else:
        model = TabularVAE(**params).fit(df)
    model.save(args.output)
    secs = time.perf_counter() - start
    print(
        f"fitted {len(df):,} rows x {df.shape[1]} columns in {secs:.1f}s on {model.device_} "
        f"(final loss {model.history_['loss'][-1]:.3f}); saved {args.output}"
    )


def cmd_sample(args) -> None:
    check_output(args.output, args.force, TABLE_SUFFIXES)
    model = _load(args.model, args.device).set_params(n_threads=args.threads)
    conditions = _typed_conditions(model, args.condition) if args.condition else None
    start, written = time.perf_counter(), 0
    chunks = model.iter_samples(args.n, chunk_size=args.chunk_size, random_state=args.seed, conditions=conditions)
    with atomic_output(args.output) as tmp:
        writer = TableWriter(tmp)
        try:
            for chunk in chunks:
                writer.write(chunk)
                written += len(chunk)
        finally:
            writer.close()
    print(f"wrote {written:,} rows to {args.output} in {time.perf_counter() - start:.1f}s")


def _typed_conditions(model, pairs) -> dict:
    """Turn COLUMN=VALUE strings into values of each column's kind."""
    out: dict[str, Any] = {}
    for col, raw in pairs:
        if col not in model.schema_.names:
            raise UserError(f"unknown column in --condition: {col!r}; columns are {model.schema_.names}")
        out[col] = _condition_value(col, model.schema_[col], model.encoder_[col], raw)
    return out


TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _condition_value(col: str, spec, enc, raw: str) -> Any:
    where = f"--condition {col}={raw}"
    if spec.kind in ("numeric", "integer"):
        lo, sep, hi = raw.partition(":")
        try:
            return (float(lo or "-inf"), float(hi or "inf")) if sep else float(raw)
        except ValueError:
            raise UserError(f"{where}: {col!r} is a {spec.kind} column; give a number or a range LOW:HIGH") from None
    if spec.kind == "boolean":
        if raw.strip().lower() in TRUE + FALSE:
            return raw.strip().lower() in TRUE
        raise UserError(f"{where}: {col!r} is a boolean column; give true or false (1/0, yes/no)")
    if spec.kind == "datetime":
        lo, sep, hi = raw.partition("..")
        if not sep:
            raise UserError(
                f"{where}: {col!r} is a datetime column; give a range LOW..HIGH, e.g. 2021-01-01..2021-01-31"
            )
        return (_timestamp(where, lo, spec.dtype), _timestamp(where, hi, spec.dtype))
    if spec.kind == "constant":
        if str(enc.value_) != raw:
            raise UserError(
                f"{where}: {col!r} holds only {enc.value_!r} in training, so no other value can be asked for"
            )
        return enc.value_
    match = [v for v in enc.seen_values() if str(v) == raw]
    return match[0] if match else raw


def _timestamp(where: str, text: str, dtype: str):
    """``text`` as a Timestamp in the time zone of a column of ``dtype`` (naive text is local time there)."""
    import pandas as pd

    from .schema import pandas_dtype

    try:
        t = pd.Timestamp(text.strip())
    except ValueError:
        raise UserError(f"{where}: {text!r} is not a date or time (e.g. 2021-01-05 or 2021-01-05T10:30)") from None
    tz = getattr(pandas_dtype(dtype), "tz", None)
    return t.tz_localize(tz) if tz is not None and t.tzinfo is None else t


def cmd_evaluate(args) -> None:
    try:
        from .evaluation import evaluate
    except ImportError as e:
        raise UserError(f"tabvae evaluate needs the eval extra: pip install 'tabvae[eval]' ({e})") from None
    task = None if args.task == "auto" else args.task
    if task is not None and not args.target:
        raise UserError(f"--task {task} needs --target COLUMN (the column to predict)")
    for out in (args.report, args.json):
        if out:
            check_output(out, args.force)
    real, synthetic = read_table(args.real), read_table(args.synthetic)
    holdout = read_table(args.holdout) if args.holdout else None
    model = _load(args.model, "cpu") if args.model else None
    report = evaluate(real, synthetic, target=args.target, task=task, holdout=holdout, model=model)
    print(report.summary())
    if args.report:
        report.to_html(args.report)
        print(f"report written to {args.report}")
    if args.json:
        import json

        with open(args.json, "w") as f:
            json.dump(report.to_dict(), f, indent=2)


def cmd_score(args) -> None:
    import pandas as pd

    check_output(args.output, args.force, (".csv", ".csv.gz"))
    df = read_table(args.data)
    model = _load(args.model, args.device).set_params(n_threads=args.threads)
    scores = pd.DataFrame({"score": model.score_samples(df)})
    if hasattr(model, "decision_function") and getattr(model, "offset_", None) is not None:
        scores["anomaly"] = model.predict(df) == -1
    with atomic_output(args.output) as tmp:
        scores.to_csv(tmp, index=False)
    print(f"scored {len(df):,} rows; wrote {args.output} (higher score = more typical)")


DEMO_OUTPUT = os.path.join(tempfile.gettempdir(), "tabvae-demo", "adult_synthetic.csv")


def cmd_demo(args) -> None:
    output = args.output or DEMO_OUTPUT
    if args.output is None:
        os.makedirs(os.path.dirname(DEMO_OUTPUT), exist_ok=True)
    check_output(output, args.force or args.output is None)  # the default path is the demo's own
    from . import TabularVAE
    from .datasets import load_adult

    df = load_adult()
    train = df.sample(frac=0.8, random_state=0)
    holdout = df.drop(train.index)
    print(f"UCI Adult: {len(train):,} training rows, {len(holdout):,} held out, {df.shape[1]} columns")
    params: dict[str, Any] = dict(random_state=0, verbose=not args.quiet)
    params.update(_model_options(args))
    start = time.perf_counter()
    model = TabularVAE(**params).fit(train)
    fit_s = time.perf_counter() - start
    synthetic = model.sample(len(train), random_state=0)
    with atomic_output(output) as tmp:
        synthetic.to_csv(tmp, index=False)
    print(f"fit in {fit_s:.1f}s on {model.device_}; wrote {len(synthetic):,} synthetic rows to {output}")
    try:
        from .evaluation import evaluate
    except ImportError:
        print("install the eval extra (pip install 'tabvae[eval]') for a fidelity summary")
        return
    report = evaluate(train, synthetic, target="income", holdout=holdout)
    print(report.summary())


def _load(path, device):
    from . import load

    return load(path, device=device)


# --------------------------------------------------------------------------- parser


def _add_force(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="overwrite output files that exist")


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads",
        type=_threads,
        default="auto",
        metavar="N|auto",
        help="CPU threads of torch and BLAS (default: auto, one thread, the fastest for tabvae's small "
        "networks and far faster on a busy machine)",
    )


DEVICE_HELP = "auto (default: CUDA when available, else the CPU), cpu, cuda or cuda:N"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tabvae", description="Learn a table and write new, realistic rows of it.")
    p.add_argument("--version", action="version", version=f"tabvae {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    f = sub.add_parser("fit", help="fit a model on a CSV/Parquet table and save it")
    f.add_argument("data", help="CSV, TSV or Parquet file; '-' reads CSV from stdin")
    f.add_argument("-o", "--output", required=True, help="model file to write (e.g. model.tabvae)")
    _add_model_options(f)
    f.add_argument("--categorical", help="comma-separated columns to model as categories")
    f.add_argument("--numeric", help="comma-separated columns to model as numbers")
    f.add_argument(
        "--constraints",
        metavar="FILE|discovered",
        help='rules every sampled row obeys: a JSON (or YAML) list such as [{"type": "Inequality", '
        '"low": "start", "high": "end"}], or "discovered" to find them in the data, print them and use them',
    )
    f.add_argument("--device", default="auto", help=DEVICE_HELP)
    f.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_threads(f)
    _add_force(f)
    f.set_defaults(func=cmd_fit)

    s = sub.add_parser("sample", help="write synthetic rows from a saved model")
    s.add_argument("model", help="model file written by 'tabvae fit'")
    s.add_argument("-n", type=_positive_int, required=True, help="number of rows")
    s.add_argument("-o", "--output", required=True, help="output .csv, .csv.gz or .parquet")
    s.add_argument(
        "--seed",
        type=int,
        default=None,
        help="random seed (default: none, the model's own stream, which continues from where "
        "the saved model left it, so each run from the same file writes the same rows)",
    )
    s.add_argument(
        "--condition",
        type=_condition,
        action="append",
        help="COLUMN=VALUE, COLUMN=LOW:HIGH for numbers, COLUMN=LOW..HIGH for dates and times; repeatable",
    )
    s.add_argument("--chunk-size", type=_positive_int, default=100_000, help="rows per chunk written")
    s.add_argument("--device", default="auto", help=DEVICE_HELP + " to sample on")
    _add_threads(s)
    _add_force(s)
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", help="score a synthetic table against the real one")
    e.add_argument("real", help="real table the synthetic one imitates (CSV, TSV or Parquet; '-' reads CSV from stdin)")
    e.add_argument("synthetic", help="synthetic table with the same columns (CSV, TSV or Parquet)")
    e.add_argument("--target", help="target column, for train-synthetic-test-real utility")
    e.add_argument(
        "--task",
        choices=["auto", "classification", "regression"],
        default="auto",
        help="utility task for --target (default: auto, classification for categories and for "
        "numbers with exactly two distinct values, regression for other numbers)",
    )
    e.add_argument("--holdout", help="real rows not used for training (enables privacy metrics)")
    e.add_argument("--model", help="model file, to show its training curve in the report")
    e.add_argument("--report", help="write a self-contained HTML report here")
    e.add_argument("--json", help="write all scores as JSON here")
    _add_force(e)
    e.set_defaults(func=cmd_evaluate)

    c = sub.add_parser("score", help="anomaly scores of rows (higher = more typical)")
    c.add_argument("model", help="model file written by 'tabvae fit'")
    c.add_argument(
        "data", help="rows to score, with the model's columns (CSV, TSV or Parquet; '-' reads CSV from stdin)"
    )
    c.add_argument("-o", "--output", required=True, help="CSV of scores, one row per input row")
    c.add_argument("--device", default="auto", help=DEVICE_HELP + " to score on")
    _add_threads(c)
    _add_force(c)
    c.set_defaults(func=cmd_score)

    d = sub.add_parser("demo", help="fit on the bundled UCI Adult table, sample, and summarise fidelity")
    d.add_argument("-o", "--output", help=f"synthetic CSV to write (default: {DEMO_OUTPUT}, printed when written)")
    _add_model_options(d)
    d.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_threads(d)
    _add_force(d)
    d.set_defaults(func=cmd_demo)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (UserError, ValueError, TypeError, OSError) as e:  # what tabvae raises for bad input; bugs show a traceback
        print(f"tabvae: error: {str(e) or type(e).__name__}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tabvae: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
