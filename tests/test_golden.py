"""Golden samples: a seeded fit gives byte-identical output across refactors.

The digests in ``tests/data/golden.json`` were written before the redesign of
issue 21 by ``python tests/test_golden.py --write``.  A change that is meant to
move the samples (a new default, a different network) rewrites them in the
same commit and says why; a refactor must leave them as they are.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import load_slice, make_mixed  # noqa: E402

from tabvae import TabularVAE  # noqa: E402

GOLDEN = Path(__file__).parent / "data" / "golden.json"


def _digest_frame(df: pd.DataFrame) -> str:
    text = df.to_csv(index=False) + repr(list(df.dtypes.astype(str)))
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            text += repr(list(df[c].cat.categories)) + str(df[c].cat.ordered)
    return hashlib.sha256(text.encode()).hexdigest()


def _digest_array(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()


def _outputs() -> dict[str, str]:
    out = {}
    mixed = make_mixed(300)
    m = TabularVAE(epochs=4, early_stopping=False, random_state=0, config=_raw()).fit(mixed)
    out["mixed.sample"] = _digest_frame(m.sample(300, random_state=1))
    out["mixed.transform"] = _digest_array(m.transform(mixed.head(50)))
    out["mixed.score_samples"] = _digest_array(m.score_samples(mixed.head(50)))

    adult = load_slice("adult")
    a = TabularVAE(epochs=3, conditional_columns=["income"], early_stopping=False, random_state=0, config=_raw()).fit(
        adult
    )
    out["adult.sample"] = _digest_frame(a.sample(300, random_state=1))
    out["adult.sample_conditioned"] = _digest_frame(
        a.sample(
            100, conditions={"income": a.sample(1, random_state=2)["income"].iloc[0], "age": (30, 50)}, random_state=3
        )
    )
    out["adult.inverse_transform"] = _digest_frame(a.inverse_transform(a.transform(adult.head(20))))
    out["adult.stream"] = _digest_frame(a.sample(50))  # the model's own stream after fit

    housing = load_slice("california_housing")
    h = TabularVAE(epochs=3, early_stopping=False, random_state=0, **_periodic()).fit(housing)
    out["housing.sample"] = _digest_frame(h.sample(300, random_state=1))
    return out


def _periodic() -> dict:
    """Parameters that turn the periodic features on for a 1,500-row slice."""
    return {"config": {"numeric_frequencies": 6, **_raw()}}


def _raw() -> dict:
    """The config that keeps raw values (no value protection) and the autoregressive decoder on small
    tables, as when the digests were written."""
    return {"value_protection": 0, "decoder": "autoregressive"}


@pytest.mark.filterwarnings("ignore")
def test_golden_samples():
    expected = json.loads(GOLDEN.read_text())
    got = _outputs()
    moved = {k: (expected.get(k), v) for k, v in got.items() if expected.get(k) != v}
    assert not moved, f"outputs moved from the golden digests: {sorted(moved)}"


if __name__ == "__main__" and "--write" in sys.argv:
    GOLDEN.write_text(json.dumps(_outputs(), indent=1) + "\n")
    print(GOLDEN.read_text())
