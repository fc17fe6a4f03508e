"""Privacy benchmark: fidelity, utility and the membership attack of tabvae at several DP budgets.

    OMP_NUM_THREADS=1 python -m benchmarks.privacy [--datasets adult,default_credit,magic_gamma]
        [--epsilons 1,3,10,inf] [--seed 0] [--max-train N] [--epochs auto] [--batch-size 500]
        [--out benchmarks/results/privacy.json]
    python -m benchmarks.privacy --report      # writes benchmarks/results/privacy.md from the JSON

For each table and epsilon: fit on the benchmark split's training part (``benchmarks.run.split``, seed
``--seed``), sample as many rows as the training part, and evaluate against the training part with the test
part as holdout. ``inf`` is the default (non-private) fit; a finite epsilon fits with ``dp_epsilon=eps``
(the whole budget private: no public bounds or levels). When a private fit fails with the encoders' "give
public bounds / levels" error, the error is recorded and the cell is run again with the public ranges the
data dictionary (``shared/data/README.md``) states for that table, if it states any (``"public_bounds": true``).

One torch thread, one process. Rows are merged into ``--out`` as each cell finishes (keyed by table,
epsilon and public bounds), so a run on some tables adds to the results of earlier runs.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import torch

import tabvae
from benchmarks.run import load_dataset, machine_info, split
from tabvae.schema import infer_schema

OUT = Path(__file__).resolve().parent / "results" / "privacy.json"
DATASETS = ("adult", "default_credit", "magic_gamma")
EPSILONS = (1.0, 3.0, 10.0, math.inf)
FIDELITY = ("column_shapes", "column_pair_trends", "logistic_detection")
ATTACK = ("membership_attack_auc", "membership_attack_auc_low", "membership_attack_auc_high")

# Value ranges stated in /work/shared/data/README.md (the data dictionary), used only as the fallback
# of a private fit that asks for public bounds. Adult and magic_gamma state none.
DICTIONARY_RANGES = {
    "default_credit": {
        "SEX": (1, 2),
        "EDUCATION": (0, 6),
        "MARRIAGE": (0, 3),
        **{c: (-2, 8) for c in ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")},
        "default_payment_next_month": (0, 1),
    },
    "beijing_pm25": {"pm2.5": (0, 994)},
}

PEER = Path(__file__).resolve().parent / "results" / "privacy_mostlyai.json"  # from benchmarks.privacy_peer


def public_config(dataset: str, train) -> dict:
    """The dictionary's ranges of ``dataset`` as ``public_bounds`` (number columns) and ``public_levels``
    (categorical or boolean columns, the integers of the range); empty when the dictionary states none."""
    ranges = DICTIONARY_RANGES.get(dataset, {})
    kinds = {spec.name: spec.kind for spec in infer_schema(train, warn=False)}
    bounds = {c: r for c, r in ranges.items() if kinds.get(c) in ("numeric", "integer")}
    levels = {c: list(range(r[0], r[1] + 1)) for c, r in ranges.items() if kinds.get(c) in ("categorical", "boolean")}
    config = {}
    if bounds:
        config["public_bounds"] = bounds
    if levels:
        config["public_levels"] = levels
    return config


def asks_for_public(err: Exception) -> bool:
    """Whether ``err`` is the encoders' request for public bounds or levels."""
    text = str(err)
    return isinstance(err, ValueError) and ("public bounds" in text or "public_levels" in text)


def fit_cell(dataset: str, epsilon: float, train, test, target: str, task: str, args, config: dict | None) -> dict:
    """Fit, sample and evaluate one (table, epsilon) cell; the row of the results."""
    private = math.isfinite(epsilon)
    params = dict(dp_epsilon=epsilon, batch_size=args.batch_size, epochs=args.epochs) if private else {}
    if config:
        params["config"] = config
    row = {"dataset": dataset, "epsilon": epsilon if private else "inf", "public_bounds": bool(config)}
    row["params"] = {k: v for k, v in params.items() if k != "config"}
    if config:
        row["public"] = config
    start = time.perf_counter()
    model = tabvae.TabularVAE(random_state=args.seed, **params).fit(train)
    row["fit_seconds"] = round(time.perf_counter() - start, 1)
    row["dp_epsilon_"] = model.dp_epsilon_
    row["dp_delta_"] = model.dp_delta_
    synthetic = model.sample(len(train), random_state=args.seed)
    start = time.perf_counter()
    scores = tabvae.evaluate(train, synthetic, target=target, task=task, holdout=test, random_state=args.seed).scores
    row["evaluate_seconds"] = round(time.perf_counter() - start, 1)
    keys = [*FIDELITY, *(k for k in scores if k.startswith(("tstr_", "trtr_"))), *ATTACK]
    row["scores"] = {k: round(float(scores[k]), 4) for k in keys if k in scores}
    row["status"] = "ok"
    return row


def run_cell(dataset: str, epsilon: float, train, test, target: str, task: str, args) -> list[dict]:
    """The cell's rows: one, or on a request for public ranges the failed row and the rerun with them."""
    try:
        return [fit_cell(dataset, epsilon, train, test, target, task, args, None)]
    except Exception as err:  # keep going; the row records the failure
        failed = {"dataset": dataset, "epsilon": epsilon if math.isfinite(epsilon) else "inf"}
        failed.update(public_bounds=False, status="error", error=f"{type(err).__name__}: {err}")
        failed["traceback"] = traceback.format_exc(limit=3)
        if not asks_for_public(err):
            return [failed]
        config = public_config(dataset, train)
        if not config:
            failed["note"] = "the data dictionary states no ranges for this table: no public-bounds rerun"
            return [failed]
        try:
            return [failed, fit_cell(dataset, epsilon, train, test, target, task, args, config)]
        except Exception as err2:
            again = {**failed, "public_bounds": True, "public": config, "error": f"{type(err2).__name__}: {err2}"}
            return [failed, again]


def merge(path: Path, rows: list[dict], command: str) -> None:
    """Put ``rows`` into the results at ``path``, replacing rows of the same (table, epsilon, public bounds)."""
    results = json.loads(path.read_text()) if path.exists() else {"rows": []}
    key = lambda r: (r["dataset"], str(r["epsilon"]), r["public_bounds"])  # noqa: E731
    new = {key(r) for r in rows}
    for r in rows:
        r["command"] = command
        r["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["rows"] = [r for r in results["rows"] if key(r) not in new] + rows
    results["machine"] = machine_info()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")


def _fmt(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _public(row: dict) -> str:
    """What the row's fit took as public: nothing, or the dictionary's bounds and levels by column."""
    public = row.get("public") or {}
    names = [f"{kind.removeprefix('public_')} of {', '.join(cols)}" for kind, cols in public.items()]
    return "; ".join(names) if row["public_bounds"] else "none"


def report(path: Path) -> str:
    """The markdown page of the results at ``path``."""
    results = json.loads(path.read_text())
    order = {d: i for i, d in enumerate(DATASETS)}
    rows = sorted(results["rows"], key=lambda r: (order.get(r["dataset"], 99), float(r["epsilon"]), r["public_bounds"]))
    head = (
        "| table | ε asked | ε spent | public ranges | Column Shapes | Column Pair Trends | LogisticDetection "
        "| TSTR ROC-AUC | TRTR ROC-AUC | attack AUC [95% CI] | fit s |"
    )
    lines, failures = [head, "|" + " --- |" * 11], []
    for r in rows:
        cells = [r["dataset"], str(r["epsilon"]), "–", _public(r)]
        if r["status"] != "ok":
            failures.append(f"{len(failures) + 1}. {r['dataset']} at ε = {r['epsilon']}, {_public(r)}: {r['error']}")
            failures[-1] += f" ({r['note']})" if r.get("note") else ""
            lines.append("| " + " | ".join([*cells, f"failed ({len(failures)})", *["–"] * 6]) + " |")
            continue
        s = r["scores"]
        cells[2] = "–" if r["dp_epsilon_"] is None else f"{r['dp_epsilon_']:.2f}"
        cells += [_fmt(s.get(k)) for k in (*FIDELITY, "tstr_roc_auc", "trtr_roc_auc")]
        cells += [f"{_fmt(s.get(ATTACK[0]))} [{_fmt(s.get(ATTACK[1]))}, {_fmt(s.get(ATTACK[2]))}]"]
        lines.append("| " + " | ".join([*cells, f"{r['fit_seconds']:.0f}"]) + " |")
    if failures:
        lines += ["", "Failed fits:", "", *failures]
    commands = sorted({r["command"] for r in results["rows"]})
    machine = results["machine"]
    intro = [
        "# Privacy benchmark",
        "",
        "tabvae at ε ∈ {1, 3, 10, ∞} (∞ = the default, non-private fit), seed 0, on the benchmark split "
        "(80/20, stratified): fit on the training part, sample as many rows, evaluate against the training "
        "part with the test part as holdout. Private fits spend the whole budget privately (half on the "
        "encoders' noisy preprocessing, the rest on DP-SGD) unless the row names public ranges. "
        "ε spent is the accountant's total `dp_epsilon_`. TSTR/TRTR: gradient boosting trained on the "
        "synthetic/real training rows, ROC-AUC on the real test rows. The attack is `evaluate`'s "
        "membership-inference attack (0.5 = no leak).",
        "",
        "Generated by `python -m benchmarks.privacy --report` from `benchmarks/results/privacy.json`.",
        "Measured with: " + "; ".join(f"`{c}`" for c in commands),
        f"Machine: {machine.get('cpu_model', '')} ({machine.get('cpu_count', '')} cores), torch {torch.__version__}, "
        "one torch thread, while other benchmark jobs shared the 2 cores (fit seconds are indicative).",
        "",
    ]
    return "\n".join([*intro, *lines, "", *peer_section()])


def peer_section() -> list[str]:
    """MOSTLY AI's engine on the same protocol (``benchmarks.privacy_peer``), if it was run."""
    if not PEER.exists():
        return []
    order = {d: i for i, d in enumerate(DATASETS)}
    rows = json.loads(PEER.read_text())["rows"]
    rows = sorted(rows, key=lambda r: (order.get(r["dataset"], 99), float(r["epsilon"])))
    lines = [
        "## Peer: MOSTLY AI's TabularARGN (`mostlyai-engine`)",
        "",
        "Rows from `python -m benchmarks.privacy_peer`:",
        "",
    ]
    lines += [
        "| table | ε asked | ε spent | Column Shapes | Column Pair Trends | LogisticDetection | TSTR ROC-AUC "
        "| attack AUC | fit s | command |",
        "|" + " --- |" * 10,
    ]
    for r in rows:
        s = r["scores"]
        cells = [r["dataset"], str(r["epsilon"]), _fmt(r["dp_epsilon_"], 2), *(_fmt(s.get(k)) for k in FIDELITY)]
        cells += [
            _fmt(s.get("tstr_roc_auc")),
            _fmt(s.get("membership_attack_auc")),
            str(r["fit_seconds"]),
            f"`{r['command']}`",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--epsilons", default="1,3,10,inf")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-train", type=int, default=None, help="subsample the training part (smoke tests)")
    p.add_argument("--epochs", default="auto", help="'auto' or an int, for the private fits")
    p.add_argument("--batch-size", type=int, default=500, help="batch size of the private fits")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--report", action="store_true", help="write the markdown page next to --out and stop")
    args = p.parse_args(argv)
    args.epochs = args.epochs if args.epochs == "auto" else int(args.epochs)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.report:
        args.out.with_suffix(".md").write_text(report(args.out))
        return
    torch.set_num_threads(1)
    command = "OMP_NUM_THREADS=1 python -m benchmarks.privacy " + " ".join(
        shlex.quote(a) for a in (argv or sys.argv[1:])
    )
    for dataset in args.datasets.split(","):
        df, target, task = load_dataset(dataset)
        train, test = split(df, target, task, args.seed, args.max_train)
        for eps in (float(e) for e in args.epsilons.split(",")):
            rows = run_cell(dataset, eps, train, test, target, task, args)
            merge(args.out, rows, command)
            print(
                json.dumps(
                    [{k: r.get(k) for k in ("dataset", "epsilon", "status", "fit_seconds", "scores")} for r in rows]
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
