"""Augmentation lift: does adding synthetic rows to a small training set help a downstream model?

For each table, seed and size ``s``, a stratified subset of ``s`` rows of the
training split (80/20 split of :func:`benchmarks.run.split`, seed ``k``) is the
only real training data.  Each *arm* turns it into a training set; each
downstream *model* is fitted on it and scored on the test split (ROC-AUC for
classification, R² for regression).  The lift of an arm is its score minus the
score of the small set alone (arm ``none``) for the same table, size, seed and
model.

Arms:

- ``none``: the small set alone;
- ``random_oversampling``: imbalanced-learn's RandomOverSampler to balanced classes (classification);
- ``smote_nc``: SMOTE-NC (SMOTE when every feature is numeric) to balanced classes (classification);
- ``sdv_tvae``: as many SDV TVAE rows as real ones (only with ``--sdv``; slow);
- ``conditional`` / ``joint``: as many tabvae rows as real ones, drawn per class in proportion
  (regression: jointly), i.e. ``augment(X, y, n_new=1.0, strategy="conditional")``;
- ``latent_neighbours``, ``refined``: as many rows as real ones from those strategies (same VAE);
- ``conditional_balanced``, ``refined_balanced``: those strategies' rows for the classes below the
  majority count, up to it (as SMOTE-NC adds), i.e. ``augment(X, y, n_new=None, strategy=...)``;
- ``auto``: ``augment(X, y, n_new="auto", estimator=<model>, scoring=<metric>)``.

Models: ``hgb`` (tabvae's default HistGradientBoosting, text columns as
categorical features) and ``linear`` (median-imputed, standardised numbers and
one-hot categories into LogisticRegression / Ridge).

One JSON line per (table, size, seed, model, arm) goes to
``benchmarks/results/augmentation.jsonl``; cells already there are skipped.

Usage::

    python -m benchmarks.augmentation --tables adult --sizes 100,200 --seeds 0,1,2 [--arms none,auto] [--sdv]
    python -m benchmarks.augmentation --report   # markdown table into benchmarks/README.md
    python -m benchmarks.augmentation --cost     # time of n_new="auto" against one fit
    python -m benchmarks.augmentation --replay   # auto with a stricter "no rows" rule, replayed on the rows
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .run import DATASETS, load_dataset, machine_info, split

RESULTS = Path(__file__).resolve().parent / "results" / "augmentation.jsonl"
README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- augmentation:start -->", "<!-- augmentation:end -->"
SIZES = (100, 200, 500, 1000)
MODELS = ("hgb", "linear")
CLASSIFICATION_ARMS = (
    "none",
    "random_oversampling",
    "smote_nc",
    "sdv_tvae",
    "conditional",
    "latent_neighbours",
    "refined",
    "conditional_balanced",
    "refined_balanced",
    "auto",
)
REGRESSION_ARMS = ("none", "sdv_tvae", "joint", "latent_neighbours", "refined", "auto")
TABVAE_STRATEGIES = ("conditional", "joint", "latent_neighbours", "refined")


# --------------------------------------------------------------------------- models


def make_model(name: str, classification: bool):
    """The downstream model ``hgb`` or ``linear`` for the task."""
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    from tabvae.augmentation.strategies import default_estimator

    if name == "hgb":
        return default_estimator(classification, random_state=0)
    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categories = make_pipeline(
        FunctionTransformer(_as_text),
        SimpleImputer(strategy="constant", fill_value="NA"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    features = make_column_transformer(
        (numbers, make_column_selector(dtype_include="number")),
        (categories, make_column_selector(dtype_exclude="number")),
    )
    head = LogisticRegression(max_iter=2000) if classification else Ridge(alpha=1.0)
    return make_pipeline(features, head)


def _as_text(X):
    return pd.DataFrame(X).astype(object).where(pd.DataFrame(X).notna(), None).astype(str)


# --------------------------------------------------------------------------- arms


def _balanced(X, y, seed, smote: bool):
    """Classes balanced by random oversampling or SMOTE-NC (missing values filled for SMOTE)."""
    from imblearn.over_sampling import SMOTE, SMOTENC, RandomOverSampler

    if not smote:
        Xr, yr = RandomOverSampler(random_state=seed).fit_resample(X, y)
        return Xr, yr
    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])]
    nums = [c for c in X.columns if c not in cats]
    Xs = X.copy()
    Xs[nums] = Xs[nums].astype(float).fillna(Xs[nums].median())
    back = {c: {str(v): v for v in X[c].dropna().unique()} for c in cats}
    for c in cats:
        Xs[c] = X[c].astype(object).where(X[c].notna(), "__missing__").astype(str)
    k = int(min(5, y.value_counts().min() - 1))
    positions = [Xs.columns.get_loc(c) for c in cats]
    sampler = (
        SMOTENC(categorical_features=positions, k_neighbors=k, random_state=seed)
        if cats
        else SMOTE(k_neighbors=k, random_state=seed)
    )
    Xr, yr = sampler.fit_resample(Xs, y)
    for c in cats:
        Xr[c] = Xr[c].map(back[c]).astype(X[c].dtype if X[c].dtype != bool else object)
    return Xr, yr


def _sdv_rows(X, y, seed):
    from tabvae.schema import infer_schema

    from .generators import make_generator

    table = X.assign(__target__=y.to_numpy())
    gen = make_generator("sdv_tvae").fit(table, infer_schema(table, warn=False), seed)
    rows = gen.sample(len(table), seed)
    return (
        pd.concat([X, rows.drop(columns="__target__")], ignore_index=True),
        pd.concat([y, rows["__target__"].rename(y.name)], ignore_index=True),
    )


def tabvae_sets(X, y, arms, seed, classification: bool) -> dict:
    """Training sets of the fixed-amount tabvae arms, all from one VAE fitted on (X, y)."""
    from tabvae import TabVAEResampler
    from tabvae.augmentation.resampler import class_targets
    from tabvae.augmentation.search import share_counts
    from tabvae.augmentation.strategies import TARGET, make_pools, take

    wanted = [a for a in arms if a in TABVAE_STRATEGIES]
    if not wanted and any(a.endswith("_balanced") for a in arms):
        wanted = ["conditional"]
    if not wanted:
        return {}
    res = TabVAEResampler(n_new=1.0, strategy=wanted[0], random_state=seed)
    X_first, y_first = res.fit_resample(X, y)
    sets = {wanted[0]: (X_first, y_first)}
    table = X.reset_index(drop=True).assign(**{TARGET: y.to_numpy()})
    counts = share_counts(table[TARGET], classification, 1.0)
    pools = make_pools(res.vae_, table, wanted[1:], counts, seed)
    for arm in wanted[1:]:
        sets[arm] = _with_rows(X, y, take(pools[arm], counts))
    balanced = [a.removesuffix("_balanced") for a in arms if a.endswith("_balanced")]
    if balanced and classification:
        deficit = class_targets(table[TARGET], "auto")
        pools = make_pools(res.vae_, table, balanced, deficit, seed + 1)
        for arm in balanced:
            sets[f"{arm}_balanced"] = _with_rows(X, y, take(pools[arm], deficit))
    return sets


def _with_rows(X, y, new):
    """``(X, y)`` with the synthetic ``new`` rows (features plus TARGET) appended."""
    from tabvae.augmentation.strategies import TARGET

    return (
        pd.concat([X, new.drop(columns=TARGET)], ignore_index=True),
        pd.concat([y, new[TARGET].rename(y.name)], ignore_index=True),
    )


# --------------------------------------------------------------------------- running


def _score(model, X_fit, y_fit, X_test, y_test, scorer) -> float:
    from sklearn.base import clone

    return float(scorer(clone(model).fit(X_fit, y_fit), X_test, y_test))


def run_cell(table, size, seed, arms, models, done, write, meta) -> None:
    """Every arm x model of one (table, size, seed) not yet in ``done``."""
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import train_test_split

    df, target, task = load_dataset(table)
    classification = task == "classification"
    df = df[df[target].notna()]
    train, test = split(df, target, task, seed, None)
    small, _ = train_test_split(
        train, train_size=size, stratify=train[target] if classification else None, random_state=1000 + seed
    )
    X, y = small.drop(columns=target).reset_index(drop=True), small[target].reset_index(drop=True)
    X_test, y_test = test.drop(columns=target), test[target]
    metric = "roc_auc" if classification else "r2"
    scorer = get_scorer(metric)
    valid = CLASSIFICATION_ARMS if classification else REGRESSION_ARMS
    todo = [a for a in arms if a in valid and any((table, size, seed, m, a) not in done for m in models)]
    if not todo:
        return
    base = {m: _score(make_model(m, classification), X, y, X_test, y_test, scorer) for m in models}
    t0 = time.perf_counter()
    fixed = {"none": (X, y)} if "none" in todo else {}
    fixed.update(tabvae_sets(X, y, todo, seed, classification))
    shared_s = time.perf_counter() - t0
    for arm in todo:
        t0 = time.perf_counter()
        if arm in ("random_oversampling", "smote_nc"):
            fixed[arm] = _balanced(X, y, seed, smote=arm == "smote_nc")
        elif arm == "sdv_tvae":
            fixed[arm] = _sdv_rows(X, y, seed)
        arm_s = time.perf_counter() - t0 + (shared_s if arm in TABVAE_STRATEGIES else 0.0)
        for m in models:
            if (table, size, seed, m, arm) in done:
                continue
            model, chosen = make_model(m, classification), None
            t1 = time.perf_counter()
            if arm == "auto":
                fit_set, chosen = _auto(X, y, model, metric, seed)
            else:
                fit_set = fixed[arm]
            score = _score(model, *fit_set, X_test, y_test, scorer)
            write(
                dict(
                    meta,
                    table=table,
                    size=size,
                    seed=seed,
                    model=m,
                    arm=arm,
                    metric=metric,
                    score=score,
                    lift=score - base[m],
                    n_real=len(X),
                    n_synthetic=len(fit_set[0]) - len(X),
                    seconds=round(arm_s + time.perf_counter() - t1, 2),
                    chosen=chosen,
                    finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                )
            )


_VAES: dict = {}


def _auto(X, y, model, metric, seed):
    """The training set of ``n_new="auto"`` and what it chose.

    The VAEs of the search depend on the rows and the seed only, not on the
    downstream model, so the second model of a cell reuses the first one's
    fits (``_VAES``); its ``seconds`` count only the model fits and sampling.
    """
    from tabvae import TabVAEResampler

    class SharedFits(TabVAEResampler):
        def _fit_vae(self, table, classification, seed):
            key = (int(pd.util.hash_pandas_object(table, index=False).sum()), len(table), classification, seed)
            if key not in _VAES:
                _VAES[key] = super()._fit_vae(table, classification, seed)
            return _VAES[key]

    if len(_VAES) > 64:
        _VAES.clear()
    res = SharedFits(estimator=model, scoring=metric, random_state=seed)
    fit_set = res.fit_resample(X, y)
    r = res.cv_results_
    chosen = {
        "n_new": res.n_new_,
        "strategy": res.strategy_,
        "share": r["param_n_new"][res.best_index_],
        "cv_lift": float(r["mean_lift"][res.best_index_]),
        "cv_lift_std": float(r["std_lift"][res.best_index_]),
        "cv_arms": {
            f"{p['strategy']}@{p['n_new']}": [round(float(m), 5), round(float(sd), 5)]
            for p, m, sd in zip(r["params"], r["mean_lift"], r["std_lift"])
        },
        "cv_fold_scores": [
            [round(float(r[f"split{k}_test_score"][i]), 5) for k in range(res.cv)] for i in range(len(r["params"]))
        ],
    }
    return fit_set, chosen


def cost() -> None:
    """Time ``n_new="auto"`` against one fit of its VAE on 500 stratified rows of Adult (one thread)."""
    import torch
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    from tabvae import TabularVAE, TabVAEResampler
    from tabvae.augmentation.resampler import DEFAULT_VAE

    torch.set_num_threads(1)
    df, target, _ = load_dataset("adult")
    small, _ = train_test_split(df, train_size=500, stratify=df[target], random_state=0)
    X, y = small.drop(columns=target), small[target]
    with threadpool_limits(limits=1):
        t0 = time.perf_counter()
        TabularVAE(conditional_columns=[target], random_state=0, **DEFAULT_VAE).fit(small)  # the search's VAE
        fit = time.perf_counter() - t0
        res = TabVAEResampler(random_state=0)
        res.fit_resample(X, y)
        auto = time.perf_counter() - t0 - fit
    print(
        f"one fit {fit:.1f} s, n_new='auto' {auto:.1f} s ({auto / fit:.1f}x); "
        f"chose n_new={res.n_new_}, strategy={res.strategy_}"
    )


def load_results(path: Path = RESULTS) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run(args) -> None:
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    done = {(r["table"], r["size"], r["seed"], r["model"], r["arm"]) for r in load_results(args.out)}
    meta = {"commit": machine_info(packages=("tabvae", "scikit-learn", "torch")).get("git_commit")}
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def write(row):
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(
            f"{row['table']} size={row['size']} seed={row['seed']} {row['model']:6s} {row['arm']:20s} "
            f"lift={row['lift']:+.4f} ({row['seconds']} s)" + (f" chose {row['chosen']}" if row["chosen"] else ""),
            flush=True,
        )

    with threadpool_limits(limits=1):
        for table in args.tables:
            for size in args.sizes:
                for seed in args.seeds:
                    run_cell(table, size, seed, args.arms, args.models, done, write, meta)


# --------------------------------------------------------------------------- report


def _interval(lifts: pd.Series) -> tuple[float, float]:
    """Mean and half-width of the 95 % t-interval over seeds."""
    from scipy import stats

    n = len(lifts)
    half = stats.t.ppf(0.975, n - 1) * lifts.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
    return float(lifts.mean()), float(half)


LOWER_BOUND = {"classification": -0.003, "regression": -0.005}  # issue 27: "never loses" within noise


def latest(rows: list[dict]) -> pd.DataFrame:
    """The rows as a frame, one per (table, size, seed, model, arm): the last one written wins."""
    df = pd.DataFrame(rows)
    return df.drop_duplicates(["table", "size", "seed", "model", "arm"], keep="last")


def cell_table(df: pd.DataFrame, task: str) -> pd.DataFrame:
    """Mean lift, 95 % half-width, seeds, the interval's lower end (``low``) and whether it meets
    :data:`LOWER_BOUND` (``ok``) per (table, size, model, arm) of one task."""
    tables = [t for t in DATASETS if DATASETS[t][2] == task]
    part = df[df["table"].isin(tables) & (df["arm"] != "none")]
    out = []
    for (table, size, model, arm), g in part.groupby(["table", "size", "model", "arm"], sort=False):
        mean, half = _interval(g["lift"])
        chose0 = sum(c["n_new"] == 0 for c in g["chosen"].dropna()) if arm == "auto" else None
        out.append(
            dict(table=table, size=size, model=model, arm=arm, mean=mean, half=half, seeds=len(g), chose0=chose0)
        )
    cells = pd.DataFrame(out)
    if cells.empty:
        return cells
    cells["low"] = cells["mean"] - cells["half"]
    return cells.assign(ok=cells["low"] >= LOWER_BOUND[task])


def _by_task(df: pd.DataFrame):
    """``(task, cells, arms)`` for each task with results: its :func:`cell_table` and the arms in it."""
    for task, every in (("classification", CLASSIFICATION_ARMS), ("regression", REGRESSION_ARMS)):
        cells = cell_table(df, task)
        if not cells.empty:
            yield task, cells, [a for a in every[1:] if a in set(cells["arm"])]


def full_report(rows: list[dict]) -> str:
    """Markdown: mean lift ± 95 % interval per (table, size, model) and arm, for each task."""
    df = latest(rows)
    lines = [
        "# Augmentation lift, every cell",
        "",
        "Lift of the test score over the small set alone, mean over seeds ± the half-width of its 95 % "
        "t-interval. Generated by `python -m benchmarks.augmentation --report` from "
        "`results/augmentation.jsonl` (protocol: the docstring of `benchmarks/augmentation.py`).",
    ]
    for task, cells, arms in _by_task(df):
        lines += ["", f"## {task} ({'ROC-AUC' if task == 'classification' else 'R²'} lift)", ""]
        lines += ["| table | size | model | seeds | " + " | ".join(arms) + " | auto chose 0 |"]
        lines += ["|---|---|---|---|" + "---|" * (len(arms) + 1)]
        for (table, size, model), g in cells.groupby(["table", "size", "model"], sort=False):
            by = g.set_index("arm")
            row = [f"{by.at[a, 'mean']:+.4f} ± {by.at[a, 'half']:.4f}" if a in by.index else "" for a in arms]
            zero = f"{int(by.at['auto', 'chose0'])}/{by.at['auto', 'seeds']}" if "auto" in by.index else ""
            lines.append(f"| {table} | {size} | {model} | {g['seeds'].max()} | " + " | ".join(row) + f" | {zero} |")
    return "\n".join(lines) + "\n"


def report(rows: list[dict]) -> str:
    """Markdown for the README: mean lift per size and arm, and the targets of issue 27."""
    if not rows:
        return "No augmentation results yet (`python -m benchmarks.augmentation`)."
    df = latest(rows)
    lines = [
        "Mean over (table, model) cells of the lift over the small set alone (ROC-AUC for classification, "
        "R² for regression). Every cell with its 95 % interval: "
        "[results/augmentation.md](results/augmentation.md). Both generated by "
        "`python -m benchmarks.augmentation --report`.",
    ]
    for task, cells, arms in _by_task(df):
        lines += ["", f"**{task}**", "", "| size | cells | seeds | " + " | ".join(arms) + " | auto ≥ bound |"]
        lines += ["|---|---|---|" + "---|" * (len(arms) + 1)]
        for size, g in cells.groupby("size"):
            means = g.pivot_table(index=["table", "model"], columns="arm", values="mean")
            auto = g[g["arm"] == "auto"]
            ok = f"{int(auto['ok'].sum())}/{len(auto)}" if len(auto) else ""
            row = [f"{means[a].mean():+.4f}" if a in means and means[a].notna().all() else "" for a in arms]
            seeds = f"{g['seeds'].min()}–{g['seeds'].max()}" if g["seeds"].nunique() > 1 else str(g["seeds"].max())
            lines.append(f"| {size} | {len(means)} | {seeds} | " + " | ".join(row) + f" | {ok} |")
        lines += _targets(cells, task)
    return "\n".join(lines)


def _targets(cells: pd.DataFrame, task: str) -> list[str]:
    """The "Done when" lines of issue 27 that these cells decide."""
    auto = cells[cells["arm"] == "auto"]
    if auto.empty:
        return []
    out = ["", f"- auto's 95 % lower end ≥ {LOWER_BOUND[task]}: {int(auto['ok'].sum())} of {len(auto)} cells"]
    out[-1] += " (" + ", ".join(f"{m} {int(k.sum())} of {len(k)}" for m, k in auto["ok"].groupby(auto["model"]))
    worst = auto.loc[auto["low"].idxmin()]
    where = f"{worst['table']} {worst['size']} {worst['model']}"
    out[-1] += f"; lowest lower end: {where}, {worst['mean']:+.4f} ± {worst['half']:.4f});"
    if task == "classification":
        smote = cells[cells["arm"] == "smote_nc"].set_index(["table", "size", "model"])["mean"]
        both = (
            auto.set_index(["table", "size", "model"])["mean"]
            .to_frame("auto")
            .join(smote.rename("smote_nc"), how="inner")
        )
        a, b = both["auto"].mean(), both["smote_nc"].mean()
        out.append(f"- mean lift over the {len(both)} cells with both: auto {a:+.4f}, SMOTE-NC {b:+.4f};")
        for size in (100, 200):
            hgb = auto[(auto["size"] == size) & (auto["model"] == "hgb")]
            if len(hgb):
                hits = ", ".join(f"{t} {m:+.4f}" for t, m in zip(hgb["table"], hgb["mean"]))
                n = int((hgb["mean"] >= 0.005).sum())
                out.append(
                    f"- HistGradientBoosting at {size} rows, auto ≥ +0.005 on {n} of {len(hgb)} tables ({hits});"
                )
    return out


def replay_none_rule(rows: list[dict], thresholds=(0.0, 0.5, 1.0), agreeing_folds=(3, 4)) -> str:
    """What auto's rows would score if it added none unless its folds showed a gain.

    Two kinds of rule: a mean gain of more than ``c`` standard errors (for each ``c`` in
    ``thresholds``), and today's 0.5 standard errors with at least ``m`` folds gaining (for each
    ``m`` in ``agreeing_folds``).  Exact on the recorded runs: such a rule keeps auto's choice or
    replaces it by no rows (lift 0), and the chosen arm's per-fold scores are in each ``auto`` row.
    Markdown, one line per task and rule.
    """
    from tabvae.augmentation.search import _mean_minus_error

    auto = latest(rows).query("arm == 'auto'")
    rules = [("as recorded", None)]
    rules += [(f"none unless gain > {c} SE", lambda d, c=c: _mean_minus_error(d, c) > 0) for c in thresholds]
    rules += [
        (
            f"none unless gain > 0.5 SE and ≥ {m} folds gain",
            lambda d, m=m: _mean_minus_error(d, 0.5) > 0 and (d > 0).sum() >= m,
        )
        for m in agreeing_folds
    ]
    lines = [
        "| rule | task | mean lift | cells with lower end ≥ bound (hgb, linear) | hgb ≥ +0.005 at 100 / 200 rows |",
        "|---|---|---|---|---|",
    ]
    for name, rule in rules:
        keep = auto["chosen"].map(lambda ch: rule is None or _shows_gain(ch, rule))
        replayed = auto.assign(lift=auto["lift"].where(keep, 0.0))
        for task, cells, _ in _by_task(replayed.assign(arm="auto")):
            ok = cells["ok"]
            per = ", ".join(f"{int(k.sum())}/{len(k)}" for _, k in ok.groupby(cells["model"]))
            hgb = cells[cells["model"] == "hgb"]
            hits = " / ".join(
                f"{int((g['mean'] >= 0.005).sum())} of {len(g)}"
                for _, g in hgb[hgb["size"].isin([100, 200])].groupby("size")
            )
            hits = hits if task == "classification" else ""
            lines.append(
                f"| {name} | {task} | {cells['mean'].mean():+.4f} | {int(ok.sum())}/{len(ok)} ({per}) | {hits} |"
            )
    return "\n".join(lines)


def apply_shipped_rule(rows: list[dict], commit: str | None) -> list[dict]:
    """Auto's runs as the shipped rule records them, for the runs whose recorded choice it rejects.

    Where :func:`tabvae.augmentation.search.shows_gain` rejects the per-fold lift of the recorded
    choice, a copy that adds no rows: lift 0 and the ``none`` arm's score of the same run, marked
    ``replayed_from`` the run's commit.  Exact: the rule reads only the recorded fold scores, and
    the same folds, VAEs and downstream fits give the recorded choice everywhere else.
    """
    from tabvae.augmentation.search import shows_gain

    key = lambda r: (r["table"], r["size"], r["seed"], r["model"], r["arm"])  # noqa: E731
    last = {key(r): r for r in rows}
    out = []
    for k, r in last.items():
        ch = r["chosen"]
        if r["arm"] != "auto" or not ch or ch["n_new"] == 0 or _shows_gain(ch, shows_gain):
            continue
        none = last.get((*k[:4], "none"))
        if none is None:
            raise ValueError(f"auto run {k[:4]} has no 'none' run beside it to replay no rows from")
        no_rows = {"n_new": 0, "strategy": None, "share": 0.0, "cv_lift": 0.0, "cv_lift_std": 0.0}
        out.append(
            {**r, "commit": commit, "replayed_from": r["commit"], "score": none["score"], "lift": 0.0}
            | {"n_synthetic": 0, "chosen": {**ch, **no_rows}}
        )
    return out


def _shows_gain(chosen: dict, rule) -> bool:
    """Whether ``rule`` accepts the per-fold lift of auto's chosen arm over no rows (False when it chose none)."""
    if chosen["n_new"] == 0:
        return False
    keys = list(chosen["cv_arms"])
    key = next(k for k in keys[1:] if k.endswith(f"@{chosen['share']}"))
    scores = np.asarray(chosen["cv_fold_scores"])
    return bool(rule(scores[keys.index(key)] - scores[0]))


def write_readme(text: str, path: Path = README) -> None:
    """Put ``text`` between the augmentation markers of the README (appended when they are missing)."""
    block = f"{START}\n{text}\n{END}"
    readme = path.read_text()
    if START in readme and END in readme:
        head, rest = readme.split(START, 1)
        readme = head + block + rest.split(END, 1)[1]
    else:
        readme = readme.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(readme)


def _csv(kind):
    return lambda s: [kind(x) for x in s.split(",") if x.strip()]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tables", type=_csv(str), default=list(DATASETS))
    p.add_argument("--sizes", type=_csv(int), default=list(SIZES))
    p.add_argument("--seeds", type=_csv(int), default=[0, 1, 2, 3, 4], help="seed indices, e.g. 0,1,2")
    p.add_argument("--arms", type=_csv(str), default=None, help="default: every arm but sdv_tvae")
    p.add_argument("--models", type=_csv(str), default=list(MODELS))
    p.add_argument("--sdv", action="store_true", help="add the SDV TVAE arm (slow)")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--report", action="store_true", help="print the lift table and write it into the README")
    p.add_argument("--cost", action="store_true", help="time n_new='auto' against one fit (500 Adult rows)")
    p.add_argument("--replay", action="store_true", help="auto's lift under stricter 'no rows' rules, from --out")
    p.add_argument(
        "--pool", type=Path, action="append", default=[], help="with --replay: also the runs of this file (other seeds)"
    )
    p.add_argument(
        "--apply-rule",
        action="store_true",
        help="append to --out the auto runs whose recorded choice the shipped rule rejects, replayed with no rows",
    )
    args = p.parse_args(argv)
    unknown = set(args.tables) - set(DATASETS)
    if unknown:
        p.error(f"unknown tables {sorted(unknown)}; choose from {list(DATASETS)}")
    every = dict.fromkeys(CLASSIFICATION_ARMS + REGRESSION_ARMS)
    if args.arms is None:
        args.arms = [a for a in every if a != "sdv_tvae" or args.sdv]
    elif set(args.arms) - set(every):
        p.error(f"unknown arms {sorted(set(args.arms) - set(every))}; choose from {list(every)}")
    if args.sdv and "sdv_tvae" not in args.arms:
        args.arms.append("sdv_tvae")
    if set(args.models) - set(MODELS):
        p.error(f"models are {list(MODELS)}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.cost:
        return cost()
    if args.apply_rule:
        commit = machine_info(packages=()).get("git_commit")
        replayed = apply_shipped_rule(load_results(args.out), commit)
        with open(args.out, "a") as f:
            f.writelines(json.dumps(r) + "\n" for r in replayed)
        return print(f"{len(replayed)} auto runs replayed with no rows into {args.out}")
    if args.replay:
        rows = load_results(args.out) + [r for f in args.pool for r in load_results(f)]
        return print(replay_none_rule([r for r in rows if r["size"] in args.sizes]))
    if args.report:
        rows = load_results(args.out)
        text = report(rows)
        print(text)
        write_readme(text)
        (RESULTS.parent / "augmentation.md").write_text(full_report(rows))
        return
    run(args)


if __name__ == "__main__":
    main()
