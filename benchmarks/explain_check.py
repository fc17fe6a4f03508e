"""Does ``TabularVAEAnomalyDetector.explain`` name the corrupted column first?

    python -m benchmarks.explain_check

The default detector is fitted on 4,000 rows of the bundled Adult table; in each of the next 400
rows one cell, in a column drawn at random, is corrupted: a number becomes three times the training
maximum plus one, a category its rarest training level. Prints the share of rows whose largest
``explain`` value is the corrupted column, overall and per column.
"""

import numpy as np

from tabvae import TabularVAEAnomalyDetector
from tabvae.datasets import load_adult


def corrupt(rows, reference, rng):
    """One corrupted cell per row in a random column; returns the rows and the columns hit."""
    bad, hit = rows.reset_index(drop=True).copy(), []
    for i in range(len(bad)):
        col = bad.columns[rng.randint(bad.shape[1])]
        if reference[col].dtype.kind in "if":
            bad.loc[i, col] = reference[col].max() * 3 + 1
        else:
            counts = reference[col].value_counts()
            bad.loc[i, col] = counts.index[-1] if counts.index[-1] != bad.loc[i, col] else counts.index[-2]
        hit.append(col)
    return bad, np.asarray(hit)


def contextual_anomalies(df):
    """60 rows of ``df`` whose values are each plausible but not together: ages of 90 working 99 hours
    (rows 0-19), "Preschool" with 16 years of education (20-39), a capital gain of 99,999 (40-59)."""
    bad = df.sample(60, random_state=1).reset_index(drop=True)
    bad.loc[:19, "age"] = 90
    bad.loc[:19, "hours-per-week"] = 99
    bad.loc[20:39, "education"] = "Preschool"
    bad.loc[20:39, "education-num"] = 16  # impossible pair: Preschool is 1
    bad.loc[40:, "capital-gain"] = 99999
    return bad


def main() -> None:
    df = load_adult()
    train, rows = df.iloc[:4000], df.iloc[4000:4400]
    detector = TabularVAEAnomalyDetector(random_state=0).fit(train)
    bad, hit = corrupt(rows, train, np.random.RandomState(0))
    first = detector.explain(bad).idxmax(axis=1).to_numpy() == hit
    print(f"corrupted column named first in {first.mean():.3f} of {len(first)} rows")
    for col in df.columns:
        if (hit == col).any():
            print(f"  {col}: {first[hit == col].mean():.2f} of {(hit == col).sum()}")


if __name__ == "__main__":
    main()
