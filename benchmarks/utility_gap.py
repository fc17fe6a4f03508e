"""Where the train-on-synthetic gap comes from: the features' distribution or the target given them.

For each (data set, seed) on the benchmark's split, one ``TabularVAE`` is fitted and
sampled, and the same gradient-boosting model is trained on four tables and scored on
the real test rows:

* ``trtr``: the real training rows;
* ``tstr``: the synthetic rows;
* ``synthetic_x_oracle_y``: the synthetic features with targets redrawn from a model
  fitted to the real rows (a Bernoulli draw from its probability, or its prediction
  plus a resampled real residual), so only the synthetic p(x) differs from ``trtr``'s;
* ``real_x_oracle_y``: the real features with those redrawn targets (what the
  oracle's own error costs).

``real_x_oracle_y - synthetic_x_oracle_y`` is then what the synthetic features cost,
and ``synthetic_x_oracle_y - tstr`` what the generator's p(target | features) costs.
For regression, ``trtr_normal_scores`` and ``tstr_normal_scores`` are the same R² with every
target mapped through the real training target's normal scores (a quantile-to-normal map):
a gap that shrinks there sits in the target's tails::

    python -m benchmarks.utility_gap --datasets magic_gamma,california_housing --seeds 2 \\
        --params '{"learning_rate": 0.003}'

One JSON line per (data set, seed) is printed and appended to ``--out`` if given.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd

from .run import load_dataset, split


def _features(df: pd.DataFrame, full: pd.DataFrame, target: str) -> pd.DataFrame:
    """Features for HistGradientBoosting: text-like columns as categories with the full table's levels."""
    X = df.drop(columns=[target]).copy()
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(full[c]) or pd.api.types.is_bool_dtype(full[c]):
            X[c] = pd.Categorical(X[c].astype(str), categories=sorted(full[c].astype(str).unique()))
    return X


def _target(df: pd.DataFrame, full: pd.DataFrame, target: str, task: str) -> np.ndarray:
    if task == "regression":
        return pd.to_numeric(df[target], errors="coerce").to_numpy(float)
    counts = full[target].astype(str).value_counts()
    return (df[target].astype(str) == counts.index[-1]).to_numpy(int)  # the rarer class is 1


def _model(task: str):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    return cls(categorical_features="from_dtype", random_state=0)


def _score(model, X, y, task) -> float:
    from sklearn.metrics import r2_score, roc_auc_score

    if task == "classification":
        return float(roc_auc_score(y, model.predict_proba(X)[:, 1]))
    return float(r2_score(y, model.predict(X)))


def run_one(dataset: str, seed: int, params: dict, max_train: int) -> dict:
    import torch

    from tabvae import TabularVAE

    torch.set_num_threads(1)
    full, target, task = load_dataset(dataset)
    train, test = split(full, target, task, seed, max_train)
    start = time.perf_counter()
    synthetic = TabularVAE(random_state=seed, **params).fit(train).sample(len(train), random_state=seed)
    fit_s = time.perf_counter() - start
    train = train[train[target].notna()]  # beijing_pm25 has rows without a target
    test = test[test[target].notna()]
    X_test, y_test = _features(test, full, target), _target(test, full, target, task)

    def score(frame: pd.DataFrame, y: np.ndarray, y_eval: np.ndarray = y_test) -> float:
        keep = ~pd.isna(y)
        return _score(_model(task).fit(_features(frame, full, target)[keep], y[keep]), X_test, y_eval, task)

    X_real, y_real = _features(train, full, target), _target(train, full, target, task)
    oracle = _model(task).fit(X_real, y_real)
    rng = np.random.default_rng(seed)
    X_syn = _features(synthetic, full, target)
    if task == "classification":
        redraw = lambda X: (rng.random(len(X)) < oracle.predict_proba(X)[:, 1]).astype(int)  # noqa: E731
    else:
        residuals = y_real - oracle.predict(X_real)
        redraw = lambda X: oracle.predict(X) + rng.choice(residuals, len(X))  # noqa: E731
    row = {"dataset": dataset, "seed": seed, "params": params, "metric": "roc_auc" if task == "classification" else "r2",
           "trtr": score(train, y_real), "tstr": score(synthetic, _target(synthetic, full, target, task)),
           "synthetic_x_oracle_y": score(synthetic, redraw(X_syn)),
           "real_x_oracle_y": score(train, redraw(X_real)), "fit_sample_s": round(fit_s, 2)}
    row["gap"] = row["trtr"] - row["tstr"]
    if task == "regression":
        # The same R², with every target mapped through the real training target's normal scores
        # (the space the model's Gaussian head works in): if the gap shrinks there, it sits in the tails.
        from sklearn.preprocessing import QuantileTransformer

        normal = QuantileTransformer(output_distribution="normal", random_state=0).fit(y_real[:, None])
        to_normal = lambda y: normal.transform(np.asarray(y, float)[:, None])[:, 0]  # noqa: E731
        y_syn = _target(synthetic, full, target, task)
        row["trtr_normal_scores"] = score(train, to_normal(y_real), to_normal(y_test))
        row["tstr_normal_scores"] = score(synthetic, to_normal(y_syn), to_normal(y_test))
        row["gap_normal_scores"] = row["trtr_normal_scores"] - row["tstr_normal_scores"]
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="magic_gamma,california_housing,adult,beijing_pm25")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--params", default="{}", help="JSON dict of TabularVAE parameters")
    ap.add_argument("--max-train", type=int, default=10_000)
    ap.add_argument("--out", help="JSONL file to append the rows to")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    for dataset in args.datasets.split(","):
        for seed in range(args.seeds):
            row = run_one(dataset, seed, json.loads(args.params), args.max_train)
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
