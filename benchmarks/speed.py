"""Speed and memory of tabvae's ``TabularVAE`` against ctgan's ``TVAE`` on Adult.

Run (on an otherwise idle machine)::

    python -m benchmarks.speed              # ~10-12 minutes on 2 CPU cores
    python -m benchmarks.speed --help

Data: the 80 % training split of Adult (``/work/shared/data/adult.csv`` or
``$TABVAE_DATA/adult.csv``, read with ``skipinitialspace=True, na_values="?"``;
stratified on ``income``, ``random_state=0``; 26,048 rows x 15 columns) -- the
split ``benchmarks.run`` uses for seed index 0, without ``--max-train``.

Two parts, written to ``benchmarks/results/speed.json`` and ``speed.md``:

(a) **Equal settings**: both generators with the same epochs (30) and batch
    size (500), once with ``torch.set_num_threads(1)`` and once with 2
    threads.  Per phase wall time:

    * preprocessing -- tabvae: ``infer_schema`` + ``TableEncoder.fit`` +
      ``TableEncoder.transform``; TVAE: ``DataTransformer.fit`` + ``transform``.
      Both are timed *inside* the real ``fit`` call: the worker process wraps
      the very classes/functions ``fit`` uses (``tabvae.estimator.infer_schema``,
      ``tabvae.estimator.TableEncoder``, ``tabvae.estimator.train``,
      ``ctgan.synthesizers.tvae.DataTransformer``) with timers, so nothing is
      run twice and no library file is changed;
    * training -- ``fit`` total minus preprocessing (for tabvae the time of
      ``training.train`` alone is reported as well);
    * sampling of 100,000 rows (``sample(100_000)``).

(b) **Defaults vs defaults**: ``TabularVAE(random_state=0)`` (``epochs="auto"``)
    against ``TVAE()`` (300 epochs), torch's default thread count; each
    samples as many rows as the training split has and is scored with
    ``tabvae.evaluate(train, synthetic, random_state=0)``.

Every generator run happens in a fresh Python process (``python -m
benchmarks.speed --worker JOB``), so its peak resident memory is that
process's own high-water mark (``VmHWM`` of /proc/self/status; ``ru_maxrss``
would include the parent's RSS at fork) reported after imports + data loading,
after fit and after sampling.  ctgan's ``DataTransformer.transform`` runs its columns in
joblib (loky) worker processes, whose memory the main process's peak does not
see; a sampler thread (every 0.2 s) also records the peak summed RSS of
the whole process tree (``tree_peak_rss_mb``).

Timings are only meaningful on an idle machine: before each job the parent
waits (polling every 30 s, at most 20 minutes) until the 1-minute load average
is at most 1.2 *and* under 10 % of the CPU is busy over a 5-s window, and
records the load average at the start and end of the job and the CPU time other
processes used while it ran (a job where they used more than 15 % of the CPU
is run again, once).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from .run import machine_info as _machine_info

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
LOAD_MAX = 1.2
LOAD_POLL_S = 30
LOAD_WAIT_MAX_S = 20 * 60
BUSY_MAX = 0.10  # share of all cores busy in the 5 s before a job
CONTENDED = 0.15  # a job during which other processes used more than this share of the CPU is re-run once


# --------------------------------------------------------------------------- shared helpers
# (also used by benchmarks.scaling)


def data_path(name: str = "adult.csv") -> Path:
    base = os.environ.get("TABVAE_DATA")
    if base:
        return Path(base) / name
    for cand in (REPO.parent / "shared" / "data", Path("/work/shared/data")):
        if (cand / name).exists():
            return cand / name
    return Path("/work/shared/data") / name


def load_adult_csv():
    import pandas as pd

    return pd.read_csv(data_path("adult.csv"), skipinitialspace=True, na_values="?")


def adult_train_split():
    """Adult's 80 % training split (stratified on income, random_state=0)."""
    from sklearn.model_selection import train_test_split

    df = load_adult_csv()
    train, test = train_test_split(df, test_size=0.2, stratify=df["income"], random_state=0)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


SPEED_PACKAGES = ("tabvae", "torch", "ctgan", "rdt", "sdmetrics", "scikit-learn", "pandas", "numpy", "pyarrow")


def machine_info() -> dict:
    """run.py's machine description, plus torch's default thread counts (they matter for speed)."""
    info = _machine_info(SPEED_PACKAGES)
    try:
        import torch

        info["torch_default_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
    except Exception:
        pass
    return info


def _busy_share(window_s: float = 5.0):
    """Share of the machine's CPU capacity busy over the next ``window_s`` seconds (from /proc/stat)."""
    b0, t0 = _busy_cpu_s(), time.time()
    time.sleep(window_s)
    b1, t1 = _busy_cpu_s(), time.time()
    if b0 is None or b1 is None:
        return None
    return (b1 - b0) / ((t1 - t0) * (os.cpu_count() or 1))


def wait_for_idle(log=print) -> dict:
    """Wait until the machine is idle: 1-minute load average <= LOAD_MAX *and* less than
    BUSY_MAX of the CPU busy over a 5-s window (the load average alone lags: it can dip
    under 1.2 while another job still holds a core).  Polls every 30 s, at most 20 min."""
    t0 = time.time()
    load = os.getloadavg()
    if os.environ.get("TABVAE_BENCH_NO_WAIT"):  # smoke tests only; recorded as idle=None
        return {"loadavg_at_start": [round(x, 2) for x in load], "waited_s": 0.0, "idle": None}
    busy = None
    while True:
        load = os.getloadavg()
        if load[0] <= LOAD_MAX:
            busy = _busy_share()
            load = os.getloadavg()
            if load[0] <= LOAD_MAX and (busy is None or busy <= BUSY_MAX):
                break
        if time.time() - t0 >= LOAD_WAIT_MAX_S:
            break
        log(
            f"  load average {load[0]:.2f}, CPU busy {'?' if busy is None else f'{100 * busy:.0f} %'}: "
            f"not idle; waiting {LOAD_POLL_S} s ..."
        )
        time.sleep(LOAD_POLL_S)
    waited = time.time() - t0
    ok = load[0] <= LOAD_MAX and (busy is None or busy <= BUSY_MAX)
    if not ok:
        log(f"  WARNING: machine still busy (load {load[0]:.2f}) after {waited:.0f} s; running anyway")
    return {
        "loadavg_at_start": [round(x, 2) for x in load],
        "cpu_busy_share_before": busy,
        "waited_s": round(waited, 1),
        "idle": ok,
    }


def run_worker(module: str, job: dict, log=print, timeout: float | None = None, retries: int = 1) -> dict:
    """Run ``python -m module --worker JOB`` in a fresh process after waiting for an idle machine.

    When other processes used more than CONTENDED of the CPU during the run, it is
    run again (at most ``retries`` times); the discarded attempts are kept under
    ``discarded_attempts``."""
    discarded = []
    while True:
        res = _run_worker_once(module, job, log, timeout)
        share = (res.get("contention") or {}).get("other_cpu_share")
        if share is None or share <= CONTENDED or len(discarded) >= retries:
            break
        log(f"  {job['name']}: other processes used {100 * share:.0f} % of the CPU during the run; re-running")
        discarded.append(
            {
                k: res.get(k)
                for k in (
                    "phases",
                    "contention",
                    "loadavg_at_start",
                    "process_wall_s",
                    "fit_total_s",
                    "s_per_epoch",
                    "total_s",
                )
            }
        )
    if discarded:
        res["discarded_attempts"] = discarded
    return res


def _run_worker_once(module: str, job: dict, log=print, timeout: float | None = None) -> dict:
    idle = wait_for_idle(log)
    out = Path(job["result_file"])
    out.unlink(missing_ok=True)
    log(f"  [{now()}] start {job['name']} (load {idle['loadavg_at_start'][0]:.2f})")
    busy0, ru0 = _busy_cpu_s(), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", module, "--worker", json.dumps(job)], cwd=REPO, timeout=timeout)
    wall = time.perf_counter() - t0
    busy1, ru1 = _busy_cpu_s(), resource.getrusage(resource.RUSAGE_CHILDREN)
    res = json.loads(out.read_text()) if out.exists() else {"status": "failed"}
    res.update(idle)
    res["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    res["process_wall_s"] = round(wall, 2)
    res["returncode"] = proc.returncode
    if busy0 is not None and busy1 is not None:
        mine = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        other = max(0.0, (busy1 - busy0) - mine)
        # CPU time used on the machine by anything other than this job, during this job
        res["contention"] = {
            "job_cpu_s": round(mine, 2),
            "other_cpu_s": round(other, 2),
            "other_cpu_share": round(other / (wall * (os.cpu_count() or 1)), 3),
        }
    log(f"  [{now()}] done  {job['name']} in {wall:.1f} s (rc {proc.returncode})")
    return res


def _busy_cpu_s():
    """Machine-wide busy CPU seconds so far (from /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal ...
        busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
        return busy / os.sysconf("SC_CLK_TCK")
    except Exception:
        return None


def _status_kb(field: str):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    ``VmHWM`` of /proc/self/status (the high-water mark of this process's own
    address space).  ``ru_maxrss`` is *not* used on Linux: a process started
    with fork + exec inherits the parent's RSS at fork time in its ru_maxrss, so
    a small job launched from a parent holding a big table reports the parent's
    size.
    """
    kb = _status_kb("VmHWM")
    if kb is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return kb / 1024


def current_rss_mb() -> float | None:
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024


class TreeRSS:
    """Background sampler of the summed RSS of this process and all its descendants."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak_kb, self._stop = interval, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024

    def _run(self):
        me = os.getpid()
        while not self._stop.is_set():
            try:
                self.peak_kb = max(self.peak_kb, self._tree_kb(me))
            except Exception:
                pass
            self._stop.wait(self.interval)

    @staticmethod
    def _tree_kb(root: int) -> int:
        parent = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        s = f.read()
                    parent[int(d)] = int(s[s.rindex(")") + 2 :].split()[1])
                except Exception:
                    pass
        tree, frontier = {root}, [root]
        while frontier:
            p = frontier.pop()
            for c, pp in parent.items():
                if pp == p and c not in tree:
                    tree.add(c)
                    frontier.append(c)
        total = 0
        for pid in tree:
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
                            break
            except Exception:
                pass
        return total


def write_json(path: Path, obj) -> None:
    import numpy as np

    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        return str(o)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=default))
    tmp.replace(path)


def quiet():
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    for name in ("sdv", "rdt", "copulas", "ctgan", "sdmetrics"):
        logging.getLogger(name).setLevel(logging.ERROR)


# --------------------------------------------------------------------------- worker


class PhaseTimer:
    def __init__(self):
        self.t = {}

    def add(self, key, dt):
        self.t[key] = self.t.get(key, 0.0) + dt

    def wrap(self, fn, key):
        def wrapped(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                self.add(key, time.perf_counter() - t0)

        return wrapped


def instrument_tabvae(timer: PhaseTimer) -> None:
    """Time the preprocessing and training calls made inside ``TabularVAE.fit``."""
    import tabvae.estimator as est

    est.infer_schema = timer.wrap(est.infer_schema, "schema")
    base = est.TableEncoder

    class TimedTableEncoder(base):
        def fit(self, df):
            t0 = time.perf_counter()
            try:
                return super().fit(df)
            finally:
                timer.add("encoder_fit", time.perf_counter() - t0)

        def transform(self, df, extrapolate=False):
            t0 = time.perf_counter()
            try:
                return super().transform(df, extrapolate)
            finally:
                timer.add("encoder_transform", time.perf_counter() - t0)

    est.TableEncoder = TimedTableEncoder
    est.train = timer.wrap(est.train, "train")


def instrument_tvae(timer: PhaseTimer) -> None:
    """Time ``DataTransformer.fit`` / ``transform`` as called inside ``TVAE.fit``."""
    import ctgan.synthesizers.tvae as tv

    base = tv.DataTransformer

    class TimedDataTransformer(base):
        def fit(self, raw_data, discrete_columns=()):
            t0 = time.perf_counter()
            try:
                return super().fit(raw_data, discrete_columns)
            finally:
                timer.add("transformer_fit", time.perf_counter() - t0)

        def transform(self, raw_data):
            t0 = time.perf_counter()
            try:
                return super().transform(raw_data)
            finally:
                timer.add("transformer_transform", time.perf_counter() - t0)

    tv.DataTransformer = TimedDataTransformer


def worker(job: dict) -> None:
    quiet()
    threads = job.get("threads")
    import torch

    if threads:
        torch.set_num_threads(int(threads))
    res = {"job": job, "started_at": now(), "torch_threads": torch.get_num_threads(), "status": "running"}
    with TreeRSS() as tree:
        timer = PhaseTimer()
        lib = job["library"]
        if lib == "tabvae":
            import tabvae  # noqa: F401
            from tabvae import TabularVAE

            instrument_tabvae(timer)
        else:
            from ctgan import TVAE

            instrument_tvae(timer)
        train, test = adult_train_split()
        if job.get("max_rows"):  # smoke tests only
            train = train.head(int(job["max_rows"]))
        res["n_train"] = len(train)
        res["rss_after_load_mb"] = peak_rss_mb()
        epochs = job.get("epochs")  # None: library default
        seed = 0
        if lib == "tabvae":
            kw = {} if epochs is None else {"epochs": int(epochs), "batch_size": int(job["batch_size"])}
            model = TabularVAE(random_state=seed, **kw)
            t0 = time.perf_counter()
            model.fit(train)
            fit_s = time.perf_counter() - t0
            pre = timer.t.get("schema", 0) + timer.t.get("encoder_fit", 0) + timer.t.get("encoder_transform", 0)
            res["epochs_used"] = len(model.history_["loss"])
            res["phases"] = {
                "fit_total_s": fit_s,
                "preprocessing_s": pre,
                "training_s": fit_s - pre,
                "train_call_s": timer.t.get("train", 0.0),
                "detail": dict(timer.t),
            }
            sampler = lambda n: model.sample(n, random_state=seed)  # noqa: E731
        else:
            discrete = [c for c in train.columns if train[c].dtype == object or str(train[c].dtype) == "category"]
            kw = {} if epochs is None else {"epochs": int(epochs), "batch_size": int(job["batch_size"])}
            model = TVAE(enable_gpu=False, **kw)
            model.set_random_state(seed)
            t0 = time.perf_counter()
            model.fit(train, discrete_columns=discrete)
            fit_s = time.perf_counter() - t0
            pre = timer.t.get("transformer_fit", 0) + timer.t.get("transformer_transform", 0)
            res["epochs_used"] = int(model.epochs)
            res["discrete_columns"] = discrete
            res["phases"] = {
                "fit_total_s": fit_s,
                "preprocessing_s": pre,
                "training_s": fit_s - pre,
                "detail": dict(timer.t),
            }
            sampler = lambda n: model.sample(n)  # noqa: E731
        res["rss_after_fit_mb"] = peak_rss_mb()
        n_sample = int(job["n_sample"]) if job.get("n_sample") else len(train)
        t0 = time.perf_counter()
        synthetic = sampler(n_sample)
        res["phases"]["sample_s"] = time.perf_counter() - t0
        res["phases"]["n_sample"] = n_sample
        res["rss_after_sample_mb"] = peak_rss_mb()
    res["tree_peak_rss_mb"] = tree.peak_mb
    if job.get("evaluate"):
        from tabvae import evaluate

        t0 = time.perf_counter()
        rep = evaluate(train, synthetic[train.columns], random_state=0).to_dict()
        res["evaluate_s"] = time.perf_counter() - t0
        res["scores"] = {
            k: rep["scores"].get(k)
            for k in ("quality_score", "column_shapes", "column_pair_trends", "logistic_detection", "detection_auc")
        }
        res["evaluation_notes"] = rep.get("notes")
    res["status"] = "ok"
    res["finished_at"] = now()
    write_json(Path(job["result_file"]), res)


# --------------------------------------------------------------------------- report


def _ratio(a, b):
    return a / b if a and b else None


def summarise(results: dict) -> dict:
    out = {"equal_settings": {}, "defaults": None}
    for threads, pair in results["equal_settings"].items():
        tv, tb = pair.get("tvae"), pair.get("tabvae")
        if not (tv and tb and tv.get("status") == "ok" and tb.get("status") == "ok"):
            continue
        row = {}
        for key in ("preprocessing_s", "training_s", "fit_total_s", "sample_s"):
            row[key] = {
                "tabvae": tb["phases"][key],
                "tvae": tv["phases"][key],
                "ratio_tvae_over_tabvae": _ratio(tv["phases"][key], tb["phases"][key]),
            }
        for key in ("rss_after_fit_mb", "rss_after_sample_mb", "tree_peak_rss_mb"):
            row[key] = {"tabvae": tb[key], "tvae": tv[key], "ratio_tvae_over_tabvae": _ratio(tv[key], tb[key])}
        out["equal_settings"][threads] = row
    d = results.get("defaults") or {}
    tv, tb = d.get("tvae"), d.get("tabvae")
    if tv and tb and tv.get("status") == "ok" and tb.get("status") == "ok":
        out["defaults"] = {
            "epochs": {"tabvae": tb["epochs_used"], "tvae": tv["epochs_used"]},
            "fit_total_s": {
                "tabvae": tb["phases"]["fit_total_s"],
                "tvae": tv["phases"]["fit_total_s"],
                "ratio_tvae_over_tabvae": _ratio(tv["phases"]["fit_total_s"], tb["phases"]["fit_total_s"]),
            },
            "scores": {"tabvae": tb.get("scores"), "tvae": tv.get("scores")},
            "peak_rss_mb": {"tabvae": tb["rss_after_sample_mb"], "tvae": tv["rss_after_sample_mb"]},
        }
    return out


def load_cell(r) -> str:
    """'load average at start / share of the machine's CPU used by other processes during the job'."""
    c = r.get("contention") or {}
    share = c.get("other_cpu_share")
    return f"{r['loadavg_at_start'][0]:.2f} / " + ("—" if share is None else f"{100 * share:.0f} %")


def _n_train(doc):
    for part in doc["results"].values():
        for r in (v for x in part.values() for v in (x.values() if "status" not in x else [x])):
            if isinstance(r, dict) and r.get("n_train"):
                return f"{r['n_train']:,}"
    return "?"


def _f(x, nd=2):
    return "—" if x is None else f"{x:.{nd}f}"


def write_markdown(doc: dict, path: Path) -> None:
    s = doc["summary"]
    m = doc["machine"]
    lines = [
        "# Speed: tabvae `TabularVAE` vs ctgan `TVAE` on Adult",
        "",
        f"Command: `{doc['command']}` — started {doc['started_at']}, finished {doc.get('finished_at')}.",
        "",
        f"Machine: {m.get('cpu_model')}, {m.get('cpu_affinity')} CPU cores, {m.get('memory_gb')} GB RAM, "
        f"no GPU; torch {m['versions'].get('torch')} (default {m.get('torch_default_threads')} threads), "
        f"ctgan {m['versions'].get('ctgan')}, rdt {m['versions'].get('rdt')}, "
        f"tabvae {m['versions'].get('tabvae')} (git {str(m.get('git_commit'))[:10]}"
        f"{', tabvae/ modified' if m.get('tabvae_dirty') else ''}).",
        "",
        f"Data: {doc['data']} Rows used: {_n_train(doc)}.",
        "",
        "Each generator ran in a fresh process, started only when the 1-minute load average was "
        f"≤ {LOAD_MAX} and under 10 % of the CPU was busy over 5 s (load at start of each run and the share of the "
        "CPU other processes used during it in the last column; runs where others used > 15 % were re-run once). "
        "Ratios are TVAE / tabvae "
        "(> 1: tabvae faster or smaller).",
        "",
        f"## (a) Equal settings: {doc['settings']['epochs']} epochs, batch size {doc['settings']['batch_size']}, "
        f"sampling {doc['settings']['n_sample']:,} rows",
        "",
        "| torch threads | phase | tabvae (s) | TVAE (s) | TVAE / tabvae |",
        "|---|---|---:|---:|---:|",
    ]
    names = {
        "preprocessing_s": "preprocessing",
        "training_s": "training",
        "fit_total_s": "fit total",
        "sample_s": f"sample {doc['settings']['n_sample']:,}",
    }
    for threads, row in s["equal_settings"].items():
        for key, label in names.items():
            r = row[key]
            lines.append(
                f"| {threads} | {label} | {_f(r['tabvae'])} | {_f(r['tvae'])} | {_f(r['ratio_tvae_over_tabvae'], 1)}× |"
            )
    lines += [
        "",
        "Peak resident memory (MB; high-water mark `VmHWM` of the fresh process: after imports + data, after fit, "
        "after sampling; *tree* = sampled peak RSS summed over the process and its children, which "
        "includes the joblib workers ctgan's `DataTransformer.transform` starts):",
        "",
        "| torch threads | generator | after load | after fit | after sampling | tree peak "
        "| load avg at start / other CPU |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for threads, pair in doc["results"]["equal_settings"].items():
        for lib in ("tabvae", "tvae"):
            r = pair.get(lib)
            if not r or r.get("status") != "ok":
                continue
            lines.append(
                f"| {threads} | {lib} | {_f(r['rss_after_load_mb'], 0)} | {_f(r['rss_after_fit_mb'], 0)} | "
                f"{_f(r['rss_after_sample_mb'], 0)} | {_f(r['tree_peak_rss_mb'], 0)} | "
                f"{load_cell(r)} |"
            )
    lines += ["", "Preprocessing detail (s):", "", "| torch threads | generator | parts |", "|---|---|---|"]
    for threads, pair in doc["results"]["equal_settings"].items():
        for lib in ("tabvae", "tvae"):
            r = pair.get(lib)
            if r and r.get("status") == "ok":
                det = ", ".join(f"{k} {v:.3f}" for k, v in r["phases"]["detail"].items())
                lines.append(f"| {threads} | {lib} | {det} |")
    d = s.get("defaults")
    if d:
        sc = d["scores"]
        lines += [
            "",
            "## (b) Defaults vs defaults",
            "",
            f'`TabularVAE(random_state=0)` (epochs="auto" → {d["epochs"]["tabvae"]} epochs) vs `TVAE()` '
            f"({d['epochs']['tvae']} epochs), torch default threads; each samples as many rows as the "
            "training split and is scored with `tabvae.evaluate(train, synthetic, random_state=0)`.",
            "",
            "| generator | epochs | fit (s) | Column Shapes | Column Pair Trends | detection AUC (0.5 best) "
            "| peak RSS (MB) | load avg at start / other CPU |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for lib in ("tabvae", "tvae"):
            r = doc["results"]["defaults"][lib]
            lines.append(
                f"| {lib} | {d['epochs'][lib]} | {_f(d['fit_total_s'][lib], 1)} | "
                f"{_f(sc[lib]['column_shapes'], 4)} | {_f(sc[lib]['column_pair_trends'], 4)} | "
                f"{_f(sc[lib]['detection_auc'], 4)} | {_f(d['peak_rss_mb'][lib], 0)} | "
                f"{load_cell(r)} |"
            )
        lines += [
            "",
            f"Fit time ratio TVAE / tabvae (defaults): **{_f(d['fit_total_s']['ratio_tvae_over_tabvae'], 1)}×**.",
        ]
    if doc.get("notes"):
        lines += ["", "## Notes", ""] + [f"* {n}" for n in doc["notes"]]
    path.write_text("\n".join(lines) + "\n")


NOTES = [
    "'other CPU' = share of the machine's CPU time (machine-wide busy time from /proc/stat minus the job's "
    "own CPU time) used by other processes while the job ran; near 0 % means the timing was not disturbed.",
    "Preprocessing and training are timed inside the real `fit` call (the worker wraps "
    "`tabvae.estimator.infer_schema`/`TableEncoder`/`train` and `ctgan.synthesizers.tvae.DataTransformer` "
    "with timers); training = fit total − preprocessing (for tabvae this also holds input checks, model "
    "construction and moving the encoded table to a tensor; `train_call_s` in the JSON is `training.train` alone).",
    "`torch.set_num_threads` only limits torch's intra-op threads. ctgan's `DataTransformer.transform` runs "
    "its columns in joblib processes (`n_jobs=-1`, 2 cores) and scikit-learn's BayesianGaussianMixture in "
    "its `fit` uses BLAS threads, whatever the torch setting.",
    "TVAE gets the object columns of the table as `discrete_columns` (the 9 string columns); "
    "`education-num` is an integer column for TVAE (a Gaussian mixture) while tabvae's schema inference "
    "makes it categorical (16 distinct integers ≤ 20).",
    "TVAE's `sample` decodes in batches of `batch_size` (500) rows; tabvae's in chunks of 65,536.",
]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=30, help="epochs for part (a) (default 30)")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--n-sample", type=int, default=100_000, help="rows sampled in part (a)")
    p.add_argument("--threads", default="1,2", help="torch thread counts for part (a)")
    p.add_argument("--skip-equal", action="store_true", help="skip part (a)")
    p.add_argument("--skip-defaults", action="store_true", help="skip part (b)")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--tag", default="", help="suffix of the output files: speed{tag}.json/.md")
    p.add_argument("--max-rows", type=int, default=None, help="use only this many training rows (smoke tests)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return
    out = Path(args.out)
    tmp = Path(tempfile.mkdtemp(prefix="tabvae_speed_"))
    tmp.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"speed{args.tag}.json", out / f"speed{args.tag}.md"
    cmd = "python -m benchmarks.speed " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    doc = {
        "kind": "speed",
        "command": cmd.strip(),
        "started_at": now(),
        "machine": machine_info(),
        "data": "Adult (adult.csv, skipinitialspace=True, na_values='?'), 80 % training split stratified on "
        "income with random_state=0 (26,048 rows x 15 columns).",
        "settings": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "n_sample": args.n_sample,
            "threads": [int(t) for t in args.threads.split(",")],
            "seed": 0,
            "load_average_max": LOAD_MAX,
        },
        "results": {"equal_settings": {}, "defaults": {}},
        "notes": NOTES,
    }

    def save():
        doc["summary"] = summarise(doc["results"])
        write_json(json_path, doc)
        write_markdown(doc, md_path)

    if not args.skip_equal:
        for threads in doc["settings"]["threads"]:
            pair = doc["results"]["equal_settings"].setdefault(str(threads), {})
            for lib in ("tabvae", "tvae"):
                job = {
                    "name": f"equal/{lib}/threads={threads}",
                    "library": lib,
                    "threads": threads,
                    "epochs": args.epochs,
                    "batch_size": args.batch_size,
                    "n_sample": args.n_sample,
                    "max_rows": args.max_rows,
                    "result_file": str(tmp / f"{lib}_{threads}.json"),
                }
                pair[lib] = run_worker("benchmarks.speed", job)
                save()
    if not args.skip_defaults:
        for lib in ("tabvae", "tvae"):
            job = {
                "name": f"defaults/{lib}",
                "library": lib,
                "threads": None,
                "epochs": None,
                "n_sample": None,
                "evaluate": True,
                "max_rows": args.max_rows,
                "result_file": str(tmp / f"{lib}_defaults.json"),
            }
            doc["results"]["defaults"][lib] = run_worker("benchmarks.speed", job)
            save()
    doc["finished_at"] = now()
    save()
    print(md_path.read_text())


if __name__ == "__main__":
    main()
