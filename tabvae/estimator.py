"""``TabularVAE``: the scikit-learn-style public face of tabvae."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .config import (
    ConfigParamsMixin,
    TrainingConfig,
    check_config,
    check_int,
    check_positive,
    check_seed,
    resolve_auto,
    resolve_early_stopping,
    resolve_epochs,
)
from .constraints import fit_constraints
from .dp import check_privacy, preprocessing_budget, privacy_plan, spent_budget
from .encoders import TableEncoder
from .imputation import ImputationMixin
from .inference import check_latents, latent_path, path_positions, posterior, row_bounds
from .model import VAEConfig, build_vae
from .persistence import read_model_file, write_model_file
from .prior import GaussianMixturePrior
from .sampling import (
    SAMPLE_CHUNK,
    ConditionTable,
    Sampler,
    check_conditional_columns,
    check_n,
    decode,
    draw_conditions,
    torch_generator,
)
from .schema import as_rows, check_dataframe, infer_schema
from .state import fitted_state, parameters, restore_fitted, set_input_features
from .state_check import check_state
from .threads import limit_threads, limit_threads_iter, resolve_threads
from .training import TrainConfig, resolve_device, split_rows, train


class TabularVAE(ImputationMixin, ConfigParamsMixin, TransformerMixin, BaseEstimator):
    """A variational autoencoder that learns a mixed-type table and writes new rows.

    Parameters
    ----------
    latent_dim : int, default=32
        Size of the latent code of a row.
    epochs : int or "auto", default="auto"
        Passes over the data.  ``"auto"``: about 2,000 optimisation steps, 10 to 300 epochs
        (``docs/decisions/epochs-auto.md``); ``early_stopping`` may end the fit sooner.
    batch_size : int, default=500
        Rows per optimisation step.
    kl_weight : float or "auto", default="auto"
        Weight of the KL term (1.0 is the true ELBO: use it with ``prior="standard"`` and for anomaly
        scores); below 1 latent codes keep more of each row.  ``"auto"``: 0.6 with periodic features,
        1.0 with the factorized decoder under 5,000 rows, else 0.75 (value used: ``kl_weight_``;
        ``docs/decisions/kl-weight.md``).
    conditional_columns : list of str, optional
        Categorical or boolean columns the network is conditioned on (a conditional VAE), so that
        ``sample(n, conditions={col: value})`` on them is exact and needs no rejection.
    categorical_columns, numeric_columns : list of str, optional
        Override type inference (e.g. integer-coded categories).  By default integers with at most 20
        distinct values, strings, objects, categories and booleans are categorical.
    clip : bool, default=True
        Keep sampled numbers and datetimes within the training min/max.
    constraints : list of Constraint or dict, optional
        Rules every sampled row obeys (:mod:`tabvae.constraints`): by construction, a ``Predicate`` by rejection.
    early_stopping : bool or "auto", default="auto"
        Hold out ``config.validation_fraction`` of the rows and stop when their loss has not improved for
        ``config.n_iter_no_change`` epochs (best weights kept).  ``"auto"``: on below 5,000 rows, where it
        keeps samples from copying training rows; off under ``dp_epsilon`` (``early-stopping-auto.md``).
    dp_epsilon, dp_delta : float, optional
        Train the network with DP-SGD (``pip install "tabvae[dp]"``) spending at most this (epsilon, delta);
        ``dp_delta=None`` is 1 / (10 n_rows), the prior is N(0, I) and ``epochs="auto"`` about 600 steps.
        What the guarantee covers: ``docs/decisions/differential-privacy.md``.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    n_threads : int or "auto", default="auto"
        torch and BLAS threads while this model fits, samples, transforms or scores (restored after);
        ``"auto"`` is 1 (``docs/decisions/threads.md``).
    verbose : bool, default=False
        Show a progress bar with the epoch and loss.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator, default=None
        Seeds weight initialisation, batching, DP noise and sampling.  The same seed on the same device
        gives the same model and the same samples.
    config : TrainingConfig or dict, optional
        Network and optimisation settings (widths, learning rate, decoder, prior, ...); ``None`` uses
        :class:`TrainingConfig`'s defaults and a dict changes the fields it names.  Its fields are nested
        parameters: ``set_params(config__learning_rate=1e-3)``.

    Attributes
    ----------
    schema_, encoder_, model_, prior_ : Schema, TableEncoder, VAE, GaussianMixturePrior or None
        Column kinds and dtypes, column encoders, the network, the latent sampler.
    conditional_columns_, condition_table_ : list of str, ConditionTable or None
        The conditional columns and their training joint distribution.
    constraints_ : ConstraintSet or None
        The fitted rules; the network models the table they transform.
    numeric_frequencies_, kl_weight_, kl_warmup_, early_stopping_, decoder_ : int, float, float, bool, str
        The values used for the settings of those names ("auto" resolved for this table).
    history_ : dict of list of float
        Per-epoch mean ``loss``, ``reconstruction`` and ``kl`` (and ``val_loss`` with early stopping;
        ``rank_correlation``, one per check, with ``config.stop_when_settled``); empty under DP.
    dp_epsilon_, dp_delta_, dp_noise_multiplier_ : float or None
        The accountant's epsilon spent by the fit, its delta and noise multiplier (None without DP).
    device_, n_features_in_, feature_names_in_ : torch.device, int, ndarray of str
        ``feature_names_in_`` only when fitted on a DataFrame.

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
        latent_dim: int = 32,
        epochs: int | str = "auto",
        batch_size: int = 500,
        kl_weight: float | str = "auto",
        conditional_columns: list[str] | None = None,
        categorical_columns: list[str] | None = None,
        numeric_columns: list[str] | None = None,
        clip: bool = True,
        constraints: list[Any] | None = None,
        early_stopping: bool | str = "auto",
        dp_epsilon: float | None = None,
        dp_delta: float | None = None,
        device: str = "auto",
        n_threads: int | str = "auto",
        verbose: bool = False,
        random_state: int | np.random.RandomState | None = None,
        config: TrainingConfig | dict[str, Any] | None = None,
    ) -> None:
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.kl_weight = kl_weight
        self.conditional_columns = conditional_columns
        self.categorical_columns = categorical_columns
        self.numeric_columns = numeric_columns
        self.clip = clip
        self.constraints = constraints
        self.early_stopping = early_stopping
        self.dp_epsilon, self.dp_delta = dp_epsilon, dp_delta
        self.device = device
        self.n_threads = n_threads
        self.verbose = verbose
        self.random_state = random_state
        self.config = config

    def _validate_params(self) -> TrainingConfig:
        """Check every parameter and the config's fields; returns the config to fit with."""
        check_int("latent_dim", self.latent_dim)
        check_int("batch_size", self.batch_size)
        check_int("epochs", self.epochs, auto=True)
        check_positive("kl_weight", self.kl_weight, auto=True)
        resolve_threads(self.n_threads)
        check_config(cfg := TrainingConfig.coerce(self.config))
        check_privacy(self.dp_epsilon, self.dp_delta, self.early_stopping is True, self.conditional_columns, cfg)
        return cfg

    @limit_threads
    def fit(
        self, X: Any, y: None = None, *, encoder: TableEncoder | None = None, device: str | None = None
    ) -> TabularVAE:
        """Learn the table ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The training table.  Never modified.
        y : None
            Ignored; present for scikit-learn compatibility.
        encoder : TableEncoder, optional
            Column encoders already fitted on ``X`` with this model's settings (see :meth:`fit_encoder`),
            e.g. shared by the ranks of a distributed fit.
        device : str, optional
            Train on this device instead of the ``device`` parameter (left as it is), e.g. each rank's GPU.

        Returns
        -------
        self : TabularVAE
        """
        cfg = self._validate_params()
        user = check_dataframe(X)
        self.constraints_, df = fit_constraints(self.constraints, user)
        dev = resolve_device(self.device if device is None else device)
        rng = check_seed(self.random_state)
        if encoder is None:  # under DP the encoders spend part of the budget, with noise seeded from rng
            encoder = self._encoder_for(df, cfg, preprocessing_budget(self.dp_epsilon, self.dp_delta, len(df), rng))
        cont, codes = encoder.transform(df)
        self.device_, self.schema_, self.encoder_ = dev, encoder.schema, encoder
        set_input_features(self, X, user)
        self.conditional_columns_ = check_conditional_columns(self.conditional_columns, self.schema_)
        cond = self._cond_from_codes(codes)
        self.condition_table_ = None if cond is None else ConditionTable.fit(self.conditional_columns_, cond)
        layout, names = encoder.layout_, self.schema_.names
        self.decoder_, self.numeric_frequencies_, self.kl_weight_, self.kl_warmup_ = resolve_auto(
            cfg, self.kl_weight, layout.n_continuous_columns, len(names), len(df)
        )
        gen = torch_generator(rng, dev)
        ar, cond_cols, freq = self.decoder_ == "autoregressive", self.conditional_columns_, self.numeric_frequencies_
        net = VAEConfig.for_layout(layout, names, self.latent_dim, cfg.hidden_dims, cond_cols, ar, freq)
        self.model_ = build_vae(net, dev, gen)
        private, n_rows = self.dp_epsilon is not None, len(df)
        self.early_stopping_ = resolve_early_stopping(self.early_stopping, n_rows, cfg.validation_fraction, private)
        data, val = split_rows(cont, codes, cond, dev, rng, cfg.validation_fraction if self.early_stopping_ else None)
        dp = privacy_plan(self.dp_epsilon, self.dp_delta, self.epochs, self.batch_size, len(data))  # None: no DP
        n_epochs = resolve_epochs(self.epochs, self.batch_size, len(data)) if dp is None else dp.epochs
        settings = (self.batch_size, self.kl_weight_, self.kl_warmup_, self.early_stopping_, self.verbose, dp)
        self.history_ = train(self.model_, data, TrainConfig.resolved(cfg, n_epochs, *settings), gen, val)
        self.dp_epsilon_, self.dp_delta_, self.dp_noise_multiplier_ = spent_budget(dp)
        self.prior_ = None
        if cfg.prior == "gmm" and dp is None:  # a mixture fitted on the rows' posteriors is not private
            mu, std = posterior(self.model_, cont, codes, cond, dev)
            self.prior_ = GaussianMixturePrior.fit(mu, std, cfg.prior_components, rng.randint(2**31 - 1))
        self.sample_rng_ = np.random.RandomState(rng.randint(2**31 - 1))
        return self

    def fit_encoder(self, X: Any) -> TableEncoder:
        """The column encoders ``fit`` would build for ``X`` (schema inference included), fitted."""
        return self._encoder_for(check_dataframe(X), TrainingConfig.coerce(self.config))

    def _encoder_for(self, df: pd.DataFrame, cfg: TrainingConfig, dp: Any = None) -> TableEncoder:
        schema = infer_schema(df, categorical_columns=self.categorical_columns, numeric_columns=self.numeric_columns)
        return TableEncoder.for_config(schema, cfg, clip=self.clip, dp=dp).fit(df)

    def _cond_from_codes(self, codes: np.ndarray) -> np.ndarray | None:
        starts = [self.encoder_.layout_.codes[c].start for c in self.conditional_columns_]
        return codes[:, starts] if starts else None

    @limit_threads
    def sample(
        self,
        n_samples: int | None = 1,
        *,
        conditions: dict[str, Any] | pd.DataFrame | None = None,
        random_state: int | np.random.RandomState | None = None,
        temperature: float = 1.0,
        max_tries: int = 100,
    ) -> pd.DataFrame:
        """Generate synthetic rows, optionally meeting conditions.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.  With a DataFrame of ``conditions`` it may be
            ``None`` (one row per condition row).  A ValueError refuses a
            number of rows that would not fit in the memory available (stream
            them with :meth:`iter_samples` instead).
        conditions : dict or DataFrame, optional
            Values every row must have: ``{"income": ">50K", "sex": "Female"}``,
            numeric or datetime ranges ``{"age": (30, 40)}`` (inclusive), or a
            DataFrame with one condition row per output row (NaN cells are
            unconstrained).  Columns in ``conditional_columns`` are generated
            by the conditional network; others by rejection, which raises a
            ValueError naming the condition when fewer than ``n_samples`` rows
            meet it within ``max_tries`` draws per requested row.
        random_state : None, int, RandomState or Generator, default=None
            Seed for this call.  ``None`` continues the model's own stream
            (seeded at fit from ``random_state``), so successive calls give
            new rows.
        temperature : float >= 0, default=1.0
            Scales the decoder's noise and softmax temperature; below 1 gives
            more typical rows, 0 gives the decoder's modes.
        max_tries : int >= 1, default=100
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
        return Sampler(self, self._rng(random_state), temperature, max_tries).frame(n_samples, conditions)

    @limit_threads_iter
    def iter_samples(
        self,
        n_samples: int | None,
        *,
        chunk_size: int = SAMPLE_CHUNK,
        conditions: dict[str, Any] | pd.DataFrame | None = None,
        random_state: int | np.random.RandomState | None = None,
        temperature: float = 1.0,
        max_tries: int = 100,
    ) -> Iterator[pd.DataFrame]:
        """Yield ``n_samples`` synthetic rows as DataFrames of at most ``chunk_size`` rows.

        Only one chunk of network outputs is alive at a time, so any number of
        rows can be written with bounded memory.  Arguments as in :meth:`sample`;
        with a DataFrame of ``conditions``, each chunk holds the rows of
        ``chunk_size`` condition rows.  The chunks are drawn one after the other
        from one seeded stream, so the rows depend on ``chunk_size`` as well as
        on the seed: the same seed and ``chunk_size`` give the same rows, and
        ``chunk_size=65536`` (the default) gives the rows of :meth:`sample`.
        """
        check_is_fitted(self)
        sampler = Sampler(self, self._rng(random_state), temperature, max_tries)
        yield from sampler.chunks(n_samples, chunk_size, conditions)

    def _rng(self, random_state: int | np.random.RandomState | None) -> np.random.RandomState:
        return self.sample_rng_ if random_state is None else check_seed(random_state)

    def match_columns(self, X: Any, *, what: str = "X") -> pd.DataFrame:
        """``X`` as a DataFrame of the fitted columns in fit order (see :meth:`Schema.align`)."""
        check_is_fitted(self)
        return self.schema_.align(X, what=what)

    def _encode_input(self, X: Any, *, what: str = "X") -> tuple[np.ndarray, np.ndarray]:
        """Validate ``X`` against the fitted schema and encode it."""
        X = X if self.constraints_ is None else self.constraints_.transform(check_dataframe(X, what=what))
        return self.encoder_.transform_known(self.match_columns(X, what=what), what=what)

    @limit_threads
    def transform(self, X: Any) -> np.ndarray:
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
        return posterior(self.model_, cont, codes, self._cond_from_codes(codes), self.device_)[0]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the latent dimensions: ``z0 ... z{latent_dim-1}``."""
        check_is_fitted(self)
        return np.asarray([f"z{i}" for i in range(self.latent_dim)], dtype=object)

    @limit_threads
    def inverse_transform(self, Z: Any, *, random_state: int | np.random.RandomState | None = None) -> pd.DataFrame:
        """Decode latent codes into rows of the original table.

        Decoding is deterministic: each number is the decoder's mean and each
        category its most probable level.  ``random_state`` only matters for
        levels in the "other" bucket and, for a conditional model, for the
        conditioning values, drawn from their training frequencies.

        Parameters
        ----------
        Z : array-like of shape (n_samples, latent_dim)
        random_state : None, int, RandomState or Generator, default=None (seed 0)

        Returns
        -------
        DataFrame of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        Z = check_latents(Z, self.latent_dim)
        rng = check_seed(0 if random_state is None else random_state)
        return decode(self, Z, draw_conditions(self, len(Z), rng), rng, temperature=0)

    @limit_threads
    def reconstruct(self, X: Any) -> pd.DataFrame:
        """Encode rows to their latent means and decode them back (deterministic)."""
        check_is_fitted(self)
        cont, codes = self._encode_input(X)
        cond = self._cond_from_codes(codes)
        z = posterior(self.model_, cont, codes, cond, self.device_)[0]
        return decode(self, z, cond, np.random.RandomState(0), temperature=0)

    @limit_threads
    def interpolate(
        self, a: pd.DataFrame | pd.Series, b: pd.DataFrame | pd.Series, n_steps: int = 10, *, method: str = "slerp"
    ) -> pd.DataFrame:
        """Decoded rows along a path in latent space from ``a`` to ``b``.

        Parameters
        ----------
        a, b : DataFrame or Series
            One row each (a Series such as ``df.iloc[0]``, or a one-row frame), or groups of rows (the path
            joins their mean latent codes, e.g. "typical >50K" to "typical <=50K").
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
            Decoded rows (deterministic): row i is at ``t = i / (n_steps - 1)``.
        """
        check_is_fitted(self)
        t, a, b = path_positions(n_steps, method), as_rows(a), as_rows(b)
        Z = latent_path(self.transform(a).mean(0), self.transform(b).mean(0), t, method)
        cond = None
        if self.conditional_columns_:  # each point takes the conditions of the nearer endpoint
            ca, cb = (self._cond_from_codes(self._encode_input(x)[1])[0] for x in (a, b))  # type: ignore[index]
            cond = np.where(t < 0.5, ca, cb)
        return decode(self, Z, cond, np.random.RandomState(0), temperature=0)

    def score_samples(self, X: Any, *, n_importance_samples: int | None = None) -> np.ndarray:
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
        return self.likelihood_bounds(cont, codes, n_importance_samples=n_importance_samples)[1]

    @limit_threads
    def likelihood_bounds(
        self, cont: np.ndarray, codes: np.ndarray, *, n_importance_samples: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension reconstruction NLL and each row's bound on log p(x), of encoded rows.

        ``cont`` and ``codes`` are :meth:`TableEncoder.transform`'s blocks (codes of
        unseen levels, -1, score 0).  Returns arrays of shape (n, C + K) and (n,);
        the bound is the one :meth:`score_samples` returns.
        """
        check_is_fitted(self)
        k = None if n_importance_samples is None else check_n(n_importance_samples, "n_importance_samples")
        return row_bounds(self.model_, cont, codes, self._cond_from_codes(codes), self.device_, k)

    def score(self, X: Any, y: None = None) -> float:
        """Mean ELBO of the rows of ``X``."""
        return float(np.mean(self.score_samples(X)))

    def get_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The fitted model as a JSON-safe dict and a dict of tensors (see :meth:`from_state`)."""
        check_is_fitted(self)
        return fitted_state(self)

    @classmethod
    def from_state(cls, state: dict[str, Any], tensors: dict[str, torch.Tensor], *, device: str = "auto") -> TabularVAE:
        """A fitted model from :meth:`get_state`'s output (validated first: ValueError), on ``device``."""
        check_state(state, {k: tuple(v.shape) for k, v in tensors.items()}, cls._get_param_names())
        model = cls(**parameters(state))
        model._validate_params()
        restore_fitted(model, state, tensors, device)
        return model

    def save(self, path: str | os.PathLike) -> None:
        """Save to one file (weights + JSON, no pickle); :func:`tabvae.load` gives back a model that
        samples exactly what this one would for the same ``random_state``."""
        write_model_file(path, *self.get_state())

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = tags.input_tags.string = tags.input_tags.categorical = True
        return tags


def load(path: str | os.PathLike, *, device: str = "auto") -> TabularVAE:
    """Load a model written by :meth:`TabularVAE.save`, its network on ``device`` (a model trained on
    a GPU loads on a CPU).  Raises as :func:`tabvae.persistence.read_model_file`: FileNotFoundError,
    or ValueError for a file that is not a readable tabvae model of a format this version reads."""
    return TabularVAE.from_state(*read_model_file(path), device=device)
