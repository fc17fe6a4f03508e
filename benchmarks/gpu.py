"""Fit and sample times on a CUDA GPU, and the samples to score, for tabvae and TVAE.

Two steps, because a GPU machine may lack the evaluation packages (sdmetrics)::

    python -m benchmarks.gpu run --out DIR        # on the GPU machine: fit, time, write samples
    python -m benchmarks.gpu evaluate DIR --write scored.jsonl   # with tabvae[eval]: score them as benchmarks.run does
    python -m benchmarks.gpu report scored.jsonl  # the markdown table of benchmarks/README.md, "GPU"

``run`` uses the benchmark's splits (``benchmarks.run.split``, 10,000 training rows) and
writes ``DIR/timings.jsonl`` (one line per job, flushed as it goes, so a run cut short
keeps what it finished) and ``DIR/samples/<dataset>__<job>__seed<k>.parquet``.

Jobs, in the order they run (``--jobs`` picks a subset):

* ``tabvae``: ``TabularVAE(random_state=seed)`` with its defaults, on the GPU.
* ``tabvae_rerun``: the same fit again, in this or a later ``run`` writing to the same
  file, to check that a seed gives the same samples on the same device (sample hashes
  compared in the record).
* ``tvae``: SDV's ``TVAESynthesizer(enable_gpu=True)`` with its defaults (300 epochs,
  batch 500), fitted and seeded as in ``benchmarks.run``.
* ``tabvae_bf16`` / ``tabvae_compile``: the ``config={"precision": "bf16"}`` and ``config={"compile": True}`` options.
* ``tabvae_cpu``: the defaults on this machine's CPU with one torch thread (the CPU
  benchmark's protocol), to relate the GPU figures to the CPU ones.

The jobs of one ``run`` share its process, after a CUDA warm-up whose time is recorded
apart, so the figures leave out the one-off CUDA context creation a user's first fit pays.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
import traceback
import warnings
from pathlib import Path

import pandas as pd

from .run import DATASETS, _csv, load_dataset, machine_info, split

JOBS = ["tabvae", "tabvae_rerun", "tvae", "tabvae_bf16", "tabvae_compile", "tabvae_cpu"]
TABVAE_PARAMS = {
    "tabvae": {},
    "tabvae_rerun": {},
    "tabvae_bf16": {"config": {"precision": "bf16"}},
    "tabvae_compile": {"config": {"compile": True}},
    "tabvae_cpu": {"device": "cpu"},
}


def _hash(df: pd.DataFrame) -> str:
    """Hash of the rows in order (the files of the H200 run used an order-blind sum of row hashes)."""
    rows = pd.util.hash_pandas_object(df, index=False).to_numpy()
    return hashlib.sha256(rows.tobytes()).hexdigest()[:16]


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def fit_tabvae(train, seed, params):
    import torch

    from tabvae import TabularVAE

    threads = torch.get_num_threads()
    if params.get("device") == "cpu":
        torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        model = TabularVAE(random_state=seed, **params).fit(train)
        _sync()
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        synthetic = model.sample(len(train), random_state=seed)
        _sync()
        sample_s = time.perf_counter() - t0
        again = model.sample(len(train), random_state=seed)
    finally:
        torch.set_num_threads(threads)
    info = {
        "device": str(model.device_),
        "epochs": len(model.history_["loss"]),
        "resample_identical": _hash(again) == _hash(synthetic),
    }
    return synthetic, fit_s, sample_s, info


def fit_tvae(train, seed):
    """SDV's ``TVAESynthesizer`` with ``enable_gpu=True``, fitted and seeded as in ``benchmarks.run``."""
    from tabvae.schema import infer_schema

    from .generators import make_generator

    gen = make_generator("sdv_tvae", enable_gpu=True)
    gen.warmup()
    t0 = time.perf_counter()
    gen.fit(train, infer_schema(train, warn=False), seed)
    _sync()
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synthetic = gen.sample(len(train), seed)
    _sync()
    info = gen.info()
    return synthetic, fit_s, time.perf_counter() - t0, {"epochs": info["epochs_used"], "sdv": info["version"]}


def run(args) -> None:
    import torch

    out = Path(args.out)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    path = out / "timings.jsonl"
    # Hashes of earlier ``tabvae`` fits, also from an earlier call writing to the same file.
    first_hash = {
        (r["dataset"], r["seed"]): r["sample_hash"]
        for r in _records(path)
        if r.get("job") == "tabvae" and r.get("status") == "ok"
    }
    log = path.open("a")
    t0 = time.perf_counter()
    if torch.cuda.is_available():
        torch.zeros(1, device="cuda").sum().item()  # CUDA context and allocator, once
    warm_s = time.perf_counter() - t0
    info = machine_info(("tabvae", "torch", "numpy", "pandas", "scikit-learn", "sdv", "ctgan", "rdt"))
    info["cuda_warmup_s"] = warm_s
    log.write(json.dumps({"kind": "machine", **info}) + "\n")
    log.flush()
    for job in args.jobs:
        for dataset in args.datasets:
            for k in range(args.seeds):
                record = {"kind": "job", "job": job, "dataset": dataset, "seed": k}
                try:
                    df, target, task = load_dataset(dataset)
                    train, _ = split(df, target, task, k, args.max_train)
                    if job == "tvae":
                        syn, fit_s, sample_s, extra = fit_tvae(train, k)
                    else:
                        syn, fit_s, sample_s, extra = fit_tabvae(train, k, TABVAE_PARAMS[job])
                    h = _hash(syn)
                    if job == "tabvae":
                        first_hash[(dataset, k)] = h
                    if job == "tabvae_rerun" and (dataset, k) in first_hash:
                        extra["same_as_first_fit"] = h == first_hash[(dataset, k)]
                    syn.to_parquet(out / "samples" / f"{dataset}__{job}__seed{k}.parquet")
                    record.update(
                        status="ok", n_train=len(train), fit_s=fit_s, sample_s=sample_s, sample_hash=h, **extra
                    )
                except Exception as e:  # keep going; the record says what broke
                    record.update(status="error", error=f"{type(e).__name__}: {e}", traceback=traceback.format_exc())
                log.write(json.dumps(record) + "\n")
                log.flush()
                brief = {k_: record.get(k_) for k_ in ("fit_s", "sample_s", "same_as_first_fit", "error")}
                print(job, dataset, k, record["status"], brief, flush=True)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def evaluate(args) -> None:
    from tabvae import evaluate as score
    from tabvae.schema import infer_schema

    src = Path(args.dir)
    out = []
    for r in _records(src / "timings.jsonl"):
        if r.get("kind") != "job" or r.get("status") != "ok":
            continue
        path = src / "samples" / f"{r['dataset']}__{r['job']}__seed{r['seed']}.parquet"
        df, target, task = load_dataset(r["dataset"])
        train, test = split(df, target, task, r["seed"], args.max_train)
        synthetic = pd.read_parquet(path)
        report = score(
            train,
            synthetic,
            target=target,
            task=task,
            holdout=test,
            random_state=r["seed"],
            max_rows=20000,
            metadata=infer_schema(train, warn=False),
        )
        r = {**r, "scores": report.to_dict()["scores"]}
        out.append(r)
        s = r["scores"]
        print(
            f"{r['dataset']:18s} {r['job']:15s} fit {r['fit_s']:6.1f}s  shapes {s['column_shapes']:.3f}  "
            f"trends {s['column_pair_trends']:.3f}  det {s['detection_auc']:.3f}",
            flush=True,
        )
    Path(args.write).write_text("".join(json.dumps(r) + "\n" for r in out))


def report(args) -> None:
    """Markdown table of a scored run (``evaluate --write``)."""
    rows = [json.loads(line) for line in Path(args.scored).read_text().splitlines()]
    print(
        "| data set | job | device | fit s | sample s | shapes | trends | LogisticDetection "
        "| TSTR gap | closer-to-train | same samples on refit |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["scores"]
        gap = (s["trtr_roc_auc"] - s["tstr_roc_auc"]) if "trtr_roc_auc" in s else (s["trtr_r2"] - s["tstr_r2"])
        same = {True: "yes", False: "no"}.get(r.get("same_as_first_fit"), "")
        print(
            f"| {r['dataset']} | {r['job']} | {r.get('device', 'cuda')} | {r['fit_s']:.1f} | {r['sample_s']:.2f} "
            f"| {s['column_shapes']:.3f} | {s['column_pair_trends']:.3f} | {s['logistic_detection']:.3f} "
            f"| {gap:.3f} | {s['closer_to_train_share']:.3f} | {same} |"
        )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="fit and sample on the GPU")
    r.add_argument("--out", required=True)
    r.add_argument("--datasets", type=_csv, default=list(DATASETS))
    r.add_argument("--jobs", type=_csv, default=JOBS, help=f"subset of {','.join(JOBS)}")
    r.add_argument("--seeds", type=int, default=1)
    r.add_argument("--max-train", type=int, default=10_000)
    e = sub.add_parser("evaluate", help="score the samples of a run")
    e.add_argument("dir")
    e.add_argument("--max-train", type=int, default=10_000)
    e.add_argument("--write", required=True, help="JSON-lines file for the records with scores")
    p = sub.add_parser("report", help="markdown table of a scored run")
    p.add_argument("scored", help="the JSON-lines file evaluate wrote")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    {"run": run, "evaluate": evaluate, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
