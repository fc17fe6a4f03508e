"""Real tables bundled with tabvae, loaded without any network access."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_adult"]


def load_adult() -> pd.DataFrame:
    """UCI Adult (census income), 32,561 rows x 15 columns.

    Cleaned as the source's README says: leading spaces stripped from the
    category strings and ``"?"`` read as missing (workclass, occupation and
    native-country have missing values).  Target: ``income`` (``>50K`` 24.1 %).

    Source: UCI Machine Learning Repository, "Adult" (Becker & Kohavi, 1996),
    CC BY 4.0; the copy in ``sdv-dev/CTGAN`` ``examples/csv/adult.csv``.

    Returns
    -------
    DataFrame
    """
    path = resources.files(__package__).joinpath("data").joinpath("adult.csv.gz")
    with path.open("rb") as f:
        return pd.read_csv(f, compression="gzip")
