"""Run the benchmark: fidelity/utility/privacy per (data set, generator, seed).

Fidelity run (one JSON per data set x generator x seed)::

    python -m benchmarks.run --datasets adult,magic_gamma --generators tabvae,sdv_tvae --seeds 1 \\
        [--max-train N] [--ctgan-epochs E] [--tvae-epochs E] [--out benchmarks/results]

Augmentation lift is :mod:`benchmarks.augmentation`.

Seed index ``k`` (``--seeds 3`` gives k = 0, 1, 2) fixes the 80/20 train/test split
(stratified on the target for classification, random for regression), the
``--max-train`` subsample, the generator's seed and the evaluation's seed.

Each (data set, generator, seed) fit runs in a fresh process (``multiprocessing``
spawn context) so that its peak resident memory (``ru_maxrss`` of that process) is
a clean measurement; the parent only orchestrates.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results"

# name -> (file, target, task)
DATASETS = {
    "adult": ("adult.csv", "income", "classification"),
    "default_credit": ("default_credit.csv", "default_payment_next_month", "classification"),
    "online_shoppers": ("online_shoppers.csv", "Revenue", "classification"),
    "beijing_pm25": ("beijing_pm25.csv", "pm2.5", "regression"),
    "california_housing": ("california_housing.csv", "median_house_value", "regression"),
    "magic_gamma": ("magic_gamma.csv", "class", "classification"),
}
# Tables outside the benchmark, for checking a setting chosen on it: the all-numeric
# anomaly-detection tables, with their label as a classification target (not in --datasets' default).
HELD_OUT_DATASETS = {
    name: (f"anomaly/{name}.csv", "label", "classification") for name in ("cardio", "satellite", "shuttle", "thyroid")
}

# --------------------------------------------------------------------------- data


def data_dir() -> Path:
    """``$TABVAE_DATA`` if set, else ``<repo>/../shared/data``."""
    env = os.environ.get("TABVAE_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_dataset(name: str) -> tuple[pd.DataFrame, str, str]:
    """The table, its target column and task."""
    tables = {**DATASETS, **HELD_OUT_DATASETS}
    if name not in tables:
        raise SystemExit(f"unknown data set {name!r}; choose from {', '.join(tables)}")
    fname, target, task = tables[name]
    path = data_dir() / fname
    if name == "adult":
        # Values carry a leading space and '?' marks missing (see shared/data/README.md).
        df = pd.read_csv(path, skipinitialspace=True, na_values="?")
    else:
        df = pd.read_csv(path)
    return df, target, task


def split(df: pd.DataFrame, target: str, task: str, k: int, max_train: int | None):
    """80/20 train/test split for seed index ``k`` (+ optional train subsample)."""
    from sklearn.model_selection import train_test_split

    strat = df[target] if task == "classification" else None
    train, test = train_test_split(df, test_size=0.2, stratify=strat, random_state=k)
    if max_train is not None and len(train) > max_train:
        strat = train[target] if task == "classification" else None
        train, _ = train_test_split(train, train_size=max_train, stratify=strat, random_state=k)
    return train.reset_index(drop=True), test.reset_index(drop=True)


# --------------------------------------------------------------------------- provenance


def _version(mod: str):
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:
        return None


BENCH_PACKAGES = (
    "tabvae",
    "torch",
    "sdv",
    "sdmetrics",
    "ctgan",
    "rdt",
    "scikit-learn",
    "pandas",
    "numpy",
    "imbalanced-learn",
)


def machine_info(packages=BENCH_PACKAGES) -> dict:
    """Machine, library versions and the tabvae commit a result was measured with."""
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "gpu": None,
        "versions": {m: _version(m) for m in packages},
    }
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        mem_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        info["memory_gb"] = round(mem_kb / 2**20, 1)
    except Exception:
        info["memory_gb"] = None
    try:
        info["cpu_model"] = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except Exception:
        info["cpu_model"] = None
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except Exception:
        pass
    try:
        import tabvae

        info["tabvae_path"] = str(Path(tabvae.__file__).resolve().parent)
    except Exception:
        info["tabvae_path"] = None
    snapshot = os.environ.get("TABVAE_BENCH_COMMIT")
    if snapshot and (info["tabvae_path"] is None or Path(info["tabvae_path"]) == (REPO / "tabvae").resolve()):
        snapshot = None  # the checkout's tabvae came first on sys.path (python without -P from the repo root)
    if snapshot:
        # tabvae imported from a `git archive <commit> tabvae` export placed first on
        # PYTHONPATH, so that concurrent edits to the working tree cannot leak into a run.
        info["git_commit"] = snapshot
        info["tabvae_dirty"] = False
        info["tabvae_snapshot"] = True
        return info
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "tabvae"], cwd=REPO, capture_output=True, text=True)
        info["git_commit"] = rev.stdout.strip() or None
        info["tabvae_dirty"] = bool(dirty.stdout.strip())
    except Exception:
        info["git_commit"] = None
    return info


def command_line() -> str:
    return "python -m benchmarks.run " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=_default))
    tmp.replace(path)


def _default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, float) and not np.isfinite(o):
        return None
    return str(o)


def _rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / 2**20


def _quiet():
    warnings.filterwarnings("ignore")
    import logging

    for name in ("sdv", "rdt", "copulas", "ctgan", "SingleTableSynthesizer", "sdmetrics"):
        logging.getLogger(name).setLevel(logging.ERROR)


# --------------------------------------------------------------------------- fidelity


def result_path(out: Path, dataset: str, generator: str, k: int) -> Path:
    return out / f"{dataset}__{generator}__seed{k}.json"


def fidelity_job(job: dict) -> None:
    """One (data set, generator, seed): fit, sample, measure, evaluate, write JSON.

    Runs in a fresh spawned process.
    """
    _quiet()
    import torch

    torch.set_num_threads(job["threads"])
    from tabvae import evaluate
    from tabvae.schema import infer_schema

    from .generators import make_generator

    dataset, gen_name, k = job["dataset"], job["generator"], job["seed"]
    out = Path(job["out"])
    record = {
        "kind": "fidelity",
        "dataset": dataset,
        "generator": gen_name,
        "seed": k,
        "command": job["command"],
        "started_at": _now(),
        "machine": machine_info(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    try:
        df, target, task = load_dataset(dataset)
        train, test = split(df, target, task, k, job["max_train"])
        schema = infer_schema(train, warn=False)
        record.update(
            target=target,
            task=task,
            n_rows_full=len(df),
            n_train=len(train),
            n_test=len(test),
            max_train=job["max_train"],
            split="stratified 80/20" if task == "classification" else "random 80/20",
            schema=schema.to_dict(),
        )
        options = {}
        if gen_name == "sdv_ctgan":
            options["ctgan_epochs"] = job["ctgan_epochs"]
        if gen_name == "sdv_tvae":
            options["tvae_epochs"] = job["tvae_epochs"]
        gen = make_generator(gen_name, **options)
        gen.warmup()
        rss0 = _rss_mb()
        t0 = time.perf_counter()
        gen.fit(train, schema, k)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        synthetic = gen.sample(len(train), k)
        sample_s = time.perf_counter() - t0
        rss1 = _rss_mb()
        record["generator_info"] = gen.info()
        record["n_synthetic"] = len(synthetic)
        record["timing"] = {"fit_s": fit_s, "sample_s": sample_s}
        record["memory"] = {
            "baseline_rss_mb": rss0,
            "peak_rss_mb": rss1,
            "fit_sample_delta_mb": rss1 - rss0,
            "method": "ru_maxrss of a fresh spawned process: baseline after imports (incl. the "
            "generator's library) and data loading, peak after fit + sample (before evaluation)",
        }
        t0 = time.perf_counter()
        report = evaluate(
            train,
            synthetic,
            target=target,
            task=task,
            holdout=test,
            random_state=k,
            max_rows=job["eval_max_rows"],
            metadata=schema,
        )
        record["timing"]["evaluate_s"] = time.perf_counter() - t0
        record["evaluation"] = report.to_dict()
        record["scores"] = record["evaluation"]["scores"]
        record["status"] = "ok"
    except Exception as e:  # keep going; the report shows the failure
        record["status"] = "error"
        record["error"] = f"{type(e).__name__}: {e}"
        record["traceback"] = traceback.format_exc()
    record["finished_at"] = _now()
    _write_json(result_path(out, dataset, gen_name, k), record)
    # Leave at once: joblib/loky worker pools started by SDV/RDT or sklearn would
    # otherwise keep this process alive at exit until their idle timeout (300 s).
    import multiprocessing as mp

    for child in mp.active_children():
        child.terminate()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def run_fidelity(args) -> None:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    out = Path(args.out)
    cmd = command_line()
    for dataset in args.datasets:
        for k in range(args.seeds):
            for gen_name in args.generators:
                path = result_path(out, dataset, gen_name, k)
                if path.exists() and not args.overwrite:
                    prev = json.loads(path.read_text())
                    if prev.get("status") == "ok":
                        print(f"[skip] {path.name} exists (use --overwrite)", flush=True)
                        continue
                job = dict(
                    dataset=dataset,
                    generator=gen_name,
                    seed=k,
                    out=str(out),
                    max_train=args.max_train,
                    ctgan_epochs=args.ctgan_epochs,
                    tvae_epochs=args.tvae_epochs,
                    threads=args.threads,
                    eval_max_rows=args.eval_max_rows,
                    command=cmd,
                )
                t0 = time.perf_counter()
                p = ctx.Process(target=fidelity_job, args=(job,))
                p.start()
                p.join()
                wall = time.perf_counter() - t0
                status = "?"
                if path.exists():
                    rec = json.loads(path.read_text())
                    status = rec.get("status")
                    if status == "ok":
                        s = rec["scores"]
                        status += (
                            f"  fit {rec['timing']['fit_s']:.1f}s  shapes {s['column_shapes']:.3f}"
                            f"  trends {s['column_pair_trends']:.3f}  det_auc {s['detection_auc']:.3f}"
                        )
                    else:
                        status += "  " + rec.get("error", "")
                print(
                    f"[{_now()}] {dataset:18s} {gen_name:16s} seed{k}  exit={p.exitcode}  {wall:6.1f}s  {status}",
                    flush=True,
                )


# --------------------------------------------------------------------------- CLI


def _csv(s: str) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()]


def parse_args(argv=None):
    from .generators import GENERATORS

    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument(
        "--datasets",
        type=_csv,
        default=list(DATASETS),
        help=f"comma-separated, from {','.join(DATASETS)} (default: all)",
    )
    p.add_argument(
        "--generators",
        type=_csv,
        default=["tabvae", "sdv_tvae", "gaussian_copula", "identity"],
        help=f"comma-separated, from {','.join(GENERATORS)}",
    )
    p.add_argument("--seeds", type=int, default=1, help="number of seed indices (0..seeds-1)")
    p.add_argument(
        "--max-train", type=int, default=None, help="subsample the 80%% training split to at most N rows (stratified)"
    )
    p.add_argument("--ctgan-epochs", type=int, default=None, help="CTGAN epochs (default: SDV's 300)")
    p.add_argument("--tvae-epochs", type=int, default=None, help="SDV TVAE epochs (default: SDV's 300)")
    p.add_argument("--eval-max-rows", type=int, default=20000, help="evaluate(max_rows=...)")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch.set_num_threads (default 1: on a small, shared CPU two OpenMP "
        "threads spin-wait and can be many times slower)",
    )
    p.add_argument("--overwrite", action="store_true", help="re-run jobs whose JSON already exists")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    args = p.parse_args(argv)
    for d in args.datasets:
        if d not in DATASETS:
            p.error(f"unknown data set {d!r}; choose from {', '.join(DATASETS)}")
    for g in args.generators:
        if g not in GENERATORS:
            p.error(f"unknown generator {g!r}; choose from {', '.join(GENERATORS)}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    t0 = time.perf_counter()
    run_fidelity(args)
    print(f"[{_now()}] done in {time.perf_counter() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
