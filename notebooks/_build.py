"""Build (and optionally execute) the example notebooks.

    python notebooks/_build.py                 # write the .ipynb files, no outputs
    python notebooks/_build.py --execute       # write them and run them, saving outputs
    python notebooks/_build.py --execute 03    # only notebooks whose name contains "03"
    python notebooks/_build.py --text-only     # refresh the markdown of the saved notebooks, keep outputs

The notebooks are the source of truth for readers; this script is the source
of truth for their code and text. Executing runs each notebook with its cwd
set to this folder and the current environment (so TABVAE_NOTEBOOK_EPOCHS /
TABVAE_NOTEBOOK_FAST, if set, apply). Saved outputs come from a run with
neither variable set.
"""

from __future__ import annotations

import re
import sys
import textwrap
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str):
    return new_code_cell(textwrap.dedent(text).strip())


SETUP_DOC = """
Every notebook here reads two environment variables, so that the test suite can
run it in seconds: `TABVAE_NOTEBOOK_EPOCHS` (training epochs; unset = the value
chosen below) and `TABVAE_NOTEBOOK_FAST=1` (smaller tables). The outputs saved
in this file come from a run with neither set, on a 2-core CPU shared with other
jobs (so the timings printed are pessimistic). Torch and OpenMP are limited to
one thread (see the comment in the next cell).
"""


def setup_cell(default_epochs: str, extra_imports: str = "") -> str:
    extra = "\n".join(line.strip() for line in extra_imports.strip().splitlines())
    head = textwrap.dedent("""
        import os
        import tempfile
        import time
        from pathlib import Path

        import numpy as np
        import pandas as pd
        import matplotlib.pyplot as plt
        import torch
        from IPython.display import display
        from threadpoolctl import threadpool_limits
        """).strip()
    tail = textwrap.dedent(f"""
        from tabvae import TabularVAE
        from tabvae.datasets import load_adult

        %matplotlib inline
        pd.set_option("display.width", 140)
        pd.set_option("display.max_columns", 30)
        pd.set_option("display.max_colwidth", 200)
        T0 = time.perf_counter()

        # One thread for torch and OpenMP: the networks here are small, and on a busy
        # machine more threads can be far slower (measured on 2 shared cores: 31 ms per
        # training step with 1 thread, 705 ms with 2). Set TABVAE_NOTEBOOK_THREADS to change.
        N_THREADS = int(os.environ.get("TABVAE_NOTEBOOK_THREADS", "1"))
        torch.set_num_threads(N_THREADS)
        threadpool_limits(N_THREADS)

        EPOCHS = int(os.environ.get("TABVAE_NOTEBOOK_EPOCHS", "0")) or {default_epochs}
        FAST = os.environ.get("TABVAE_NOTEBOOK_FAST", "0") == "1"
        print(f"epochs={{EPOCHS!r}}, fast={{FAST}}")
        """).strip()
    return "\n".join(p for p in (head, extra, tail) if p)


FOOTER = code("""print(f"This notebook ran in {time.perf_counter() - T0:.0f} s.")""")


# ----------------------------------------------------------------------------- 01 quickstart

def quickstart():
    return [
        md("""
        # Quickstart: learn the Adult census table and write new rows of it

        `tabvae.TabularVAE` is a scikit-learn-style estimator: `fit` a table (a
        pandas DataFrame with numbers, categories, missing values, dates ...),
        then `sample` as many new rows as you like. This notebook goes through
        the whole loop on the UCI Adult census table (32,561 people, 15 columns,
        bundled with tabvae):

        1. fit a model,
        2. sample a synthetic table of the same size,
        3. **check** it with `tabvae.evaluate` (a summary table, per-column
           distributions and a correlation-difference heatmap),
        4. save the model to one file and load it back.
        """),
        md(SETUP_DOC + textwrap.dedent("""
        **Epochs.** This notebook uses the default, `epochs="auto"`, which aims at
        about 2,000 optimisation steps: 39 epochs on these 26k rows.
        """)),
        code(setup_cell('"auto"', "import tabvae\nfrom tabvae import evaluate")),
        md("""
        ## 1. The data

        `load_adult()` returns the table already cleaned (category strings
        stripped, `"?"` read as missing). We keep 20 % of the rows aside as a
        **holdout**: the model never sees them, and `evaluate` uses them as a
        fair test set (for the utility score) and as the reference for the
        privacy scores (are synthetic rows closer to the training rows than
        fresh real rows are?).
        """),
        code("""
        adult = load_adult()
        if FAST:
            adult = adult.sample(3000, random_state=0)
        holdout = adult.sample(frac=0.2, random_state=0)
        train = adult.drop(holdout.index)
        print(f"train {train.shape}, holdout {holdout.shape}")
        print("missing values:", train.isna().sum()[lambda s: s > 0].to_dict())
        train.head()
        """),
        md("""
        ## 2. Fit

        No preprocessing is needed: column kinds are inferred (the `schema_`
        attribute shows what was decided), numbers go through a quantile map,
        categories become codes, missing values get their own indicator.
        `random_state` makes the fit and the samples reproducible.
        """),
        code("""
        t = time.perf_counter()
        model = TabularVAE(epochs=EPOCHS, random_state=0).fit(train)
        print(f"trained {len(model.history_['loss'])} epochs on {len(train):,} rows "
              f"in {time.perf_counter() - t:.0f} s")
        print({c.name: c.kind for c in model.schema_})
        """),
        md("""
        ## 3. Sample

        `sample(n)` returns a DataFrame with the same columns and dtypes as the
        training table. Same `random_state`, same rows.
        """),
        code("""
        t = time.perf_counter()
        synthetic = model.sample(len(train), random_state=1)
        print(f"{len(synthetic):,} rows in {time.perf_counter() - t:.2f} s; "
              f"dtypes identical: {synthetic.dtypes.equals(train.dtypes)}")
        synthetic.head()
        """),
        md("""
        ## 4. Evaluate

        `evaluate(real, synthetic, target=..., holdout=..., model=...)` scores
        the synthetic table on four axes:

        * **fidelity**: do single columns and column pairs look the same (SDMetrics quality, 1 = identical)?
        * **detection**: can a classifier tell real from synthetic rows (AUC 0.5 = it cannot)?
        * **utility**: does a model trained on synthetic rows predict the real
          holdout as well as one trained on real rows (TSTR vs TRTR)?
        * **privacy**: are synthetic rows suspiciously close to training rows?
        """),
        code("""
        t = time.perf_counter()
        report = evaluate(train, synthetic, target="income", holdout=holdout, model=model)
        print(f"evaluated in {time.perf_counter() - t:.0f} s\\n")
        print(report.summary())
        """),
        code("""
        report.to_frame().round(3)
        """),
        md("""
        **Reading it.** {summary_reading}
        """),
        md("""
        ### Training curve and per-column distributions

        Passing `model=` adds the training curve to the report: the total loss
        (the negative ELBO), and its two parts, how well rows are reconstructed
        and how far the codes stray from the prior (KL).
        """),
        code("""
        display(report.plot_training_curve())
        """),
        code("""
        fig = report.plot_distributions(["age", "education", "marital-status", "hours-per-week",
                                         "capital-gain", "income"])
        display(fig)
        """),
        md("""
        Bars and histograms of real (train) and synthetic values overlap
        closely, including the spike of zeros in `capital-gain` and the
        40-hours spike in `hours-per-week`, which a Gaussian decoder would
        otherwise smear.

        ### Where do pairwise relationships differ?

        The heatmap shows |association(real) − association(synthetic)| for every
        pair of columns (Pearson correlation for number pairs, Cramér's V
        otherwise). White is a perfect match; red cells are the relationships
        the model reproduced worst.
        """),
        code("""
        display(report.plot_correlation_difference())
        worst = (report.correlation_difference().stack().sort_values(ascending=False)
                 .iloc[::2].head(5).round(3))  # each pair appears twice in the symmetric matrix
        print("largest differences:\\n" + worst.to_string())

        # education and education-num are a 1:1 pair in the real data: how often does a synthetic row break it?
        num_of = train.groupby("education")["education-num"].agg(lambda s: s.mode()[0])
        mismatch = synthetic["education-num"] != synthetic["education"].map(num_of)
        print(f"\\nsynthetic rows whose education-num does not match their education: {mismatch.mean():.1%} "
              f"(real rows: {(train['education-num'] != train['education'].map(num_of)).mean():.1%})")
        """),
        md("""
        **Reading it.** {corr_reading}

        `report.to_html("report.html")` writes all of this (and more tables) as
        one self-contained HTML file.

        ## 5. Save and load

        `save` writes one file (weights as safetensors, everything else as
        JSON, no pickle, so loading a file from someone else cannot run
        code). The loaded model samples exactly the same rows for the same seed.
        """),
        code("""
        folder = Path(tempfile.mkdtemp())
        path = folder / "adult.tabvae"
        model.save(path)
        loaded = tabvae.load(path)
        same = loaded.sample(1000, random_state=7).equals(model.sample(1000, random_state=7))
        print(f"model file: {path.stat().st_size / 1e6:.2f} MB; loaded model gives identical samples: {same}")
        report.to_html(folder / "report.html")
        print(f"HTML report: {(folder / 'report.html').stat().st_size / 1e6:.2f} MB")
        """),
        FOOTER,
    ]


# ----------------------------------------------------------------------------- 02 augmentation

def augmentation():
    return [
        md("""
        # Does synthetic data help a model trained on a small table?

        A common question: *I only have a few hundred labelled rows; can I add
        synthetic rows to train a better classifier?* This notebook measures it
        instead of assuming it.

        * **Data**: UCI Adult (predict `income` `>50K`, 24 % positives).
          A fixed **test set** of 10,000 real rows; from the remaining rows we
          draw a **small training set of 500 rows**, three times (seeds 0, 1, 2).
        * **Model**: scikit-learn's `HistGradientBoostingClassifier` with native
          categorical support, default settings.
        * **Arms**, all scored by ROC-AUC on the same real test set:
          1. the 500 real rows alone;
          2. + 2,000 synthetic rows from `tabvae.augment` (a VAE fitted on the
             500 rows, features and label together);
          3. + synthetic minority-class rows until the classes are balanced,
             with `tabvae.TabVAEResampler` (the imbalanced-learn-compatible
             resampler; works in an `imblearn` `Pipeline`);
          4. for reference, **2,500 real rows** — what having more real data
             would give.

        The VAE never sees the test set. Each arm fits its own VAE on the 500
        rows only.
        """),
        md(SETUP_DOC + textwrap.dedent("""
        **Epochs.** This notebook uses the default `epochs="auto"` (on 500 rows:
        300 epochs, i.e. 300 optimisation steps). So many passes over so few
        rows let the model learn the rows themselves: measured on 500 Adult rows
        (2 seeds), 57.5 % of synthetic rows were closer to a training row than to
        an unseen one, where 50 % is chance and the privacy bound used in the
        benchmark is 53 % (benchmarks/README.md, "Epochs on small tables"). That
        is acceptable for augmenting your own training set; before sharing such
        rows as a stand-in for the real ones, fit with `epochs=100` (54.1 % on
        the same rows) or `early_stopping=True`, and check
        `closer_to_train_share` in `evaluate(..., holdout=...)`. Fewer passes
        cost fidelity: against unseen Adult rows, a classifier told 100-epoch
        samples from real rows with ROC-AUC 0.91, the default's with 0.62.
        """)),
        code(setup_cell('"auto"', """from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from tabvae import TabVAEResampler, augment""")),
        code("""
        adult = load_adult()
        TARGET, POSITIVE = "income", ">50K"
        CATEGORICAL = [c for c in adult.columns if adult[c].dtype == object and c != TARGET]
        LEVELS = {c: sorted(adult[c].dropna().unique()) for c in CATEGORICAL}

        N_SMALL, N_NEW, N_MORE_REAL = 500, 2000, 2500
        SEEDS = [0, 1, 2]
        test = adult.sample(2000 if FAST else 10_000, random_state=123)
        pool = adult.drop(test.index)


        def features(X):
            \"\"\"Categorical columns as pandas categories with fixed levels (HistGradientBoosting reads them natively).\"\"\"
            X = X.copy()
            for c in CATEGORICAL:
                X[c] = pd.Categorical(X[c], categories=LEVELS[c])
            return X


        X_test, y_test = features(test.drop(columns=TARGET)), (test[TARGET] == POSITIVE).to_numpy()


        def test_auc(X, y, seed):
            clf = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
            clf.fit(features(X), (y == POSITIVE).to_numpy())
            return roc_auc_score(y_test, clf.predict_proba(X_test)[:, 1])


        print(f"test {len(test):,} rows ({(test[TARGET] == POSITIVE).mean():.1%} positive), "
              f"pool for training sets {len(pool):,} rows")
        """),
        md("""
        ## The experiment

        One loop: per seed draw the 500 rows, then train and score every arm.
        `vae=TabularVAE(epochs=EPOCHS)` is a template; `augment` and the
        resampler clone it and fit it on the 500 rows (the label becomes a
        conditioning column of the VAE, so rows of a chosen class are
        generated directly).
        """),
        code("""
        vae = TabularVAE(epochs=EPOCHS)
        results, timings = [], {}
        for seed in SEEDS:
            small = pool.sample(N_SMALL, random_state=seed)
            X, y = small.drop(columns=TARGET), small[TARGET]

            results.append(("500 real rows", seed, len(X), test_auc(X, y, seed)))

            t = time.perf_counter()
            X_aug, y_aug = augment(X, y, n_new=N_NEW, vae=vae, random_state=seed)
            timings.setdefault("augment", []).append(time.perf_counter() - t)
            results.append((f"500 real + {N_NEW:,} tabvae rows (augment)", seed, len(X_aug),
                            test_auc(X_aug, y_aug, seed)))

            t = time.perf_counter()
            X_bal, y_bal = TabVAEResampler(vae=vae, random_state=seed).fit_resample(X, y)
            timings.setdefault("resampler", []).append(time.perf_counter() - t)
            results.append(("500 real + tabvae minority rows (TabVAEResampler)", seed, len(X_bal),
                            test_auc(X_bal, y_bal, seed)))

            more = pool.sample(N_MORE_REAL, random_state=seed)
            results.append((f"{N_MORE_REAL:,} real rows (reference)", seed, len(more),
                            test_auc(more.drop(columns=TARGET), more[TARGET], seed)))

        results = pd.DataFrame(results, columns=["arm", "seed", "training rows", "test ROC-AUC"])
        print({k: f"{np.mean(v):.1f} s per fit+sample" for k, v in timings.items()})
        print("class counts after TabVAEResampler (last seed):", y_bal.value_counts().to_dict())
        """),
        code("""
        per_seed = results.pivot(index="arm", columns="seed", values="test ROC-AUC")
        order = per_seed.index[np.argsort([0 if a.startswith("500 real rows") else 3 if "reference" in a else 1 + ("Resampler" in a)
                                          for a in per_seed.index])]
        per_seed = per_seed.loc[order]
        baseline = per_seed.loc["500 real rows"]
        table = pd.DataFrame({
            "mean ROC-AUC": per_seed.mean(axis=1),
            "std": per_seed.std(axis=1),
            "mean change vs 500 real": per_seed.sub(baseline, axis=1).mean(axis=1),
            "seeds better than 500 real": (per_seed.gt(baseline, axis=1)).sum(axis=1).astype(str) + f"/{len(SEEDS)}",
        })
        table.loc["500 real rows", "seeds better than 500 real"] = "-"
        display(per_seed.round(4).add_prefix("seed "))
        display(table.round(4))
        """),
        code("""
        fig, ax = plt.subplots(figsize=(8, 3.2))
        labels = list(per_seed.index)
        for i, arm in enumerate(labels):
            ax.scatter(per_seed.loc[arm], [i] * len(SEEDS), color="tab:blue", alpha=0.6, label="one seed" if i == 0 else None)
            ax.errorbar(per_seed.loc[arm].mean(), i, xerr=per_seed.loc[arm].std(), fmt="D", color="black",
                        capsize=4, label="mean ± std" if i == 0 else None)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel("ROC-AUC on 10,000 real test rows" if not FAST else "ROC-AUC on real test rows")
        ax.axvline(per_seed.loc["500 real rows"].mean(), color="gray", ls=":", lw=1)
        ax.legend(loc="upper right", fontsize=8)
        ax.set_title("Small training set: real only vs real + synthetic")
        plt.show()
        """),
        md("""
        ## Reading the result

        {reading}

        **Caveats.** Three seeds is a small experiment: the differences above
        are measured, but their spread across seeds is of the same order, so
        treat them as indicative. ROC-AUC only measures ranking; balancing the
        classes with synthetic rows also shifts the predicted probabilities
        towards the minority class, so re-calibrate if you use them as
        probabilities. Everything the VAE knows comes from the 500 rows: it
        can smooth and recombine what it saw, it cannot add information that
        was not there, which is why the extra *real* rows remain the better
        (if unavailable) option.
        """),
        FOOTER,
    ]


# ----------------------------------------------------------------------------- 03 test data

def test_data():
    return [
        md("""
        # Generating realistic test data: an "orders" table, 100k rows to Parquet

        Test and staging environments need data that *looks* like production:
        the same dtypes, the same missing-value patterns, plausible
        combinations, and the business rules that downstream code relies on.
        This notebook:

        1. builds a small but realistic `orders` table (timezone-aware
           timestamps, dates, missing values, nullable `Int64`, `category`,
           `bool` and nullable `boolean` columns);
        2. fits a `TabularVAE` on it as it is and **measures** how often
           synthetic rows break two business rules (`ship_date` on or after the
           order's local date; a `ship_date` only for orders that have shipped);
        3. fixes the main problem by modelling the shipping *delay* instead of
           the ship date, and rejects the few remaining rule-breaking rows;
        4. streams 100,000 rows with `iter_samples` into a Parquet file (bounded
           memory: one chunk at a time);
        5. reads the file back and checks dtypes, null rates and rules against
           the original.

        The table is constructed here (it stands in for a production extract you
        could not share); the generating rules are simple so that you can see
        what the model has to learn.
        """),
        md(SETUP_DOC + textwrap.dedent("""
        **Epochs.** The default `"auto"` would train 250 epochs (2,000 steps) on
        this 4,000-row table; this notebook fits two models and trains each
        **100 epochs** (800 steps) to keep the run short.
        """)),
        code(setup_cell("100", "import pyarrow as pa\nimport pyarrow.parquet as pq")),
        md("## 1. A realistic orders table"),
        code("""
        rng = np.random.default_rng(0)
        N = 1500 if FAST else 4000
        TZ = "Europe/Berlin"

        day = rng.integers(0, 366, N)
        seconds = (rng.normal(19, 3.5, N) % 24 * 3600).astype(int)  # local time of day, evening peak


        def local_to_tz(naive):
            \"\"\"Wall-clock times in TZ (DST gaps shifted forward, repeated hours read as standard time).\"\"\"
            return pd.Series(naive).dt.tz_localize(TZ, ambiguous=np.zeros(len(naive), bool), nonexistent="shift_forward")


        ordered_at = local_to_tz(pd.Timestamp("2024-01-01") + pd.to_timedelta(day, "D") + pd.to_timedelta(seconds, "s"))
        channel = rng.choice(["web", "app", "store", "phone"], N, p=[0.5, 0.3, 0.15, 0.05])
        shipping = np.where(channel == "store", "pickup", rng.choice(["standard", "express"], N, p=[0.8, 0.2]))
        delay = np.select([shipping == "pickup", shipping == "express"],
                          [rng.integers(0, 2, N), rng.integers(0, 3, N)], rng.poisson(2, N) + 1)
        order_day = ordered_at.dt.tz_localize(None).dt.normalize()
        late_in_year = order_day > pd.Timestamp("2024-12-25")
        status = np.where(rng.random(N) < 0.04, "cancelled",
                 np.where(late_in_year, "processing",
                 np.where(rng.random(N) < 0.85, "delivered", "shipped")))
        shipped = np.isin(status, ["shipped", "delivered"])
        items = rng.poisson(1.2, N) + 1
        discount = np.where(rng.random(N) < 0.3, rng.choice([5.0, 10.0, 15.0, 20.0], N), np.nan)
        total = np.round(items * rng.lognormal(3.3, 0.6, N) * (1 - np.nan_to_num(discount) / 100), 2)

        orders = pd.DataFrame({
            "order_id": np.arange(100_001, 100_001 + N),
            "ordered_at": ordered_at,                                            # datetime64[ns, Europe/Berlin]
            "ship_date": (order_day + pd.to_timedelta(delay, "D")).where(shipped),  # date, NaT if not shipped
            "channel": pd.Categorical(channel),
            "shipping": pd.Categorical(shipping, categories=["standard", "express", "pickup"]),
            "status": pd.Categorical(status),
            "items": pd.array(np.where(rng.random(N) < 0.02, None, items), dtype="Int64"),  # 2 % lost in a migration
            "total_eur": total,
            "discount_pct": discount,                                            # NaN = no coupon
            "is_gift": (rng.random(N) < np.where(order_day.dt.month == 12, 0.25, 0.06)),
            "returned": pd.array(np.where(status == "delivered", rng.random(N) < 0.1, None), dtype="boolean"),
            "rating": pd.array(np.where(rng.random(N) < 0.6, None, rng.choice([1, 2, 3, 4, 5], N, p=[.05, .05, .15, .35, .4])),
                               dtype="Int64"),
        })
        print(orders.dtypes.to_string())
        orders.head()
        """),
        md("""
        `order_id` is a key, not a pattern: we do not model it, and give
        synthetic rows fresh ids instead. The two business rules, and a helper
        for the shipping delay in days:
        """),
        code("""
        def local_order_day(df):
            return df["ordered_at"].dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize()


        def delay_days(df):
            return (df["ship_date"] - local_order_day(df)).dt.days


        def rule_violations(df: pd.DataFrame) -> pd.DataFrame:
            \"\"\"One boolean column per business rule: True where a row breaks it.\"\"\"
            has_shipped = df["status"].isin(["shipped", "delivered"])
            return pd.DataFrame({
                "ship_date before order date": df["ship_date"].notna() & (df["ship_date"] < local_order_day(df)),
                "ship_date present iff shipped": df["ship_date"].notna() != has_shipped,
            })


        print("violations in the real table:", rule_violations(orders).sum().to_dict())
        print("real shipping delay (days):", delay_days(orders).describe()[["mean", "min", "max"]].to_dict())
        """),
        md("""
        ## 2. Fit the table as it is, and measure the rule violations

        Columns keep their dtypes through the model: the timezone comes back,
        `Int64` stays nullable, categories keep their category list.
        """),
        code("""
        t = time.perf_counter()
        naive = TabularVAE(epochs=EPOCHS, random_state=0).fit(orders.drop(columns="order_id"))
        print(f"fitted {len(orders):,} rows in {time.perf_counter() - t:.0f} s; column kinds:",
              {c.name: c.kind for c in naive.schema_})

        probe = naive.sample(20_000, random_state=1)
        print("\\nshare of synthetic rows breaking each rule:")
        print((100 * rule_violations(probe).mean()).round(2).astype(str).add(" %").to_string())
        print(f"any rule: {rule_violations(probe).any(axis=1).mean():.1%}")
        d = delay_days(probe)
        print(f"synthetic shipping delay: mean {d.mean():.1f} days, |delay| > 14 days in {(d.abs() > 14).mean():.0%} of rows")
        """),
        md("""
        **Reading it.** {naive_reading}

        Why? The model learns `ordered_at` and `ship_date` as two separate date
        columns, each spread over a whole year; the rule is about a difference
        of a few days between them, tiny compared with the spread of each.
        Rejecting the bad rows would not help much here: the rows that survive
        still have absurd delays. The fix is in the **representation**: give
        the model the quantity the rule is about.

        ## 3. Model the delay (and the time of day), rebuild the dates

        Before fitting, replace `ship_date` by `ship_delay_days` (nullable
        `Int64`); after sampling, rebuild `ship_date` from the order's local
        date plus the delay. The model keeps generated numbers inside the
        training range, so the delay is never negative and the first rule
        holds by construction. The same reasoning applies to the *time of day*:
        inside one timestamp spanning a year, the evening peak of orders is a
        fine ripple the model cannot see, so we also split `ordered_at` into a
        local `order_day` and `order_seconds` (seconds after local midnight)
        and put the timezone back afterwards.

        The second rule (a ship date only for shipped orders) is a
        relationship between a category and a missing value, which the model
        learns well but not perfectly: we measure it, then reject the rare
        rows that break it.
        """),
        code("""
        def to_model(df):
            \"\"\"The orders as the model sees them: local day + seconds of day, shipping delay in days.\"\"\"
            day = local_order_day(df)
            return (df.drop(columns=["order_id", "ordered_at", "ship_date"])
                      .assign(order_day=day,
                              order_seconds=(df["ordered_at"].dt.tz_localize(None) - day).dt.total_seconds().astype(int),
                              ship_delay_days=delay_days(df).astype("Int64")))


        def from_model(df):
            \"\"\"Back to the orders' columns, dtypes and column order (without order_id).\"\"\"
            ordered_at = local_to_tz(df["order_day"] + pd.to_timedelta(df["order_seconds"], unit="s"))
            ship_date = df["order_day"] + pd.to_timedelta(df["ship_delay_days"].astype("float64"), unit="D")
            out = df.assign(ordered_at=ordered_at, ship_date=ship_date)
            return out[[c for c in orders.columns if c != "order_id"]]


        print(to_model(orders).dtypes.to_string())
        t = time.perf_counter()
        model = TabularVAE(epochs=EPOCHS, random_state=0).fit(to_model(orders))
        print(f"fitted in {time.perf_counter() - t:.0f} s")
        probe = from_model(model.sample(20_000, random_state=1))
        rate = rule_violations(probe).mean()
        print("share of synthetic rows breaking each rule:")
        print((100 * rate).round(2).astype(str).add(" %").to_string())
        print(f"acceptance rate if we reject rule-breakers: {1 - rule_violations(probe).any(axis=1).mean():.1%}")
        """),
        md("""
        **Reading it.** {delay_reading}

        ## 4. Stream 100,000 clean rows to Parquet

        `iter_samples(n, chunk_size=...)` yields DataFrames of at most
        `chunk_size` rows; each chunk is converted back (`from_model`),
        filtered, given ids and appended to one Parquet file, so memory stays
        bounded however many rows you write. Rows rejected by the filter are
        made up by a short second pass.
        """),
        code("""
        N_OUT = 10_000 if FAST else 100_000
        CHUNK = 20_000
        out_path = Path(tempfile.mkdtemp()) / "orders_synthetic.parquet"

        t = time.perf_counter()
        writer, written, drawn, seed = None, 0, 0, 100
        while written < N_OUT:
            for chunk in model.iter_samples(N_OUT - written + 1000, chunk_size=CHUNK, random_state=seed):
                chunk = from_model(chunk)
                drawn += len(chunk)
                good = chunk[~rule_violations(chunk).any(axis=1)].head(N_OUT - written)
                good.insert(0, "order_id", np.arange(written, written + len(good)) + 900_000_001)
                table = pa.Table.from_pandas(good, preserve_index=False,
                                             schema=None if writer is None else writer.schema)
                if writer is None:
                    writer = pq.ParquetWriter(out_path, table.schema)
                writer.write_table(table)
                written += len(good)
                if written >= N_OUT:
                    break
            seed += 1
        writer.close()
        print(f"wrote {written:,} rows ({drawn:,} drawn, {written / drawn:.1%} kept) "
              f"in {time.perf_counter() - t:.1f} s -> {out_path.name}, {out_path.stat().st_size / 1e6:.1f} MB")
        """),
        md("## 5. Read it back: dtypes, null rates, rules"),
        code("""
        synthetic = pd.read_parquet(out_path)
        check = pd.DataFrame({
            "real dtype": orders.dtypes.astype(str),
            "synthetic dtype": synthetic.dtypes.astype(str),
            "real null %": 100 * orders.isna().mean(),
            "synthetic null %": 100 * synthetic.isna().mean(),
        })
        check["dtype match"] = check["real dtype"] == check["synthetic dtype"]
        check["null % diff"] = check["synthetic null %"] - check["real null %"]
        display(check.round(2))
        print(f"rows {len(synthetic):,}; columns in the same order: {list(synthetic.columns) == list(orders.columns)}; "
              f"all dtypes match: {check['dtype match'].all()}; largest null-rate gap: "
              f"{check['null % diff'].abs().max():.2f} points; ids unique: {synthetic['order_id'].is_unique}")
        print("rule violations in the file:", rule_violations(synthetic).sum().to_dict())
        """),
        md("""
        **Reading it.** {dtype_reading}

        ## 6. Do the rows look like orders?

        Some of the patterns we built in: the evening peak of order times (in
        local time, so the timezone matters; the naive model's hours are shown
        dashed), the shipping delay by method (the table below the plot has
        the naive model's too), and the status mix.
        """),
        code("""
        naive_rows = naive.sample(20_000, random_state=1)
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.3))
        hours = np.arange(25)
        axes[0].hist(orders["ordered_at"].dt.hour, hours, density=True, color="gray", alpha=0.6, label="real")
        axes[0].hist(synthetic["ordered_at"].dt.hour, hours, density=True, histtype="step", lw=2, color="tab:blue",
                     label="synthetic")
        axes[0].hist(naive_rows["ordered_at"].dt.hour, hours, density=True, histtype="step", lw=1.2, ls="--",
                     color="tab:red", label="naive model")
        axes[0].set(title="order hour (Europe/Berlin)", xlabel="hour")
        axes[0].legend(fontsize=8)
        delays = pd.DataFrame({
            name: df.assign(d=delay_days(df)).groupby("shipping", observed=True)["d"].mean()
            for name, df in [("real", orders), ("synthetic (delay model)", synthetic), ("naive model", naive_rows)]
        })
        delays.iloc[:, :2].plot.bar(ax=axes[1], color=["gray", "tab:blue"], rot=0, title="mean shipping delay (days)")
        axes[1].legend(fontsize=8)
        mix = pd.DataFrame({"real": orders["status"].value_counts(normalize=True),
                            "synthetic": synthetic["status"].value_counts(normalize=True)})
        mix.plot.bar(ax=axes[2], color=["gray", "tab:blue"], rot=0, title="status share")
        plt.tight_layout()
        plt.show()
        display(delays.round(2).rename_axis("mean delay (days) by shipping"))
        display((100 * mix).round(1).rename_axis("status share (%)"))
        """),
        md("""
        **Reading it.** {pattern_reading}
        """),
        FOOTER,
    ]


# ----------------------------------------------------------------------------- 04 anomaly detection

def anomaly():
    return [
        md("""
        # Anomaly detection on Adult, with explanations

        A VAE that has learned a table can say how *unlikely* a row is: rows
        with a low likelihood bound (ELBO) are anomalies. Unlike distance- or
        isolation-based detectors it models the **joint** distribution, so it
        can flag rows whose every value is common but whose *combination* is
        impossible, and `explain()` says which fields made a row unlikely.

        Setup:

        * fit `TabularVAEAnomalyDetector` on 8,000 real Adult rows (labels are
          not used: the income column is just another column);
        * a test set of 4,000 other real rows plus **200 injected anomalies**
          (5 %), 40 of each of five kinds (below);
        * compare ROC-AUC against scikit-learn's `IsolationForest` (one-hot
          encoded categories), overall and per kind;
        * look at `explain()` for the rows ranked most anomalous.
        """),
        md(SETUP_DOC + textwrap.dedent("""
        **Epochs.** `"auto"` would train 125 epochs (2,000 steps) on 8,000 rows;
        this notebook trains **100 epochs** (1,600 steps) to stay well under a minute.
        """)),
        code(setup_cell("100", """from sklearn.compose import make_column_transformer
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score, roc_curve
    from sklearn.preprocessing import OneHotEncoder
    from tabvae import TabularVAEAnomalyDetector
    from tabvae.anomaly import DEFAULT_TEMPLATE""")),
        md("""
        ## 1. Train, normal test rows, injected anomalies

        Five kinds, each built from real rows by changing a few fields:

        | kind | change | fields changed |
        |---|---|---|
        | education mismatch | `education-num` shifted 4-10 levels away from its (1:1) `education` | education-num |
        | sex/relationship contradiction | `Husband` with `Female`, or `Wife` with `Male` | relationship, sex |
        | extreme combination | a 17-18-year-old with $99,999 capital gain working 99 h/week (each value occurs in the data; together they do not) | age, capital-gain, hours-per-week |
        | out-of-range values | age 120-150, 120-168 hours/week (never seen in training) | age, hours-per-week |
        | shuffled row | every field from a different random person | all |
        """),
        code("""
        adult = load_adult()
        N_TRAIN, N_NORMAL, PER_KIND = (2000, 1000, 20) if FAST else (8000, 4000, 40)
        train = adult.sample(N_TRAIN, random_state=0)
        rest = adult.drop(train.index)
        normal = rest.sample(N_NORMAL, random_state=1)
        donors = rest.drop(normal.index)
        rng = np.random.default_rng(0)

        CHANGED = {
            "education mismatch": ["education-num"],
            "sex/relationship contradiction": ["relationship", "sex"],
            "extreme combination": ["age", "capital-gain", "hours-per-week"],
            "out-of-range values": ["age", "hours-per-week"],
            "shuffled row": list(adult.columns),
        }


        def inject(kind, rows):
            r = rows.copy()
            n = len(r)
            if kind == "education mismatch":
                r["education-num"] = (r["education-num"] - 1 + rng.integers(4, 11, n) * rng.choice([-1, 1], n)) % 16 + 1
            elif kind == "sex/relationship contradiction":
                husband = rng.random(n) < 0.5
                r["relationship"] = np.where(husband, "Husband", "Wife")
                r["sex"] = np.where(husband, "Female", "Male")
            elif kind == "extreme combination":
                r["age"], r["capital-gain"], r["hours-per-week"] = rng.integers(17, 19, n), 99999, 99
            elif kind == "out-of-range values":
                r["age"], r["hours-per-week"] = rng.integers(120, 151, n), rng.integers(120, 169, n)
            elif kind == "shuffled row":
                for c in r.columns:
                    r[c] = donors[c].sample(n, random_state=int(rng.integers(1 << 30))).to_numpy()
            return r.assign(kind=kind)


        anomalies = pd.concat([inject(k, donors.sample(PER_KIND, random_state=i)) for i, k in enumerate(CHANGED)])
        test = pd.concat([normal.assign(kind="normal"), anomalies], ignore_index=True)
        kind = test.pop("kind")
        is_anomaly = (kind != "normal").to_numpy()
        print(f"train {len(train):,} rows; test {len(test):,} rows, {is_anomaly.sum()} injected anomalies")
        test[is_anomaly].groupby(kind[is_anomaly]).head(1)
        """),
        md("## 2. Fit both detectors and score the test set"),
        code("""
        t = time.perf_counter()
        # The detector's default template (the settings the anomaly benchmark measured), fewer epochs.
        template = TabularVAE(**{**DEFAULT_TEMPLATE, "epochs": EPOCHS})
        detector = TabularVAEAnomalyDetector(vae=template, random_state=0).fit(train)
        vae_score = -detector.score_samples(test)  # higher = more anomalous
        print(f"TabularVAEAnomalyDetector: fit + score {time.perf_counter() - t:.0f} s")

        CATS = [c for c in adult.columns if adult[c].dtype == object]
        NUMS = [c for c in adult.columns if c not in CATS]
        t = time.perf_counter()
        encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), CATS), ("passthrough", NUMS))
        X_train = encode.fit_transform(train.fillna({c: "missing" for c in CATS}))
        X_test = encode.transform(test.fillna({c: "missing" for c in CATS}))
        iforest = IsolationForest(n_estimators=300, random_state=0).fit(X_train)
        if_score = -iforest.score_samples(X_test)
        print(f"IsolationForest: fit + score {time.perf_counter() - t:.1f} s")

        rows = {"all injected": is_anomaly}
        rows.update({k: None for k in CHANGED})
        auc = {}
        for name in rows:
            keep = np.ones(len(test), bool) if name == "all injected" else (kind == "normal").to_numpy() | (kind == name).to_numpy()
            auc[name] = {"tabvae": roc_auc_score(is_anomaly[keep], vae_score[keep]),
                         "IsolationForest": roc_auc_score(is_anomaly[keep], if_score[keep])}
        auc = pd.DataFrame(auc).T.rename_axis("ROC-AUC: anomalies of this kind vs all normal test rows")
        auc.round(3)
        """),
        md("""
        **Reading it.** {auc_reading}

        ## 3. The detector's own threshold

        `predict` labels a row `-1` (anomaly) when its score falls below
        `offset_`, set at fit time. With `contamination="auto"` the offset is a
        robust fence on the training scores (median − 3 scaled MADs), so you
        need not know the anomaly rate in advance.
        """),
        code("""
        flagged = detector.predict(test) == -1
        print(f"flagged {flagged.sum()} of {len(test):,} rows ({flagged.mean():.1%}); "
              f"precision {is_anomaly[flagged].mean():.1%}, recall {flagged[is_anomaly].mean():.1%}; "
              f"false-positive rate on normal rows {flagged[~is_anomaly].mean():.1%}")
        display(pd.crosstab(kind.rename("injected kind"), np.where(flagged, "flagged", "not flagged"), colnames=["predict"]))
        """),
        md("**Reading it.** {threshold_reading}"),
        md("""
        ## 4. Why is a row anomalous? `explain()`

        `explain(X)` returns, for each row and column, the negative
        log-likelihood (in nats) of that cell given the row's latent code: the
        larger, the more that field surprised the model. Some columns are
        always more expensive than others (a near-continuous number like
        `fnlwgt` costs more nats than a binary `sex`), so we also subtract each
        column's median cost on the training rows: the **excess** cost is what
        makes *this* row unusual.
        """),
        code("""
        cost = detector.explain(test)
        excess = cost - detector.explain(train).median()
        SHOW = ["age", "education", "education-num", "relationship", "sex", "capital-gain", "capital-loss", "hours-per-week"]


        def explain_view(idx):
            return pd.DataFrame({
                "injected kind": kind.iloc[idx].to_numpy(),
                "score (-ELBO)": vae_score[idx].round(1),
                "top fields by excess nats": [", ".join(f"{c} ({v:.1f})" for c, v in excess.iloc[i].nlargest(3).items())
                                              for i in idx],
            }, index=idx).join(test.iloc[idx][SHOW])


        print("Raw explain() output for the 5 highest-scoring test rows (nats per cell):")
        display(cost.iloc[np.argsort(-vae_score)[:5]].round(1))
        print("The 8 highest-scoring test rows, with the fields of largest excess cost:")
        display(explain_view(np.argsort(-vae_score)[:8]))
        print("The highest-scoring row of each kind:")
        display(explain_view([int(np.flatnonzero((kind == k).to_numpy())[np.argmax(vae_score[(kind == k).to_numpy()])])
                              for k in ["normal", *CHANGED]]))
        """),
        md("""
        How often does `explain` point at a field we actually changed? For each
        injected row (except shuffled rows, where every field changed) we check
        whether one of the changed fields is among the row's two largest
        excess costs.
        """),
        code("""
        hits = {}
        for k, changed in CHANGED.items():
            if k == "shuffled row":
                continue
            idx = np.flatnonzero((kind == k).to_numpy())
            top2 = [set(excess.iloc[i].nlargest(2).index) for i in idx]
            hits[k] = np.mean([bool(t & set(changed)) for t in top2])
        hits = pd.Series(hits, name="changed field in top-2 of explain()")
        (100 * hits).round(0).astype(int).astype(str) + " %"
        """),
        md("**Reading it.** {explain_reading}"),
        md("## 5. Picture: score distributions and ROC curves"),
        code("""
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
        bins = np.linspace(np.percentile(vae_score, 0.5), np.percentile(vae_score, 99.8), 60)
        left.hist(vae_score[~is_anomaly], bins, density=True, color="gray", alpha=0.5, label="normal")
        for k in CHANGED:
            left.hist(vae_score[(kind == k).to_numpy()], bins, density=True, histtype="step", lw=1.8, label=k)
        left.axvline(-detector.offset_, color="black", ls="--", lw=1, label="auto threshold")
        left.set(xlabel="anomaly score (-ELBO, nats)", ylabel="density", title="tabvae scores")
        left.legend(fontsize=7)
        for name, s in [("tabvae", vae_score), ("IsolationForest", if_score)]:
            fpr, tpr, _ = roc_curve(is_anomaly, s)
            right.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(is_anomaly, s):.3f})")
        right.plot([0, 1], [0, 1], color="gray", ls=":")
        right.set(xlabel="false-positive rate", ylabel="true-positive rate", title="all injected anomalies")
        right.legend()
        plt.tight_layout()
        plt.show()
        """),
        md("""
        ## 6. Values outside the training range

        What does the detector make of a value it never saw, like an age of
        150? One real row, with only its age changed:
        """),
        code("""
        probe = normal.head(1).copy()
        ages = [17, 40, 90, 150, 1000]
        rows = pd.concat([probe.assign(age=a) for a in ages], ignore_index=True)
        pd.DataFrame({"age": ages, "anomaly score (-ELBO)": -detector.score_samples(rows)}).round(2)
        """),
        md("**Reading it.** {range_reading}"),
        FOOTER,
    ]


# ----------------------------------------------------------------------------- 05 latent space

def latent():
    return [
        md("""
        # The latent space: maps, paths between rows, conditional sampling

        A VAE compresses every row into a short vector, its **latent code**
        (`TabularVAE.transform` returns the mean code of each row; 32 numbers
        by default), and decodes codes back into rows
        (`inverse_transform`). This notebook looks at that space on Adult:

        1. a 2-D map of the codes (PCA), coloured by income and age;
        2. a path between two people (`interpolate`, linear vs spherical);
        3. **conditional sampling**: a model fitted with
           `conditional_columns=["income"]` generates rows of a chosen income
           class directly, and we check them against the real rows of that class.
        """),
        md(SETUP_DOC + textwrap.dedent("""
        **Epochs.** Both models here train on 8,000 Adult rows; `"auto"` would
        be 125 epochs (2,000 steps) each. To stay near a minute they train
        **60 epochs** (960 steps) each.
        """)),
        code(setup_cell("60", """from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score""")),
        code("""
        adult = load_adult()
        data = adult.sample(2000 if FAST else 8000, random_state=0).reset_index(drop=True)
        rich = (data["income"] == ">50K").to_numpy()

        t = time.perf_counter()
        model = TabularVAE(epochs=EPOCHS, random_state=0).fit(data)
        Z = model.transform(data)
        print(f"fit {time.perf_counter() - t:.0f} s; latent codes {Z.shape}")

        active = Z.std(axis=0) > 0.1
        print(f"active latent dimensions (std of the mean code > 0.1): {active.sum()} of {Z.shape[1]}")
        """),
        md("""
        A VAE uses only as many latent dimensions as it needs: the KL term of
        its loss pushes unused ones to carry no information (their code is
        always about 0). The count above is how many this model actually uses.

        ## 1. A map of the table

        PCA of the mean codes to 2-D. Each dot is a real person; the colour is
        *not* given to PCA, so any separation by colour is structure the VAE
        found on its own.
        """),
        code("""
        pca = PCA(2, random_state=0).fit(Z)
        P = pca.transform(Z)
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
        for label, mask, color in [("<=50K", ~rich, "tab:blue"), (">50K", rich, "tab:orange")]:
            axes[0].scatter(P[mask, 0], P[mask, 1], s=3, alpha=0.35, color=color, label=label)
        axes[0].legend(markerscale=5, title="income")
        im = axes[1].scatter(P[:, 0], P[:, 1], s=3, alpha=0.5, c=data["age"], cmap="viridis")
        fig.colorbar(im, ax=axes[1], label="age")
        for ax, title in zip(axes, ["coloured by income", "coloured by age"]):
            ax.set(xlabel=f"PC1 ({pca.explained_variance_ratio_[0]:.0%} of variance)",
                   ylabel=f"PC2 ({pca.explained_variance_ratio_[1]:.0%})", title=title)
        plt.tight_layout()
        plt.show()

        probe = LogisticRegression(max_iter=2000)
        auc_full = cross_val_score(probe, Z, rich, cv=5, scoring="roc_auc").mean()
        auc_2d = cross_val_score(probe, P, rich, cv=5, scoring="roc_auc").mean()
        print(f"income from the latent code, linear probe (5-fold ROC-AUC): all {Z.shape[1]} dims {auc_full:.3f}, "
              f"the 2 PCA dims {auc_2d:.3f}")
        """),
        md("""
        **Reading it.** {map_reading}

        ## 2. A path between two people

        `model.interpolate(a, b, n_steps)` encodes two rows, walks between
        their codes and decodes each point (deterministically: means and most
        likely categories). `method="linear"` mixes the codes straight;
        `method="slerp"` (the default) follows the arc between them, keeping the
        code's length where the model's prior puts its mass instead of cutting
        through the low-density centre. Note the end points are the model's
        *reconstructions* of `a` and `b`, not the original rows.
        """),
        code("""
        a = data[(data["age"] < 25) & (data["marital-status"] == "Never-married") & ~rich].head(1)
        b = data[(data["age"] > 45) & (data["relationship"] == "Husband") & rich
                 & (data["occupation"] == "Exec-managerial")].head(1)
        path = model.interpolate(a, b, n_steps=7, method="slerp")
        cols = ["age", "education", "marital-status", "occupation", "relationship", "sex", "hours-per-week", "income"]
        display(pd.concat([a[cols].assign(step="a (real)"), path[cols].assign(step=[f"t={t:.2f}" for t in np.linspace(0, 1, 7)]),
                           b[cols].assign(step="b (real)")]).set_index("step"))
        """),
        code("""
        za, zb = model.transform(a)[0], model.transform(b)[0]
        t = np.linspace(0, 1, 50)[:, None]
        linear = (1 - t) * za + t * zb
        omega = np.arccos(np.clip(za @ zb / (np.linalg.norm(za) * np.linalg.norm(zb)), -1, 1))
        slerp = ((np.sin((1 - t) * omega) * za / np.linalg.norm(za) + np.sin(t * omega) * zb / np.linalg.norm(zb))
                 / np.sin(omega) * ((1 - t) * np.linalg.norm(za) + t * np.linalg.norm(zb)))
        norms = np.linalg.norm(Z, axis=1)
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.axhspan(*np.percentile(norms, [5, 95]), color="gray", alpha=0.2, label="5-95 % of real rows' codes")
        ax.plot(t, np.linalg.norm(linear, axis=1), label="linear")
        ax.plot(t, np.linalg.norm(slerp, axis=1), label="slerp")
        ax.set(xlabel="t (a → b)", ylabel="length of latent code", title="Why slerp: the linear path dips towards the centre")
        ax.legend(fontsize=8)
        plt.show()
        lin_path = model.interpolate(a, b, n_steps=7, method="linear")
        print(f"angle between the two codes: {np.degrees(omega):.0f}°; middle of the linear path is "
              f"{np.linalg.norm(linear[25]) / np.linalg.norm(slerp[25]):.0%} as long as slerp's")
        print("rows where linear and slerp paths decode differently:",
              int((lin_path.astype(str) != path.astype(str)).any(axis=1).sum()), "of 7")
        """),
        md("""
        Groups work too: passing *sets* of rows joins their mean codes, e.g.
        from the typical `<=50K` person to the typical `>50K` person in this
        sample.
        """),
        code("""
        model.interpolate(data[~rich], data[rich], n_steps=5)[cols]
        """),
        md("""
        **Reading it.** {path_reading}

        ## 3. Conditional sampling

        To generate rows of one class exactly, fit with
        `conditional_columns=["income"]`: the network is told the income of each
        row (a conditional VAE), and `sample(n, conditions={"income": ">50K"})`
        generates only such rows, with no rejection. Numeric ranges
        (`"age": (30, 40)`) are met by rejection on top.
        """),
        code("""
        t = time.perf_counter()
        cmodel = TabularVAE(epochs=EPOCHS, conditional_columns=["income"], random_state=0).fit(data)
        print(f"conditional model fitted in {time.perf_counter() - t:.0f} s")
        N_COND = 2000
        gen = {c: cmodel.sample(N_COND, conditions={"income": c}, random_state=1) for c in ["<=50K", ">50K"]}
        print("income of generated rows:", {c: g["income"].value_counts().to_dict() for c, g in gen.items()})


        def profile(df):
            return pd.Series({
                "mean age": df["age"].mean(),
                "% married (civ. spouse)": 100 * (df["marital-status"] == "Married-civ-spouse").mean(),
                "mean education-num": df["education-num"].mean(),
                "% Bachelors or higher": 100 * df["education"].isin(["Bachelors", "Masters", "Doctorate", "Prof-school"]).mean(),
                "mean hours/week": df["hours-per-week"].mean(),
                "% capital-gain > 0": 100 * (df["capital-gain"] > 0).mean(),
                "% female": 100 * (df["sex"] == "Female").mean(),
            })


        compare = pd.DataFrame({
            ("<=50K", "real"): profile(data[~rich]), ("<=50K", "generated"): profile(gen["<=50K"]),
            (">50K", "real"): profile(data[rich]), (">50K", "generated"): profile(gen[">50K"]),
        })
        compare.round(1)
        """),
        code("""
        rows = cmodel.sample(500, conditions={"income": ">50K", "age": (30, 40)}, random_state=2)
        print(f"{len(rows)} rows; income values {rows['income'].unique().tolist()}; "
              f"age range {rows['age'].min()}-{rows['age'].max()}")
        Zc = cmodel.transform(data)
        auc_cond = cross_val_score(LogisticRegression(max_iter=2000), Zc, rich, cv=5, scoring="roc_auc").mean()
        print(f"income from the latent code, linear probe: unconditional model {auc_full:.3f}, "
              f"conditional model {auc_cond:.3f}")
        """),
        md("""
        **Reading it.** {cond_reading}
        """),
        FOOTER,
    ]


NOTEBOOKS = {
    "01_quickstart.ipynb": quickstart,
    "02_augment_small_training_set.ipynb": augmentation,
    "03_generate_test_data.ipynb": test_data,
    "04_anomaly_detection.ipynb": anomaly,
    "05_latent_space.ipynb": latent,
}

# Plain-language readings of the saved (full) run, filled into the {placeholders} above.
# They quote the numbers of that run: update them whenever the saved outputs change.
READINGS: dict[str, dict[str, str]] = {
    "01_quickstart.ipynb": {
        "summary_reading": """\
The synthetic table matches the real one closely column by column and pair by
pair (quality 0.983: column shapes 0.992, pair trends 0.974). A logistic
regression can hardly tell synthetic from real rows (0.999, where 1 means it
cannot); a gradient-boosted classifier still can a little, with AUC 0.543 (0.5
would mean it cannot). For prediction, most of the signal survives: a model
trained only on synthetic rows predicts income on the unseen holdout with
ROC-AUC 0.914, against 0.925 for the same model trained on the real rows. On
privacy, synthetic rows are not closer to the training rows than fresh real rows
are: the median distance to the closest training row is 1.11 times the
holdout's (a ratio of at least 1 is what you want), 51 % of them are nearer to
train than to holdout (50 % is the ideal), and exact copies of training rows are
rarer (0.0 %) than chance matches between holdout and train rows (0.1 %).""",
        "corr_reading": """\
Most pairs differ by less than 0.02. The largest gap is `race` vs
`native-country` (0.028); then `hours-per-week` vs `income` (0.023), `sex` vs
`occupation` (0.022), and `hours-per-week` vs `occupation` and `education` vs
`education-num` (0.021 each).
`education` and `education-num` are a one-to-one pair in the real data, and
0.4 % of synthetic rows pair an education with a different number. A VAE learns
relationships approximately, never as hard rules; if you need this one exact,
derive `education-num` from `education` after sampling (or drop one of the two
before fitting).""",
    },
    "02_augment_small_training_set.ipynb": {
        "reading": """\
Neither way of adding synthetic rows helped here. Adding 2,000 synthetic rows
with `augment` gave a mean test ROC-AUC of 0.8628 against 0.8787 for the 500
real rows alone (-0.016; better on 1 seed of 3), a loss of about two standard
deviations of the baseline's seed-to-seed spread (0.008). Balancing the classes
with `TabVAEResampler` gave 0.8779 (-0.0009; better on 1 seed of 3), a change
far smaller than that spread.
For comparison, 2,000 more *real* rows raise the ROC-AUC to 0.9048 (+0.026, on
every seed). In plain words: a generator trained on the same 500 rows gives the
classifier nothing it could not already learn from them, and four synthetic
rows for every real one can drown the real rows in the generator's
approximation errors; more real data helps much more.""",
    },
    "03_generate_test_data.ipynb": {
        "naive_reading": """\
Two in five synthetic rows (40.16 %) ship before they were ordered, and 44 %
have a delay of more than two weeks one way or the other, while every real
delay is between 0 and 9 days. The second rule is broken by only 0.22 % of
rows. Such a table would fail any test that checks order logic.""",
        "delay_reading": """\
With the delay as a column, the first rule holds in every sampled row (0.0 %);
the second is broken by 0.07 % of rows, so rejecting them keeps 99.9 % of the
samples: a cheap filter.""",
        "dtype_reading": """\
All 12 columns come back with their original dtypes (timezone-aware timestamp,
naive date, `category`, nullable `Int64`, `bool`, nullable `boolean`), in the
original order, the ids are unique, and both rules hold in all 100,000 rows.
Null rates are within 0.3 percentage points of the real ones: the largest gap is
`discount_pct` (70.6 % missing vs 70.3 %), then `ship_date` (5.9 % vs 6.1 %)
and `returned` (19.2 % vs 19.5 %).
`returned`, known only for delivered orders, and `ship_date`, missing for
cancelled and processing orders, follow the order status, whose shares the
model reproduces closely (delivered 80.8 % vs 80.5 %, table below). If rare
cases matter for your tests, ask for them: fit with
`conditional_columns=["status"]` and `sample(n, conditions={"status":
"cancelled"})`.""",
        "pattern_reading": """\
With the time of day as its own column the evening peak comes back (the naive
model, dashed, spreads orders over the whole night), and the mean delay per
shipping method is close to the real one (standard 3.01 vs 2.99 days, express
0.95 vs 0.93, pickup 0.50 vs 0.50). The naive model's means are off (standard
2.40, express 0.61, pickup -0.24 days), and they hide a spread of several
weeks. Streaming 100,000 rows to Parquet took 0.8 s; fitting the model is the
only slow step. The status shares match the real ones within 0.3 percentage
points.""",
    },
    "04_anomaly_detection.ipynb": {
        "auc_reading": """\
tabvae separates the injected anomalies from normal rows with ROC-AUC 0.915
overall, against 0.682 for IsolationForest, and is ahead on every kind. The gap
is widest for education mismatches (0.905 vs 0.561) and shuffled rows (0.862 vs
0.556): every value is ordinary and only the *combination* is wrong, and
IsolationForest is close to guessing. Sex/relationship contradictions are the
hardest kind for tabvae (0.820 vs 0.627). An isolation forest isolates values
that are unusual one feature at a time, which is why it does reasonably only on
the extreme combinations (0.904, tabvae 0.989) and out-of-range rows (0.761,
tabvae 0.999).""",
        "threshold_reading": """\
With no knowledge of the anomaly rate, the automatic threshold flags 6.0 % of
the rows and catches 60.5 % of the injected anomalies, at a false-positive rate
of 3.2 % on normal rows (so 48 % of flagged rows are injected ones). All 40
out-of-range rows and 39 of 40 extreme combinations are flagged; about half of
the education mismatches (22 of 40) and shuffled rows (23 of 40) and most
contradictions (33 of 40) stay under the fence although they rank high (the
AUCs above). With a fixed review budget, rank rows by score and review the top
instead of relying on `predict`.""",
        "explain_reading": """\
`explain()` names a changed field among its top two for 95 % of education
mismatches, 82 % of sex/relationship contradictions and every extreme and
out-of-range row. The seven highest-scoring rows are out-of-range ones (ages
135-150 working 134-166 hours), blamed on age and hours. The most anomalous
*real* row, eighth overall, is a 66-year-old woman with a capital loss of
4,356, more than any training row has (2,824), and `explain` blames
`capital-loss`: an anomaly detector finds rare genuine rows as well as errors,
and the explanation tells you which is which.""",
        "range_reading": """\
A typical age (17 or 40) scores about 27-28 nats and 90 (the oldest age in the
training data) 46, while 150 scores 225 and 1,000 scores 21,827: the further a
value lies outside the range seen in training, the less likely the detector
finds it. The detector measures likelihood in the columns' own units
(`units="data"`, the default), so an impossible value cannot hide at the edge
of the range.""",
    },
    "05_latent_space.ipynb": {
        "map_reading": """\
The model uses 24 of its 32 latent dimensions (by the spread of the mean codes).
Even flattened to two PCA dimensions the map separates the incomes: the >50K
rows gather in the lower left of the map, and a linear classifier on the two
coordinates predicts income with ROC-AUC 0.792 (0.993 with all 32 dimensions).
Age rises from the right of the map to the left. (Income is one of the columns
the VAE encodes, so it is no surprise that the code knows it; what the map shows
is that similar people get nearby codes.)""",
        "path_reading": """\
The spherical path moves through plausible people: age 20 -> 50, education
Some-college -> Bachelors -> Assoc-voc -> Masters, Never-married -> married,
Own-child -> Not-in-family -> Husband, Adm-clerical -> Prof-specialty ->
Exec-managerial, and income flips to >50K at t = 0.67, in the same step as sex
and marital status. The endpoints are the model's reconstructions, not the rows:
it decodes `a` as 20 years old (the real row: 19; the other columns shown match)
and `b` as 50 (real: 53; 44 hours a week against 45; the other columns shown
match). The two codes are 97 degrees apart, so at its middle the straight line
between them passes through codes only 67 % as long as the spherical path's, in
the lower part of the band where most real rows' codes lie; the linear and
spherical paths decode to different rows at 5 of the 7 steps. The group path
reads like a summary of the table: from a never-married Some-college saleswoman
earning <=50K to a married Bachelors in Prof-specialty earning >50K.""",
        "cond_reading": """\
Every conditioned row has the requested income (2,000 of 2,000 for each class,
no rejection needed), and the generated classes differ the way the real ones do:
>50K people are older (45.0 vs 44.3 real), mostly married (83.0 % vs 85.0 %),
better educated and work longer hours. The shares match within a few points,
including non-zero capital gains (21.0 % of generated >50K rows vs 20.7 % real;
3.8 % vs 4.0 % for <=50K); the largest gaps, about two points, are the shares of
>50K rows married (above) and with a Bachelors or higher (47.9 % vs 49.8 %).
Check the columns you care about like this before relying on them. The numeric
range `age` (30, 40) is met by rejection on top of the exact income (500 rows,
all >50K, ages 30-40). Finally, the probe: in the conditional model the latent
code carries much less about income (ROC-AUC 0.637 vs 0.993), because income is
given to the decoder directly and the code no longer needs to store it.""",
    },
}


def build(name: str):
    cells = NOTEBOOKS[name]()
    fill = READINGS.get(name, {})
    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"\{([a-z_]+)\}", lambda m: _reading(fill, m.group(1)), cell.source)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _reading(fill: dict, key: str) -> str:
    if key not in fill:
        return f"(reading of `{key}` to be written after the full run)"
    return " ".join(line.strip() for line in fill[key].splitlines())


def refresh_text(name: str):
    """The saved notebook with its markdown replaced by the current text (code and outputs kept)."""
    fresh, saved = build(name), nbformat.read(HERE / name, as_version=4)
    code_of = lambda nb: [c.source for c in nb.cells if c.cell_type == "code"]  # noqa: E731
    if [c.cell_type for c in fresh.cells] != [c.cell_type for c in saved.cells] or code_of(fresh) != code_of(saved):
        raise SystemExit(f"{name}: the code changed since the saved run; use --execute.")
    for new, old in zip(fresh.cells, saved.cells):
        if new.cell_type == "markdown":
            old.source = new.source
    return saved


def main(argv: list[str]) -> None:
    unknown = [a for a in argv if a.startswith("--") and a not in ("--execute", "--text-only")]
    if unknown:
        raise SystemExit(f"unknown option(s) {unknown}; see the module docstring.")
    execute = "--execute" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    for name in NOTEBOOKS:
        if wanted and not any(w in name for w in wanted):
            continue
        if "--text-only" in argv:
            nbformat.write(refresh_text(name), HERE / name)
            print(f"refreshed the text of {name}", flush=True)
            continue
        nb = build(name)
        if execute:
            from nbclient import NotebookClient

            t = time.perf_counter()
            NotebookClient(nb, timeout=900, kernel_name="python3",
                           resources={"metadata": {"path": str(HERE)}}).execute()
            print(f"{name}: executed in {time.perf_counter() - t:.0f} s", flush=True)
        nbformat.write(nb, HERE / name)
        print(f"wrote {name}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
