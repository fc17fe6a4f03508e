"""Summarise the benchmark results: ``python -m benchmarks.report [--results DIR] [--pack]``.

Reads the fidelity records of the main benchmark -- ``fidelity__<generator>.jsonl`` (one record a
line) and any ``<dataset>__<generator>__seed<k>.json`` that ``benchmarks.run`` has written since
(a per-seed file replaces the JSONL record of the same data set, generator and seed) -- and writes

* ``summary.md`` -- every table, including one per data set (mean ± std over seeds);
* ``fidelity.png`` -- Column Shapes, Column Pair Trends and detection AUC per data set;
* the block between ``<!-- results:start -->`` and ``<!-- results:end -->`` in
  ``benchmarks/README.md`` (setup, overview, head-to-head, targets);
* the block between ``<!-- headline:start -->`` and ``<!-- headline:end -->`` in ``README.md``.

``--pack`` first moves the per-seed JSON files into the JSONL files (one per generator) and
deletes them, so that the results folder keeps one file per generator.

Every number comes from the result files; nothing is typed here.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS = HERE / "results"
README = HERE / "README.md"
TOP_README = HERE.parent / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
HEADLINE = ("<!-- headline:start -->", "<!-- headline:end -->")

GEN_ORDER = ["tabvae", "sdv_tvae", "sdv_ctgan", "gaussian_copula", "identity"]
FIDELITY_FILE = re.compile(r"^(?P<dataset>.+)__(?P<generator>.+)__seed(?P<seed>\d+)\.json$")


# --------------------------------------------------------------------------- loading


def _key(rec: dict) -> tuple:
    return rec["dataset"], rec["generator"], rec["seed"]


def _fidelity_records(results: Path) -> dict:
    """{(dataset, generator, seed): record}: the JSONL files, then the per-seed files over them."""
    recs = {}
    for path in sorted(results.glob("fidelity__*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                recs[_key(rec)] = rec
    for path in _per_seed_files(results):
        rec = json.loads(path.read_text())
        recs[_key(rec)] = rec
    return recs


def _per_seed_files(results: Path) -> list:
    out = []
    for path in sorted(results.glob("*.json")):
        if not FIDELITY_FILE.match(path.name):
            continue
        try:
            rec = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(rec, dict) and rec.get("kind") == "fidelity":
            out.append(path)
    return out


def load(results: Path):
    runs, failures = [], []
    for rec in _fidelity_records(results).values():
        (runs if rec.get("status") == "ok" else failures).append(rec)
    return runs, failures


def pack(results: Path) -> list:
    """Move the per-seed fidelity JSONs into ``fidelity__<generator>.jsonl``; returns the files written."""
    singles = _per_seed_files(results)
    if not singles:
        return []
    recs = _fidelity_records(results)
    gens = {json.loads(p.read_text())["generator"] for p in singles}
    order = {d: i for i, d in enumerate(_DATASET_ORDER)}
    written = []
    for gen in sorted(gens):
        rows = sorted(
            (r for k, r in recs.items() if k[1] == gen),
            key=lambda r: (order.get(r["dataset"], len(order)), r["dataset"], r["seed"]),
        )
        path = results / f"fidelity__{gen}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        written.append(path)
    for p in singles:
        p.unlink()
    return written


def _ordered(names, order):
    return [n for n in order if n in names] + sorted(n for n in names if n not in order)


# --------------------------------------------------------------------------- formatting


def _vals(recs, getter):
    out = []
    for r in recs:
        try:
            v = getter(r)
        except (KeyError, TypeError):
            v = None
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            out.append(float(v))
    return out


def _ms(vals, digits=3):
    """'mean ± std' (std with ddof=1; just the value for one seed; '–' for none)."""
    if not vals:
        return "–"
    m = float(np.mean(vals))
    if len(vals) == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ± {float(np.std(vals, ddof=1)):.{digits}f}"


def _mean(vals):
    return float(np.mean(vals)) if vals else float("nan")


def _gen_label(name, recs):
    epochs = sorted({r.get("generator_info", {}).get("epochs_used") for r in recs} - {None})
    if (name in ("sdv_tvae", "sdv_ctgan") or name.startswith("tabvae")) and epochs:
        overrides = {}
        for r in recs:
            overrides.update(r.get("generator_info", {}).get("constructor_overrides") or {})
        tag = "epochs" if name.startswith("tabvae") or "epochs" in overrides else "epochs, default"
        return f"{name} ({'/'.join(str(e) for e in epochs)} {tag})"
    return name


def _utility_metric(task):
    return "roc_auc" if task == "classification" else "r2"


# --------------------------------------------------------------------------- tables


def fidelity_tables(runs) -> tuple[str, dict]:
    """Markdown per data set, plus {dataset: {generator: {metric: mean}}} for the head-to-head."""
    by_ds: dict = {}
    for r in runs:
        by_ds.setdefault(r["dataset"], {}).setdefault(r["generator"], []).append(r)
    means: dict = {}
    lines = []
    header = (
        "| generator | seeds | fit s | sample s | peak MB | Δ MB | Column Shapes | Column Pair Trends "
        "| LogisticDetection | GB detection AUC | TSTR / TRTR | DCR closer-to-train | exact copies |"
    )
    sep = "|" + "|".join(["---"] * 13) + "|"
    for ds in _ordered(by_ds, list(_DATASET_ORDER)):
        gens = by_ds[ds]
        any_rec = next(iter(gens.values()))[0]
        task = any_rec.get("task")
        um = _utility_metric(task)
        n_train = sorted({r.get("n_train") for g in gens.values() for r in g})
        n_test = sorted({r.get("n_test") for g in gens.values() for r in g})
        max_train = sorted({r.get("max_train") for g in gens.values() for r in g} - {None})
        lines.append(f"### {ds}")
        lines.append("")
        lines.append(
            f"Target `{any_rec.get('target')}` ({task}); {any_rec.get('split')}; train rows "
            f"{'/'.join(map(str, n_train))}"
            + (f" (training split subsampled to --max-train {'/'.join(map(str, max_train))})" if max_train else "")
            + f", test rows {'/'.join(map(str, n_test))}; synthetic rows = train rows. "
            f"TSTR / TRTR = {'ROC-AUC' if um == 'roc_auc' else 'R²'} on the test split."
        )
        lines.append("")
        lines.append(header)
        lines.append(sep)
        means[ds] = {}
        for g in _ordered(gens, GEN_ORDER):
            recs = gens[g]
            sc = lambda key: _vals(recs, lambda r: r["scores"][key])  # noqa: E731
            tstr, trtr = sc(f"tstr_{um}"), sc(f"trtr_{um}")
            fit = _vals(recs, lambda r: r["timing"]["fit_s"])
            row = [
                _gen_label(g, recs),
                str(len(recs)),
                _ms(fit, 1),
                _ms(_vals(recs, lambda r: r["timing"]["sample_s"]), 2),
                _ms(_vals(recs, lambda r: r["memory"]["peak_rss_mb"]), 0),
                _ms(_vals(recs, lambda r: r["memory"]["fit_sample_delta_mb"]), 0),
                _ms(sc("column_shapes")),
                _ms(sc("column_pair_trends")),
                _ms(sc("logistic_detection")),
                _ms(sc("detection_auc")),
                f"{_ms(tstr)} / {_ms(trtr)}",
                _ms(sc("closer_to_train_share")),
                _ms(sc("exact_copy_share")),
            ]
            lines.append("| " + " | ".join(row) + " |")
            means[ds][g] = {
                "shapes": _mean(sc("column_shapes")),
                "trends": _mean(sc("column_pair_trends")),
                "logistic_detection": _mean(sc("logistic_detection")),
                "detection_auc": _mean(sc("detection_auc")),
                "tstr": _mean(tstr),
                "trtr": _mean(trtr),
                "fit_s": _mean(fit),
                "fit_by_seed": {r["seed"]: r["timing"]["fit_s"] for r in recs},
                # For the targets (targets_table).
                "task": task,
                "n_seeds": len(recs),
                "gap": _mean(_vals(recs, lambda r: r["scores"][f"trtr_{um}"] - r["scores"][f"tstr_{um}"])),
                **{
                    key: _mean(sc(key))
                    for key in ("exact_copy_share", "holdout_exact_copy_share", "closer_to_train_share")
                },
            }
        lines.append("")
    return "\n".join(lines), means


_DATASET_ORDER = ("adult", "default_credit", "online_shoppers", "beijing_pm25", "california_housing", "magic_gamma")


def overview_table(means) -> str:
    """One compact table: quality (shapes/trends) and detection AUC per data set x generator."""
    gens = _ordered({g for d in means.values() for g in d}, GEN_ORDER)
    lines = [
        "| data set | " + " | ".join(gens) + " |",
        "|---|" + "|".join(["---"] * len(gens)) + "|",
    ]
    for ds, d in means.items():
        cells = []
        for g in gens:
            m = d.get(g)
            cells.append("–" if m is None else f"{m['shapes']:.3f} / {m['trends']:.3f} / {m['detection_auc']:.3f}")
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _paired_fit_times(x: dict, y: dict) -> tuple[float, float, list]:
    """Mean fit seconds of two generators' ``means`` entries over the seeds both ran (same splits)."""
    common = sorted(set(x["fit_by_seed"]) & set(y["fit_by_seed"]))
    return _mean([x["fit_by_seed"][k] for k in common]), _mean([y["fit_by_seed"][k] for k in common]), common


def head_to_head(means, a="tabvae", b="sdv_tvae") -> str:
    """Where ``a`` is ahead of / behind ``b`` (means over seeds)."""
    rows = []
    for ds, d in means.items():
        if a not in d or b not in d:
            continue
        x, y = d[a], d[b]

        def cmp(key, higher_better=True, fmt="{:+.3f}"):
            diff = x[key] - y[key]
            if math.isnan(diff):
                return "–"
            better = diff > 0 if higher_better else diff < 0
            word = "ahead" if better else ("tie" if diff == 0 else "behind")
            return f"{word} ({fmt.format(diff)})"

        fx, fy, _ = _paired_fit_times(x, y)
        speed = fy / fx if fx > 0 else float("nan")
        fit_word = "ahead" if speed > 1 else "behind"
        rows.append(
            f"| {ds} | {cmp('shapes')} | {cmp('trends')} | {cmp('logistic_detection')} "
            f"| {cmp('detection_auc', higher_better=False)} | {cmp('tstr')} "
            f"| {fit_word} ({fx:.1f} s vs {fy:.1f} s; TVAE/tabvae {speed:.2f}x) |"
        )
    if not rows:
        return ""
    head = (
        "| data set | Column Shapes | Column Pair Trends | LogisticDetection | GB detection AUC (lower is better) "
        "| TSTR | fit time (seeds both ran) |\n|---|---|---|---|---|---|---|"
    )
    return head + "\n" + "\n".join(rows)


def headline_table(means, a="tabvae", b="sdv_tvae") -> str:
    """README's table: ``a`` / ``b`` per data set, the better value in bold; fit time over the seeds both ran."""

    def pair(x: float, y: float, higher_better: bool = True) -> str:
        better = x > y if higher_better else x < y
        return f"**{x:.3f}** / {y:.3f}" if better else f"{x:.3f} / **{y:.3f}**"

    rows = []
    for ds, d in means.items():
        if a not in d or b not in d:
            continue
        x, y = d[a], d[b]
        fx, fy, both = _paired_fit_times(x, y)
        seeds = f"{min(both)}–{max(both)}" if len(both) > 1 else str(both[0])
        unit = " (R²)" if x["task"] == "regression" else ""
        tstr = pair(x["tstr"], y["tstr"]) + f" / {x['trtr']:.3f}{unit}"
        fit = (f"**{fx:.1f}** / {fy:.1f}" if fx < fy else f"{fx:.1f} / **{fy:.1f}**") + f" ({fy / fx:.2f}×)"
        rows.append(
            f"| {ds} | {pair(x['shapes'], y['shapes'])} | {pair(x['trends'], y['trends'])} "
            f"| {pair(x['logistic_detection'], y['logistic_detection'])} | {tstr} "
            f"| {fit}, seeds {seeds} |"
        )
    if not rows:
        return ""
    head = (
        f"| data set | Column Shapes {a} / TVAE | Column Pair Trends {a} / TVAE "
        f"| LogisticDetection {a} / TVAE | TSTR {a} / TVAE / TRTR | fit s {a} / TVAE |\n"
        "|---|---|---|---|---|---|"
    )
    return head + "\n" + "\n".join(rows)


# The targets: Column Shapes, Column Pair Trends, LogisticDetection, closer-to-train share, and the
# largest TRTR - TSTR gap allowed (ROC-AUC for classification, R² for regression), fit-time ratio.
TARGETS = {
    "shapes": 0.97,
    "trends": 0.95,
    "logistic_detection": 0.85,
    "closer_to_train": 0.53,
    "gap": {"classification": 0.02, "regression": 0.05},
    "speed": 5.0,
}


def targets_table(means, gen: str = "tabvae", ref: str = "sdv_tvae") -> str:
    """The targets for ``gen``, one row per data set of ``means`` (from :func:`fidelity_tables`).

    Means over seeds, ✓ / ✗ per bar; the utility gap is the mean of the per-seed TRTR - TSTR
    gaps.  The speed ratio is ``ref``'s fit time over ``gen``'s on seed 0 and, in brackets, on
    the means over the seeds both ran; "ahead" compares the means over all seeds of each.
    "–" where a figure is missing.
    """

    def cell(ok: bool, text: str) -> str:
        return "–" if "nan" in text else f"{'✓' if ok else '✗'} {text}"

    rows = []
    for ds, d in means.items():
        x, y = d.get(gen), d.get(ref)
        if x is None or x["task"] not in TARGETS["gap"]:
            continue
        r2 = x["task"] == "regression"
        cells = [
            f"{ds} ({x['n_seeds']})",
            cell(x["shapes"] >= TARGETS["shapes"], f"{x['shapes']:.3f}"),
            cell(x["trends"] >= TARGETS["trends"], f"{x['trends']:.3f}"),
            cell(x["logistic_detection"] >= TARGETS["logistic_detection"], f"{x['logistic_detection']:.3f}"),
            cell(x["gap"] <= TARGETS["gap"][x["task"]], f"{x['gap']:.4f}" + (" R²" if r2 else "")),
            cell(
                x["exact_copy_share"] <= x["holdout_exact_copy_share"],
                f"{100 * x['exact_copy_share']:.1f} % vs {100 * x['holdout_exact_copy_share']:.1f} %",
            ),
            cell(x["closer_to_train_share"] <= TARGETS["closer_to_train"], f"{x['closer_to_train_share']:.3f}"),
        ]
        fx, fy, both = _paired_fit_times(x, y) if y is not None else (0.0, 0.0, [])
        fit, ref_fit = x["fit_by_seed"], y["fit_by_seed"] if y is not None else {}
        if both and all(fit[k] > 0 for k in both):
            ahead = [
                x["shapes"] > y["shapes"],
                x["trends"] > y["trends"],
                x["logistic_detection"] > y["logistic_detection"],
                x["detection_auc"] < y["detection_auc"],
            ]
            seed0 = ref_fit[0] / fit[0] if 0 in both else None
            speed = f"{seed0:.2f}×" if seed0 is not None else "– on seed 0"
            ok = seed0 is not None and seed0 >= TARGETS["speed"]
            cells += [
                "✓" if all(ahead) else "✗",
                f"{'✓' if ok else '✗'} {speed} ({fy / fx:.2f}× over {len(both)} seed{'s' * (len(both) > 1)})",
            ]
        else:
            cells += ["–", "–"]
        rows.append("| " + " | ".join(cells) + " |")
    if not rows:
        return ""
    head = (
        "| data set (seeds) | Shapes ≥ 0.97 | Trends ≥ 0.95 | LogisticDetection ≥ 0.85 "
        "| TRTR − TSTR ≤ 0.02 AUC / 0.05 R² | exact copies ≤ holdout's | closer-to-train ≤ 0.53 "
        f"| ahead of {ref} (shapes, trends, LD, GB AUC) | fit ≥ 5× faster than {ref} (seed 0; seeds both ran) |"
    )
    return head + "\n|" + "---|" * 9 + "\n" + "\n".join(rows)


def machine_block(runs) -> str:
    recs = runs
    if not recs:
        return ""
    m = recs[0]["machine"]
    v = m.get("versions", {})
    commits = sorted({r["machine"].get("git_commit") for r in recs} - {None})
    dirty = any(r["machine"].get("tabvae_dirty") for r in recs)
    threads = sorted({r["machine"].get("torch_threads") for r in runs} - {None})
    by_gen: dict = {}
    for r in runs:
        by_gen.setdefault(r["generator"], set()).add(r["machine"].get("git_commit"))
    per_gen = "; ".join(f"{g}: {', '.join(sorted(c[:7] for c in cs if c))}" for g, cs in by_gen.items())
    lines = [
        f"- Machine: {m.get('platform')}, {m.get('cpu_model')}, {m.get('cpu_count')} CPU cores, "
        f"{m.get('memory_gb')} GB RAM, GPU: {m.get('gpu') or 'none'}; Python {m.get('python')}; "
        f"torch threads per job: {'/'.join(map(str, threads)) or '?'}.",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
        f"- tabvae git commit(s): {', '.join(c[:12] for c in commits) or 'unknown'}"
        + (" (some runs with uncommitted changes in tabvae/)" if dirty else "")
        + f". By generator: {per_gen}.",
    ]
    same = _same_code(commits, ["tabvae/evaluate.py", "tabvae/schema.py"])
    if len(commits) > 1 and same is not None:
        lines.append(
            "- `tabvae/evaluate.py` and `tabvae/schema.py` (scores, column types, SDV metadata) are "
            + (
                "identical up to pandas-3 `.copy()` lines"
                if same == "copy-only"
                else ("identical" if same else "NOT identical")
            )
            + " across these commits (checked with `git diff`)."
        )
    loads = _vals(runs, lambda r: r["load_average_at_start"][0])
    if loads:
        lines.append(
            f"- 1-minute load average at the start of the {len(loads)} fidelity jobs that recorded it: "
            f"{min(loads):.1f}–{max(loads):.1f} on {m.get('cpu_count')} cores (other processes share the "
            "machine; compare timings within one table, not across runs)."
        )
    days = {}
    for r in runs:
        days.setdefault(r["generator"], set()).add(str(r.get("started_at", ""))[:10])
    lines.append(
        "- Run dates by generator (runs of different dates may have had different machines of this "
        "type, whose speed differs; compare fit times only between runs of one date): "
        + "; ".join(f"{g}: {', '.join(sorted(d))}" for g, d in sorted(days.items()))
        + "."
    )
    return "\n".join(lines)


def _same_code(commits, paths):
    """Whether ``paths`` are the same in all ``commits``: True, "copy-only" (differences
    are only lines adding ``.copy()``), False, or None when git is unavailable."""
    import subprocess

    if len(commits) < 2:
        return True
    base, verdict = commits[0], True
    for c in commits[1:]:
        try:
            d = subprocess.run(
                ["git", "diff", "-U0", base, c, "--", *paths],
                cwd=HERE.parent,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        except Exception:
            return None
        changed = [line for line in d.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        if not changed:
            continue
        plus, minus = (
            {re.sub(r"\.copy\(\)|\s*#.*$", "", line[1:]).strip() for line in changed if line[0] == sign}
            for sign in "+-"
        )
        if plus == minus:
            verdict = "copy-only" if verdict is True else verdict
        else:
            return False
    return verdict


def commands_block(runs) -> str:
    first = {}
    for r in runs:
        c = r.get("command")
        t = r.get("started_at") or r.get("finished_at") or ""
        if c and (c not in first or t < first[c]):
            first[c] = t
    cmds = sorted(first, key=lambda c: first[c])
    return "```bash\n" + "\n".join(cmds + ["python -m benchmarks.report --pack"]) + "\n```"


def wall_block(runs) -> str:
    fit_total = sum(_vals(runs, lambda r: r["timing"]["fit_s"]))
    eval_total = sum(_vals(runs, lambda r: r["timing"]["evaluate_s"]))
    times = sorted(t for r in runs for t in (r.get("started_at"), r.get("finished_at")) if t)
    span = f"{times[0]} → {times[-1]}" if times else "?"
    return (
        f"- Jobs: {len(runs)} fidelity runs; sum of fit times {fit_total / 60:.1f} min, of evaluation times "
        f"{eval_total / 60:.1f} min; first start → last finish (UTC): {span}."
    )


# --------------------------------------------------------------------------- plot


def plot(means, path: Path) -> bool:
    if not means:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gens = _ordered({g for d in means.values() for g in d}, GEN_ORDER)
    dss = list(means)
    panels = [
        ("shapes", "Column Shapes (higher is better)"),
        ("trends", "Column Pair Trends (higher is better)"),
        ("detection_auc", "GB detection AUC (0.5 = indistinguishable)"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    width = 0.8 / len(gens)
    x = np.arange(len(dss))
    for ax, (key, title) in zip(axes, panels):
        for i, g in enumerate(gens):
            vals = [means[d].get(g, {}).get(key, np.nan) for d in dss]
            ax.bar(x + (i - (len(gens) - 1) / 2) * width, vals, width, label=g)
        ax.set_xticks(x)
        ax.set_xticklabels(dss, rotation=30, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
        lo = min(
            [0.7]
            + [
                means[d].get(g, {}).get(key, 1.0)
                for d in dss
                for g in gens
                if not math.isnan(means[d].get(g, {}).get(key, 1.0))
            ]
        )
        ax.set_ylim(0.45 if key == "detection_auc" else max(0.0, math.floor(lo * 20) / 20 - 0.05), 1.01)
        if key == "detection_auc":
            ax.axhline(0.5, color="k", lw=0.8, ls="--")
        ax.grid(axis="y", alpha=0.3)
    fig.legend(
        *axes[0].get_legend_handles_labels(),
        loc="lower center",
        ncol=len(gens),
        fontsize=9,
        bbox_to_anchor=(0.5, -0.01),
    )
    fig.suptitle(
        "tabvae benchmark: fidelity and detection per data set (means over seeds; from results/*.json)", fontsize=11
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------- main


def build(results: Path) -> tuple[str, str, str, dict]:
    """(summary.md, benchmarks/README.md's block, README.md's headline block, means)."""
    runs, failures = load(results)
    fid_md, means = fidelity_tables(runs)
    note = "_Generated by `python -m benchmarks.report` from the files in `benchmarks/results/`; do not edit by hand._"
    setup = [
        "### Setup",
        "",
        machine_block(runs),
        wall_block(runs),
        "",
        "Commands (in the order they were first run):",
        "",
        commands_block(runs),
        "",
    ]
    tables = []
    if means:
        tables += ["### Overview: Column Shapes / Column Pair Trends / GB detection AUC", "", overview_table(means), ""]
        h2h = head_to_head(means)
        if h2h:
            tables += [
                "### tabvae vs SDV TVAE (tabvae minus TVAE, means over seeds; fit time as a speed ratio)",
                "",
                h2h,
                "",
            ]
        targets = targets_table(means, "tabvae")
        if targets:
            tables += ["### Targets for tabvae (means over seeds)", "", targets, ""]
        tables += ["![fidelity](results/fidelity.png)", ""]
    per_ds = (
        [
            "## Per data set",
            "",
            "Mean ± std over seeds (one value = one seed). Peak MB = peak resident memory of "
            "the fresh process that fitted and sampled (includes Python, torch and the "
            "generator's library); Δ MB = its increase during fit + sample. DCR closer-to-train: "
            "share of synthetic rows nearer to a training row than to a holdout row (0.5 ideal). "
            "exact copies: share of synthetic rows identical to a training row.",
            "",
            fid_md,
        ]
        if means
        else []
    )
    failed = []
    if failures:
        failed = ["## Failed runs", ""]
        failed += [f"- {r['dataset']} / {r['generator']} / seed {r['seed']}: {r.get('error')}" for r in failures]
        failed.append("")
    full = ["## Results", "", note, ""] + setup + tables + per_ds + failed
    link = (
        ["Per data set (every generator, timings, memory, privacy): [results/summary.md](results/summary.md).", ""]
        if means
        else []
    )
    compact = ["## Results", "", note, ""] + setup + tables + link + failed
    return _text(full), _text(compact), headline_block(means), means


def _text(parts: list) -> str:
    return "\n".join(parts).rstrip() + "\n"


def headline_block(means) -> str:
    table = headline_table(means)
    if not table:
        return ""
    first = next(d for d in means.values() if "tabvae" in d and "sdv_tvae" in d)
    n_a, n_b = first["tabvae"]["n_seeds"], first["sdv_tvae"]["n_seeds"]
    return (
        f"tabvae's defaults against SDV's TVAE (its defaults) on six public tables, 10,000 training rows "
        f"each, CPU, one torch thread; means of {n_a} seeds (tabvae) and {n_b} (TVAE), the better value in "
        "bold. TSTR / TRTR: ROC-AUC (R² for the regression tables) on held-out real rows of a "
        "gradient-boosting model trained on synthetic / real rows. Generated by `python -m "
        "benchmarks.report`; protocol and every table in [benchmarks/README.md](benchmarks/README.md).\n\n"
        + table
        + "\n"
    )


def replace_block(path: Path, block: str, markers: tuple = (START, END), append: bool = True) -> bool:
    """Put ``block`` between the ``markers`` in ``path``; without the markers, append them (or do nothing)."""
    start, end = markers
    text = path.read_text() if path.exists() else ""
    if start not in text or end not in text:
        if not append:
            return False
        text = text.rstrip() + f"\n\n{start}\n{end}\n"
    pre, rest = text.split(start, 1)
    _, post = rest.split(end, 1)
    path.write_text(pre + start + "\n" + block + end + post)
    return True


def _demote(block: str) -> str:
    """Headings inside benchmarks/README.md's block sit one level lower."""
    return re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", block, flags=re.M)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__.split("\n")[0])
    p.add_argument("--results", default=str(DEFAULT_RESULTS))
    p.add_argument(
        "--pack", action="store_true", help="move per-seed fidelity JSONs into fidelity__<generator>.jsonl first"
    )
    p.add_argument("--no-readme", action="store_true", help="do not touch benchmarks/README.md or README.md")
    args = p.parse_args(argv)
    results = Path(args.results)
    if args.pack:
        for path in pack(results):
            print(f"packed {path}")
    full, compact, headline, means = build(results)
    (results / "summary.md").write_text("# Benchmark summary\n\n" + full)
    plot(means, results / "fidelity.png")
    touched = []
    if not args.no_readme:
        replace_block(README, _demote(compact))
        touched.append(str(README))
        if headline and replace_block(TOP_README, headline, HEADLINE, append=False):
            touched.append(str(TOP_README))
    print(f"wrote {results / 'summary.md'}, {results / 'fidelity.png'}" + "".join(f", updated {t}" for t in touched))


if __name__ == "__main__":
    main()
