"""Training-step and fit speed on the CPU and, when present, a CUDA GPU.

    python -m benchmarks.step_speed                 # CPU (one thread) and CUDA if available
    python -m benchmarks.step_speed --devices cuda --million   # add the 1,000,000-row fit and sample
    python -m benchmarks.step_speed --devices cpu --ops-only   # operator calls per step alone (seconds)

For each device it measures

* milliseconds per optimisation step at batch 500, 4,096 and 32,768 on 131,072
  rows drawn from Adult (the difference of a 3-epoch and a 1-epoch fit, so
  set-up costs cancel);
* operator calls per step: ``aten::`` calls at the top level (not inside another
  ``aten::`` call) and in all, and on CUDA the kernel launches (kernel and graph
  launches), each as (count in a 4-epoch fit - count in a 2-epoch fit) / 20 on
  5,000 Adult rows at batch 500, without early stopping (its validation pass is
  not part of the step);
* the default fit and a 26,048-row sample of Adult's benchmark training split;
* with ``--million``, the default fit of 1,000,000 rows (Adult's rows drawn with
  replacement) and sampling 1,000,000 rows.

It prints a table and writes ``benchmarks/results/step_speed_<device>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from tabvae import TabularVAE
from tabvae.datasets import load_adult

RESULTS = Path(__file__).parent / "results"
BATCHES = (500, 4_096, 32_768)


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _timed(fn, device: str) -> float:
    _sync(device)
    t0 = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - t0


def _fit(df, device: str, **params) -> TabularVAE:
    return TabularVAE(device=device, random_state=0, **params).fit(df)


def eager_and_graphed(df, device: str) -> dict:
    """Default fit with and without the CUDA graph: time, last loss, and sample hashes of two refits."""
    import hashlib

    import pandas as pd

    out = {}
    for name, graph in (("graphed", True), ("eager", False)):
        fits = []
        for _ in range(2):
            t = {}
            model = None

            def fit(graph=graph, t=t):
                nonlocal model
                model = _fit(df, device, config={"cuda_graph": graph})

            t["fit_s"] = _timed(fit, device)
            rows = pd.util.hash_pandas_object(model.sample(2_000, random_state=0), index=False).to_numpy()
            t["sample_hash"] = hashlib.sha256(rows.tobytes()).hexdigest()[:16]
            t["last_loss"] = model.history_["loss"][-1]
            fits.append(t)
        out[name] = {
            "fit_s": [f["fit_s"] for f in fits],
            "last_loss": fits[0]["last_loss"],
            "same_samples_on_refit": fits[0]["sample_hash"] == fits[1]["sample_hash"],
        }
    return out


def ms_per_step(df, device: str, batch_size: int) -> float:
    """(time of a 3-epoch fit - time of a 1-epoch fit) / the 2 epochs' steps, in ms."""
    steps_per_epoch = len(df) // batch_size if device == "cuda" else max(1, round(len(df) / batch_size))
    times = {e: _timed(lambda e=e: _fit(df, device, epochs=e, batch_size=batch_size), device) for e in (1, 3)}
    return 1000 * (times[3] - times[1]) / (2 * steps_per_epoch)


def operator_counts(df, device: str) -> dict:
    """Per-step aten calls (top-level and all) and, on CUDA, kernel and graph launches."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    counts = {}
    for epochs in (2, 4):
        with profile(activities=activities) as prof:
            _fit(df, device, epochs=epochs, batch_size=500, early_stopping=False)
        top = every = launches = 0
        for e in prof.events():
            if e.name.startswith("aten::"):
                every += 1
                parent = e.cpu_parent
                top += parent is None or not parent.name.startswith("aten::")
            elif e.name in ("cudaLaunchKernel", "cuLaunchKernel", "cudaGraphLaunch", "cudaLaunchKernelExC"):
                launches += 1
        counts[epochs] = (top, every, launches)
    steps = 2 * (len(df) // 500 if device == "cuda" else round(len(df) / 500))
    top, every, launches = ((counts[4][i] - counts[2][i]) / steps for i in range(3))
    return {
        "aten_top_level_per_step": top,
        "aten_all_per_step": every,
        "kernel_launches_per_step": launches if device == "cuda" else None,
    }


def fit_and_sample(df, device: str, n_sample: int) -> dict:
    model = None

    def fit():
        nonlocal model
        model = _fit(df, device)

    fit_s = _timed(fit, device)
    sample_s = _timed(lambda: model.sample(n_sample, random_state=0), device)
    return {
        "rows": len(df),
        "fit_s": round(fit_s, 3),
        "sample_rows": n_sample,
        "sample_s": round(sample_s, 3),
        "epochs": len(model.history_["loss"]),
    }


def adult_train():
    """Adult's 80 % training split, stratified on income (26,048 rows), from the bundled copy."""
    from sklearn.model_selection import train_test_split

    df = load_adult()
    return train_test_split(df, test_size=0.2, stratify=df["income"], random_state=0)[0].reset_index(drop=True)


def run(device: str, million: bool, ops_only: bool = False) -> dict:
    adult = adult_train()
    small = adult.iloc[:5_000]
    out = {
        "device": device,
        "machine": _machine(device),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    _fit(small, device, epochs=1)  # warm-up: CUDA context, lazy imports
    if ops_only:
        out["ops"] = operator_counts(small, device)
        return out
    rows = adult.sample(131_072, replace=True, random_state=0).reset_index(drop=True)
    out["ms_per_step"] = {str(b): round(ms_per_step(rows, device, b), 3) for b in BATCHES}
    out["ops"] = operator_counts(small, device)
    out["adult"] = fit_and_sample(adult, device, len(adult))
    if million:
        big = adult.sample(1_000_000, replace=True, random_state=0).reset_index(drop=True)
        out["million"] = fit_and_sample(big, device, 1_000_000)
    return out


def _machine(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s)"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--devices", default="cpu,cuda", help="comma-separated; cuda is skipped when absent")
    p.add_argument("--million", action="store_true", help="also fit and sample 1,000,000 rows")
    p.add_argument("--ops-only", action="store_true", help="only the operator calls per step (no JSON written)")
    p.add_argument("--cpu-threads", type=int, default=1)
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    torch.set_num_threads(args.cpu_threads)
    for device in args.devices.split(","):
        if device == "cuda" and not torch.cuda.is_available():
            print("no CUDA device: skipped")
            continue
        res = run(device, args.million, args.ops_only)
        print(json.dumps(res, indent=1))
        if not args.ops_only:
            path = Path(args.out) / f"step_speed_{device}.json"
            path.write_text(json.dumps(res, indent=1) + "\n")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
