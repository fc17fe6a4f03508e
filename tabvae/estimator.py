"""``TabularVAE``: the scikit-learn-style public face of tabvae."""

from __future__ import annotations

import numbers
from typing import Iterator

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .encoders import TableEncoder
from .encoders.categorical import MAX_CATEGORIES
from .model import GaussianMixturePrior, VAEConfig, build_vae, log_likelihood_terms
from .schema import check_dataframe, infer_schema
from .training import Data, TrainConfig, resolve_device, train

AUTO_STEPS = 3_000  # optimisation steps that epochs="auto" aims for
SAMPLE_CHUNK = 65_536  # rows decoded at a time: bounds memory when sampling millions


class TabularVAE(TransformerMixin, BaseEstimator):
    """A variational autoencoder that learns a mixed-type table and writes new rows.

    Parameters
    ----------
    latent_dim : int, default=32
        Size of the latent code of a row.
    hidden_dims : tuple of int, default=(256, 256)
        Widths of the encoder's hidden layers (the decoder mirrors them).
    epochs : int or "auto", default="auto"
        Passes over the training data.  ``"auto"`` gives about 3,000
        optimisation steps (at least 10 and at most 300 epochs): 58 epochs on
        Adult's 26k rows, 300 on a 1,500-row table, 10 on a million rows.
    batch_size : int, default=500
        Rows per optimisation step.
    learning_rate : float, default=1e-3
        Adam's step size.
    weight_decay : float, default=1e-5
        Adam's L2 penalty.
    kl_weight : float, default=1.0
        Weight of the KL term of the ELBO (1.0 is the true ELBO; smaller
        values trade a smoother latent space for sharper reconstructions).
    prior : {"standard", "gmm"}, default="standard"
        Where ``sample`` draws latent codes: ``"standard"`` is the N(0, I)
        prior of the ELBO; ``"gmm"`` is a Gaussian mixture fitted after
        training to the latent codes of the training rows, which puts samples
        where data actually lies in latent space.
    prior_components : int, default=32
        Components of the ``"gmm"`` prior.
    categorical_columns, numeric_columns : list of str, optional
        Override type inference for these columns (e.g. integer-coded
        categories).  By default integers with at most 20 distinct values,
        strings, objects, categories and booleans are categorical.
    max_categories : int, default=256
        Most categories the network sees per column; rarer levels share an
        "other" code and are drawn from their empirical frequencies.
    clip : bool, default=True
        Keep sampled numbers and datetimes within the training min/max.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when their loss
        has not improved for ``n_iter_no_change`` epochs (best weights kept).
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
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
        hidden_dims=(256, 256),
        epochs="auto",
        batch_size=500,
        learning_rate=1e-3,
        weight_decay=1e-5,
        kl_weight=1.0,
        prior="standard",
        prior_components=32,
        categorical_columns=None,
        numeric_columns=None,
        max_categories=MAX_CATEGORIES,
        clip=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        device="auto",
        verbose=False,
        random_state=None,
    ):
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.kl_weight = kl_weight
        self.prior = prior
        self.prior_components = prior_components
        self.categorical_columns = categorical_columns
        self.numeric_columns = numeric_columns
        self.max_categories = max_categories
        self.clip = clip
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ fit

    def _validate_params(self) -> None:
        def positive_int(name):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}.")

        def positive_float(name):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or isinstance(v, bool) or not v > 0:
                raise ValueError(f"{name} must be a positive number, got {v!r}.")

        for name in ("latent_dim", "batch_size", "prior_components", "n_iter_no_change"):
            positive_int(name)
        if self.epochs != "auto":
            positive_int("epochs")
        for name in ("learning_rate", "kl_weight"):
            positive_float(name)
        if not isinstance(self.max_categories, numbers.Integral) or self.max_categories < 2:
            raise ValueError(f"max_categories must be an int >= 2, got {self.max_categories!r}.")
        if not isinstance(self.weight_decay, numbers.Real) or self.weight_decay < 0:
            raise ValueError(f"weight_decay must be a number >= 0, got {self.weight_decay!r}.")
        dims = self.hidden_dims
        if not (isinstance(dims, (tuple, list)) and len(dims) >= 1
                and all(isinstance(d, numbers.Integral) and d >= 1 for d in dims)):
            raise ValueError(f"hidden_dims must be a non-empty tuple of positive ints, got {dims!r}.")
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
        self._validate_params()
        df = check_dataframe(X)
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        schema = infer_schema(df, categorical_columns=self.categorical_columns,
                              numeric_columns=self.numeric_columns)
        encoder = TableEncoder(schema, max_categories=self.max_categories, clip=self.clip).fit(df)
        cont, codes = encoder.transform(df)

        self.device_ = device
        self.schema_ = schema
        self.encoder_ = encoder
        self.n_features_in_ = df.shape[1]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(df.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

        gen = _torch_generator(rng, device)
        cfg = VAEConfig(encoder.layout_.n_continuous, encoder.layout_.cardinalities,
                        self.latent_dim, tuple(self.hidden_dims))
        self.model_ = build_vae(cfg, device, gen)
        train_idx, val_idx = self._split(len(df), rng)
        data = Data(cont[train_idx], codes[train_idx], device)
        val = Data(cont[val_idx], codes[val_idx], device) if val_idx is not None else None
        tcfg = TrainConfig(
            epochs=self._n_epochs(len(train_idx)), batch_size=self.batch_size, learning_rate=self.learning_rate,
            weight_decay=self.weight_decay, kl_weight=self.kl_weight,
            n_iter_no_change=self.n_iter_no_change if self.early_stopping else None,
            verbose=self.verbose,
        )
        self.history_ = train(self.model_, data, tcfg, gen, val)
        self.prior_ = None
        if self.prior == "gmm":
            latents = self._latent_means(cont, codes)
            self.prior_ = GaussianMixturePrior.fit(latents, self.prior_components, rng.randint(2**31 - 1))
        self._sample_rng = np.random.RandomState(rng.randint(2**31 - 1))
        return self

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

    def sample(self, n_samples=1, *, random_state=None, temperature=1.0) -> pd.DataFrame:
        """Generate synthetic rows.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.
        random_state : None, int or RandomState, default=None
            Seed for this call.  ``None`` continues the model's own stream
            (seeded at fit from ``random_state``), so successive calls give
            new rows.
        temperature : float, default=1.0
            Scales the decoder's noise and softmax temperature; below 1 gives
            more typical rows, 0 gives the decoder's modes.

        Returns
        -------
        DataFrame of shape (n_samples, n_features)
            Same columns, order and dtypes as the training data.
        """
        n_samples = _check_n(n_samples)
        chunks = list(self.iter_samples(n_samples, random_state=random_state, temperature=temperature))
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]

    def iter_samples(self, n_samples, *, chunk_size=SAMPLE_CHUNK, random_state=None, temperature=1.0
                     ) -> Iterator[pd.DataFrame]:
        """Yield ``n_samples`` synthetic rows as DataFrames of at most ``chunk_size`` rows.

        Only one chunk of network outputs is alive at a time, so any number of
        rows can be written with bounded memory.
        """
        check_is_fitted(self)
        n_samples = _check_n(n_samples)
        chunk_size = _check_n(chunk_size, "chunk_size")
        rng = self._sample_rng if random_state is None else check_random_state(random_state)
        gen = _torch_generator(rng, self.device_)
        for start in range(0, n_samples, chunk_size):
            n = min(chunk_size, n_samples - start)
            z = self._draw_latents(n, rng)
            yield self._decode(z, rng, gen, temperature)

    def _draw_latents(self, n: int, rng: np.random.RandomState) -> np.ndarray:
        if self.prior_ is not None:
            return self.prior_.sample(n, rng)
        return rng.standard_normal((n, self.latent_dim))

    @torch.no_grad()
    def _decode(self, z: np.ndarray, rng, gen, temperature: float = 1.0) -> pd.DataFrame:
        self.model_.eval()
        zt = torch.as_tensor(z, dtype=torch.float32, device=self.device_)
        cont, codes = self.model_.draw(zt, gen, temperature=temperature)
        return self._to_frame(cont, codes, rng)

    def _to_frame(self, cont: torch.Tensor, codes: torch.Tensor, rng) -> pd.DataFrame:
        return self.encoder_.inverse_transform(cont.cpu().numpy(), codes.cpu().numpy(), rng)

    # ------------------------------------------------------------------ latent space

    def _encode_input(self, X, *, what="X") -> tuple[np.ndarray, np.ndarray]:
        """Validate ``X`` against the fitted schema and encode it."""
        df = self._align(X, what)
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

    @torch.no_grad()
    def _latent_means(self, cont: np.ndarray, codes: np.ndarray, batch=SAMPLE_CHUNK) -> np.ndarray:
        self.model_.eval()
        out = []
        for s in range(0, len(cont), batch):
            c = torch.as_tensor(cont[s:s + batch], dtype=torch.float32, device=self.device_)
            k = torch.as_tensor(codes[s:s + batch], device=self.device_)
            out.append(self.model_.encode(c, k)[0].cpu().numpy())
        return np.concatenate(out).astype(np.float64)

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
        return self._latent_means(*self._encode_input(X))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the latent dimensions: ``z0 ... z{latent_dim-1}``."""
        check_is_fitted(self)
        return np.asarray([f"z{i}" for i in range(self.latent_dim)], dtype=object)

    @torch.no_grad()
    def inverse_transform(self, Z, *, random_state=None) -> pd.DataFrame:
        """Decode latent codes into rows of the original table.

        Decoding is deterministic: each number is the decoder's mean and each
        category its most probable level (``random_state`` only matters for
        levels in the "other" bucket).

        Parameters
        ----------
        Z : array-like of shape (n_samples, latent_dim)

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
        self.model_.eval()
        zt = torch.as_tensor(Z, dtype=torch.float32, device=self.device_)
        mean, logits = self.model_.decode(zt)
        codes = self.model_.parts.sample(logits, None, temperature=0)
        return self._to_frame(mean, codes, rng)

    def reconstruct(self, X) -> pd.DataFrame:
        """Encode then decode rows (``inverse_transform(transform(X))``)."""
        return self.inverse_transform(self.transform(X))

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
        k = 8 if n_importance_samples is None else _check_n(n_importance_samples, "n_importance_samples")
        cont, codes = self._encode_input(X)
        out = []
        for rec, log_w, kl in self._likelihood_terms(cont, codes, k):
            if n_importance_samples is None:
                out.append(-(rec.sum(-1).mean(0) + kl))
            else:
                out.append(torch.logsumexp(log_w, 0) - np.log(k))
        return torch.cat(out).cpu().numpy().astype(np.float64)

    @torch.no_grad()
    def _likelihood_terms(self, cont, codes, n_draws: int, batch: int = 8192):
        """Yield (rec, log_w, kl) of :func:`log_likelihood_terms` batch by batch."""
        self.model_.eval()
        gen = torch.Generator(device=self.device_).manual_seed(0)
        eps = torch.randn((n_draws, self.latent_dim), generator=gen, device=self.device_)
        for s in range(0, len(cont), batch):
            c = torch.as_tensor(cont[s:s + batch], dtype=torch.float32, device=self.device_)
            k = torch.as_tensor(codes[s:s + batch], device=self.device_)
            yield log_likelihood_terms(self.model_, c, k, eps)

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


def _torch_generator(rng: np.random.RandomState, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(int(rng.randint(2**31 - 1)))
