"""Imputation benchmark: ``TabularVAE.impute`` against scikit-learn's imputers.

Run::

    OMP_NUM_THREADS=1 python -m benchmarks.imputation --datasets adult online_shoppers \
        california_housing magic_gamma --max-train 4000 --seeds 1
    python -m benchmarks.imputation --report

Protocol, per data set, seed k and masking rate r (10 % and 30 %):
    ``benchmarks.run.split`` (80/20, seed k, training rows subsampled to ``--max-train``);
    the target column is set aside; r of the feature cells of the training rows and of the
    test rows are masked completely at random (cells already missing stay missing and are
    not scored).  Each imputer is fitted on the masked training rows and fills the masked
    training and test rows.

Imputers
    tabvae          ``TabularVAE(random_state=k, n_threads=1)`` (defaults) fitted on the masked
                    training rows; ``impute(method="mean")``.
    tabvae_sample   the same fit, ``impute(method="sample")`` (one draw per cell).
    iterative       ``IterativeImputer(random_state=k)`` (BayesianRidge, 10 rounds).
    knn             ``KNNImputer()`` (5 neighbours).
    simple          ``SimpleImputer``: the mean of numbers, the most frequent value of categories.
    For iterative and knn, numbers are standardized (training mean and std) and categories
    one-hot encoded (at most 20 levels, rarer ones share one column; a missing category makes
    its whole block missing); a category is imputed as the level of its block's largest value.

Figures, on the masked cells of the test rows
    num_rmse        RMSE of numeric columns in units of the column's training std, averaged over columns;
    cat_acc         share of categorical (string and boolean) cells imputed exactly, averaged over columns;
    downstream      HistGradientBoosting (200 rounds, lr 0.05) trained on the imputed training rows,
                    scored on the real (unmasked) test rows: ROC-AUC (classification) or R² (regression).

``--report`` also gives, over the data sets, the mean num_rmse, the mean categorical error
``cat_err`` (1 - cat_acc) and ``mean_error``, the mean of those two.

Results go to ``benchmarks/results/imputation.jsonl``, one line per (data set, seed, rate, imputer);
a rerun skips the lines already there.  ``--report`` prints the markdown tables.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.run import load_dataset, machine_info, split

OUT = Path(__file__).resolve().parent / "results" / "imputation.jsonl"
DEFAULT_DATASETS = ["adult", "online_shoppers", "california_housing", "magic_gamma"]
IMPUTERS = ["tabvae", "tabvae_sample", "iterative", "knn", "simple"]
MAX_LEVELS = 20  # one-hot columns per category for iterative and knn
HGB = dict(max_iter=200, learning_rate=0.05, early_stopping=False, random_state=0)


def is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def mask_cells(X: pd.DataFrame, rate: float, rng: np.random.RandomState) -> tuple[pd.DataFrame, np.ndarray]:
    """``X`` with ``rate`` of its cells missing completely at random, and the mask of the cells that were
    observed and are now missing (the scored cells)."""
    holes = rng.rand(*X.shape) < rate
    scored = holes & X.notna().to_numpy()
    masked = X.copy()
    for j, c in enumerate(X.columns):
        if holes[:, j].any():
            col = masked[c].astype(object) if pd.api.types.is_bool_dtype(masked[c].dtype) else masked[c]
            masked[c] = col.mask(holes[:, j])
    return masked, scored


# --------------------------------------------------------------------------- scikit-learn imputers


class Encoded:
    """Numbers standardized and categories one-hot encoded, for scikit-learn's numeric imputers."""

    def __init__(self, train: pd.DataFrame):
        self.numeric = [c for c in train.columns if is_numeric(train[c])]
        self.categorical = [c for c in train.columns if c not in self.numeric]
        self.mean = train[self.numeric].mean()
        self.std = train[self.numeric].std().replace(0, 1)
        self.levels = {
            c: list(train[c].dropna().astype(object).value_counts().index[: MAX_LEVELS - 1]) for c in self.categorical
        }

    def encode(self, X: pd.DataFrame) -> np.ndarray:
        blocks = [((X[self.numeric].astype(float) - self.mean) / self.std).to_numpy()]
        for c in self.categorical:
            values = X[c].astype(object)
            onehot = np.stack([(values == v).to_numpy(float) for v in self.levels[c]], 1)
            other = (~values.isin(self.levels[c]) & values.notna()).to_numpy(float)[:, None]
            block = np.concatenate([onehot, other], 1)
            block[values.isna().to_numpy()] = np.nan
            blocks.append(block)
        return np.concatenate(blocks, 1)

    def decode(self, A: np.ndarray, like: pd.DataFrame) -> pd.DataFrame:
        out = like.copy()
        n = len(self.numeric)
        for j, c in enumerate(self.numeric):
            out[c] = A[:, j] * self.std[c] + self.mean[c]
        for c in self.categorical:
            k = len(self.levels[c]) + 1
            pick = A[:, n : n + k].argmax(1)
            out[c] = np.asarray([*self.levels[c], "__other__"], dtype=object)[pick]
            n += k
        return out


def sklearn_impute(name: str, train: pd.DataFrame, test: pd.DataFrame, seed: int) -> tuple:
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    if name == "simple":
        num = [c for c in train.columns if is_numeric(train[c])]
        cat = [c for c in train.columns if c not in num]
        mean = SimpleImputer(strategy="mean").fit(train[num])
        mode = SimpleImputer(strategy="most_frequent").fit(train[cat].astype(object)) if cat else None
        out = []
        for X in (train, test):
            filled = X.copy()
            filled[num] = mean.transform(X[num])
            if mode is not None:
                filled[cat] = mode.transform(X[cat].astype(object))
            out.append(filled)
        return tuple(out)
    enc = Encoded(train)
    imputer = IterativeImputer(random_state=seed) if name == "iterative" else KNNImputer()
    imputer.fit(enc.encode(train))
    return tuple(enc.decode(imputer.transform(enc.encode(X)), X) for X in (train, test))


# --------------------------------------------------------------------------- figures


def errors(imputed: pd.DataFrame, truth: pd.DataFrame, scored: np.ndarray, std: pd.Series) -> dict:
    rmse, acc = [], []
    for j, c in enumerate(truth.columns):
        rows = scored[:, j]
        if not rows.any():
            continue
        if is_numeric(truth[c]):
            diff = (imputed[c][rows].astype(float) - truth[c][rows].astype(float)) / std[c]
            rmse.append(float(np.sqrt(np.mean(diff.to_numpy() ** 2))))
        else:
            acc.append(float((imputed[c][rows].astype(object) == truth[c][rows].astype(object)).mean()))
    return {"num_rmse": float(np.mean(rmse)) if rmse else None, "cat_acc": float(np.mean(acc)) if acc else None}


def hgb_frame(X: pd.DataFrame, levels: dict) -> pd.DataFrame:
    out = pd.DataFrame(index=X.index)
    for c in X.columns:
        if c in levels:
            out[c] = pd.Categorical(X[c].astype(object).where(X[c].notna(), "__missing__").astype(str), levels[c])
        else:
            out[c] = pd.to_numeric(X[c], errors="coerce").astype(float)
    return out


def downstream(train_X, train_y, test_X, test_y, task: str, full: pd.DataFrame) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import r2_score, roc_auc_score

    cats = [c for c in full.columns if not is_numeric(full[c])]
    levels = {
        c: sorted({*full[c].astype(object).where(full[c].notna(), "__missing__").astype(str), "__other__"})
        for c in cats
    }
    A, B = hgb_frame(train_X, levels), hgb_frame(test_X, levels)
    if task == "classification":
        labels = sorted(pd.concat([train_y, test_y]).astype(str).unique())
        positive = labels[-1]
        m = HistGradientBoostingClassifier(categorical_features="from_dtype", **HGB)
        m.fit(A, (train_y.astype(str) == positive).astype(int))
        return float(roc_auc_score((test_y.astype(str) == positive).astype(int), m.predict_proba(B)[:, 1]))
    m = HistGradientBoostingRegressor(categorical_features="from_dtype", **HGB)
    m.fit(A, train_y)
    return float(r2_score(test_y, m.predict(B)))


# --------------------------------------------------------------------------- runs


def done_keys(path: Path) -> set:
    if not path.exists():
        return set()
    return {(r["dataset"], r["seed"], r["rate"], r["imputer"]) for r in map(json.loads, path.read_text().splitlines())}


def run_one(dataset: str, seed: int, rate: float, args, todo: list[str]) -> list[dict]:
    df, target, task = load_dataset(dataset)
    train, test = split(df, target, task, seed, args.max_train)
    features = [c for c in df.columns if c != target]
    rng = np.random.RandomState(1000 * seed + int(round(100 * rate)))
    train_m, _ = mask_cells(train[features], rate, rng)
    test_m, scored = mask_cells(test[features], rate, rng)
    std = train[features].select_dtypes("number").std().replace(0, 1)
    results = {}
    if {"tabvae", "tabvae_sample"} & set(todo):
        from tabvae import TabularVAE

        t0 = time.perf_counter()
        vae = TabularVAE(random_state=seed, n_threads=1, epochs=args.epochs).fit(train_m)
        fit_s = time.perf_counter() - t0
        for name, method in (("tabvae", "mean"), ("tabvae_sample", "sample")):
            if name in todo:
                t0 = time.perf_counter()
                out = tuple(vae.impute(X, random_state=seed, method=method) for X in (train_m, test_m))
                results[name] = (out, fit_s + time.perf_counter() - t0)
    for name in [n for n in todo if not n.startswith("tabvae")]:
        t0 = time.perf_counter()
        out = sklearn_impute(name, train_m, test_m, seed)
        results[name] = (out, time.perf_counter() - t0)
    rows = []
    for name, ((tr, te), seconds) in results.items():
        record = dict(dataset=dataset, seed=seed, rate=rate, imputer=name, n_train=len(train), n_test=len(test))
        record.update(errors(te, test[features], scored, std))
        record["downstream"] = downstream(tr, train[target], test[features], test[target], task, df[features])
        record["seconds"] = round(seconds, 2)
        rows.append(record)
    return rows


def run(args) -> None:
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = done_keys(path)
    command = "python -m benchmarks.imputation " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    info = machine_info()
    for dataset in args.datasets:
        for seed in range(args.seeds):
            for rate in args.rates:
                todo = [i for i in args.imputers if (dataset, seed, rate, i) not in done]
                if not todo:
                    continue
                for record in run_one(dataset, seed, rate, args, todo):
                    record.update(command=command, commit=info.get("git_commit"), tabvae_dirty=info.get("tabvae_dirty"))
                    with path.open("a") as f:
                        f.write(json.dumps(record) + "\n")
                    print(json.dumps(record), flush=True)


# --------------------------------------------------------------------------- report


def report(path: Path) -> str:
    df = pd.DataFrame(map(json.loads, path.read_text().splitlines()))
    df["cat_err"] = 1 - df["cat_acc"]
    order = [i for i in IMPUTERS if i in set(df["imputer"])]
    lines = []
    for rate, part in df.groupby("rate"):
        lines += [f"**{rate:.0%} of cells masked** (mean over seeds; num RMSE in training stds, lower is better)", ""]
        lines += ["| data set | figure | " + " | ".join(order) + " |", "|---|---|" + "---|" * len(order)]
        means = part.groupby(["dataset", "imputer"])[["num_rmse", "cat_acc", "downstream"]].mean()
        for ds in sorted(set(part["dataset"])):
            for fig in ("num_rmse", "cat_acc", "downstream"):
                cells = [means.loc[(ds, i), fig] if (ds, i) in means.index else np.nan for i in order]
                if all(pd.isna(cells)):
                    continue
                lines.append(f"| {ds} | {fig} | " + " | ".join("" if pd.isna(v) else f"{v:.3f}" for v in cells) + " |")
        overall = part.groupby("imputer")[["num_rmse", "cat_err", "downstream"]].mean()
        overall["mean_error"] = overall[["num_rmse", "cat_err"]].mean(axis=1)
        for fig in ("num_rmse", "cat_err", "mean_error", "downstream"):
            lines.append(f"| **mean** | {fig} | " + " | ".join(f"{overall.loc[i, fig]:.3f}" for i in order) + " |")
        lines.append("")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS)
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--rates", nargs="+", type=float, default=[0.1, 0.3])
    p.add_argument("--imputers", nargs="+", default=IMPUTERS, choices=IMPUTERS)
    p.add_argument("--max-train", type=int, default=4000)
    p.add_argument("--epochs", default="auto", type=lambda s: s if s == "auto" else int(s))
    p.add_argument("--out", default=str(OUT))
    p.add_argument("--report", action="store_true", help="print the markdown tables of --out and exit")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.report:
        print(report(Path(args.out)))
        return
    run(args)


if __name__ == "__main__":
    main()
