# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Does synthetic data help a model trained on a small table?
#
# A common question: *I only have a few hundred labelled rows; can I add
# synthetic rows to train a better classifier?* This notebook measures it
# instead of assuming it.
#
# * **Data**: UCI Adult (predict whether `income` is `>50K`, the minority class).
#   A fixed **test set** of 10,000 real rows; from the remaining rows we
#   draw a **small training set of 500 rows**, three times (seeds 0, 1, 2).
# * **Model**: scikit-learn's `HistGradientBoostingClassifier` with native
#   categorical support, default settings.
# * **Arms**, all scored by ROC-AUC on the same real test set:
#   1. the 500 real rows alone;
#   2. `tabvae.augment(X, y)` with its default `n_new="auto"`: "refined"
#      rows (class-conditional rows whose label a model of the 500 real rows
#      does not contradict) for the classes below the majority count, up to
#      it, as SMOTE adds; 5-fold cross-validation on the 500 rows, with the
#      same classifier and metric, switches to 1 or 2 times as many rows when
#      they beat that by more than their noise, and adds none unless the
#      folds show a gain (on average and in most folds);
#   3. + a fixed 2,000 synthetic rows (`n_new=2000`), what a user without the
#      search might do;
#   4. + synthetic minority-class rows until the classes are balanced
#      (`TabVAEResampler(n_new=None)`, the imbalanced-learn-compatible
#      resampler; works in an `imblearn` `Pipeline`);
#   5. for reference, **2,500 real rows** — what having more real data
#      would give.
#
# The VAE never sees the test set: the search fits one VAE per training fold,
# and each arm fits its own VAE on the 500 rows only.

# %% [markdown]
# Every notebook here reads two environment variables, so that the test suite can
# run it in seconds: `TABVAE_NOTEBOOK_EPOCHS` (training epochs; unset = the value
# chosen below) and `TABVAE_NOTEBOOK_FAST=1` (smaller tables). The outputs saved
# in this file come from a run with neither set, on a 2-core CPU shared with other
# jobs (so the timings printed are pessimistic). Torch and OpenMP are limited to
# one thread (see the comment in the next cell).
#
# **Training.** The VAEs here use the resampler's default template with the
# epochs above: `TabularVAE(early_stopping=False, config={"value_protection": 0})`.
# Rows that only train your own model need neither the early stop that
# `TabularVAE` applies below 5,000 rows nor the rare-value protection of shared
# samples, and both cost lift. Before sharing synthetic rows as a stand-in for
# real ones, fit with the defaults and check `closer_to_train_share` in
# `evaluate(..., holdout=...)`.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from tabvae import TabularVAE, TabVAEResampler
from tabvae.datasets import load_adult

# %matplotlib inline
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 30)
pd.set_option("display.max_colwidth", 200)
T0 = time.perf_counter()

# One thread for torch and OpenMP: the networks here are small, and on a busy
# machine more threads can be far slower. Set TABVAE_NOTEBOOK_THREADS to change.
N_THREADS = int(os.environ.get("TABVAE_NOTEBOOK_THREADS", "1"))
torch.set_num_threads(N_THREADS)
threadpool_limits(N_THREADS)

EPOCHS = int(os.environ.get("TABVAE_NOTEBOOK_EPOCHS", "0")) or "auto"
FAST = os.environ.get("TABVAE_NOTEBOOK_FAST", "0") == "1"
print(f"epochs={EPOCHS!r}, fast={FAST}")

# %%
adult = load_adult()
TARGET, POSITIVE = "income", ">50K"
CATEGORICAL = [c for c in adult.columns if adult[c].dtype == object and c != TARGET]
LEVELS = {c: sorted(adult[c].dropna().unique()) for c in CATEGORICAL}

N_SMALL, N_NEW, N_MORE_REAL = 500, 2000, 2500
SEEDS = [0, 1, 2]
test = adult.sample(2000 if FAST else 10_000, random_state=123)
pool = adult.drop(test.index)


def features(X):
    """Categorical columns as pandas categories with fixed levels (HistGradientBoosting reads them natively)."""
    X = X.copy()
    for c in CATEGORICAL:
        X[c] = pd.Categorical(X[c], categories=LEVELS[c])
    return X


X_test, y_test = features(test.drop(columns=TARGET)), (test[TARGET] == POSITIVE).to_numpy()


def test_auc(X, y, seed):
    clf = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    clf.fit(features(X), (y == POSITIVE).to_numpy())
    return roc_auc_score(y_test, clf.predict_proba(X_test)[:, 1])


print(
    f"test {len(test):,} rows ({(test[TARGET] == POSITIVE).mean():.1%} positive), "
    f"pool for training sets {len(pool):,} rows"
)

# %% [markdown]
# ## The experiment
#
# One loop: per seed draw the 500 rows, then train and score every arm.
# `vae=TabularVAE(...)` is a template; the resampler clones it and
# fits it on the rows it is given (the label becomes a conditioning column of
# the VAE, so rows of a chosen class are generated directly). `augment(X, y,
# ...)` is the same as `TabVAEResampler(...).fit_resample(X, y)`; the
# resampler object is used here to read what "auto" chose (`n_new_`,
# `strategy_`) and its cross-validation table (`cv_results_`).

# %%
vae = TabularVAE(epochs=EPOCHS, early_stopping=False, config={"value_protection": 0})  # the resampler's default
results, timings, choices = [], {}, []
for seed in SEEDS:
    small = pool.sample(N_SMALL, random_state=seed)
    X, y = small.drop(columns=TARGET), small[TARGET]

    results.append(("500 real rows", seed, len(X), test_auc(X, y, seed)))

    t = time.perf_counter()
    auto = TabVAEResampler(vae=vae, random_state=seed)  # n_new="auto": the default
    X_auto, y_auto = auto.fit_resample(X, y)
    timings.setdefault("augment, n_new='auto'", []).append(time.perf_counter() - t)
    results.append(("500 real + augment(n_new='auto')", seed, len(X_auto), test_auc(X_auto, y_auto, seed)))
    best = auto.best_index_
    choices.append(
        {
            "seed": seed,
            "rows added": auto.n_new_,
            "strategy": auto.strategy_,
            "cross-validated lift": auto.cv_results_["mean_lift"][best],
            "its std over folds": auto.cv_results_["std_lift"][best],
        }
    )

    t = time.perf_counter()
    X_aug, y_aug = TabVAEResampler(n_new=N_NEW, vae=vae, random_state=seed).fit_resample(X, y)
    timings.setdefault(f"augment, n_new={N_NEW}", []).append(time.perf_counter() - t)
    results.append((f"500 real + {N_NEW:,} tabvae rows", seed, len(X_aug), test_auc(X_aug, y_aug, seed)))

    t = time.perf_counter()
    X_bal, y_bal = TabVAEResampler(n_new=None, vae=vae, random_state=seed).fit_resample(X, y)
    timings.setdefault("resampler", []).append(time.perf_counter() - t)
    results.append(
        ("500 real + tabvae minority rows (TabVAEResampler)", seed, len(X_bal), test_auc(X_bal, y_bal, seed))
    )

    more = pool.sample(N_MORE_REAL, random_state=seed)
    results.append(
        (
            f"{N_MORE_REAL:,} real rows (reference)",
            seed,
            len(more),
            test_auc(more.drop(columns=TARGET), more[TARGET], seed),
        )
    )

results = pd.DataFrame(results, columns=["arm", "seed", "training rows", "test ROC-AUC"])
print({k: f"{np.mean(v):.1f} s per call" for k, v in timings.items()})
print("class counts after TabVAEResampler(n_new=None) (last seed):", y_bal.value_counts().to_dict())
display(pd.DataFrame(choices).set_index("seed").round(4))

# %%
per_seed = results.pivot(index="arm", columns="seed", values="test ROC-AUC")
order = per_seed.index[
    np.argsort(
        [
            0
            if a.startswith("500 real rows")
            else 4
            if "reference" in a
            else 3
            if "Resampler" in a
            else 1
            if "auto" in a
            else 2
            for a in per_seed.index
        ]
    )
]
per_seed = per_seed.loc[order]
baseline = per_seed.loc["500 real rows"]
table = pd.DataFrame(
    {
        "mean ROC-AUC": per_seed.mean(axis=1),
        "std": per_seed.std(axis=1),
        "mean change vs 500 real": per_seed.sub(baseline, axis=1).mean(axis=1),
        "seeds better than 500 real": (per_seed.gt(baseline, axis=1)).sum(axis=1).astype(str) + f"/{len(SEEDS)}",
    }
)
table.loc["500 real rows", "seeds better than 500 real"] = "-"
display(per_seed.round(4).add_prefix("seed "))
display(table.round(4))

# %%
fig, ax = plt.subplots(figsize=(8, 3.2))
labels = list(per_seed.index)
for i, arm in enumerate(labels):
    ax.scatter(per_seed.loc[arm], [i] * len(SEEDS), color="tab:blue", alpha=0.6, label="one seed" if i == 0 else None)
    ax.errorbar(
        per_seed.loc[arm].mean(),
        i,
        xerr=per_seed.loc[arm].std(),
        fmt="D",
        color="black",
        capsize=4,
        label="mean ± std" if i == 0 else None,
    )
ax.set_yticks(range(len(labels)), labels)
ax.invert_yaxis()
ax.set_xlabel("ROC-AUC on 10,000 real test rows" if not FAST else "ROC-AUC on real test rows")
ax.axvline(per_seed.loc["500 real rows"].mean(), color="gray", ls=":", lw=1)
ax.legend(loc="upper right", fontsize=8)
ax.set_title("Small training set: real only vs real + synthetic")
plt.show()

# %% [markdown]
# What the search saw for the last seed: the mean test score of every arm over
# the five folds, and its lift over adding nothing (`none`), with the spread of
# that lift across folds. "auto" keeps the "balance" arm unless another beats it
# by more than the standard error of their difference, and adds nothing unless
# the kept arm's mean lift exceeds half its standard error and it gains in at
# least three of the five folds.

# %%
cv = auto.cv_results_
display(
    pd.DataFrame(
        {
            "strategy": cv["param_strategy"],
            "rows added (share of the fold)": cv["param_n_new"],
            "mean CV ROC-AUC": cv["mean_test_score"],
            "mean lift": cv["mean_lift"],
            "std of lift": cv["std_lift"],
        }
    ).round(4)
)

# %% [markdown]
# ## Reading the result
#
# The first table has one test ROC-AUC per seed; the second gives each arm's
# mean, its spread across seeds, the mean change against the 500 real rows alone
# and on how many seeds the arm beat them. Read a change against the spread: a
# change smaller than the baseline's seed-to-seed standard deviation is noise.
#
# The table of choices says, per seed, how many rows "auto" added and with which
# amount; "0" and `None` mean the folds showed no clear gain, and then it
# returns the 500 rows unchanged, so its score equals the first arm's. On 500
# rows a lift measured on five folds of 100 is noisy, so "auto" does not pick
# the best-looking arm: it keeps the amount that helped most often on the
# benchmark (rows up to class balance) unless the folds clearly say otherwise.
# A generator trained on the same 500 rows cannot add information they do not
# hold, which is why the extra *real* rows remain the better (if unavailable)
# option. The benchmark behind this (`python -m benchmarks.augmentation`,
# benchmarks/README.md) measures the same question at 100, 200, 500 and 1,000
# rows on four classification and two regression tables, against SMOTE-NC and
# SDV's TVAE. With HistGradientBoosting, "auto" lifted the test ROC-AUC by
# +0.011 on average over the 16 classification cells (SMOTE-NC +0.009), and
# every cell's 95 % interval stayed above -0.003 (auto: 30 seeds at 100 to 500
# rows, 10 at 1,000; SMOTE-NC: 20 and 10). With a logistic regression the average lift was +0.002
# (SMOTE-NC -0.004), and one cell's interval reached below -0.003 (magic_gamma
# at 100 rows, to -0.005; SMOTE-NC's reached below in 14 of 16): pass the model
# you will train as `estimator=`.
#
# **Caveats.** Three seeds is a small experiment: the differences above
# are measured, but their spread across seeds is of the same order, so
# treat them as indicative. ROC-AUC only measures ranking; balancing the
# classes with synthetic rows also shifts the predicted probabilities
# towards the minority class, so re-calibrate if you use them as
# probabilities. Everything the VAE knows comes from the 500 rows: it
# can smooth and recombine what it saw, it cannot add information that
# was not there, which is why the extra *real* rows remain the better
# (if unavailable) option.

# %%
print(f"This notebook ran in {time.perf_counter() - T0:.0f} s.")
