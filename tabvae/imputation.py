"""Imputation: fill the missing cells of rows by conditional generation given their observed cells.

The method is importance-weighted pseudo-Gibbs sampling in the fitted VAE
(Rezende et al., 2014; Mattei & Frellsen, 2018 and 2019, "MIWAE").  A row's
missing cells start empty and the steps alternate:

1. propose ``N_PROPOSALS`` latent codes from the encoder's q(z | observed
   cells), the missing cells left out of its input (not marked "missing": a
   code that says "this cell is missing" makes the decoder's other levels of
   it uninformative), with the current code kept as one candidate (iterated
   sampling importance resampling, a valid MCMC move for p(z | observed cells));
2. weight each by p(observed cells, the missing cells hold values | z) p(z) / q(z):
   the likelihood of the *observed* cells only, so the filled cells never vouch
   for themselves, times the probability that the missing cells are not
   "missing" (in a column that had missing values in fit, a z that predicts
   "missing" leaves its other levels untrained); pick one code by its weight;
3. draw the missing cells from the decoder at that code (a missing cell
   always gets a value: the "missing" state is excluded) and put them in the
   row; observed cells never change.

The weights make the choice of z follow p(z | observed cells) rather than the
encoder's guess.  Filled cells never reach the encoder, so z is never chosen
to explain earlier guesses.  With an autoregressive decoder each column's
distribution also sees the preceding columns of the completed row.  An
observed category level never seen in fit is kept; the network reads it as no
information (as when scoring rows).  Columns named in ``conditional_columns``
that are missing are proposed from their training joint distribution along
with z.

``method="sample"`` returns the last step's draw (one draw of
p(missing | observed): the right input for multiple imputation);
``method="mean"`` runs ``N_MEAN_DRAWS`` more steps and returns, per cell, the
average of their draws for numbers and datetimes and their most frequent value
for categories (a best single guess: the Monte Carlo estimate of the
conditional mean or mode).  The choice is recorded in
``docs/decisions/imputation.md``.

With constraints, rows are imputed in the table the network models and turned
back into user rows; only the user's missing cells are taken from them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from .config import check_seed
from .model import LOG_2PI, VAE
from .sampling import check_n, draw_conditions, torch_generator
from .threads import limit_threads

N_PROPOSALS = 16  # latent codes weighed per row and step
N_STEPS = 6  # pseudo-Gibbs steps before the kept draw(s)
N_MEAN_DRAWS = 10  # further steps whose draws method="mean" averages
IMPUTE_BATCH = 4096  # rows imputed at a time
METHODS = ("sample", "mean")


class ImputationMixin:
    """Adds :meth:`impute` to :class:`~tabvae.TabularVAE`."""

    @limit_threads
    def impute(
        self,
        X: Any,
        n_imputations: int = 1,
        *,
        random_state: int | np.random.RandomState | None = None,
        method: str = "sample",
    ) -> pd.DataFrame | list[pd.DataFrame]:
        """Fill the missing cells of ``X`` by conditional generation given each row's observed cells.

        Importance-weighted pseudo-Gibbs sampling in the VAE (see :mod:`tabvae.imputation`).
        A column that had no missing values in fit is imputed like any other.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Rows with the training columns (any order); NaN, None, pd.NA and NaT mark missing cells.
        n_imputations : int, default=1
            Number of completed tables; more than 1 gives independent draws (multiple imputation).
        random_state : None, int, RandomState or Generator, default=None
            Seed for this call; ``None`` continues the model's own stream.
        method : {"sample", "mean"}, default="sample"
            ``"sample"``: each missing cell is a draw from its conditional distribution.
            ``"mean"``: numbers and datetimes get the conditional mean, categories the most likely value.

        Returns
        -------
        DataFrame, or list of ``n_imputations`` DataFrames when it is more than 1
            ``X``'s index, columns and dtypes; observed cells are ``X``'s own.
        """
        check_is_fitted(self)
        return impute(self, X, n_imputations, random_state, method)


def impute(vae: Any, X: Any, n_imputations: object, random_state: Any, method: str) -> Any:
    """:meth:`ImputationMixin.impute` of the fitted model ``vae``."""
    m = check_n(n_imputations, "n_imputations")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    rng = vae.sample_rng_ if random_state is None else check_seed(random_state)
    user = vae.match_columns(X)
    base = X if isinstance(X, pd.DataFrame) else user
    modelled = user if vae.constraints_ is None else vae.constraints_.transform(user)
    rows = np.flatnonzero(user.isna().to_numpy().any(1) | modelled.isna().to_numpy().any(1))
    if not len(rows):
        return base.copy() if m == 1 else [base.copy() for _ in range(m)]
    sub = modelled.iloc[np.tile(rows, m)].reset_index(drop=True)
    filled = Imputer(vae, rng, method).rows(sub)
    frames = [fill(base, rows, filled.iloc[j * len(rows) : (j + 1) * len(rows)]) for j in range(m)]
    return frames[0] if m == 1 else frames


def fill(base: pd.DataFrame, rows: np.ndarray, imputed: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``base`` whose missing cells in ``rows`` (positions) take ``imputed``'s values."""
    out = base.copy()
    for col in base.columns:
        missing = base[col].iloc[rows].isna().to_numpy()
        if missing.any():
            out[col] = fill_column(base[col], rows[missing], imputed[col].iloc[np.flatnonzero(missing)])
    return out


def fill_column(column: pd.Series, positions: np.ndarray, values: pd.Series) -> pd.Series:
    """``column`` with ``values`` at ``positions``, in the column's dtype where it can hold them.

    A column missing everywhere takes the values' (training) dtype; one that cannot hold them
    (a category never seen in ``column``'s categories) becomes ``object``.
    """
    if column.isna().all() and len(positions) == len(column):
        return pd.Series(values.to_numpy(), index=column.index, name=column.name, dtype=values.dtype)
    out = column.copy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)  # pandas 2's upcast on an incompatible value
            out.iloc[positions] = values.to_numpy()
    except (TypeError, ValueError, FutureWarning):
        out = column.astype(object)
        out.iloc[positions] = values.to_numpy(dtype=object)
    return out


@dataclass
class Cells:
    """A batch of encoded rows on the device and which of their dimensions are missing."""

    cont: torch.Tensor  # (B, C) float
    codes: torch.Tensor  # (B, K) long
    cont_free: torch.Tensor  # (B, C) bool: a missing cell
    code_free: torch.Tensor  # (B, K) bool

    def observed(self) -> torch.Tensor:
        """(B, C + K) 1.0 where a dimension is observed."""
        return torch.cat([~self.cont_free, ~self.code_free], dim=1).float()


class Imputer:
    """The pseudo-Gibbs sampler of one call: the fitted model, its random streams and the method."""

    def __init__(self, vae: Any, rng: np.random.RandomState, method: str):
        self.vae, self.rng, self.method = vae, rng, method
        self.model: VAE = vae.model_
        self.generator = torch_generator(rng, vae.device_)
        layout = vae.encoder_.layout_
        self.cond_parts = [layout.codes[c].start for c in vae.conditional_columns_]
        self.gates = [(u, g) for u, g in enumerate(layout.value_gates) if g >= 0]
        offsets = np.concatenate([[0], np.cumsum(layout.cardinalities)[:-1]]).astype(np.int64)
        # (part, its logits' slice, the flat index of its "missing" code) of the columns with missing values in fit
        self.missing = []
        for name, code in missing_codes(vae.encoder_).items():
            part = layout.codes[name].start
            start = int(offsets[part])
            self.missing.append((part, slice(start, start + layout.cardinalities[part]), start + code))
        self.forbidden = [index for _, _, index in self.missing]

    def rows(self, modelled: pd.DataFrame) -> pd.DataFrame:
        """User rows of the modelled rows ``modelled`` (index 0..n-1), their missing cells imputed."""
        parts = [self.batch(modelled.iloc[s : s + IMPUTE_BATCH]) for s in range(0, len(modelled), IMPUTE_BATCH)]
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def batch(self, modelled: pd.DataFrame) -> pd.DataFrame:
        """Imputed user rows of one batch: the last step's draw, or the average of the last steps' draws."""
        self.model.eval()
        cells = self.encode(modelled)
        empty = (cells.cont.clone(), cells.codes.clone())  # what the encoder sees at every step
        n_kept = 1 if self.method == "sample" else N_MEAN_DRAWS
        z = cond = None
        draws = []
        with torch.no_grad():
            for step in range(N_STEPS + n_kept):
                z, cond, mean, logits = self.choose(cells, self.propose(cells, empty, z, cond))
                self.update(cells, mean, logits, cond)
                if step >= N_STEPS:
                    draws.append(self.decode(cells))
        if n_kept == 1:
            return draws[0]
        return pd.DataFrame({c: average_column([d[c] for d in draws]) for c in draws[0].columns})

    def encode(self, modelled: pd.DataFrame) -> Cells:
        """The rows' blocks with missing cells emptied (an observed level never seen in fit stays code -1,
        which the network reads as no information)."""
        enc, layout = self.vae.encoder_, self.vae.encoder_.layout_
        cont, codes = enc.transform(modelled.reset_index(drop=True))
        missing = modelled.isna().to_numpy()
        cont_free, code_free = np.zeros(cont.shape, bool), np.zeros(codes.shape, bool)
        for name in enc.schema.names:
            cont_free[:, layout.continuous[name]] = missing[:, modelled.columns.get_loc(name), None]
            code_free[:, layout.codes[name]] = missing[:, modelled.columns.get_loc(name), None]
        dev = self.vae.device_
        return Cells(
            torch.as_tensor(np.where(cont_free, 0.0, cont), dtype=torch.float32, device=dev),
            torch.as_tensor(np.where(code_free, -1, codes), device=dev),
            torch.as_tensor(cont_free, device=dev),
            torch.as_tensor(code_free, device=dev),
        )

    def conditions(self, cells: Cells) -> torch.Tensor | None:
        """Conditional columns' codes: the row's own, missing ones drawn from their training joint."""
        if not self.cond_parts:
            return None
        own, free = cells.codes[:, self.cond_parts], cells.code_free[:, self.cond_parts]
        if not free.any():
            return own
        drawn = torch.as_tensor(draw_conditions(self.vae, len(own), self.rng), device=own.device)
        return torch.where(free, drawn, own)

    def propose(
        self, cells: Cells, empty: tuple[torch.Tensor, torch.Tensor], z_prev: torch.Tensor | None, cond_prev: Any
    ) -> tuple:
        """``N_PROPOSALS`` candidate (z, cond) per row with their log-weights and decoder outputs.

        Candidates come from q(z | observed cells), the encoder reading the ``empty`` blocks (missing
        cells left out), the current (``z_prev``, ``cond_prev``) being the first when given.  The
        likelihood of the observed cells reads the completed row ``cells`` (an autoregressive decoder
        conditions on it).  Each is stacked along a first axis of size S.
        """
        model, obs = self.model, cells.observed()
        x = model.inputs(cells.cont, cells.codes)
        out: list[list[torch.Tensor]] = [[], [], [], [], []]
        for k in range(N_PROPOSALS):
            keep = z_prev is not None and k == 0
            cond = cond_prev if keep else self.conditions(cells)
            mu, logvar = model.encode(empty[0], self.with_codes(empty[1], cond), cond)
            noise = torch.randn(mu.shape, generator=self.generator, device=mu.device)
            z = z_prev if keep else mu + (0.5 * logvar).exp() * noise
            assert z is not None
            mean, logits = model.decode(z, cond, x if model.ar is not None else None)
            nll = model.reconstruction_nll(cells.cont, self.with_conditions(cells, cond), mean, logits)
            log_q = -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + LOG_2PI).sum(-1)
            log_p = -0.5 * (z**2 + LOG_2PI).sum(-1)
            log_w = -(nll * obs).sum(-1) + self.log_value_probability(cells, logits) + log_p - log_q
            for store, value in zip(out, (z, cond if cond is not None else z[:, :0], mean, logits, log_w)):
                store.append(value)
        return tuple(torch.stack(s) for s in out)

    def log_value_probability(self, cells: Cells, logits: torch.Tensor) -> torch.Tensor:
        """(B,) log P(every missing cell holds a value | z): what imputation conditions on.

        Where the decoder says a cell is likely missing, its other levels were never trained to mean
        anything, so such codes must lose weight rather than have their "missing" level struck out.
        """
        out = logits.new_zeros(len(logits))
        for part, sl, index in self.missing:
            values = logits[:, sl].clone()
            values[:, index - sl.start] = -torch.inf
            log_p = torch.logsumexp(values, -1) - torch.logsumexp(logits[:, sl], -1)
            out = out + torch.where(cells.code_free[:, part], log_p, 0.0)
        return out

    def with_conditions(self, cells: Cells, cond: torch.Tensor | None) -> torch.Tensor:
        """The rows' codes block with the conditional columns' parts set to ``cond``."""
        return self.with_codes(cells.codes, cond)

    def with_codes(self, codes: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        """``codes`` with the conditional columns' parts set to ``cond``."""
        if cond is None:
            return codes
        codes = codes.clone()
        codes[:, self.cond_parts] = cond
        return codes

    def choose(self, cells: Cells, proposals: tuple) -> tuple:
        """One candidate per row, drawn with probability proportional to its weight (Gumbel-max)."""
        z, cond, mean, logits, log_w = proposals
        u = torch.rand(log_w.shape, generator=self.generator, device=log_w.device).clamp_(1e-10, 1 - 1e-10)
        pick = (log_w - torch.log(-torch.log(u))).argmax(0)
        rows = torch.arange(log_w.shape[1], device=log_w.device)
        chosen_cond = cond[pick, rows] if self.cond_parts else None
        return z[pick, rows], chosen_cond, mean[pick, rows], logits[pick, rows]

    def draw(self, cells: Cells, mean: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Blocks with the missing cells drawn from the decoder's outputs (never the "missing" state)."""
        model = self.model
        logits = logits.clone()
        logits[:, self.forbidden] = -torch.inf
        noise = torch.randn(mean.shape, generator=self.generator, device=mean.device)
        codes = torch.where(cells.code_free, model.parts.sample(logits, self.generator), cells.codes)
        cont = torch.where(cells.cont_free, mean + noise * model.sigma(), cells.cont)
        for u, g in self.gates:  # a spike row keeps the placeholder 0 the network was trained with
            cont[:, u] = torch.where(codes[:, g] == 0, cont[:, u], 0.0)
        return cont, codes

    def update(self, cells: Cells, mean: torch.Tensor, logits: torch.Tensor, cond: torch.Tensor | None) -> None:
        cells.cont, cells.codes = self.draw(cells, mean, logits)
        cells.codes = self.with_conditions(cells, cond)

    def decode(self, cells: Cells) -> pd.DataFrame:
        """User rows of the blocks."""
        rows = self.vae.encoder_.inverse_transform(cells.cont.cpu().numpy(), cells.codes.cpu().numpy(), self.rng)
        return rows if self.vae.constraints_ is None else self.vae.constraints_.inverse_transform(rows)


def average_column(draws: list[pd.Series]) -> pd.Series:
    """Row-wise mean of numeric or datetime ``draws`` (rounded for integers), else their most frequent value."""
    first = draws[0]
    weights = np.full((len(first), len(draws)), 1 / len(draws))
    if pd.api.types.is_datetime64_any_dtype(first.dtype):
        tz = getattr(first.dtype, "tz", None)
        naive = [d if tz is None else d.dt.tz_convert("UTC").dt.tz_localize(None) for d in draws]
        ns = np.stack([d.to_numpy("datetime64[ns]").view(np.int64) for d in naive], 1)
        valid = ~np.stack([d.isna().to_numpy() for d in draws], 1)
        mean = (np.where(valid, ns, 0) * weights).sum(1) / np.maximum((weights * valid).sum(1), 1e-300)
        utc = pd.Series(pd.to_datetime(np.round(mean).astype(np.int64), unit="ns"))
        return (utc if tz is None else utc.dt.tz_localize("UTC").dt.tz_convert(tz)).astype(first.dtype)
    if pd.api.types.is_numeric_dtype(first.dtype) and not pd.api.types.is_bool_dtype(first.dtype):
        values = np.stack([d.to_numpy(dtype=np.float64, na_value=np.nan) for d in draws], 1)
        valid = ~np.isnan(values)
        mean = (np.where(valid, values, 0.0) * weights).sum(1) / np.maximum((weights * valid).sum(1), 1e-300)
        mean = np.where(valid.any(1), mean, np.nan)
        if pd.api.types.is_integer_dtype(first.dtype):
            return pd.Series(np.round(mean), dtype="float64").astype(first.dtype)
        return pd.Series(mean).astype(first.dtype)
    stacked = pd.concat(draws, ignore_index=True)
    codes, uniques = pd.factorize(stacked.astype(object), use_na_sentinel=False)
    n = len(first)
    votes = np.zeros((n, len(uniques)))
    np.add.at(votes, (np.tile(np.arange(n), len(draws)), codes), weights.T.ravel())
    where = np.zeros(len(uniques), np.int64)  # a position in ``stacked`` holding each value
    where[codes] = np.arange(len(codes))
    return stacked.iloc[where[votes.argmax(1)]].reset_index(drop=True)


def missing_codes(encoder: Any) -> dict[str, int]:
    """Per column that had missing values in fit, the code its first categorical part gives them."""
    return {
        name: encoder[name].code_of(None)
        for name in encoder.schema.names
        if getattr(encoder[name], "has_missing_", False) and encoder[name].cardinalities
    }
