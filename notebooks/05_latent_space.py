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
# # The latent space: maps, paths between rows, conditional sampling
#
# A VAE compresses every row into a short vector, its **latent code**
# (`TabularVAE.transform` returns the mean code of each row; 32 numbers
# by default), and decodes codes back into rows
# (`inverse_transform`). This notebook looks at that space on Adult:
#
# 1. a 2-D map of the codes (PCA), coloured by income and age;
# 2. a path between two people (`interpolate`, linear vs spherical);
# 3. **conditional sampling**: a model fitted with
#    `conditional_columns=["income"]` generates rows of a chosen income
#    class directly, and we check them against the real rows of that class.

# %% [markdown]
# Every notebook here reads two environment variables, so that the test suite can
# run it in seconds: `TABVAE_NOTEBOOK_EPOCHS` (training epochs; unset = the value
# chosen below) and `TABVAE_NOTEBOOK_FAST=1` (smaller tables). The outputs saved
# in this file come from a run with neither set, on a 2-core CPU shared with other
# jobs (so the timings printed are pessimistic). Torch and OpenMP are limited to
# one thread (see the comment in the next cell).
#
# **Epochs.** Both models here train on 8,000 Adult rows; `"auto"` would aim at
# about 2,000 optimisation steps each. To stay near a minute they train **60
# epochs** each.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from threadpoolctl import threadpool_limits

from tabvae import TabularVAE
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

EPOCHS = int(os.environ.get("TABVAE_NOTEBOOK_EPOCHS", "0")) or 60
FAST = os.environ.get("TABVAE_NOTEBOOK_FAST", "0") == "1"
print(f"epochs={EPOCHS!r}, fast={FAST}")

# %%
adult = load_adult()
data = adult.sample(2000 if FAST else 8000, random_state=0).reset_index(drop=True)
rich = (data["income"] == ">50K").to_numpy()

t = time.perf_counter()
model = TabularVAE(epochs=EPOCHS, random_state=0).fit(data)
Z = model.transform(data)
print(f"fit {time.perf_counter() - t:.0f} s; latent codes {Z.shape}")

active = Z.std(axis=0) > 0.1
print(f"active latent dimensions (std of the mean code > 0.1): {active.sum()} of {Z.shape[1]}")

# %% [markdown]
# A VAE uses only as many latent dimensions as it needs: the KL term of
# its loss pushes unused ones to carry no information (their code is
# always about 0). The count above is how many this model actually uses.
#
# ## 1. A map of the table
#
# PCA of the mean codes to 2-D. Each dot is a real person; the colour is
# *not* given to PCA, so any separation by colour is structure the VAE
# found on its own.

# %%
pca = PCA(2, random_state=0).fit(Z)
P = pca.transform(Z)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
for label, mask, color in [("<=50K", ~rich, "tab:blue"), (">50K", rich, "tab:orange")]:
    axes[0].scatter(P[mask, 0], P[mask, 1], s=3, alpha=0.35, color=color, label=label)
axes[0].legend(markerscale=5, title="income")
im = axes[1].scatter(P[:, 0], P[:, 1], s=3, alpha=0.5, c=data["age"], cmap="viridis")
fig.colorbar(im, ax=axes[1], label="age")
for ax, title in zip(axes, ["coloured by income", "coloured by age"]):
    ax.set(
        xlabel=f"PC1 ({pca.explained_variance_ratio_[0]:.0%} of variance)",
        ylabel=f"PC2 ({pca.explained_variance_ratio_[1]:.0%})",
        title=title,
    )
plt.tight_layout()
plt.show()

probe = LogisticRegression(max_iter=2000)
auc_full = cross_val_score(probe, Z, rich, cv=5, scoring="roc_auc").mean()
auc_2d = cross_val_score(probe, P, rich, cv=5, scoring="roc_auc").mean()
print(
    f"income from the latent code, linear probe (5-fold ROC-AUC): all {Z.shape[1]} dims {auc_full:.3f}, "
    f"the 2 PCA dims {auc_2d:.3f}"
)

# %% [markdown]
# **Reading it.** Even flattened to two PCA dimensions the map separates the
# incomes, and age changes steadily across it. The linear probe's ROC-AUC on the
# two coordinates, against the one on the whole code, measures how much of the
# income signal the 2-D picture keeps. (Income is one of the columns the VAE
# encodes, so it is no surprise that the code knows it; what the map shows is
# that similar people get nearby codes.)
#
# ## 2. A path between two people
#
# `model.interpolate(a, b, n_steps)` encodes two rows, walks between
# their codes and decodes each point (deterministically: means and most
# likely categories). `method="linear"` mixes the codes straight;
# `method="slerp"` (the default) follows the arc between them, keeping the
# code's length where the model's prior puts its mass instead of cutting
# through the low-density centre. Note the end points are the model's
# *reconstructions* of `a` and `b`, not the original rows.

# %%
a = data[(data["age"] < 25) & (data["marital-status"] == "Never-married") & ~rich].head(1)
b = data[
    (data["age"] > 45) & (data["relationship"] == "Husband") & rich & (data["occupation"] == "Exec-managerial")
].head(1)
path = model.interpolate(a, b, n_steps=7, method="slerp")
cols = ["age", "education", "marital-status", "occupation", "relationship", "sex", "hours-per-week", "income"]
display(
    pd.concat(
        [
            a[cols].assign(step="a (real)"),
            path[cols].assign(step=[f"t={t:.2f}" for t in np.linspace(0, 1, 7)]),
            b[cols].assign(step="b (real)"),
        ]
    ).set_index("step")
)

# %%
za, zb = model.transform(a)[0], model.transform(b)[0]
t = np.linspace(0, 1, 50)[:, None]
linear = (1 - t) * za + t * zb
omega = np.arccos(np.clip(za @ zb / (np.linalg.norm(za) * np.linalg.norm(zb)), -1, 1))
slerp = (
    (np.sin((1 - t) * omega) * za / np.linalg.norm(za) + np.sin(t * omega) * zb / np.linalg.norm(zb))
    / np.sin(omega)
    * ((1 - t) * np.linalg.norm(za) + t * np.linalg.norm(zb))
)
norms = np.linalg.norm(Z, axis=1)
fig, ax = plt.subplots(figsize=(7, 3))
ax.axhspan(*np.percentile(norms, [5, 95]), color="gray", alpha=0.2, label="5-95 % of real rows' codes")
ax.plot(t, np.linalg.norm(linear, axis=1), label="linear")
ax.plot(t, np.linalg.norm(slerp, axis=1), label="slerp")
ax.set(xlabel="t (a → b)", ylabel="length of latent code", title="Why slerp: the linear path dips towards the centre")
ax.legend(fontsize=8)
plt.show()
lin_path = model.interpolate(a, b, n_steps=7, method="linear")
print(
    f"angle between the two codes: {np.degrees(omega):.0f}°; middle of the linear path is "
    f"{np.linalg.norm(linear[25]) / np.linalg.norm(slerp[25]):.0%} as long as slerp's"
)
print(
    "rows where linear and slerp paths decode differently:",
    int((lin_path.astype(str) != path.astype(str)).any(axis=1).sum()),
    "of 7",
)

# %% [markdown]
# Groups work too: passing *sets* of rows joins their mean codes, e.g.
# from the typical `<=50K` person to the typical `>50K` person in this
# sample.

# %%
model.interpolate(data[~rich], data[rich], n_steps=5)[cols]

# %% [markdown]
# **Reading it.** Each step of the spherical path is a plausible person, and the
# columns change a few at a time from `a` to `b`. The endpoints are the model's
# reconstructions, not the rows: compare them with the real rows above and below
# them. The wider the angle between the two codes (printed above), the further
# the straight line between them dips towards the low-density centre, and the
# more often the linear and spherical paths decode to different rows. The group
# path reads like a summary of the table: from the typical `<=50K` person to the
# typical `>50K` person.
#
# ## 3. Conditional sampling
#
# To generate rows of one class exactly, fit with
# `conditional_columns=["income"]`: the network is told the income of each
# row (a conditional VAE), and `sample(n, conditions={"income": ">50K"})`
# generates only such rows, with no rejection. Numeric ranges
# (`"age": (30, 40)`) are met by rejection on top.

# %%
t = time.perf_counter()
cmodel = TabularVAE(epochs=EPOCHS, conditional_columns=["income"], random_state=0).fit(data)
print(f"conditional model fitted in {time.perf_counter() - t:.0f} s")
N_COND = 2000
gen = {c: cmodel.sample(N_COND, conditions={"income": c}, random_state=1) for c in ["<=50K", ">50K"]}
print("income of generated rows:", {c: g["income"].value_counts().to_dict() for c, g in gen.items()})


def profile(df):
    return pd.Series(
        {
            "mean age": df["age"].mean(),
            "% married (civ. spouse)": 100 * (df["marital-status"] == "Married-civ-spouse").mean(),
            "mean education-num": df["education-num"].mean(),
            "% Bachelors or higher": 100
            * df["education"].isin(["Bachelors", "Masters", "Doctorate", "Prof-school"]).mean(),
            "mean hours/week": df["hours-per-week"].mean(),
            "% capital-gain > 0": 100 * (df["capital-gain"] > 0).mean(),
            "% female": 100 * (df["sex"] == "Female").mean(),
        }
    )


compare = pd.DataFrame(
    {
        ("<=50K", "real"): profile(data[~rich]),
        ("<=50K", "generated"): profile(gen["<=50K"]),
        (">50K", "real"): profile(data[rich]),
        (">50K", "generated"): profile(gen[">50K"]),
    }
)
compare.round(1)

# %%
rows = cmodel.sample(500, conditions={"income": ">50K", "age": (30, 40)}, random_state=2)
print(
    f"{len(rows)} rows; income values {rows['income'].unique().tolist()}; "
    f"age range {rows['age'].min()}-{rows['age'].max()}"
)
Zc = cmodel.transform(data)
auc_cond = cross_val_score(LogisticRegression(max_iter=2000), Zc, rich, cv=5, scoring="roc_auc").mean()
print(
    f"income from the latent code, linear probe: unconditional model {auc_full:.3f}, conditional model {auc_cond:.3f}"
)

# %% [markdown]
# **Reading it.** Every conditioned row has the requested income, with no
# rejection, and the table compares each generated class with the real rows of
# that class: check the columns you care about like this before relying on them.
# The numeric range on `age` is met by rejection on top of the exact income (the
# line above gives the ages drawn). Finally, the probe: in the conditional model
# the latent code carries much less about income, because income is given to the
# decoder directly and the code no longer needs to store it.

# %%
print(f"This notebook ran in {time.perf_counter() - T0:.0f} s.")
