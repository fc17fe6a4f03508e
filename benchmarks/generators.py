"""Registry of the generators compared in the benchmark.

Every generator has the same two-call interface::

    gen = make_generator("tabvae")
    gen.fit(train_df, schema_info, seed)
    synthetic = gen.sample(n, seed)

``schema_info`` is the :class:`tabvae.schema.Schema` of the training table
(``tabvae.schema.infer_schema(train)``).  The SDV generators get their
metadata from it (``Schema.sdmetrics_metadata()``), so every generator sees
the same column types; nothing is typed by hand here.

``gen.info()`` returns a JSON-able dict with the settings actually used
(epochs, library version, how it was seeded) that goes into each result file.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["GENERATORS", "make_generator", "sdv_metadata"]


def _seed_globals(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators.

    SDV creates its model inside ``fit`` and its preprocessing (RDT) draws from
    numpy's global generator, so the only handle on the randomness of an SDV
    *fit* is the global state (the SDV FAQ's advice).
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover - torch is a tabvae dependency
        pass


def sdv_metadata(schema_info):
    """SDV ``Metadata`` for a single table, derived from tabvae's schema."""
    from sdv.metadata import Metadata

    columns = schema_info.sdmetrics_metadata()["columns"]
    return Metadata.load_from_dict({"METADATA_SPEC_VERSION": "V1", "tables": {"table": {"columns": columns}}})


class Generator:
    """Base class: ``fit(train_df, schema_info, seed)`` / ``sample(n, seed)``."""

    name = "base"

    def __init__(self, **options):
        self.options = options

    def warmup(self) -> None:
        """Import the generator's libraries (so memory baselines include them)."""

    def fit(self, train_df: pd.DataFrame, schema_info, seed: int) -> Generator:
        raise NotImplementedError

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        raise NotImplementedError

    def info(self) -> dict:
        return {"name": self.name, "options": dict(self.options)}


class TabVAEGenerator(Generator):
    """tabvae's ``TabularVAE`` with its defaults (``random_state=seed``)."""

    name = "tabvae"
    params: dict = {}

    def warmup(self):
        import tabvae  # noqa: F401

    def fit(self, train_df, schema_info, seed):
        from tabvae import TabularVAE

        self.model = TabularVAE(random_state=seed, **self.params).fit(train_df)
        return self

    def sample(self, n, seed):
        return self.model.sample(n, random_state=seed)

    def info(self):
        import tabvae

        d = super().info()
        m = getattr(self, "model", None)
        d.update(
            library="tabvae",
            version=tabvae.__version__,
            params={k: (list(v) if isinstance(v, tuple) else v) for k, v in m.get_params().items()}
            if m is not None
            else None,
            epochs_used=len(m.history_["loss"]) if m is not None else None,
            resolved={
                "numeric_frequencies": m.numeric_frequencies_,
                "kl_weight": m.kl_weight_,
                "kl_warmup": m.kl_warmup_,
            }
            if m is not None
            else None,  # what "auto" became
            seeding="TabularVAE(random_state=seed); sample(n, random_state=seed)",
        )
        return d


class TabVAEFactorizedGenerator(TabVAEGenerator):
    """tabvae with the factorized decoder and the settings it was tuned with.

    These were the defaults before the autoregressive decoder.
    """

    name = "tabvae_factorized"
    params = {
        "kl_weight": 0.5,
        "config": {
            "decoder": "factorized",
            "hidden_dims": (128, 128),
            "learning_rate": 1e-3,
            "ema_decay": 0.0,
            "discrete_levels": 0,
        },
    }


class TabVAEPeriodicGenerator(TabVAEGenerator):
    """tabvae with periodic features of numbers and KL weight 0.5 without warm-up (the earlier option)."""

    name = "tabvae_periodic"
    params = {"kl_weight": 0.5, "config": {"numeric_frequencies": 6, "kl_warmup": 0.0}}


class TabVAEPeriodicWarmupGenerator(TabVAEGenerator):
    """Periodic features with KL weight 0.6 reached by a warm-up over the first quarter of the epochs
    (what the defaults choose on tables of mostly numbers with 5,000 rows or more), on every table."""

    name = "tabvae_periodic_warmup"
    params = {"kl_weight": 0.6, "config": {"numeric_frequencies": 6, "kl_warmup": 0.25}}


class _SDVGenerator(Generator):
    """Common code for SDV single-table synthesizers."""

    sdv_class = ""
    epochs_option: str | None = None  # name of our option that overrides ``epochs``

    def warmup(self):
        import sdv.metadata  # noqa: F401
        import sdv.single_table  # noqa: F401

    def _make(self, metadata):
        import sdv.single_table as st

        kwargs = {}
        if self.epochs_option and self.options.get(self.epochs_option) is not None:
            kwargs["epochs"] = int(self.options[self.epochs_option])
        if self.sdv_class in ("TVAESynthesizer", "CTGANSynthesizer"):
            # Off unless asked for (benchmarks.gpu): the main benchmark is a CPU one; explicit for the record.
            kwargs["enable_gpu"] = bool(self.options.get("enable_gpu", False))
        self.kwargs = kwargs
        return getattr(st, self.sdv_class)(metadata, **kwargs)

    def fit(self, train_df, schema_info, seed):
        self.synth = self._make(sdv_metadata(schema_info))
        _seed_globals(seed)
        # SDV 2.x takes {table_name: DataFrame}; SDV 1.x took the DataFrame.
        data = {"table": train_df} if _sdv_major() >= 2 else train_df
        self.synth.fit(data)
        return self

    def sample(self, n, seed):
        _seed_globals(seed)
        # SDV seeds sampling with a fixed seed unless told otherwise; set ours
        # through the synthesizer's own hook.
        setter = getattr(self.synth, "_set_random_state", None)
        if setter is not None:
            setter(int(seed))
        out = self.synth.sample(num_rows=int(n))
        if isinstance(out, dict):  # SDV 2.x returns {table_name: DataFrame}
            out = next(iter(out.values()))
        return out.reset_index(drop=True)

    def info(self):
        import sdv

        d = super().info()
        synth = getattr(self, "synth", None)
        params = None
        if synth is not None:
            params = {k: _jsonable(v) for k, v in synth.get_parameters().items()}
        d.update(
            library="sdv",
            version=sdv.__version__,
            sdv_class=self.sdv_class,
            constructor_overrides=getattr(self, "kwargs", None),
            params=params,
            epochs_used=params.get("epochs") if params else None,
            seeding=(
                "fit: global random/numpy/torch seeded with seed; sample: "
                "synthesizer._set_random_state(seed) (SDV's own seeding hook)"
            ),
        )
        return d


class SDVTVAEGenerator(_SDVGenerator):
    name = "sdv_tvae"
    sdv_class = "TVAESynthesizer"
    epochs_option = "tvae_epochs"


class SDVCTGANGenerator(_SDVGenerator):
    name = "sdv_ctgan"
    sdv_class = "CTGANSynthesizer"
    epochs_option = "ctgan_epochs"


class GaussianCopulaGenerator(_SDVGenerator):
    name = "gaussian_copula"
    sdv_class = "GaussianCopulaSynthesizer"


class IdentityGenerator(Generator):
    """Bootstrap resample of the training rows: a copy-everything upper bound on
    fidelity and a worst case for privacy."""

    name = "identity"

    def fit(self, train_df, schema_info, seed):
        self.train = train_df.reset_index(drop=True)
        return self

    def sample(self, n, seed):
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(self.train), size=int(n))
        return self.train.iloc[idx].reset_index(drop=True)

    def info(self):
        d = super().info()
        d.update(library="numpy", seeding="numpy.random.default_rng(seed).integers", epochs_used=None)
        return d


def _sdv_major() -> int:
    import sdv

    return int(sdv.__version__.split(".")[0])


def _jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    return repr(v)


GENERATORS: dict[str, Callable[..., Generator]] = {
    "tabvae": TabVAEGenerator,
    "tabvae_factorized": TabVAEFactorizedGenerator,
    "tabvae_periodic": TabVAEPeriodicGenerator,
    "tabvae_periodic_warmup": TabVAEPeriodicWarmupGenerator,
    "sdv_tvae": SDVTVAEGenerator,
    "sdv_ctgan": SDVCTGANGenerator,
    "gaussian_copula": GaussianCopulaGenerator,
    "identity": IdentityGenerator,
}


def make_generator(name: str, **options) -> Generator:
    """Instantiate generator ``name`` (a key of :data:`GENERATORS`)."""
    try:
        cls = GENERATORS[name]
    except KeyError:
        raise ValueError(f"unknown generator {name!r}; choose from {sorted(GENERATORS)}") from None
    return cls(**options)
