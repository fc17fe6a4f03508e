"""Anomaly-detection benchmark: ``TabularVAEAnomalyDetector`` against standard detectors.

Run::

    python -m benchmarks.anomaly --seeds 3 [--datasets thyroid cardio satellite shuttle]

Data: ``shared/data/anomaly/{thyroid,cardio,satellite,shuttle}.csv`` next to the
repository (override the folder with the ``TABVAE_DATA`` environment variable);
feature columns ``x0..x{d-1}`` and ``label`` (1 = anomaly).

Detectors (each gives an *anomaly score*, higher = more anomalous)
    tabvae          ``TabularVAEAnomalyDetector(random_state=seed)`` (its default template
                    ``TabularVAE(**DEFAULT_TEMPLATE)``: ``kl_weight=1.0``, ``config={"prior": "standard",
                    "decoder": "factorized", "hidden_dims": (128, 128), ...}``);
                    score = ``-score_samples`` (the smallest tail share, see its docstring).
    generator       ``TabularVAE(random_state=seed)`` (a default generator fit); ``-score_samples``.
    tabvae_iw16     variant, clearly not the default: the *same fitted model* scored
                    with the importance-weighted bound (``n_importance_samples=16``,
                    set with ``set_params`` after fitting; no retraining).
    iforest         ``sklearn.ensemble.IsolationForest(random_state=seed)``; ``-score_samples``.
    lof             ``LocalOutlierFactor()`` on ``StandardScaler``-ed features;
                    unsupervised: ``fit_predict`` + ``-negative_outlier_factor_``;
                    semi-supervised: ``novelty=True`` + ``-score_samples``.
    ecod            PyOD ``ECOD()``; ``decision_function`` (if PyOD is importable).
    pyod_vae        PyOD ``VAE(random_state=seed, verbose=0)`` (its defaults) on
                    ``StandardScaler``-ed features; ``decision_function``.

Protocols
    unsupervised    fit on all rows (labels unused), score the same rows.
    semisupervised  stratified 60/40 split per seed; fit on the *normal* rows of
                    the 60 %, score the 40 %.
    contamination   as semisupervised, but the training set is the normal rows plus
                    anomalies from the training split injected at 0 %, 2 %, 5 %, 10 % of the
                    training set (capped by the anomalies available); tabvae,
                    tabvae_iw16 and iforest only; scored on the same 40 % test split.

Metrics: ROC-AUC and average precision (scikit-learn), fit and score seconds.
Writes ``benchmarks/results/anomaly.json`` (per run, machine, versions, command),
``anomaly.md`` (summary) and ``anomaly_contamination.png``.  ``--summarize`` rebuilds
the markdown/plot from an existing JSON without running anything.

Torch is limited to ``--threads`` (default 1) intra-op threads: on a shared 2-core
machine, two threads oversubscribe the cores and training slows down many-fold.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DATASETS = ("thyroid", "cardio", "satellite", "shuttle")
CONTAMINATION_RATES = (0.0, 0.02, 0.05, 0.10)
SEMI_TEST_SIZE = 0.4

__all__ = ["main", "data_dir", "load_dataset"]


# ----------------------------------------------------------------------------- data


def data_dir() -> Path:
    env = os.environ.get("TABVAE_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "anomaly"


def load_dataset(name: str, max_rows: int | None, subsample_seed: int = 0):
    """(X DataFrame, y int array, note) — stratified subsample when larger than ``max_rows``."""
    df = pd.read_csv(data_dir() / f"{name}.csv")
    y = df.pop("label").to_numpy().astype(int)
    note = None
    if max_rows and len(df) > max_rows:
        from sklearn.model_selection import train_test_split

        n_full, rate_full = len(df), y.mean()
        idx, _ = train_test_split(np.arange(len(df)), train_size=max_rows, stratify=y, random_state=subsample_seed)
        idx = np.sort(idx)
        df, y = df.iloc[idx].reset_index(drop=True), y[idx]
        note = (
            f"stratified subsample of {max_rows} of {n_full} rows (random_state={subsample_seed}, "
            f"same subsample for every seed); anomaly rate {y.mean():.4f} (full: {rate_full:.4f})"
        )
    return df, y, note


# ----------------------------------------------------------------------------- detectors


def _have_pyod() -> bool:
    try:
        import pyod  # noqa: F401

        return True
    except ImportError:
        return False


class _Det:
    """fit(X_train DataFrame, seed) -> self; anomaly(X DataFrame) -> higher = more anomalous."""

    name = "base"

    def fit(self, X, seed):
        raise NotImplementedError

    def anomaly(self, X):
        raise NotImplementedError

    def unsupervised(self, X, seed):
        """Fit on X and score X; returns (scores, fit_seconds, score_seconds)."""
        t0 = time.perf_counter()
        self.fit(X, seed)
        t1 = time.perf_counter()
        s = self.anomaly(X)
        return s, t1 - t0, time.perf_counter() - t1

    def info(self) -> dict:
        return {}


class TabVAEDet(_Det):
    name = "tabvae"

    def __init__(self, vae_params=None, detector_params=None):
        self.vae_params = dict(vae_params or {})
        self.detector_params = dict(detector_params or {})

    def fit(self, X, seed):
        from tabvae import TabularVAE, TabularVAEAnomalyDetector
        from tabvae.anomaly import DEFAULT_TEMPLATE

        # The detector's default template, plus any variant parameters.
        vae = TabularVAE(**{**DEFAULT_TEMPLATE, **self.vae_params})
        self.det = TabularVAEAnomalyDetector(
            vae=vae, contamination="auto", n_importance_samples=None, random_state=seed, **self.detector_params
        ).fit(X)
        return self

    def anomaly(self, X, n_importance_samples=None):
        self.det.set_params(n_importance_samples=n_importance_samples)
        try:
            return -self.det.score_samples(X)
        finally:
            self.det.set_params(n_importance_samples=None)

    def info(self):
        v = self.det.vae_
        return {
            "epochs_used": len(v.history_["loss"]),
            "offset": self.det.offset_,
            "final_loss": float(v.history_["loss"][-1]),
        }


class GeneratorDet(_Det):
    """A default generator's own scores: ``TabularVAE(random_state=seed).fit(X).score_samples``.

    What a user gets without the detector; its fit time is the "one default fit" the detector's is
    compared with.
    """

    name = "generator"

    def fit(self, X, seed):
        from tabvae import TabularVAE

        self.m = TabularVAE(random_state=seed).fit(X)
        return self

    def anomaly(self, X):
        return -self.m.score_samples(X)


class IForestDet(_Det):
    name = "iforest"

    def fit(self, X, seed):
        from sklearn.ensemble import IsolationForest

        self.m = IsolationForest(random_state=seed).fit(X.to_numpy())
        return self

    def anomaly(self, X):
        return -self.m.score_samples(X.to_numpy())


class LOFDet(_Det):
    name = "lof"

    def fit(self, X, seed):  # semi-supervised (novelty) use
        from sklearn.neighbors import LocalOutlierFactor
        from sklearn.preprocessing import StandardScaler

        self.sc = StandardScaler().fit(X.to_numpy())
        self.m = LocalOutlierFactor(novelty=True).fit(self.sc.transform(X.to_numpy()))
        return self

    def anomaly(self, X):
        return -self.m.score_samples(self.sc.transform(X.to_numpy()))

    def unsupervised(self, X, seed):
        from sklearn.neighbors import LocalOutlierFactor
        from sklearn.preprocessing import StandardScaler

        t0 = time.perf_counter()
        Z = StandardScaler().fit_transform(X.to_numpy())
        m = LocalOutlierFactor()
        m.fit_predict(Z)
        t1 = time.perf_counter()
        return -m.negative_outlier_factor_, t1 - t0, 0.0


class ECODDet(_Det):
    name = "ecod"

    def fit(self, X, seed):
        from pyod.models.ecod import ECOD

        self.m = ECOD().fit(X.to_numpy().astype(float))
        return self

    def anomaly(self, X):
        return self.m.decision_function(X.to_numpy().astype(float))


class PyODVAEDet(_Det):
    name = "pyod_vae"

    def fit(self, X, seed):
        import torch
        from pyod.models.vae import VAE
        from sklearn.preprocessing import StandardScaler

        torch.manual_seed(seed)
        self.sc = StandardScaler().fit(X.to_numpy().astype(float))
        self.m = VAE(random_state=seed, verbose=0).fit(self.sc.transform(X.to_numpy().astype(float)))
        return self

    def anomaly(self, X):
        return self.m.decision_function(self.sc.transform(X.to_numpy().astype(float)))


def make_detectors(names, tabvae_params=None, detector_params=None):
    table = {
        "tabvae": lambda: TabVAEDet(tabvae_params, detector_params),
        "generator": GeneratorDet,
        "iforest": IForestDet,
        "lof": LOFDet,
        "ecod": ECODDet,
        "pyod_vae": PyODVAEDet,
    }
    return {n: table[n]() for n in names}


# ----------------------------------------------------------------------------- metrics

IW_NOTE = "same fitted model as tabvae, scored with n_importance_samples"


def _iw_variant(det, X, y, k: int):
    """The IWAE-scored variant of an already fitted tabvae detector: (name, score seconds, metrics)."""
    t0 = time.perf_counter()
    score = det.anomaly(X, n_importance_samples=k)
    return f"tabvae_iw{k}", time.perf_counter() - t0, _metrics(y, score)


def _metrics(y, score) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    score = np.asarray(score, dtype=float)
    finite = np.isfinite(score)
    if not finite.all():  # keep the ranking: push non-finite to the ends
        score = np.nan_to_num(
            score, nan=np.nanmax(score[finite]), posinf=np.finfo(float).max / 2, neginf=np.finfo(float).min / 2
        )
    return {
        "roc_auc": float(roc_auc_score(y, score)),
        "ap": float(average_precision_score(y, score)),
        "n_nonfinite": int((~finite).sum()),
    }


def _flag_stats(det: TabVAEDet, X, y) -> dict:
    """How the fitted threshold (contamination='auto') labels X: flagged share, precision, recall."""
    pred = det.det.predict(X) == -1
    tp = int((pred & (y == 1)).sum())
    return {
        "flag_rate": float(pred.mean()),
        "precision": tp / pred.sum() if pred.sum() else None,
        "recall": tp / max(1, int(y.sum())),
    }


# ----------------------------------------------------------------------------- runs


def semi_split(y, seed: int):
    """The semi-supervised split: (normal training rows, training anomalies in injection order, test rows)."""
    from sklearn.model_selection import train_test_split

    tr, te = train_test_split(np.arange(len(y)), test_size=SEMI_TEST_SIZE, stratify=y, random_state=seed)
    return tr[y[tr] == 0], np.random.RandomState(seed).permutation(tr[y[tr] == 1]), te


def contaminated(normal, anomalies, rate: float):
    """Training rows: ``normal`` plus anomalies at ``rate`` of the set, capped by those available.

    Returns (sorted row positions, anomalies injected, anomalies wanted).
    """
    wanted = int(round(rate * len(normal) / (1 - rate)))
    k = min(wanted, len(anomalies))
    return np.sort(np.concatenate([normal, anomalies[:k]])), k, wanted


def run_dataset(name, seeds, detectors, max_rows, log, records, variants):
    X, y, note = load_dataset(name, max_rows)
    meta = {
        "rows": len(X),
        "columns": X.shape[1],
        "anomalies": int(y.sum()),
        "anomaly_rate": float(y.mean()),
        "note": note,
    }
    log(f"== {name}: {meta}")

    tag = variants.get("tabvae_tag")

    def rec(**kw):
        if tag and kw["detector"].startswith("tabvae"):
            kw["detector"] = kw["detector"].replace("tabvae", tag, 1)
        records.append(dict(dataset=name, **kw))

    for seed in seeds:
        # ---- unsupervised
        for dname in detectors:
            det = make_detectors([dname], variants.get("tabvae_params"), variants.get("detector_params"))[dname]
            s, ft, st = det.unsupervised(X, seed)
            extra = det.info()
            if dname == "tabvae":
                extra.update(_flag_stats(det, X, y))
            rec(
                protocol="unsupervised",
                detector=dname,
                seed=seed,
                fit_s=ft,
                score_s=st,
                n_train=len(X),
                n_test=len(X),
                **_metrics(y, s),
                extra=extra,
            )
            log(
                f"  [unsup seed={seed}] {dname:9s} auc={records[-1]['roc_auc']:.4f} "
                f"ap={records[-1]['ap']:.4f} fit={ft:.1f}s"
            )
            if dname == "tabvae" and variants.get("iw"):
                iw_name, score_s, m2 = _iw_variant(det, X, y, variants["iw"])
                rec(
                    protocol="unsupervised",
                    detector=iw_name,
                    seed=seed,
                    fit_s=ft,
                    score_s=score_s,
                    n_train=len(X),
                    n_test=len(X),
                    **m2,
                    extra={"note": IW_NOTE},
                )

        # ---- semi-supervised split
        tr_norm, anom_perm, te = semi_split(y, seed)
        Xte, yte = X.iloc[te], y[te]
        for dname in detectors:
            rates = CONTAMINATION_RATES if dname in ("tabvae", "iforest") else (0.0,)
            for rate in rates:
                fit_idx, k, k_wanted = contaminated(tr_norm, anom_perm, rate)
                det = make_detectors([dname], variants.get("tabvae_params"), variants.get("detector_params"))[dname]
                t0 = time.perf_counter()
                det.fit(X.iloc[fit_idx], seed)
                t1 = time.perf_counter()
                s = det.anomaly(Xte)
                t2 = time.perf_counter()
                base = dict(
                    seed=seed,
                    n_train=len(fit_idx),
                    n_test=len(te),
                    contamination=rate,
                    injected=k,
                    injected_wanted=k_wanted,
                    actual_rate=k / len(fit_idx),
                )
                protos = ["contamination"] + (["semisupervised"] if rate == 0.0 else [])
                extra = det.info()
                if dname == "tabvae":
                    extra.update(_flag_stats(det, Xte, yte))
                m = _metrics(yte, s)
                for p in protos:
                    if p == "contamination" and dname not in ("tabvae", "iforest"):
                        continue
                    rec(protocol=p, detector=dname, fit_s=t1 - t0, score_s=t2 - t1, **base, **m, extra=extra)
                log(
                    f"  [semi  seed={seed} contam={rate:.2f} k={k}] {dname:9s} auc={m['roc_auc']:.4f} "
                    f"ap={m['ap']:.4f} fit={t1 - t0:.1f}s"
                )
                if dname == "tabvae" and variants.get("iw"):
                    iw_name, score_s, m2 = _iw_variant(det, Xte, yte, variants["iw"])
                    for p in protos:
                        rec(
                            protocol=p,
                            detector=iw_name,
                            fit_s=t1 - t0,
                            score_s=score_s,
                            **base,
                            **m2,
                            extra={"note": IW_NOTE},
                        )
    return meta


# ----------------------------------------------------------------------------- environment


def _versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for mod in ("tabvae", "torch", "sklearn", "numpy", "pandas", "pyod"):
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "?")
        except ImportError:
            out[mod] = None
    return out


def _machine(threads) -> dict:
    import torch

    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "threads_arg": threads,
        "cuda": torch.cuda.is_available(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["load_avg_at_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def _git() -> dict:
    def run(*a):
        try:
            return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:  # pragma: no cover
            return None

    return {"commit": run("rev-parse", "HEAD"), "dirty_files": len((run("status", "--porcelain") or "").splitlines())}


# ----------------------------------------------------------------------------- summary

LABELS = {
    "tabvae": "tabvae (TabularVAEAnomalyDetector, defaults)",
    "generator": "TabularVAE(random_state=seed).score_samples (a default generator fit)",
    "iforest": "IsolationForest",
    "lof": "LocalOutlierFactor",
    "ecod": "PyOD ECOD",
    "pyod_vae": "PyOD VAE",
}


def _label(d):
    if d.startswith("tabvae") and "_iw" in d:
        base, k = d.rsplit("_iw", 1)
        return f"{_label(base)} — variant: IWAE scoring k={k} (same fit)"
    if d.startswith("tabvae_"):
        return f"tabvae variant: {d[len('tabvae_') :]}"
    return LABELS.get(d, d)


def _ms(v) -> str:
    v = np.asarray(v, dtype=float)
    if len(v) == 0:
        return "–"
    sd = v.std(ddof=1) if len(v) > 1 else 0.0
    return f"{v.mean():.3f} ± {sd:.3f}"


def _order(dets):
    pref = ["tabvae", "tabvae_iw16"]
    return sorted(
        dets,
        key=lambda d: (0 if d in pref else 1 if d.startswith("tabvae") else 2, pref.index(d) if d in pref else 0, d),
    )


def summarize(payload: dict) -> str:
    df = pd.DataFrame(payload["runs"])
    lines = ["# Anomaly-detection benchmark: TabularVAEAnomalyDetector vs. standard detectors", ""]
    src = Path(payload.get("_out", RESULTS / "anomaly.json")).name
    lines.append(
        "Generated by `benchmarks/anomaly.py`; every number below comes from "
        f"`benchmarks/results/{src}` (one record per detector × dataset × protocol × seed)."
    )
    lines.append("")
    lines.append(f"- Command: `{payload['command']}`")
    lines.append(
        f"- Seeds: {payload['seeds']}; mean ± sample std (ddof=1) over seeds; the 'mean over "
        "datasets' column averages the datasets within each seed, then gives mean ± std over seeds. "
        f"Wall time {payload.get('runtime_s', float('nan')) / 60:.1f} min."
    )
    m = payload["machine"]
    lines.append(
        f"- Machine: {m.get('cpu_model', m.get('processor'))}, {m['cpu_count']} cores, "
        f"torch threads {m['torch_threads']}, CUDA {m['cuda']}; shared with other jobs "
        f"(load average at start {tuple(round(x, 2) for x in m.get('load_avg_at_start', ()))}), "
        "so timings are indicative only."
    )
    v = payload["versions"]
    lines.append("- Versions: " + ", ".join(f"{k} {v[k]}" for k in v if v[k]))
    for note in payload.get("notes", []):
        lines.append(f"- {note}")
    lines.append(
        "- Anomaly score = −score_samples (PyOD: decision_function); higher = more anomalous. "
        "ROC-AUC / AP from scikit-learn with label 1 = anomaly."
    )
    vp = payload.get("variants", {}).get("tabvae_params")
    from tabvae.anomaly import DEFAULT_TEMPLATE

    params = {**DEFAULT_TEMPLATE, **(vp or {})}
    tv = f"TabularVAE({', '.join(f'{k}={v!r}' for k, v in params.items())})"
    dp = payload.get("variants", {}).get("detector_params")
    tv_note = (
        "a VARIANT, not the defaults"
        if vp or dp
        else "the detector's default template, epochs='auto' (about 2,000 steps, at most 300 epochs), and its "
        "defaults scoring_epochs=3, units='both', trim=0: rows scored by their smallest training tail share under "
        "a 3-epoch and the fully trained model (whose data-unit shares count 5x), in data and encoded units"
    )
    lines.append(
        f"- Settings: tabvae = `TabularVAEAnomalyDetector(vae={tv}, contamination='auto', "
        f"{''.join(f'{k}={v!r}, ' for k, v in (dp or {}).items())}random_state=seed)` ({tv_note}); IsolationForest "
        "sklearn defaults with random_state=seed; LOF sklearn defaults (n_neighbors=20) on "
        "StandardScaler-ed features (unsupervised: fit_predict + negative_outlier_factor_; "
        "semi-supervised: novelty=True); PyOD ECOD defaults on raw features; PyOD VAE defaults "
        "(30 epochs, batch 32, latent 2, seeded) on StandardScaler-ed features. ECOD and the "
        "unsupervised LOF are deterministic (std 0). torch limited to "
        f"{payload['machine']['torch_threads']} thread(s) for every detector."
    )
    lines.append("")
    lines.append("Datasets:")
    lines.append("")
    lines.append("| dataset | rows | cols | anomalies | rate | note |")
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for name, meta in payload["datasets"].items():
        lines.append(
            f"| {name} | {meta['rows']} | {meta['columns']} | {meta['anomalies']} | "
            f"{meta['anomaly_rate']:.3f} | {meta['note'] or ''} |"
        )
    lines.append("")
    datasets = list(payload["datasets"])
    proto_desc = {
        "unsupervised": "fit on all rows without labels, score the same rows",
        "semisupervised": f"stratified {int(100 * (1 - SEMI_TEST_SIZE))}/"
        f"{int(100 * SEMI_TEST_SIZE)} split per seed; fit on the normal rows "
        "of the training part; score the test part",
    }
    for proto in ("unsupervised", "semisupervised"):
        sub = df[df.protocol == proto]
        if sub.empty:
            continue
        dets = _order(sub.detector.unique())
        for metric, mname in (("roc_auc", "ROC-AUC"), ("ap", "Average precision")):
            lines.append(f"## {proto.capitalize()} protocol — {mname}")
            lines.append("")
            lines.append(f"({proto_desc[proto]}.)")
            lines.append("")
            lines.append("| detector | " + " | ".join(datasets) + " | mean over datasets |")
            lines.append("| --- | " + " | ".join("---" for _ in datasets) + " | --- |")
            for d in dets:
                cells, means = [], []
                for ds in datasets:
                    vals = sub[(sub.detector == d) & (sub.dataset == ds)][metric]
                    cells.append(_ms(vals))
                    if len(vals):
                        means.append(vals.mean())
                # mean over datasets per seed, then mean ± std across seeds
                per_seed = sub[sub.detector == d].groupby("seed")[metric].mean() if len(means) == len(datasets) else []
                lines.append(f"| {_label(d)} | " + " | ".join(cells) + f" | {_ms(per_seed)} |")
            lines.append("")
        lines.append(f"Fit seconds ({proto}), mean over seeds:")
        lines.append("")
        lines.append("| detector | " + " | ".join(datasets) + " |")
        lines.append("| --- | " + " | ".join("---" for _ in datasets) + " |")
        for d in dets:
            if "_iw" in d:  # same fit as the tabvae row above
                continue
            cells = []
            for ds in datasets:
                vals = sub[(sub.detector == d) & (sub.dataset == ds)]["fit_s"]
                cells.append(f"{vals.mean():.1f}" if len(vals) else "–")
            lines.append(f"| {_label(d)} | " + " | ".join(cells) + " |")
        lines.append("")

    sub = df[df.protocol == "contamination"]
    if not sub.empty:
        lines.append("## Robustness to contamination of the training set (ROC-AUC on the test split)")
        lines.append("")
        lines.append(
            "Semi-supervised split; training set = normal rows of the training part plus "
            "anomalies from the training part at the given share of the training set "
            "(actual share in brackets where the available anomalies ran out)."
        )
        lines.append("")
        rates = sorted(sub.contamination.unique())
        head = []
        for r in rates:
            head.append(f"{int(round(100 * r))} %")
        drop_to = [r for r in rates if r in (0.05, rates[-1]) and r > 0]  # the 0→5 %, and 0→highest
        lines.append(
            "| dataset | detector | "
            + " | ".join(head)
            + "".join(f" | ROC-AUC drop 0 %→{int(round(100 * r))} %" for r in drop_to)
            + " |"
        )
        lines.append("| --- | --- | " + " | ".join("---" for _ in rates + drop_to) + " |")
        for ds in datasets + ["mean over datasets"]:
            for d in _order(sub.detector.unique()):
                if ds == "mean over datasets":
                    q = sub[sub.detector == d]
                    cells = []
                    mvals = []
                    for r in rates:
                        ps = q[q.contamination == r].groupby("seed").roc_auc.mean()
                        cells.append(_ms(ps))
                        mvals.append(ps.mean())
                else:
                    q = sub[(sub.detector == d) & (sub.dataset == ds)]
                    cells, mvals = [], []
                    for r in rates:
                        qq = q[q.contamination == r]
                        c = _ms(qq.roc_auc)
                        if len(qq) and abs(qq.actual_rate.mean() - r) > 0.002:
                            c += f" [{100 * qq.actual_rate.mean():.1f} %]"
                        cells.append(c)
                        mvals.append(qq.roc_auc.mean() if len(qq) else np.nan)
                drops = "".join(f" | {mvals[0] - mvals[rates.index(r)]:+.3f}" for r in drop_to)
                lines.append(f"| {ds} | {_label(d)} | " + " | ".join(cells) + drops + " |")
        lines.append("")

    # tabvae threshold behaviour
    t = df[(df.detector == "tabvae") & df.protocol.isin(["unsupervised", "semisupervised"])]
    if not t.empty and "extra" in t:
        lines.append("## tabvae's fitted threshold (contamination='auto', median − 3·1.4826·MAD)")
        lines.append("")
        lines.append("| protocol | dataset | flagged share | precision | recall | true anomaly rate |")
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for proto in ("unsupervised", "semisupervised"):
            for ds in datasets:
                q = t[(t.protocol == proto) & (t.dataset == ds)]
                if q.empty:
                    continue
                ex = pd.DataFrame(list(q.extra))
                prec = ex.precision.dropna()
                lines.append(
                    f"| {proto} | {ds} | {ex.flag_rate.mean():.3f} | "
                    f"{prec.mean():.3f} | {ex.recall.mean():.3f} | "
                    f"{payload['datasets'][ds]['anomaly_rate']:.3f} |"
                )
        lines.append("")

    lines.extend(_variant_section(payload))
    lines.append("## tabvae vs IsolationForest (mean ROC-AUC over datasets and seeds)")
    lines.append("")
    for line in headline(payload):
        lines.append(f"- {line}")
    lines.append("")
    return "\n".join(lines)


def _variant_section(payload) -> list[str]:
    """Short table of separately-run tabvae variants (``anomaly_variant_*.json`` next to the main file)."""
    out_json = payload.get("_out")
    if not out_json or payload.get("variants", {}).get("tabvae_tag"):
        return []
    files = sorted(Path(out_json).parent.glob("anomaly_variant_*.json"))
    if not files:
        return []
    main_df = pd.DataFrame(payload["runs"])
    lines = ["## Variant runs (not the defaults; separate runs, same seeds and splits)", ""]
    datasets = list(payload["datasets"])
    lines.append("| run | detector | protocol | " + " | ".join(datasets) + " | mean |")
    lines.append("| --- | --- | --- | " + " | ".join("---" for _ in datasets) + " | --- |")
    for f in files:
        vp = json.loads(f.read_text())
        vdf = pd.DataFrame(vp["runs"])
        for proto, rate in (
            ("unsupervised", None),
            ("semisupervised", None),
            ("contamination", 0.02),
            ("contamination", 0.05),
        ):
            for src, df, name in (("main", main_df, "tabvae"), (f.name, vdf, vp["variants"].get("tabvae_tag"))):
                q = df[(df.protocol == proto) & (df.detector == name)]
                if rate is not None:
                    q = q[q.contamination == rate]
                if q.empty:
                    continue
                cells = [_ms(q[q.dataset == ds].roc_auc) for ds in datasets]
                per_seed = q.groupby("seed").roc_auc.mean() if q.dataset.nunique() == len(datasets) else []
                label = proto if rate is None else f"contamination {int(100 * rate)} %"
                lines.append(f"| {src} | {name} | {label} | " + " | ".join(cells) + f" | {_ms(per_seed)} |")
        lines.append("")
        lines.append(
            f"({f.name}: `{vp['command']}`"
            + (f", {vp['note']}" if vp.get("note") else "")
            + (f", wall time {vp['runtime_s'] / 60:.1f} min" if vp.get("runtime_s") else "")
            + "; "
            "ROC-AUC, mean ± std over seeds.)"
        )
        lines.append("")
    return lines


def headline(payload) -> list[str]:
    df = pd.DataFrame(payload["runs"])
    out = []
    for proto in ("unsupervised", "semisupervised"):
        sub = df[df.protocol == proto]
        if sub.empty:
            continue
        parts = []
        for d in _order(sub.detector.unique()):
            if d.startswith("tabvae") or d == "iforest":
                parts.append(f"{d} {sub[sub.detector == d].roc_auc.mean():.3f}")
        out.append(f"{proto}: " + ", ".join(parts))
    return out


def plot(payload, path: Path) -> bool:
    df = pd.DataFrame(payload["runs"])
    sub = df[df.protocol == "contamination"]
    if sub.empty:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(payload["datasets"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.2 * len(datasets), 3), sharey=False)
    axes = np.atleast_1d(axes)
    for ax, ds in zip(axes, datasets):
        for d in _order(sub.detector.unique()):
            q = sub[(sub.dataset == ds) & (sub.detector == d)].groupby("contamination").roc_auc
            mean, std = q.mean(), q.std().fillna(0)
            ax.errorbar(100 * mean.index, mean.values, yerr=std.values, marker="o", capsize=3, label=d)
        ax.set_title(ds)
        ax.set_xlabel("injected anomalies (% of train)")
    axes[0].set_ylabel("test ROC-AUC")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_outputs(payload, out_json: Path):
    out_json.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_json.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=float))
    tmp.replace(out_json)
    md = out_json.with_suffix(".md")
    md.write_text(summarize(dict(payload, _out=str(out_json))))
    try:
        plot(payload, out_json.with_name(out_json.stem + "_contamination.png"))
    except Exception as e:  # plotting is a convenience; never lose results over it
        print(f"plot failed: {e}", file=sys.stderr)


# ----------------------------------------------------------------------------- main


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0..n-1)")
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    p.add_argument(
        "--detectors",
        nargs="+",
        default=None,
        help="default: tabvae generator iforest lof, plus ecod pyod_vae when PyOD is importable",
    )
    p.add_argument(
        "--max-rows", type=int, default=15000, help="stratified subsample of larger datasets (shuttle); 0 = no limit"
    )
    p.add_argument(
        "--iw",
        type=int,
        default=16,
        help="also score tabvae's fitted model with n_importance_samples=IW (variant); 0 = off",
    )
    p.add_argument(
        "--tabvae-epochs",
        type=int,
        default=None,
        help="variant: TabularVAE(epochs=N) instead of 'auto' (name becomes tabvae_epN)",
    )
    p.add_argument(
        "--tabvae-params",
        type=json.loads,
        default=None,
        help="variant: TabularVAE parameters (JSON) over the detector's template, e.g. '{\"epochs\": 20}'",
    )
    p.add_argument(
        "--detector-params",
        type=json.loads,
        default=None,
        help="variant: TabularVAEAnomalyDetector parameters (JSON), e.g. '{\"trim\": 0.1}'",
    )
    p.add_argument("--tag", default=None, help="name of a parameter variant (default: tabvae_variant)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--out", type=Path, default=RESULTS / "anomaly.json")
    p.add_argument("--summarize", action="store_true", help="rebuild markdown/plot from --out only")
    args = p.parse_args(argv)

    if args.summarize:
        payload = json.loads(args.out.read_text())
        write_outputs(payload, args.out)
        print("\n".join(headline(payload)))
        return payload

    import warnings

    import torch

    warnings.filterwarnings("ignore", category=FutureWarning)
    torch.set_num_threads(args.threads)
    notes = []
    have_pyod = _have_pyod()
    dets = args.detectors or (["tabvae", "generator", "iforest", "lof"] + (["ecod", "pyod_vae"] if have_pyod else []))
    if not have_pyod:
        notes.append("PyOD is not importable here: ECOD and PyOD VAE were skipped.")
        dets = [d for d in dets if d not in ("ecod", "pyod_vae")]
    variants = {"iw": args.iw or None}
    if args.tabvae_epochs:
        variants["tabvae_params"] = {"epochs": args.tabvae_epochs}
        variants["tabvae_tag"] = f"tabvae_ep{args.tabvae_epochs}"
    if args.tabvae_params:
        variants["tabvae_params"] = {**variants.get("tabvae_params", {}), **args.tabvae_params}
    if args.detector_params:
        variants["detector_params"] = args.detector_params
    if args.tabvae_params or args.detector_params:
        variants["tabvae_tag"] = args.tag or "tabvae_variant"

    t_start = time.time()
    payload = {
        "benchmark": "anomaly",
        "command": "python -m benchmarks.anomaly " + " ".join(sys.argv[1:] if argv is None else argv),
        "started": _dt.datetime.now().isoformat(timespec="seconds"),
        "seeds": list(range(args.seeds)),
        "detectors": dets,
        "max_rows": args.max_rows,
        "contamination_rates": list(CONTAMINATION_RATES),
        "semi_test_size": SEMI_TEST_SIZE,
        "variants": variants,
        "machine": _machine(args.threads),
        "versions": _versions(),
        "git": _git(),
        "data_dir": str(data_dir()),
        "notes": notes,
        "datasets": {},
        "runs": [],
    }
    if variants.get("tabvae_params"):
        notes.append(f"Variant run: tabvae's template with {variants['tabvae_params']} (not the default).")
    if variants.get("detector_params"):
        notes.append(f"Variant run: the detector with {variants['detector_params']} (not the default).")

    def log(msg):
        print(f"[{time.time() - t_start:7.1f}s] {msg}", flush=True)

    records = payload["runs"]
    for name in args.datasets:
        meta = run_dataset(name, payload["seeds"], dets, args.max_rows or None, log, records, variants)
        payload["datasets"][name] = meta
        if meta["note"]:
            msg = f"{name}: {meta['note']}."
            if msg not in notes:
                notes.append(msg)
        payload["runtime_s"] = time.time() - t_start
        write_outputs(payload, args.out)  # partial results survive an interruption
    payload["finished"] = _dt.datetime.now().isoformat(timespec="seconds")
    payload["runtime_s"] = time.time() - t_start
    write_outputs(payload, args.out)
    log("mean ROC-AUC, tabvae vs IsolationForest:")
    for line in headline(payload):
        print("  " + line, flush=True)
    return payload


if __name__ == "__main__":
    main()
