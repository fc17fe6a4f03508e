"""Ablations behind tabvae's defaults, on the benchmark's protocol (split, --max-train, evaluate()).

One TabularVAE fit per (data set, config, seed); every latent sampler listed in
``--priors`` is then scored on the same fit, so the comparison isolates the sampler::

    python -m benchmarks.ablation --datasets adult,default_credit --seeds 3 \\
        --configs '[{}, {"kl_weight": 0.3}]' --priors standard,gmm16,gmm64 \\
        --out benchmarks/results/ablation_prior.jsonl
    python -m benchmarks.ablation --report benchmarks/results/ablation_prior.jsonl

A config is a dict of TabularVAE parameters (``prior`` is set per sampler);
``standard`` samples N(0, I), ``gmmK`` fits a K-component ``GaussianMixturePrior``, ``gmmdiagK`` one
with diagonal covariances;
``posterior`` is a diagnostic, not a generator: one draw z ~ q(z|x) per training row, decoded
(what a perfect model of the aggregate posterior would give, and a privacy worst case).
``--spike-share`` sets the numeric encoder's ``SPIKE_SHARE`` for the run (``none``: no spike state),
``--discrete-min-count`` its ``DISCRETE_MIN_COUNT`` (rows per code of a discrete column).
``--codes-up-to K`` passes every numeric or integer column with at most K distinct values in the
training split as a categorical column (a diagnostic: every few-valued number as codes, dense or not).
``--holdout-fidelity`` also scores the synthetic rows against real rows the model never saw (as many
test-split rows as the training split has, or all of them) and, as the reference an ideal generator
would reach, the training rows against those same rows: on a small table a model that copies its
training rows scores well against them, but not against unseen rows (fields ``holdout_*`` and
``reference_*``).
One JSON line per (data set, config, seed, sampler) is appended to ``--out``;
``--report`` prints the means over seeds as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd

from .run import load_dataset, split

METRICS = ["column_shapes", "column_pair_trends", "logistic_detection", "detection_auc",
           "tstr_gap", "closer_to_train_share", "exact_copy_share"]


def run_one(dataset: str, cfg: dict, seed: int, priors: list[str], max_train: int,
            target_last: bool = False, gmm_tol: float = 1e-3, drop: tuple[str, ...] = (),
            spike_share: float | None = -1.0, codes_up_to: int = 0,
            discrete_min_count: int | None = None, holdout_fidelity: bool = False) -> list[dict]:
    import torch

    from tabvae import TabularVAE
    from tabvae.encoders import numeric
    from tabvae.evaluate import evaluate
    from tabvae.model import GaussianMixturePrior
    from tabvae.schema import infer_schema

    torch.set_num_threads(1)
    if spike_share != -1.0:  # -1: keep the library's SPIKE_SHARE
        numeric.SPIKE_SHARE = spike_share
    if discrete_min_count is not None:
        numeric.DISCRETE_MIN_COUNT = discrete_min_count
    df, target, task = load_dataset(dataset)
    df = df.drop(columns=list(drop))  # a diagnostic: what the gap is without these features
    if target_last:  # the autoregressive decoder follows table order
        df = df[[c for c in df.columns if c != target] + [target]]
    train, test = split(df, target, task, seed, max_train)
    schema = infer_schema(train, warn=False)
    if codes_up_to:
        few = [s.name for s in schema if s.kind in ("numeric", "integer") and train[s.name].nunique() <= codes_up_to]
        cfg = {**cfg, "categorical_columns": few}
    start = time.perf_counter()
    model = TabularVAE(random_state=seed, **{**cfg, "prior": "standard"}).fit(train)
    fit_s = time.perf_counter() - start
    mu, std = model._posterior(*model._encode_input(train))
    unseen = test.sample(n=min(len(test), len(train)), random_state=seed) if holdout_fidelity else None
    reference = _fidelity(unseen, train, schema, seed) if holdout_fidelity else {}
    out = []
    for prior in priors:
        start = time.perf_counter()
        diag = prior.startswith("gmmdiag")
        k = int(prior.removeprefix("gmmdiag" if diag else "gmm")) if prior.startswith("gmm") else 0
        model.prior_ = (GaussianMixturePrior.fit(mu, std, k, seed, tol=gmm_tol, covariance_type="diag" if diag else "full")
                        if k else None)
        prior_s = time.perf_counter() - start
        if prior == "posterior":
            rng = np.random.RandomState(seed)
            z = mu + std * rng.standard_normal(mu.shape)
            synthetic = model._decode(z, rng, torch.Generator().manual_seed(seed))
        else:
            synthetic = model.sample(len(train), random_state=seed)
        s = evaluate(train, synthetic, target=target, task=task, holdout=test, random_state=seed,
                     metadata=schema).scores
        utility = "roc_auc" if task == "classification" else "r2"
        out.append({
            "dataset": dataset, "config": cfg, "seed": seed, "prior": prior, "target_last": target_last, "gmm_tol": gmm_tol,
            "spike_share": numeric.SPIKE_SHARE, "codes_up_to": codes_up_to,
            "discrete_min_count": numeric.DISCRETE_MIN_COUNT,
            "dropped": list(drop), "max_train": max_train,
            "active_dims": int(model.prior_.active.sum()) if k else None,
            "fit_s": round(fit_s, 2), "prior_s": round(prior_s, 2),
            **{m: s[m] for m in METRICS if m in s},
            "trtr": s[f"trtr_{utility}"], "tstr": s[f"tstr_{utility}"],
            "tstr_gap": s[f"trtr_{utility}"] - s[f"tstr_{utility}"],
        })
        if holdout_fidelity:
            out[-1].update({f"holdout_{k}": v for k, v in _fidelity(unseen, synthetic, schema, seed).items()})
            out[-1].update({f"reference_{k}": v for k, v in reference.items()})
            out[-1]["n_unseen"] = len(unseen)
    return out


FIDELITY = ["column_shapes", "column_pair_trends", "logistic_detection", "detection_auc"]


def _fidelity(real, synthetic, schema, seed) -> dict:
    """Shapes, trends and detection of ``synthetic`` against ``real`` (no utility, no privacy)."""
    from tabvae.evaluate import evaluate

    s = evaluate(real, synthetic, random_state=seed, metadata=schema).scores
    return {m: s[m] for m in FIDELITY}


def report(path: str) -> str:
    rows = [json.loads(line) for line in open(path)]
    df = pd.DataFrame(rows)
    df["config"] = df["config"].map(lambda c: json.dumps(c, sort_keys=True))
    if "spike_share" in df:  # runs that set the numeric encoder's SPIKE_SHARE
        df["config"] += df["spike_share"].map(lambda v: " SPIKE_SHARE=none" if pd.isna(v) else f" SPIKE_SHARE={v}")
    if "discrete_min_count" in df:  # runs that recorded the numeric encoder's DISCRETE_MIN_COUNT
        df["config"] += df["discrete_min_count"].map(lambda v: "" if pd.isna(v) else f" DISCRETE_MIN_COUNT={int(v)}")
    keys = ["dataset", "config", "prior"]
    if "max_train" in df and df["max_train"].nunique(dropna=False) > 1:  # one file, several training-set sizes
        df["max_train"] = df["max_train"].map(lambda v: "all rows" if pd.isna(v) else f"{int(v)} rows")
        keys = ["dataset", "max_train", "config", "prior"]
    metrics = METRICS + [f"{side}_{m}" for side in ("holdout", "reference") for m in FIDELITY
                         if f"{side}_{m}" in df]
    means = df.groupby(keys, sort=False)[metrics + ["prior_s"]].mean()
    seeds = df.groupby(keys, sort=False)["seed"].nunique()
    names = {"dataset": "data set", "max_train": "training rows", "config": "config", "prior": "sampler"}
    lines = ["| " + " | ".join(names[k] for k in keys) + " | seeds | " + " | ".join(metrics) + " | sampler fit s |",
             "|" + "---|" * (len(metrics) + len(keys) + 2)]
    for key, r in means.iterrows():
        vals = " | ".join(f"{r[m]:.3f}" for m in metrics)
        lines.append(f"| {' | '.join(key)} | {seeds[key]} | {vals} | {r['prior_s']:.2f} |")
    overall = df.groupby(["config", "prior"], sort=False)[metrics + ["prior_s"]].mean()
    lines += ["", "Mean over data sets and seeds" + (" (and training-set sizes)" if "max_train" in keys else "") + ":", "",
              "| config | sampler | " + " | ".join(metrics) + " | sampler fit s |",
              "|" + "---|" * (len(metrics) + 3)]
    for key, r in overall.iterrows():
        vals = " | ".join(f"{r[m]:.3f}" for m in metrics)
        lines.append(f"| {' | '.join(key)} | {vals} | {r['prior_s']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="adult,default_credit,online_shoppers,beijing_pm25,"
                                          "california_housing,magic_gamma")
    ap.add_argument("--configs", default="[{}]", help="JSON list of TabularVAE parameter dicts")
    ap.add_argument("--priors", default="standard,gmm16")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--max-train", type=int, default=10_000)
    ap.add_argument("--out", default="benchmarks/results/ablation.jsonl")
    ap.add_argument("--drop", default="", help="comma-separated columns to remove from the data set first")
    ap.add_argument("--gmm-tol", type=float, default=1e-3, help="EM tolerance of the gmmK samplers")
    ap.add_argument("--spike-share", type=lambda v: None if v == "none" else float(v), default=-1.0,
                    help="the numeric encoder's SPIKE_SHARE for this run ('none': no spike state)")
    ap.add_argument("--discrete-min-count", type=int, default=None,
                    help="the numeric encoder's DISCRETE_MIN_COUNT for this run")
    ap.add_argument("--codes-up-to", type=int, default=0,
                    help="numeric columns with at most this many distinct values become categorical")
    ap.add_argument("--target-last", action="store_true", help="move the target to the last column")
    ap.add_argument("--holdout-fidelity", action="store_true",
                    help="also score fidelity against unseen test rows, and the training rows against them")
    ap.add_argument("--report", metavar="JSONL", help="print the markdown table of a results file")
    args = ap.parse_args(argv)
    if args.report:
        print(report(args.report))
        return
    warnings.filterwarnings("ignore")
    for dataset in args.datasets.split(","):
        for cfg in json.loads(args.configs):
            for seed in range(args.seeds):
                for row in run_one(dataset, cfg, seed, args.priors.split(","), args.max_train,
                                   args.target_last, args.gmm_tol, tuple(filter(None, args.drop.split(","))),
                                   args.spike_share, args.codes_up_to, args.discrete_min_count,
                                   args.holdout_fidelity):
                    with open(args.out, "a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
