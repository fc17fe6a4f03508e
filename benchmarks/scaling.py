"""How tabvae's fit time and memory scale with rows, columns, cardinality, and streamed sampling.

Run (on an otherwise idle machine)::

    python -m benchmarks.scaling            # ~8-10 minutes on 2 CPU cores
    python -m benchmarks.scaling --help

Tables are built from Adult (``adult.csv``, ``skipinitialspace=True,
na_values="?"``, 32,561 rows) by resampling its rows with replacement and
jittering every numeric column by multiplicative uniform noise of +-1 %
(integer columns rounded back to integers; categorical columns unchanged),
seeded, and written to parquet before any timing:

* **rows**: 10k, 20k, 100k and 1M rows x Adult's 15 columns;
  ``TabularVAE(epochs=2)``; seconds per epoch (each epoch timed on its own by
  wrapping ``tabvae.training.run_epoch``) and peak memory;
* **wide**: 20k rows x 200 columns (Adult's 15 columns 13 times over plus the
  first 5 a 14th time, each copy from its own resampling of the rows, names
  suffixed ``__k``), ``TabularVAE(epochs=2)``; compared with the 20k x 15 table;
* **high cardinality**: 1M rows, a categorical ``customer_id`` with 100,000
  distinct values (each value once, the other 900,000 rows drawn from a
  Zipf-like law ``p ~ 1 / (rank + 10)^1.1``) plus 5 Adult columns (age,
  workclass, education, hours-per-week, income); ``TabularVAE(epochs=1)``;
  fit time, the time to sample 100,000 rows, and peak memory;
* **streaming**: a ``TabularVAE(epochs=5, random_state=0)`` fitted on the 32,561
  Adult rows and saved with ``model.save``; fresh processes load it and write
  ``iter_samples(N, chunk_size=100_000)`` chunk by chunk with
  ``pyarrow.parquet.ParquetWriter`` for N = 1M and 10M; time, rows/s and
  peak memory.

Every measured fit or stream is a fresh Python process (``python -m
benchmarks.scaling --worker JOB``): peak memory is its own high-water mark
(``VmHWM``; ``ru_maxrss`` would include the parent's RSS at fork), given
after loading the table (or model) and after the work, so the difference is the
work's own memory.  Before each job the parent waits (polling every 30 s, at
most 20 minutes) until the 1-minute load average is at most 1.2 and under 10 %
of the CPU is busy over 5 s, and records it (see ``benchmarks.speed``).

Writes ``benchmarks/results/scaling.json`` and ``scaling.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .speed import (
    LOAD_MAX,
    RESULTS,
    PhaseTimer,
    current_rss_mb,
    instrument_tabvae,
    load_adult_csv,
    load_cell,
    machine_info,
    now,
    peak_rss_mb,
    quiet,
    run_worker,
    write_json,
)

SEED = 0
STREAM_CHUNK = 100_000


# --------------------------------------------------------------------------- tables


def perturbed(df, n: int, rng):
    """``n`` rows resampled from ``df`` with numeric columns jittered by +-1 % (integers rounded back)."""
    import numpy as np
    import pandas as pd

    idx = rng.integers(0, len(df), size=n)
    out = df.iloc[idx].reset_index(drop=True)
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            x = s.to_numpy(dtype=float) * (1 + rng.uniform(-0.01, 0.01, size=n))
            out[c] = np.round(x).astype(s.dtype) if pd.api.types.is_integer_dtype(s) else x
    return out


def build_tables(folder: Path, sizes: list[int], skip=(), hc_rows=1_000_000, hc_ids=100_000, log=print) -> dict:
    import numpy as np
    import pandas as pd

    adult = load_adult_csv()
    rng = np.random.default_rng(SEED)
    paths = {}
    for n in sizes:
        p = folder / f"rows_{n}.parquet"
        perturbed(adult, n, rng).to_parquet(p, index=False)
        paths[f"rows_{n}"] = p
    if "wide" not in skip:  # 20k rows x 200 columns
        parts, k = [], 0
        while sum(len(x.columns) for x in parts) < 200:
            part = perturbed(adult, 20_000, rng)
            part.columns = [f"{c}__{k}" for c in part.columns]
            parts.append(part)
            k += 1
        wide = pd.concat(parts, axis=1).iloc[:, :200]
        p = folder / "wide_200.parquet"
        wide.to_parquet(p, index=False)
        paths["wide_200"] = p
    if "highcard" not in skip:
        paths["highcard_1m"] = _highcard(adult, folder, hc_rows, hc_ids, rng)
    log(
        f"  tables written to {folder}: "
        + ", ".join(f"{k} {v.stat().st_size / 2**20:.1f} MB" for k, v in paths.items())
    )
    return paths


def _highcard(adult, folder: Path, n: int, n_ids: int, rng) -> Path:
    """n rows: a categorical customer_id with n_ids distinct values + 5 Adult columns."""
    import numpy as np

    base = perturbed(adult, n, rng)[["age", "workclass", "education", "hours-per-week", "income"]]
    w = 1.0 / (np.arange(n_ids) + 10.0) ** 1.1
    ids = np.concatenate([rng.permutation(n_ids), rng.choice(n_ids, size=n - n_ids, p=w / w.sum())])
    rng.shuffle(ids)
    names = np.asarray([f"C{i:06d}" for i in range(n_ids)], dtype=object)
    hc = base.copy()
    hc.insert(0, "customer_id", names[ids])
    p = folder / "highcard_1m.parquet"
    hc.to_parquet(p, index=False)
    return p


# --------------------------------------------------------------------------- worker


def _fit_job(job: dict, res: dict) -> None:
    import pandas as pd

    import tabvae.training as training
    from tabvae import TabularVAE

    timer = PhaseTimer()
    instrument_tabvae(timer)
    epoch_times = []
    orig = training.run_epoch

    def timed_epoch(*a, **k):
        t0 = time.perf_counter()
        out = orig(*a, **k)
        out = out.cpu()  # run_epoch returns a device tensor; CPU work is already done here
        epoch_times.append(time.perf_counter() - t0)
        return out

    training.run_epoch = timed_epoch
    t0 = time.perf_counter()
    df = pd.read_parquet(job["table"])
    res["load_s"] = time.perf_counter() - t0
    res["shape"] = list(df.shape)
    res["rss_after_load_mb"] = peak_rss_mb()
    model = TabularVAE(epochs=int(job["epochs"]), random_state=SEED, **job.get("params", {}))
    t0 = time.perf_counter()
    model.fit(df)
    fit_s = time.perf_counter() - t0
    pre = timer.t.get("schema", 0) + timer.t.get("encoder_fit", 0) + timer.t.get("encoder_transform", 0)
    lay = model.encoder_.layout_
    res.update(
        fit_total_s=fit_s,
        preprocessing_s=pre,
        training_s=fit_s - pre,
        train_call_s=timer.t.get("train", 0.0),
        epoch_s=epoch_times,
        s_per_epoch=sum(epoch_times) / len(epoch_times),
        s_per_epoch_by_difference=(fit_s - pre) / int(job["epochs"]),
        detail=dict(timer.t),
        n_continuous=lay.n_continuous,
        n_network_inputs=lay.n_continuous + sum(lay.cardinalities),
        kinds={k: sum(1 for s in model.schema_ if s.kind == k) for k in {s.kind for s in model.schema_}},
        rss_after_fit_mb=peak_rss_mb(),
    )
    if job.get("n_sample"):
        t0 = time.perf_counter()
        synth = model.sample(int(job["n_sample"]), random_state=SEED)
        res["sample_s"] = time.perf_counter() - t0
        res["n_sample"] = int(job["n_sample"])
        if "customer_id" in synth:
            real_share = df["customer_id"].value_counts(normalize=True)
            res["sample_distinct_customer_id"] = int(synth["customer_id"].nunique())
            res["real_top10_share"] = float(real_share.iloc[:10].sum())
            res["sample_top10_share"] = float(synth["customer_id"].value_counts(normalize=True).iloc[:10].sum())
        res["rss_after_sample_mb"] = peak_rss_mb()


def _stream_job(job: dict, res: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    import tabvae

    t0 = time.perf_counter()
    model = tabvae.load(job["model"])
    res["load_s"] = time.perf_counter() - t0
    res["rss_after_load_mb"] = peak_rss_mb()
    n, path = int(job["n_rows"]), Path(job["out_file"])
    gen_s = write_s = 0.0
    rows, writer, rss_trace = 0, None, []
    t_all = time.perf_counter()
    it = model.iter_samples(n, chunk_size=int(job["chunk_size"]), random_state=SEED)
    while True:
        t0 = time.perf_counter()
        chunk = next(it, None)
        gen_s += time.perf_counter() - t0
        if chunk is None:
            break
        t0 = time.perf_counter()
        table = pa.Table.from_pandas(chunk, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        write_s += time.perf_counter() - t0
        rows += len(chunk)
        if rows % 1_000_000 == 0:
            rss_trace.append([rows, round(peak_rss_mb(), 1), round(current_rss_mb() or 0, 1)])
        del chunk, table
    writer.close()
    total = time.perf_counter() - t_all
    res.update(
        n_rows=rows,
        chunk_size=int(job["chunk_size"]),
        total_s=total,
        generate_s=gen_s,
        write_s=write_s,
        rows_per_s=rows / total,
        file_mb=path.stat().st_size / 2**20,
        rss_trace_rows_peak_current_mb=rss_trace,
        rss_after_stream_mb=peak_rss_mb(),
    )
    path.unlink()


def _fit_stream_model(job: dict, res: dict) -> None:
    from tabvae import TabularVAE

    df = load_adult_csv()
    t0 = time.perf_counter()
    model = TabularVAE(epochs=int(job["epochs"]), random_state=SEED).fit(df)
    res["fit_s"] = time.perf_counter() - t0
    model.save(job["model"])
    res["n_train"] = len(df)


def worker(job: dict) -> None:
    quiet()
    import torch

    res = {"job": job, "started_at": now(), "torch_threads": torch.get_num_threads(), "status": "running"}
    {"fit": _fit_job, "stream": _stream_job, "fit_stream_model": _fit_stream_model}[job["kind"]](job, res)
    res["peak_rss_mb"] = peak_rss_mb()
    res["status"] = "ok"
    res["finished_at"] = now()
    write_json(Path(job["result_file"]), res)


# --------------------------------------------------------------------------- report


def _ok(r):
    return isinstance(r, dict) and r.get("status") == "ok"


def _ratio(a, b):
    return a / b if a and b else None


def summarise(results: dict) -> dict:
    s = {}
    rows = {k: v for k, v in results.items() if k.startswith("rows_") and _ok(v)}
    order = sorted(rows, key=lambda k: int(k.split("_")[1]))
    steps = []
    for a, b in zip(order, order[1:]):
        ra, rb = rows[a], rows[b]
        na, nb = ra["shape"][0], rb["shape"][0]
        steps.append(
            {
                "from": a,
                "to": b,
                "rows_ratio": nb / na,
                "s_per_epoch_ratio": _ratio(rb["s_per_epoch"], ra["s_per_epoch"]),
                "preprocessing_ratio": _ratio(rb["preprocessing_s"], ra["preprocessing_s"]),
                "peak_rss_ratio": _ratio(rb["peak_rss_mb"], ra["peak_rss_mb"]),
                "fit_memory_delta_ratio": _ratio(
                    rb["peak_rss_mb"] - rb["rss_after_load_mb"], ra["peak_rss_mb"] - ra["rss_after_load_mb"]
                ),
            }
        )
    s["rows_steps"] = steps
    if order:
        first, last = rows[order[0]], rows[order[-1]]
        s["rows_overall"] = {
            "from": order[0],
            "to": order[-1],
            "rows_ratio": last["shape"][0] / first["shape"][0],
            "s_per_epoch_ratio": _ratio(last["s_per_epoch"], first["s_per_epoch"]),
            "us_per_row_epoch": {k: 1e6 * rows[k]["s_per_epoch"] / rows[k]["shape"][0] for k in order},
        }
    w, n20 = results.get("wide_200"), results.get("rows_20000")
    if _ok(w) and _ok(n20):
        s["wide_vs_narrow_20k"] = {
            "columns_ratio": w["shape"][1] / n20["shape"][1],
            "network_inputs_ratio": w["n_network_inputs"] / n20["n_network_inputs"],
            "s_per_epoch_ratio": _ratio(w["s_per_epoch"], n20["s_per_epoch"]),
            "preprocessing_ratio": _ratio(w["preprocessing_s"], n20["preprocessing_s"]),
            "fit_memory_delta_ratio": _ratio(
                w["peak_rss_mb"] - w["rss_after_load_mb"], n20["peak_rss_mb"] - n20["rss_after_load_mb"]
            ),
        }
    s1, s10 = results.get("stream_1000000"), results.get("stream_10000000")
    if _ok(s1) and _ok(s10):
        s["stream_10m_vs_1m"] = {
            "rows_ratio": s10["n_rows"] / s1["n_rows"],
            "time_ratio": s10["total_s"] / s1["total_s"],
            "peak_rss_ratio": s10["peak_rss_mb"] / s1["peak_rss_mb"],
            "stream_memory_delta_mb": {
                "1M": s1["peak_rss_mb"] - s1["rss_after_load_mb"],
                "10M": s10["peak_rss_mb"] - s10["rss_after_load_mb"],
            },
        }
    return s


def _f(x, nd=2):
    return "—" if x is None else f"{x:,.{nd}f}"


def write_markdown(doc: dict, path: Path) -> None:
    m, R, S = doc["machine"], doc["results"], doc["summary"]
    L = [
        "# Scaling of tabvae's `TabularVAE` (CPU)",
        "",
        f"Command: `{doc['command']}` — started {doc['started_at']}, finished {doc.get('finished_at')}.",
        "",
        f"Machine: {m.get('cpu_model')}, {m.get('cpu_affinity')} CPU cores, {m.get('memory_gb')} GB RAM, no GPU; "
        f"torch {m['versions'].get('torch')} with its default {m.get('torch_default_threads')} threads; "
        f"tabvae {m['versions'].get('tabvae')} (git {str(m.get('git_commit'))[:10]}"
        f"{', tabvae/ modified' if m.get('tabvae_dirty') else ''}).",
        "",
        "Tables: Adult rows resampled with replacement, numeric columns jittered by ±1 % (integers rounded "
        "back); see the module docstring of `benchmarks/scaling.py`. Every job is a fresh process, started "
        f"only when the 1-minute load average was ≤ {LOAD_MAX} and under 10 % of the CPU was busy over 5 s "
        "(runs where other processes used > 15 % of the CPU were re-run once); memory is that process's peak RSS "
        "(high-water mark `VmHWM`) after loading the table and at the end (Δ = the work's own memory). "
        "s/epoch is the mean of the epochs, each timed on its own (batch size 500).",
        "",
        "## Fit",
        "",
        "| table | rows × cols | network inputs | epochs | preprocessing (s) | s / epoch (each epoch) "
        "| ms / step | fit total (s) "
        "| RSS after load (MB) | peak RSS (MB) | Δ (MB) | load avg / other CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in [k for k in R if not k.startswith("stream") and k != "stream_model"]:
        r = R[key]
        if not _ok(r):
            L.append(f"| {key} | failed | | | | | | | | | | |")
            continue
        ep = ", ".join(f"{x:.2f}" for x in r["epoch_s"])
        L.append(
            f"| {key} | {r['shape'][0]:,} × {r['shape'][1]} | {r['n_network_inputs']:,} | {len(r['epoch_s'])} | "
            f"{_f(r['preprocessing_s'])} | {_f(r['s_per_epoch'])} ({ep}) | "
            f"{_f(1000 * r['s_per_epoch'] / max(1, round(r['shape'][0] / 500)))} | {_f(r['fit_total_s'])} | "
            f"{_f(r['rss_after_load_mb'], 0)} | {_f(r['peak_rss_mb'], 0)} | "
            f"{_f(r['peak_rss_mb'] - r['rss_after_load_mb'], 0)} | {load_cell(r)} |"
        )
    hc = R.get("highcard_1m")
    if _ok(hc) and hc.get("sample_s") is not None:
        L += [
            "",
            f"High cardinality: peak RSS after fit {_f(hc['rss_after_fit_mb'], 0)} MB "
            f"(Δ {_f(hc['rss_after_fit_mb'] - hc['rss_after_load_mb'], 0)} MB; the peak in the table is after "
            f"also sampling); sampling {hc['n_sample']:,} rows took {_f(hc['sample_s'])} s and raised the "
            f"peak to {_f(hc['rss_after_sample_mb'], 0)} MB; "
            f"{hc.get('sample_distinct_customer_id', 0):,} distinct `customer_id` values in the sample "
            f"(top-10 ids: {100 * hc.get('real_top10_share', 0):.1f} % of real rows, "
            f"{100 * hc.get('sample_top10_share', 0):.1f} % of sampled rows).",
        ]
    steps = S.get("rows_steps", [])
    if steps:
        L += [
            "",
            "### Growth with rows",
            "",
            "| step | rows × | s/epoch × | preprocessing × | peak RSS × | Δ memory × |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for st in steps:
            L.append(
                f"| {st['from']} → {st['to']} | {st['rows_ratio']:.1f} | {_f(st['s_per_epoch_ratio'])} | "
                f"{_f(st['preprocessing_ratio'])} | {_f(st['peak_rss_ratio'])} | "
                f"{_f(st['fit_memory_delta_ratio'])} |"
            )
        ov = S.get("rows_overall")
        if ov:
            L += [
                "",
                "µs per row per epoch: " + ", ".join(f"{k} {v:.1f}" for k, v in ov["us_per_row_epoch"].items()) + ".",
            ]
    wv = S.get("wide_vs_narrow_20k")
    if wv:
        L += [
            "",
            f"Wide vs narrow at 20k rows: {wv['columns_ratio']:.1f}× the columns "
            f"({wv['network_inputs_ratio']:.1f}× the network inputs) costs {_f(wv['s_per_epoch_ratio'])}× "
            f"the time per epoch, {_f(wv['preprocessing_ratio'])}× the preprocessing and "
            f"{_f(wv['fit_memory_delta_ratio'])}× the fit's own memory (Δ).",
        ]
    L += [
        "",
        "## Streaming sampling (`iter_samples` → `ParquetWriter`)",
        "",
        f"Model: `TabularVAE(epochs={doc['settings']['stream_model_epochs']}, random_state=0)` fitted on Adult's "
        f"32,561 rows, saved and loaded in each fresh process; chunks of {STREAM_CHUNK:,} rows.",
        "",
        "| rows | total (s) | generating (s) | parquet writing (s) | rows/s | file (MB) | RSS after model load (MB) "
        "| peak RSS (MB) | Δ (MB) | load avg / other CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in [k for k in R if k.startswith("stream_") and k != "stream_model"]:
        r = R[key]
        if not _ok(r):
            L.append(f"| {key} | failed | | | | | | | | |")
            continue
        L.append(
            f"| {r['n_rows']:,} | {_f(r['total_s'], 1)} | {_f(r['generate_s'], 1)} | {_f(r['write_s'], 1)} | "
            f"{r['rows_per_s']:,.0f} | {_f(r['file_mb'], 0)} | {_f(r['rss_after_load_mb'], 0)} | "
            f"{_f(r['peak_rss_mb'], 0)} | {_f(r['peak_rss_mb'] - r['rss_after_load_mb'], 0)} | "
            f"{load_cell(r)} |"
        )
    big = R.get("stream_10000000")
    if _ok(big) and big.get("rss_trace_rows_peak_current_mb"):
        L += [
            "",
            "Current RSS (MB) of the 10M-row stream after every million rows: "
            + ", ".join(f"{int(t[0] / 1e6)}M {t[2]:.0f}" for t in big["rss_trace_rows_peak_current_mb"])
            + ".",
        ]
    sv = S.get("stream_10m_vs_1m")
    if sv:
        L += [
            "",
            f"10M vs 1M rows: {sv['rows_ratio']:.0f}× the rows, {sv['time_ratio']:.2f}× the time, "
            f"{sv['peak_rss_ratio']:.2f}× the peak RSS (streaming's own memory "
            f"{sv['stream_memory_delta_mb']['1M']:.0f} MB vs {sv['stream_memory_delta_mb']['10M']:.0f} MB).",
        ]
    if doc.get("conclusions"):
        L += ["", "## Conclusions", ""] + [f"* {c}" for c in doc["conclusions"]]
    if doc.get("notes"):
        L += ["", "## Notes", ""] + [f"* {n}" for n in doc["notes"]]
    path.write_text("\n".join(L) + "\n")


def conclusions(doc: dict) -> list[str]:
    S, out = doc["summary"], []
    ov = S.get("rows_overall")
    if ov:
        steps = S["rows_steps"]
        txt = "; ".join(
            f"{st['from']}→{st['to']}: rows ×{st['rows_ratio']:.0f}, s/epoch ×{_f(st['s_per_epoch_ratio'])}, "
            f"Δ memory ×{_f(st['fit_memory_delta_ratio'])}"
            for st in steps
        )
        lin = ov["s_per_epoch_ratio"] / ov["rows_ratio"] if ov["s_per_epoch_ratio"] else None
        verdict = (
            "grows about linearly"
            if lin and 0.7 <= lin <= 1.3
            else "grows faster than linearly"
            if lin and lin > 1.3
            else "grows slower than linearly"
        )
        out.append(
            f"Time per epoch {verdict} with "
            f"rows: {ov['from']}→{ov['to']} is ×{ov['rows_ratio']:.0f} rows and ×{_f(ov['s_per_epoch_ratio'])} "
            f"s/epoch (ratio/rows = {_f(lin)}) ({txt})."
        )
    R = doc["results"]
    rows = sorted((k for k in R if k.startswith("rows_") and _ok(R[k])), key=lambda k: int(k.split("_")[1]))
    if len(rows) >= 2:
        a, b = R[rows[0]], R[rows[-1]]
        da, db = a["peak_rss_mb"] - a["rss_after_load_mb"], b["peak_rss_mb"] - b["rss_after_load_mb"]
        slope = (db - da) * 2**20 / (b["shape"][0] - a["shape"][0])
        out.append(
            f"Fit memory (Δ over the loaded table) is a fixed ~{da:.0f} MB (torch, model, optimizer) plus "
            f"a part linear in rows: {slope:.0f} bytes per row from {rows[0]} to {rows[-1]} "
            f"(Δ {da:.0f} → {db:.0f} MB); the DataFrame itself (RSS after load) grows linearly as well."
        )
    wv = S.get("wide_vs_narrow_20k")
    if wv:
        out.append(
            f"Columns: {wv['columns_ratio']:.1f}× the columns costs {_f(wv['s_per_epoch_ratio'])}× the "
            "time per epoch (sub-linear: the (128, 128) hidden layers dominate until the input/output "
            f"layers get wide) and {_f(wv['preprocessing_ratio'])}× the preprocessing (linear in columns)."
        )
    sv = S.get("stream_10m_vs_1m")
    if sv:
        out.append(
            f"Streaming: 10× the rows takes {sv['time_ratio']:.2f}× the time at a flat peak RSS "
            f"({sv['peak_rss_ratio']:.2f}×): memory is bounded by the chunk, not by the number of rows."
        )
    return out


NOTES = [
    "'other CPU' = share of the machine's CPU time (machine-wide busy time from /proc/stat minus the job's "
    "own CPU time) used by other processes while the job ran; near 0 % means the timing was not disturbed.",
    "tabvae keeps the whole encoded table as a float32/int64 tensor in memory (`training.Data`) and draws "
    "batches by index, so fit memory grows linearly with rows by design; only sampling streams.",
    "Time per epoch: each call of `tabvae.training.run_epoch` is timed (the worker wraps it; the library is "
    "not changed). Preprocessing = `infer_schema` + `TableEncoder.fit` + `TableEncoder.transform`, timed "
    "inside `fit` the same way.",
]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="10000,20000,100000,1000000", help="row counts of the rows series")
    p.add_argument("--stream", default="1000000,10000000", help="row counts streamed to parquet")
    p.add_argument("--stream-model-epochs", type=int, default=5)
    p.add_argument("--highcard-rows", type=int, default=1_000_000)
    p.add_argument("--highcard-ids", type=int, default=100_000)
    p.add_argument("--skip", default="", help="comma list among rows,wide,highcard,stream")
    p.add_argument("--params", default="{}", help="JSON dict of TabularVAE parameters for the rows/wide/highcard fits")
    p.add_argument(
        "--wide-sample",
        type=int,
        default=0,
        help="also time sampling this many rows after the 20k x 15 and 20k x 200 fits (0: no)",
    )
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--tag", default="")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return
    skip = set(filter(None, args.skip.split(",")))
    sizes = [int(x) for x in args.sizes.split(",") if x]
    out = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix="tabvae_scaling_"))
    json_path, md_path = out / f"scaling{args.tag}.json", out / f"scaling{args.tag}.md"
    cmd = "python -m benchmarks.scaling " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    doc = {
        "kind": "scaling",
        "command": cmd.strip(),
        "started_at": now(),
        "machine": machine_info(),
        "settings": {
            "sizes": sizes,
            "highcard_rows": args.highcard_rows,
            "highcard_ids": args.highcard_ids,
            "stream": args.stream,
            "stream_chunk": STREAM_CHUNK,
            "seed": SEED,
            "stream_model_epochs": args.stream_model_epochs,
            "batch_size": 500,
            "load_average_max": LOAD_MAX,
        },
        "results": {},
        "notes": NOTES,
    }

    def save():
        doc["summary"] = summarise(doc["results"])
        doc["conclusions"] = conclusions(doc)
        write_json(json_path, doc)
        write_markdown(doc, md_path)

    try:
        t0 = time.perf_counter()
        tables = build_tables(
            work, sizes if "rows" not in skip else [20_000], skip, args.highcard_rows, args.highcard_ids
        )
        doc["table_build_s"] = time.perf_counter() - t0
        jobs = []
        if "rows" not in skip:
            jobs += [(f"rows_{n}", {"kind": "fit", "table": str(tables[f"rows_{n}"]), "epochs": 2}) for n in sizes]
        if "wide" not in skip:
            sample = {"n_sample": args.wide_sample} if args.wide_sample else {}
            if "rows" in skip:
                jobs.append(("rows_20000", {"kind": "fit", "table": str(tables["rows_20000"]), "epochs": 2, **sample}))
            jobs.append(("wide_200", {"kind": "fit", "table": str(tables["wide_200"]), "epochs": 2, **sample}))
        if "highcard" not in skip:
            jobs.append(
                ("highcard_1m", {"kind": "fit", "table": str(tables["highcard_1m"]), "epochs": 1, "n_sample": 100_000})
            )
        params = json.loads(args.params)
        doc["settings"]["params"] = params
        for name, job in jobs:
            job.update(name=name, result_file=str(work / f"{name}.json"), params=params)
            doc["results"][name] = run_worker("benchmarks.scaling", job)
            save()
        if "stream" not in skip:
            model = work / "stream_model.tabvae"
            job = {
                "name": "stream_model",
                "kind": "fit_stream_model",
                "epochs": args.stream_model_epochs,
                "model": str(model),
                "result_file": str(work / "stream_model.json"),
            }
            doc["results"]["stream_model"] = run_worker("benchmarks.scaling", job)
            for n in [int(x) for x in args.stream.split(",") if x]:
                job = {
                    "name": f"stream_{n}",
                    "kind": "stream",
                    "model": str(model),
                    "n_rows": n,
                    "chunk_size": STREAM_CHUNK,
                    "out_file": str(work / f"stream_{n}.parquet"),
                    "result_file": str(work / f"stream_{n}.json"),
                }
                doc["results"][f"stream_{n}"] = run_worker("benchmarks.scaling", job)
                save()
    finally:
        doc["finished_at"] = now()
        save()
        shutil.rmtree(work, ignore_errors=True)
    print(md_path.read_text())


if __name__ == "__main__":
    main()
