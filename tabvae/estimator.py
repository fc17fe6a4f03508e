"""``TabularVAE``: the scikit-learn-style public face of tabvae."""

from __future__ import annotations

import copy

import numbers
from typing import Iterator

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import conditions as conditions_mod
from .encoders import TableEncoder
from .encoders.categorical import MAX_CATEGORIES
from .encoders.numeric import DISCRETE_LEVELS
from .model import GaussianMixturePrior, VAEConfig, build_vae, log_likelihood_terms
from .schema import check_dataframe, infer_schema
from .training import Data, TrainConfig, resolve_device, train

AUTO_STEPS = 2_000  # optimisation steps that epochs="auto" aims for (3,000 measured no better)
SAMPLE_CHUNK = 65_536  # rows decoded at a time: bounds memory when sampling millions
ELBO_DRAWS = 8  # fixed latent draws shared by all rows when scoring with the ELBO
# numeric_frequencies="auto": periodic features for tables that are mostly continuous numbers and have
# enough rows for the sharper network (benchmarks/README.md, "Periodic features by default where they pay")
AUTO_FREQUENCIES = 6
AUTO_FREQUENCIES_MIN_SHARE = 0.8  # of the columns, modelled as continuous values
AUTO_FREQUENCIES_MIN_ROWS = 5_000


class TabularVAE(TransformerMixin, BaseEstimator):
    """A variational autoencoder that learns a mixed-type table and writes new rows.

    Parameters
    ----------
    latent_dim : int, default=32
        Size of the latent code of a row.
    hidden_dims : tuple of int, default=(96, 96)
        Widths of the encoder's hidden layers (the decoder mirrors them; the
        autoregressive network has ``hidden_dims[0]`` units).  With the
        autoregressive decoder, (96, 96) matched (128, 128) on the benchmark's
        six tables (mean LogisticDetection 0.962 vs 0.955, same
        train-on-synthetic gap) in about 20 % less fit time, and (256, 256)
        bought nothing for twice the time (benchmarks/README.md).
    epochs : int or "auto", default="auto"
        Passes over the training data.  ``"auto"`` gives about 2,000
        optimisation steps (at least 10 and at most 300 epochs): 39 epochs on
        Adult's 26k rows, 300 on a 1,500-row table, 10 on a million rows.
        Below about 10,000 rows those extra passes let synthetic rows sit
        closer to training rows than unseen rows do (closer-to-train share
        0.55-0.62 at 500-2,000 rows); for small, sensitive tables pass
        ``epochs=100`` or ``early_stopping=True`` (0.51-0.55).  That costs real
        fidelity: against rows the model never saw, a classifier tells
        100-epoch samples from real rows more easily (GB detection AUC
        0.65-0.95 against 0.58-0.87 at 500-2,000 rows; benchmarks/README.md,
        "Epochs on small tables").
    batch_size : int, default=500
        Rows per optimisation step.
    learning_rate : float, default=2e-3
        Adam's step size.  With the autoregressive decoder, 2e-3 beat 1e-3
        on pair trends, detection and train-on-synthetic utility (mean gap
        0.060 -> 0.051 over six tables); 3e-3 narrowed the gap a little more
        but put Adult's closer-to-train share over 0.53 (benchmarks/README.md).
    weight_decay : float, default=1e-5
        Adam's L2 penalty.
    ema_decay : float in [0, 1), default=0.995
        The fitted weights are an exponential moving average of the
        optimiser's iterates with this decay (0 keeps the last iterate).
        The average costs one extra copy of the weights and does not change
        the optimisation itself; with early stopping it is the average that
        is validated and kept.  0.995 (about the last 200 of the ~2,000
        steps) raised LogisticDetection on every benchmark table
        (benchmarks/README.md, "Weight averaging").
    kl_weight : float or "auto", default="auto"
        Weight of the KL term of the ELBO (1.0 is the true ELBO).  Below 1
        the latent codes keep more of each row (more active dimensions), which
        the ``"gmm"`` sampler then models.  ``"auto"``: 0.6 when periodic
        features are in use (see ``numeric_frequencies``), else 0.75; the
        value used is ``kl_weight_``.  With the autoregressive decoder, 0.75
        beat 1.0 (which collapsed the latent code to a few dimensions) and 0.5
        (which put Adult's closer-to-train share over 0.53); the features need
        less KL pressure to keep the latent code in use.  The factorized
        decoder measured best at 0.5 (benchmarks/README.md).  Use 1.0 with
        ``prior="standard"`` and for anomaly scores (a true ELBO).
    kl_warmup : float in [0, 1) or "auto", default="auto"
        Share of the training epochs over which the KL weight rises linearly
        from 0 to ``kl_weight`` (KL annealing), so that the latent code
        learns to carry the rows before the KL term presses on it.  0 trains
        at ``kl_weight`` from the start.  ``"auto"``: 0.25 when periodic
        features are in use, else 0 (value used: ``kl_warmup_``).  Alone,
        0.25 left the benchmark's scores level; with the features at KL 0.6
        it keeps the latent code in use (benchmarks/README.md, "KL warm-up
        and free bits").
    prior : {"gmm", "standard"}, default="gmm"
        Where ``sample`` draws latent codes.  ``"gmm"``: a Gaussian mixture
        fitted after training to draws from the training rows' posteriors on
        the latent dimensions the model uses (the others stay N(0, 1)), so
        samples come from where the data lives in latent space rather than
        from the "holes" the N(0, I) prior leaves (a second-stage model of the
        aggregate posterior; it costs one to a few seconds).  ``"standard"``:
        the N(0, I) prior of the ELBO.  Training, ``transform`` and
        ``score_samples`` use N(0, I) either way.
    prior_components : int, default=32
        Components of the ``"gmm"`` prior.
    decoder : {"autoregressive", "factorized"}, default="autoregressive"
        ``"autoregressive"``: each column's distribution depends on the
        latent code and on the columns before it in table order (a masked,
        MADE-style network), which keeps dependence the latent code does not
        carry; sampling decodes column by column.  ``"factorized"``: columns
        are independent given the latent code; use it with
        ``kl_weight=0.5, hidden_dims=(128, 128)`` (the settings it was tuned
        with) for the fastest sampling of very wide tables.  On the benchmark
        the autoregressive decoder narrowed the train-on-synthetic gap
        (online_shoppers 0.030 -> 0.011 ROC-AUC) and raised LogisticDetection
        (Adult 0.932 -> 0.961); at (128, 128) it sampled 100k rows of a
        200-column table in 14.9 s against 8.3 s (benchmarks/README.md).
    numeric_frequencies : int or "auto", default="auto"
        With the autoregressive decoder, also feed each numeric value to the
        masked network as sines and cosines at this many frequencies (0.5, 1,
        2, ... on the value's standard-normal scale; 0: the raw value only),
        so that a later column can depend sharply on it, as a house price
        does on latitude and longitude.  ``"auto"``: 6 when at least 80 % of
        the columns are modelled as continuous values and the table has at
        least 5,000 rows, else 0 (value used: ``numeric_frequencies_``).  On
        the benchmark (5 seeds) that took california_housing's
        train-on-synthetic gap from 0.073 to 0.041 R² and magic_gamma's from
        0.022 to 0.014 ROC-AUC, keeping the other targets.  Below 5,000 rows
        the sharper network overfits: on 1,500-row samples of those tables it
        lowered LogisticDetection or utility, and at 3,000 rows it put the
        closer-to-train share over 0.53.  On the benchmark's other four
        tables (mostly categorical or few-valued columns) they bought no
        utility (beijing_pm25 misses the target either way; the others meet
        it without them) and cost a little fidelity (online_shoppers' Column
        Shapes 0.982 -> 0.976; benchmarks/README.md, "Periodic features by
        default where they pay").
    conditional_columns : list of str, optional
        Categorical or boolean columns the network is conditioned on (a
        conditional VAE), so that ``sample(n, conditions={col: value})`` on
        them is exact and needs no rejection.
    categorical_columns, numeric_columns : list of str, optional
        Override type inference for these columns (e.g. integer-coded
        categories).  By default integers with at most 20 distinct values,
        strings, objects, categories and booleans are categorical.
    max_categories : int, default=256
        Most categories the network sees per column; rarer levels share an
        "other" code and are drawn from their empirical frequencies.
    discrete_levels : int, default=128
        A numeric or integer column with at most this many distinct values,
        each seen at least 10 times on average, that fill less than a quarter
        of the grid of their smallest gap (amounts such as Adult's
        ``capital-gain``: 0, 15,024, 7,688, ...) is modelled as one code per
        observed value instead of a Gaussian in quantile-normal space, so its
        exact values, and the thresholds a downstream model splits on, come
        back.  Such columns decode to observed values only.  0 turns this off
        (benchmarks/README.md, "Discrete numeric columns").
    clip : bool, default=True
        Keep sampled numbers and datetimes within the training min/max.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when their loss
        has not improved for ``n_iter_no_change`` epochs (best weights kept).
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU. At the default network
        size a GPU gives the same fidelity but no faster fit than one CPU thread
        (10-12 s per 10,000-row benchmark table on an H200; benchmarks/README.md, "GPU").
    precision : {"fp32", "bf16"}, default="fp32"
        ``"bf16"`` trains under bfloat16 autocast (mixed precision); losses and
        weights stay fp32. Meant for wide networks on GPUs with bf16 tensor cores;
        at the default size it was not faster on an H200 (13.7 s against 10.7 s on Adult).
    compile : bool, default=False
        Wrap the training objective in ``torch.compile``. It pays a one-off compile
        time: 30.7 s against 10.7 s for a default Adult fit on an H200.
    verbose : bool, default=False
        Show a progress bar with the epoch and loss.
    random_state : None, int or numpy.random.RandomState, default=None
        Seeds weight initialisation, batching and sampling.  The same seed on
        the same device gives the same model and the same samples.

    Attributes
    ----------
    schema_ : Schema
        Inferred column kinds and dtypes.
    encoder_ : TableEncoder
    model_ : torch.nn.Module
    prior_ : GaussianMixturePrior or None
    numeric_frequencies_, kl_weight_, kl_warmup_ : int, float, float
        The values used for the parameters of those names ("auto" resolved
        for this table).
    history_ : dict of list of float
        Per-epoch mean ``loss``, ``reconstruction`` and ``kl`` (and
        ``val_loss`` with early stopping).
    device_ : torch.device
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame.

    Examples
    --------
    >>> from tabvae import TabularVAE
    >>> from tabvae.datasets import load_adult
    >>> df = load_adult().head(500)
    >>> model = TabularVAE(epochs=2, random_state=0).fit(df)
    >>> synthetic = model.sample(100, random_state=0)
    >>> list(synthetic.columns) == list(df.columns)
    True
    """

    def __init__(
        self,
        *,
        latent_dim=32,
        hidden_dims=(96, 96),
        epochs="auto",
        batch_size=500,
        learning_rate=2e-3,
        weight_decay=1e-5,
        ema_decay=0.995,
        kl_weight="auto",
        kl_warmup="auto",
        prior="gmm",
        prior_components=32,
        decoder="autoregressive",
        numeric_frequencies="auto",
        conditional_columns=None,
        categorical_columns=None,
        numeric_columns=None,
        max_categories=MAX_CATEGORIES,
        discrete_levels=DISCRETE_LEVELS,
        clip=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        device="auto",
        precision="fp32",
        compile=False,
        verbose=False,
        random_state=None,
    ):
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.ema_decay = ema_decay
        self.kl_weight = kl_weight
        self.kl_warmup = kl_warmup
        self.prior = prior
        self.prior_components = prior_components
        self.decoder = decoder
        self.numeric_frequencies = numeric_frequencies
        self.conditional_columns = conditional_columns
        self.categorical_columns = categorical_columns
        self.numeric_columns = numeric_columns
        self.max_categories = max_categories
        self.discrete_levels = discrete_levels
        self.clip = clip
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.precision = precision
        self.compile = compile
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ fit

    def _validate_params(self) -> None:
        def fail(name, what):
            auto = ' or "auto"' if name in ("epochs", "kl_weight", "kl_warmup", "numeric_frequencies") else ""
            raise ValueError(f"{name} must be {what}{auto}, got {getattr(self, name)!r}.")

        def positive_int(name):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                fail(name, "a positive int")

        def positive_float(name):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or isinstance(v, bool) or not v > 0:
                fail(name, "a positive number")

        def bounded_int(name, low, high=None):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < low or (high is not None and v > high):
                fail(name, f"an int >= {low}" if high is None else f"an int in [{low}, {high}]")

        def fraction(name):  # a share in [0, 1)
            v = getattr(self, name)
            if not (isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 <= v < 1):
                fail(name, "a number in [0, 1)")

        for name in ("latent_dim", "batch_size", "prior_components", "n_iter_no_change"):
            positive_int(name)
        if self.epochs != "auto":
            positive_int("epochs")
        positive_float("learning_rate")
        if not _is_auto(self.kl_weight):
            positive_float("kl_weight")
        if not _is_auto(self.numeric_frequencies):
            bounded_int("numeric_frequencies", 0, 16)
        bounded_int("max_categories", 2)
        bounded_int("discrete_levels", 0)
        if not isinstance(self.weight_decay, numbers.Real) or self.weight_decay < 0:
            raise ValueError(f"weight_decay must be a number >= 0, got {self.weight_decay!r}.")
        fraction("ema_decay")
        if not _is_auto(self.kl_warmup):
            fraction("kl_warmup")
        dims = self.hidden_dims
        if not (isinstance(dims, (tuple, list)) and len(dims) >= 1
                and all(isinstance(d, numbers.Integral) and d >= 1 for d in dims)):
            raise ValueError(f"hidden_dims must be a non-empty tuple of positive ints, got {dims!r}.")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}.")
        if self.decoder not in ("autoregressive", "factorized"):
            raise ValueError(f"decoder must be 'autoregressive' or 'factorized', got {self.decoder!r}.")
        if self.prior not in ("gmm", "standard"):
            raise ValueError(f"prior must be 'gmm' or 'standard', got {self.prior!r}.")
        if not (isinstance(self.validation_fraction, numbers.Real) and 0 < self.validation_fraction < 1):
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}.")

    def fit(self, X, y=None):
        """Learn the table ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The training table.  Never modified.
        y : None
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        self : TabularVAE
        """
        return self._fit(X)

    def _fit(self, X, encoder: TableEncoder | None = None):
        """``fit``, optionally with an already fitted table encoder (shared across ranks)."""
        self._validate_params()
        df = check_dataframe(X)
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        if encoder is None:
            schema = infer_schema(df, categorical_columns=self.categorical_columns,
                                  numeric_columns=self.numeric_columns)
            encoder = TableEncoder(schema, max_categories=self.max_categories, clip=self.clip,
                                   discrete_levels=self.discrete_levels).fit(df)
        schema = encoder.schema
        cont, codes = encoder.transform(df)

        self.device_ = device
        self.schema_ = schema
        self.encoder_ = encoder
        self.n_features_in_ = df.shape[1]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(df.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

        cond = self._fit_conditions(codes)
        self._resolve_auto(encoder.layout_, schema.names, len(df))
        gen = _torch_generator(rng, device)
        order = _column_positions(encoder.layout_, schema.names) if self.decoder == "autoregressive" else ((), ())
        cfg = VAEConfig(encoder.layout_.n_continuous, encoder.layout_.cardinalities,
                        self.latent_dim, tuple(self.hidden_dims), self._cond_cardinalities(),
                        cont_positions=order[0], part_positions=order[1],
                        value_gates=encoder.layout_.value_gates,
                        n_frequencies=self.numeric_frequencies_)
        self.model_ = build_vae(cfg, device, gen)
        train_idx, val_idx = self._split(len(df), rng)
        if val_idx is None:  # no split: no fancy-indexed copies of the whole encoded table
            data, val = Data(cont, codes, device, cond), None
        else:
            pick = lambda a, i: None if a is None else a[i]  # noqa: E731
            data = Data(cont[train_idx], codes[train_idx], device, pick(cond, train_idx))
            val = Data(cont[val_idx], codes[val_idx], device, pick(cond, val_idx))
        n_epochs = self._n_epochs(len(train_idx))
        tcfg = TrainConfig(
            epochs=n_epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
            weight_decay=self.weight_decay, kl_weight=self.kl_weight_, ema_decay=float(self.ema_decay),
            kl_warmup=round(self.kl_warmup_ * n_epochs),
            n_iter_no_change=self.n_iter_no_change if self.early_stopping else None,
            verbose=self.verbose, precision=self.precision, compile=bool(self.compile),
        )
        self.history_ = train(self.model_, data, tcfg, gen, val)
        self.prior_ = None
        if self.prior == "gmm":
            mu, std = self._posterior(cont, codes, cond)
            self.prior_ = GaussianMixturePrior.fit(mu, std, self.prior_components, rng.randint(2**31 - 1))
        self._sample_rng = np.random.RandomState(rng.randint(2**31 - 1))
        return self

    def _resolve_auto(self, layout, names, n_rows: int) -> None:
        """Set ``numeric_frequencies_``, ``kl_weight_`` and ``kl_warmup_``, resolving "auto"."""
        freq = self.numeric_frequencies
        if self.decoder != "autoregressive" or layout.n_continuous == 0:
            freq = 0  # the periodic features feed the masked network, of continuous values only
        elif _is_auto(freq):
            continuous = sum(layout.continuous[n].stop > layout.continuous[n].start for n in names)
            mostly_numbers = continuous >= AUTO_FREQUENCIES_MIN_SHARE * len(names)
            freq = AUTO_FREQUENCIES if mostly_numbers and n_rows >= AUTO_FREQUENCIES_MIN_ROWS else 0
        self.numeric_frequencies_ = int(freq)
        # The sharper network needs a lighter, warmed-up KL term to keep the latent code in use.
        kl, warmup = (0.6, 0.25) if freq else (0.75, 0.0)
        self.kl_weight_ = kl if _is_auto(self.kl_weight) else float(self.kl_weight)
        self.kl_warmup_ = warmup if _is_auto(self.kl_warmup) else float(self.kl_warmup)

    def _fit_conditions(self, codes: np.ndarray) -> np.ndarray | None:
        """Codes of the conditioning columns, and their empirical joint distribution."""
        cols = list(self.conditional_columns or [])
        if isinstance(self.conditional_columns, str):
            raise TypeError(f"conditional_columns must be a list of column names, got "
                            f"{self.conditional_columns!r}; use [{self.conditional_columns!r}].")
        for c in cols:
            if c not in self.schema_.names:
                raise ValueError(f"conditional_columns names {c!r}, which is not a column of X; "
                                 f"columns are {self.schema_.names}.")
            if self.schema_[c].kind not in ("categorical", "boolean"):
                raise ValueError(
                    f"conditional_columns: {c!r} is {self.schema_[c].kind}; only categorical and "
                    "boolean columns can be conditioned in the network. Condition numbers with "
                    "ranges at sampling time instead (rejection sampling)."
                )
        self.conditional_columns_ = cols
        if not cols:
            self._cond_table = None
            return None
        idx = [self.encoder_.layout_.codes[c].start for c in cols]
        cond = codes[:, idx]
        combos, counts = np.unique(cond, axis=0, return_counts=True)
        self._cond_table = (combos, counts / counts.sum())
        return cond

    def _cond_cardinalities(self) -> tuple[int, ...]:
        lay = self.encoder_.layout_
        return tuple(lay.cardinalities[lay.codes[c].start] for c in self.conditional_columns_)

    def _draw_cond(self, n: int, rng, fixed: dict | None = None) -> np.ndarray | None:
        """Condition codes for n rows: ``fixed`` {column: code}, the rest from the training joint."""
        if self._cond_table is None:
            return None
        combos, probs = self._cond_table
        fixed = fixed or {}
        match = np.ones(len(combos), bool)
        for j, c in enumerate(self.conditional_columns_):
            if c in fixed:
                match &= combos[:, j] == fixed[c]
        if not match.any():  # never seen together: draw the free columns from the whole table
            match[:] = True
        p = probs * match
        out = combos[rng.choice(len(combos), size=n, p=p / p.sum())].copy()
        for j, c in enumerate(self.conditional_columns_):
            if c in fixed:
                out[:, j] = fixed[c]
        return out

    def _extra_state(self) -> dict:
        combos, probs = self._cond_table if self._cond_table is not None else (None, None)
        return {"conditional_columns": self.conditional_columns_, "numeric_frequencies": self.numeric_frequencies_,
                "kl_weight": self.kl_weight_, "kl_warmup": self.kl_warmup_,
                "cond_combos": None if combos is None else combos.tolist(),
                "cond_probs": None if probs is None else probs.tolist()}

    def _set_extra_state(self, state: dict) -> None:
        self.conditional_columns_ = state.get("conditional_columns", [])
        # Files written before "auto" hold the numbers in the parameters and the config.
        self.numeric_frequencies_ = state.get("numeric_frequencies", self.model_.cfg.n_frequencies)
        self.kl_weight_ = state.get("kl_weight", self.kl_weight)
        self.kl_warmup_ = state.get("kl_warmup", self.kl_warmup)
        combos = state.get("cond_combos")
        self._cond_table = None if combos is None else (np.asarray(combos, np.int64), np.asarray(state["cond_probs"]))

    def _n_epochs(self, n_rows: int) -> int:
        if self.epochs != "auto":
            return int(self.epochs)
        steps_per_epoch = max(1, round(n_rows / self.batch_size))
        return int(np.clip(np.ceil(AUTO_STEPS / steps_per_epoch), 10, 300))

    def _split(self, n: int, rng: np.random.RandomState):
        if not self.early_stopping:
            return np.arange(n), None
        n_val = int(round(n * self.validation_fraction))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"early_stopping needs at least one training and one validation row; with "
                f"{n} rows and validation_fraction={self.validation_fraction} that is not possible."
            )
        perm = rng.permutation(n)
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])

    # ------------------------------------------------------------------ sampling

    def sample(self, n_samples=1, *, conditions=None, random_state=None, temperature=1.0,
               max_tries=100) -> pd.DataFrame:
        """Generate synthetic rows, optionally meeting conditions.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.  With a DataFrame of ``conditions`` it may be
            ``None`` (one row per condition row).
        conditions : dict or DataFrame, optional
            Values every row must have: ``{"income": ">50K", "sex": "Female"}``,
            numeric or datetime ranges ``{"age": (30, 40)}`` (inclusive), or a
            DataFrame with one condition row per output row (NaN cells are
            unconstrained).  Columns in ``conditional_columns`` are generated
            by the conditional network; others by rejection, which raises a
            ValueError naming the condition when fewer than ``n_samples`` rows
            meet it within ``max_tries`` draws per requested row.
        random_state : None, int or RandomState, default=None
            Seed for this call.  ``None`` continues the model's own stream
            (seeded at fit from ``random_state``), so successive calls give
            new rows.
        temperature : float, default=1.0
            Scales the decoder's noise and softmax temperature; below 1 gives
            more typical rows, 0 gives the decoder's modes.
        max_tries : int, default=100
            Rejection budget: at most ``max_tries * max(n_samples, 100)``
            candidate rows.

        Returns
        -------
        DataFrame of shape (n_samples, n_features)
            Same columns, order and dtypes as the training data.

        Examples
        --------
        >>> from tabvae import TabularVAE
        >>> from tabvae.datasets import load_adult
        >>> df = load_adult().head(1000)
        >>> model = TabularVAE(epochs=2, conditional_columns=["income"], random_state=0).fit(df)
        >>> rows = model.sample(50, conditions={"income": ">50K", "age": (30, 40)}, random_state=0)
        >>> bool((rows["income"] == ">50K").all() and rows["age"].between(30, 40).all())
        True
        """
        check_is_fitted(self)
        if isinstance(conditions, pd.DataFrame):
            if n_samples is not None and _check_n(n_samples) != len(conditions):
                raise ValueError(f"n_samples={n_samples} but conditions has {len(conditions)} rows; "
                                 "pass n_samples=None or a matching number.")
            rng = self._rng(random_state)
            return self._sample_per_row(conditions, rng, temperature, max_tries)
        chunks = list(self.iter_samples(n_samples, conditions=conditions, random_state=random_state,
                                        temperature=temperature, max_tries=max_tries))
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]

    def iter_samples(self, n_samples, *, chunk_size=SAMPLE_CHUNK, conditions=None, random_state=None,
                     temperature=1.0, max_tries=100) -> Iterator[pd.DataFrame]:
        """Yield ``n_samples`` synthetic rows as DataFrames of at most ``chunk_size`` rows.

        Only one chunk of network outputs is alive at a time, so any number of
        rows can be written with bounded memory.  Arguments as in :meth:`sample`.
        """
        check_is_fitted(self)
        n_samples = _check_n(n_samples)
        chunk_size = _check_n(chunk_size, "chunk_size")
        parsed = conditions_mod.parse(self, conditions) if conditions is not None else {}
        rng = self._rng(random_state)
        gen = _torch_generator(rng, self.device_)
        for start in range(0, n_samples, chunk_size):
            n = min(chunk_size, n_samples - start)
            yield self._sample_conditioned(n, parsed, rng, gen, temperature, max_tries)

    def _rng(self, random_state):
        return self._sample_rng if random_state is None else check_random_state(random_state)

    def _sample_conditioned(self, n, parsed: dict, rng, gen, temperature, max_tries) -> pd.DataFrame:
        in_net = {c: v for c, v in parsed.items()
                  if c in self.conditional_columns_ and not isinstance(v, tuple)}
        rest = {c: v for c, v in parsed.items() if c not in in_net}
        fixed = {c: self._code_of(c, v) for c, v in in_net.items()}
        if not rest:
            out = self._generate(n, rng, gen, temperature, fixed)
        else:
            out = self._reject(n, rest, fixed, rng, gen, temperature, max_tries)
        for c, v in in_net.items():  # the network was told; make the value exact (e.g. rare levels)
            out[c] = conditions_mod.exact_column(self, c, v, len(out))
        return out

    def _code_of(self, col, value) -> int:
        _, codes = self.encoder_.encoders_[col].transform(pd.Series([value], dtype=object))
        return int(codes[0, 0])

    def _generate(self, n, rng, gen, temperature, fixed=None) -> pd.DataFrame:
        z = self._draw_latents(n, rng)
        return self._decode(z, rng, gen, temperature, self._draw_cond(n, rng, fixed))

    def _reject(self, n, rest, fixed, rng, gen, temperature, max_tries) -> pd.DataFrame:
        kept, n_kept, drawn, budget = [], 0, 0, max_tries * max(n, 100)
        while n_kept < n and drawn < budget:
            m = int(min(SAMPLE_CHUNK, max(2 * (n - n_kept), 1024)))
            cand = self._generate(m, rng, gen, temperature, fixed)
            drawn += m
            good = cand[conditions_mod.satisfied(cand, rest)]
            kept.append(good)
            n_kept += len(good)
        if n_kept < n:
            raise ValueError(
                f"Could only generate {n_kept} of {n} rows meeting {rest} after drawing {drawn} "
                f"candidates (acceptance rate {n_kept / drawn:.2g}). Relax the condition, raise "
                "max_tries, or name categorical columns in conditional_columns at fit for exact "
                "conditioning."
            )
        return pd.concat(kept, ignore_index=True).iloc[:n].reset_index(drop=True)

    def _sample_per_row(self, conditions: pd.DataFrame, rng, temperature, max_tries) -> pd.DataFrame:
        """One output row per condition row; rows with equal conditions are generated together."""
        gen = _torch_generator(rng, self.device_)
        keys = conditions.astype(object).where(conditions.notna(), None)
        groups = keys.groupby(list(keys.columns), dropna=False, sort=False).indices
        parts, order = [], []
        for key, rows in groups.items():
            key = key if isinstance(key, tuple) else (key,)
            cond = {c: v for c, v in zip(keys.columns, key) if v is not None and not pd.isna(v)}
            parsed = conditions_mod.parse(self, cond) if cond else {}
            parts.append(self._sample_conditioned(len(rows), parsed, rng, gen, temperature, max_tries))
            order.append(rows)
        out = pd.concat(parts, ignore_index=True)
        out.index = np.concatenate(order)
        return out.sort_index().reset_index(drop=True)

    def _draw_latents(self, n: int, rng: np.random.RandomState) -> np.ndarray:
        if self.prior_ is not None:
            return self.prior_.sample(n, rng)
        return rng.standard_normal((n, self.latent_dim))

    @torch.no_grad()
    def _decode(self, z: np.ndarray, rng, gen, temperature: float = 1.0, cond=None) -> pd.DataFrame:
        self.model_.eval()
        zt = torch.as_tensor(z, dtype=torch.float32, device=self.device_)
        ct = None if cond is None else torch.as_tensor(cond, device=self.device_)
        cont, codes = self.model_.draw(zt, gen, ct, temperature=temperature)
        return self._to_frame(cont, codes, rng)

    def _to_frame(self, cont: torch.Tensor, codes: torch.Tensor, rng) -> pd.DataFrame:
        return self.encoder_.inverse_transform(cont.cpu().numpy(), codes.cpu().numpy(), rng)

    # ------------------------------------------------------------------ latent space

    def _encode_input(self, X, *, what="X") -> tuple[np.ndarray, np.ndarray]:
        """Validate ``X`` against the fitted schema and encode it."""
        df = self._align(X, what)
        for spec in self.schema_:
            if spec.kind in ("numeric", "integer", "datetime") \
                    and not self.encoder_.encoders_[spec.name].has_missing_ and df[spec.name].isna().any():
                raise ValueError(
                    f"{what} has missing values in column {spec.name!r}, which had none in fit, so the "
                    "model gives them no probability. Impute them, or refit on data with missing values there."
                )
        cont, codes = self.encoder_.transform(df)
        unknown = codes < 0
        if unknown.any():
            cols = self._unknown_report(df, unknown)
            raise ValueError(
                f"{what} holds category values never seen in fit: {cols}. "
                "Map them to known levels or refit on data that includes them."
            )
        return cont, codes

    def _unknown_report(self, df, unknown) -> dict:
        report = {}
        for name, sl in self.encoder_.layout_.codes.items():
            rows = unknown[:, sl].any(axis=1)
            if rows.any():
                report[name] = df.loc[rows, name].drop_duplicates().head(5).tolist()
        return report

    def _align(self, X, what: str) -> pd.DataFrame:
        """Match columns by name (order free); arrays are matched by position."""
        names = self.schema_.names
        if isinstance(X, pd.DataFrame):
            df = check_dataframe(X, what=what)
            missing = [c for c in names if c not in df.columns]
            extra = [c for c in df.columns if c not in names]
            if missing or extra:
                raise ValueError(
                    f"{what} columns do not match the columns seen in fit: missing {missing}, "
                    f"unexpected {extra}. Pass the same columns (any order)."
                )
            return df[names]
        df = check_dataframe(X, what=what)
        if df.shape[1] != len(names):
            raise ValueError(
                f"{what} has {df.shape[1]} features, but TabularVAE is expecting "
                f"{len(names)} features as input."
            )
        df.columns = names
        for spec in self.schema_:
            if spec.kind in ("numeric", "integer"):
                df[spec.name] = pd.to_numeric(df[spec.name], errors="raise")
        return df

    def _latent_means(self, cont: np.ndarray, codes: np.ndarray, cond=None) -> np.ndarray:
        return self._posterior(cont, codes, cond)[0]

    @torch.no_grad()
    def _posterior(self, cont: np.ndarray, codes: np.ndarray, cond=None, batch=SAMPLE_CHUNK):
        """Means and standard deviations (N, L) of q(z|x), as float64 arrays."""
        model = self._float64_model()
        mus, stds = [], []
        for s in range(0, len(cont), batch):
            c = torch.as_tensor(cont[s:s + batch], dtype=torch.float64, device=self.device_)
            k = torch.as_tensor(codes[s:s + batch], device=self.device_)
            y = None if cond is None else torch.as_tensor(cond[s:s + batch], device=self.device_)
            mu, logvar = model.encode(c, k, y)
            mus.append(mu.cpu().numpy())
            stds.append((0.5 * logvar).exp().cpu().numpy())
        return np.concatenate(mus).astype(np.float64), np.concatenate(stds).astype(np.float64)

    def transform(self, X) -> np.ndarray:
        """Embed rows: the mean of q(z|x) for each row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, latent_dim)
        """
        check_is_fitted(self)
        cont, codes = self._encode_input(X)
        return self._latent_means(cont, codes, self._cond_from_codes(codes))

    def _cond_from_codes(self, codes: np.ndarray) -> np.ndarray | None:
        if not self.conditional_columns_:
            return None
        return codes[:, [self.encoder_.layout_.codes[c].start for c in self.conditional_columns_]]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the latent dimensions: ``z0 ... z{latent_dim-1}``."""
        check_is_fitted(self)
        return np.asarray([f"z{i}" for i in range(self.latent_dim)], dtype=object)

    def inverse_transform(self, Z, *, random_state=None) -> pd.DataFrame:
        """Decode latent codes into rows of the original table.

        Decoding is deterministic: each number is the decoder's mean and each
        category its most probable level.  ``random_state`` only matters for
        levels in the "other" bucket and, for a conditional model, for the
        conditioning values, drawn from their training frequencies.

        Parameters
        ----------
        Z : array-like of shape (n_samples, latent_dim)
        random_state : None, int or RandomState, default=None (seed 0)

        Returns
        -------
        DataFrame of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.latent_dim:
            raise ValueError(f"Z must have shape (n_samples, {self.latent_dim}), got {Z.shape}.")
        if not np.isfinite(Z).all():
            raise ValueError("Z contains NaN or infinite values.")
        rng = check_random_state(0 if random_state is None else random_state)
        return self._decode_means(Z, self._draw_cond(len(Z), rng), rng)

    @torch.no_grad()
    def _decode_means(self, Z, cond, rng) -> pd.DataFrame:
        self.model_.eval()
        zt = torch.as_tensor(Z, dtype=torch.float32, device=self.device_)
        ct = None if cond is None else torch.as_tensor(cond, device=self.device_)
        return self._to_frame(*self.model_.draw(zt, None, ct, temperature=0), rng)

    def reconstruct(self, X) -> pd.DataFrame:
        """Encode rows to their latent means and decode them back (deterministic)."""
        check_is_fitted(self)
        cont, codes = self._encode_input(X)
        cond = self._cond_from_codes(codes)
        return self._decode_means(self._latent_means(cont, codes, cond), cond, np.random.RandomState(0))

    def interpolate(self, a, b, n_steps=10, *, method="slerp") -> pd.DataFrame:
        """Decoded rows along a path in latent space from ``a`` to ``b``.

        Parameters
        ----------
        a, b : DataFrame
            One row each, or groups of rows (the path joins their mean
            latent codes, e.g. "typical >50K" to "typical <=50K").
        n_steps : int, default=10
            Points on the path, endpoints included (>= 2).
        method : {"slerp", "linear"}, default="slerp"
            ``"linear"`` mixes the codes straight; ``"slerp"`` (spherical)
            follows the arc between them, which keeps the path's norm where
            the N(0, I) prior puts its mass instead of cutting through the
            low-norm centre, so middle points look like real rows.

        Returns
        -------
        DataFrame of shape (n_steps, n_features)
            Decoded rows (deterministic), plus nothing else: row i is at
            ``t = i / (n_steps - 1)``.
        """
        check_is_fitted(self)
        n_steps = _check_n(n_steps, "n_steps")
        if n_steps < 2:
            raise ValueError(f"n_steps must be at least 2, got {n_steps}.")
        if method not in ("slerp", "linear"):
            raise ValueError(f"method must be 'slerp' or 'linear', got {method!r}.")
        za, zb = self.transform(a).mean(0), self.transform(b).mean(0)
        t = np.linspace(0.0, 1.0, n_steps)[:, None]
        Z = _slerp(za, zb, t) if method == "slerp" else (1 - t) * za + t * zb
        Z[0], Z[-1] = za, zb  # exact endpoints, free of rounding in the mixing
        cond = None
        if self.conditional_columns_:  # each point takes the conditions of the nearer endpoint
            ca = self._cond_from_codes(self._encode_input(a)[1])[0]
            cb = self._cond_from_codes(self._encode_input(b)[1])[0]
            cond = np.where(t < 0.5, ca, cb)
        return self._decode_means(Z, cond, np.random.RandomState(0))

    # ------------------------------------------------------------------ likelihood

    def score_samples(self, X, *, n_importance_samples=None) -> np.ndarray:
        """Log-likelihood bound of each row; higher means more typical.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        n_importance_samples : int, optional
            ``None`` (default) returns the evidence lower bound (ELBO), a
            lower bound on log p(x), averaged over 8 latent draws.  An int k
            returns the importance-weighted bound with k draws (IWAE), which
            is tighter and tends to log p(x) as k grows.

        Returns
        -------
        ndarray of shape (n_samples,)
            The bound on log p(x) of each row's encoding (numbers on their
            quantile-normal scale, categories as codes).  The latent draws
            are fixed and shared by all rows, so a row's score does not depend
            on the other rows or on repeated calls.
        """
        check_is_fitted(self)
        cont, codes = self._encode_input(X)
        return self._row_bounds(cont, codes, n_importance_samples)[1]

    def _row_bounds(self, cont, codes, n_importance_samples=None) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension reconstruction NLL (mean over draws) and each row's bound on log p(x).

        The bound is the ELBO over 8 fixed draws, or with ``n_importance_samples=k``
        the importance-weighted bound over k draws (see :meth:`score_samples`).
        """
        iw = n_importance_samples is not None
        k = _check_n(n_importance_samples, "n_importance_samples") if iw else ELBO_DRAWS
        recs, bounds = [], []
        for rec, log_w, kl in self._likelihood_terms(cont, codes, k):
            recs.append(rec.mean(0))
            bounds.append(torch.logsumexp(log_w, 0) - np.log(k) if iw else -(rec.sum(-1).mean(0) + kl))
        as_np = lambda parts: torch.cat(parts).cpu().numpy().astype(np.float64)  # noqa: E731
        return as_np(recs), as_np(bounds)

    @torch.no_grad()
    def _likelihood_terms(self, cont, codes, n_draws: int, batch: int = 8192):
        """Yield (rec, log_w, kl) of :func:`log_likelihood_terms` batch by batch."""
        model = self._float64_model()
        gen = torch.Generator(device=self.device_).manual_seed(0)
        eps = torch.randn((n_draws, self.latent_dim), generator=gen, device=self.device_).double()
        cond = self._cond_from_codes(codes)
        for s in range(0, len(cont), batch):
            c = torch.as_tensor(cont[s:s + batch], dtype=torch.float64, device=self.device_)
            k = torch.as_tensor(codes[s:s + batch], device=self.device_)
            y = None if cond is None else torch.as_tensor(cond[s:s + batch], device=self.device_)
            yield log_likelihood_terms(model, c, k, eps, y)

    def _float64_model(self):
        """A float64 copy of the network for embedding and scoring rows.

        A row's embedding and score must not depend on the other rows of the
        call, and float32 matrix products differ in the last bits with a row's
        position in the batch.  The network is small, so the copy is cheap.
        """
        return copy.deepcopy(self.model_).double().eval()

    def score(self, X, y=None) -> float:
        """Mean ELBO of the rows of ``X``."""
        return float(np.mean(self.score_samples(X)))

    def save(self, path) -> None:
        """Save the fitted model to one file (weights + JSON; no pickle).

        Load it back with :func:`tabvae.load`.  A loaded model samples exactly
        what this one would for the same ``random_state``.
        """
        from .persistence import save

        save(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = False
        return tags


def _check_n(n, name="n_samples") -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}.")
    return int(n)


def _slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation of two vectors (norms interpolated linearly)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    ua, ub = a / max(na, 1e-12), b / max(nb, 1e-12)
    omega = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return direction * ((1 - t) * na + t * nb)


def _torch_generator(rng: np.random.RandomState, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(int(rng.randint(2**31 - 1)))


def _is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


def _column_positions(layout, names) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Order of each continuous dim and categorical part for the autoregressive decoder:
    table column order, a column's categorical parts (e.g. its missing flag) before its value."""
    cont, parts = [0] * layout.n_continuous, [0] * len(layout.cardinalities)
    for i, name in enumerate(names):
        for d in range(layout.continuous[name].start, layout.continuous[name].stop):
            cont[d] = 2 * i + 1
        for d in range(layout.codes[name].start, layout.codes[name].stop):
            parts[d] = 2 * i
    return tuple(cont), tuple(parts)
