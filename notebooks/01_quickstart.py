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
# # Quickstart: learn the Adult census table and write new rows of it
#
# `tabvae.TabularVAE` is a scikit-learn-style estimator: `fit` a table (a
# pandas DataFrame with numbers, categories, missing values, dates ...),
# then `sample` as many new rows as you like. This notebook goes through
# the whole loop on the UCI Adult census table (32,561 people, 15 columns,
# bundled with tabvae):
#
# 1. fit a model,
# 2. sample a synthetic table of the same size,
# 3. **check** it with `tabvae.evaluate` (a summary table, per-column
#    distributions and a correlation-difference heatmap),
# 4. save the model to one file and load it back.

# %% [markdown]
# Every notebook here reads two environment variables, so that the test suite can
# run it in seconds: `TABVAE_NOTEBOOK_EPOCHS` (training epochs; unset = the value
# chosen below) and `TABVAE_NOTEBOOK_FAST=1` (smaller tables). The outputs saved
# in this file come from a run with neither set, on a 2-core CPU shared with other
# jobs (so the timings printed are pessimistic). Torch and OpenMP are limited to
# one thread (see the comment in the next cell).
#
# **Epochs.** This notebook uses the default, `epochs="auto"`, which aims at
# about 2,000 optimisation steps; the fit cell prints how many epochs that makes
# on these rows.

# %%
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from IPython.display import display
from threadpoolctl import threadpool_limits

import tabvae
from tabvae import TabularVAE, evaluate
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

# %% [markdown]
# ## 1. The data
#
# `load_adult()` returns the table already cleaned (category strings
# stripped, `"?"` read as missing). We keep 20 % of the rows aside as a
# **holdout**: the model never sees them, and `evaluate` uses them as a
# fair test set (for the utility score) and as the reference for the
# privacy scores (are synthetic rows closer to the training rows than
# fresh real rows are?).

# %%
adult = load_adult()
if FAST:
    adult = adult.sample(3000, random_state=0)
holdout = adult.sample(frac=0.2, random_state=0)
train = adult.drop(holdout.index)
print(f"train {train.shape}, holdout {holdout.shape}")
print("missing values:", train.isna().sum()[lambda s: s > 0].to_dict())
train.head()

# %% [markdown]
# ## 2. Fit
#
# No preprocessing is needed: column kinds are inferred (the `schema_`
# attribute shows what was decided), numbers go through a quantile map,
# categories become codes, missing values get their own indicator.
# `random_state` makes the fit and the samples reproducible.

# %%
t = time.perf_counter()
model = TabularVAE(epochs=EPOCHS, random_state=0).fit(train)
print(f"trained {len(model.history_['loss'])} epochs on {len(train):,} rows in {time.perf_counter() - t:.0f} s")
print({c.name: c.kind for c in model.schema_})

# %% [markdown]
# ## 3. Sample
#
# `sample(n)` returns a DataFrame with the same columns and dtypes as the
# training table. Same `random_state`, same rows.

# %%
t = time.perf_counter()
synthetic = model.sample(len(train), random_state=1)
print(
    f"{len(synthetic):,} rows in {time.perf_counter() - t:.2f} s; "
    f"dtypes identical: {synthetic.dtypes.equals(train.dtypes)}"
)
synthetic.head()

# %% [markdown]
# ## 4. Evaluate
#
# `evaluate(real, synthetic, target=..., holdout=..., model=...)` scores
# the synthetic table on four axes:
#
# * **fidelity**: do single columns and column pairs look the same (SDMetrics quality, 1 = identical)?
# * **detection**: can a classifier tell real from synthetic rows (AUC 0.5 = it cannot)?
# * **utility**: does a model trained on synthetic rows predict the real
#   holdout as well as one trained on real rows (TSTR vs TRTR)?
# * **privacy**: are synthetic rows suspiciously close to training rows?

# %%
t = time.perf_counter()
report = evaluate(train, synthetic, target="income", holdout=holdout, model=model)
print(f"evaluated in {time.perf_counter() - t:.0f} s\n")
print(report.summary())

# %%
report.to_frame().round(3)

# %% [markdown]
# **Reading it.** Each line has its reference point in brackets. Fidelity
# (column shapes, pair trends and the quality score that combines them) and the
# logistic detection score are best at 1; the tree classifier is the stricter
# detector, and its AUC is best at 0.5, where it cannot tell synthetic from real
# rows. For utility, compare TSTR (a model trained on synthetic rows, scored on
# the real holdout) with TRTR (the same model trained on the real rows): the
# closer the two, the more of the predictive signal survived. For privacy,
# synthetic rows should be no closer to the training rows than fresh real rows
# are: a median distance-to-closest-record ratio of at least 1, a
# closer-to-train share near 0.5, and exact copies of training rows no more
# frequent than the chance matches between holdout and train rows.

# %% [markdown]
# ### Training curve and per-column distributions
#
# Passing `model=` adds the training curve to the report: the total loss
# (the negative ELBO), and its two parts, how well rows are reconstructed
# and how far the codes stray from the prior (KL).

# %%
display(report.plot_training_curve())

# %%
fig = report.plot_distributions(["age", "education", "marital-status", "hours-per-week", "capital-gain", "income"])
display(fig)

# %% [markdown]
# Bars and histograms of real (train) and synthetic values overlap
# closely, including the spike of zeros in `capital-gain` and the
# 40-hours spike in `hours-per-week`, which a Gaussian decoder would
# otherwise smear.
#
# ### Where do pairwise relationships differ?
#
# The heatmap shows |association(real) − association(synthetic)| for every
# pair of columns (Pearson correlation for number pairs, Cramér's V
# otherwise). White is a perfect match; red cells are the relationships
# the model reproduced worst.

# %%
display(report.plot_correlation_difference())
worst = (
    report.correlation_difference().stack().sort_values(ascending=False).iloc[::2].head(5).round(3)
)  # each pair appears twice in the symmetric matrix
print("largest differences:\n" + worst.to_string())

# education and education-num are a 1:1 pair in the real data: how often does a synthetic row break it?
num_of = train.groupby("education")["education-num"].agg(lambda s: s.mode()[0])
mismatch = synthetic["education-num"] != synthetic["education"].map(num_of)
print(
    f"\nsynthetic rows whose education-num does not match their education: {mismatch.mean():.1%} "
    f"(real rows: {(train['education-num'] != train['education'].map(num_of)).mean():.1%})"
)

# %% [markdown]
# **Reading it.** The printed list names the pairs the model reproduced worst,
# with the size of each gap on the heatmap's scale. `education` and
# `education-num` are a one-to-one pair in the real data; the last line counts
# the synthetic rows that pair an education with a different number. A VAE
# learns relationships approximately, never as hard rules: if you need this one
# exact, derive `education-num` from `education` after sampling (or drop one of
# the two before fitting).
#
# `report.to_html("report.html")` writes all of this (and more tables) as
# one self-contained HTML file.
#
# ## 5. Save and load
#
# `save` writes one file (weights as safetensors, everything else as
# JSON, no pickle, so loading a file from someone else cannot run
# code). The loaded model samples exactly the same rows for the same seed.

# %%
folder = Path(tempfile.mkdtemp())
path = folder / "adult.tabvae"
model.save(path)
loaded = tabvae.load(path)
same = loaded.sample(1000, random_state=7).equals(model.sample(1000, random_state=7))
print(f"model file: {path.stat().st_size / 1e6:.2f} MB; loaded model gives identical samples: {same}")
report.to_html(folder / "report.html")
print(f"HTML report: {(folder / 'report.html').stat().st_size / 1e6:.2f} MB")

# %%
print(f"This notebook ran in {time.perf_counter() - T0:.0f} s.")
