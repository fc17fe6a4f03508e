"""The variational autoencoder: encoder, decoder, per-kind heads, ELBO and priors.

Input rows arrive as two blocks (see :mod:`tabvae.encoders`): ``cont``
(B, C) floats on a standard-normal scale and ``codes`` (B, K) category
indices.  The decoder emits one Gaussian mean per continuous dimension (with
a learned per-dimension standard deviation) and one logit vector per
categorical part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .heads import CategoricalParts, sample_categorical

LOG_2PI = math.log(2 * math.pi)
MIN_LOG_SIGMA = math.log(0.01)  # a floor on the Gaussian heads' std, as in TVAE
# Rows per pass of the decoder's draw on a CPU, whose (rows, width) tensors then stay in cache: 1.45x
# (autoregressive) and 1.8x (factorized) faster than one 65,536-row pass on Adult.  A GPU makes one pass.
CPU_DRAW_ROWS = 8192


@dataclass
class VAEConfig:
    n_continuous: int
    cardinalities: tuple[int, ...]
    latent_dim: int
    hidden_dims: tuple[int, ...]
    cond_cardinalities: tuple[int, ...] = ()  # categories of each conditioning column (conditional VAE)
    # Autoregressive decoder: the position in the column order of each continuous
    # dimension and each categorical part; empty means a factorized decoder.
    cont_positions: tuple[int, ...] = ()
    part_positions: tuple[int, ...] = ()
    # Per continuous dimension, the categorical part whose code 0 means the value is present
    # (-1: always present).  Missing and spike rows then add nothing to the Gaussian likelihood.
    value_gates: tuple[int, ...] = ()
    # Frequencies at which the autoregressive network also sees each continuous input (0: raw values only).
    n_frequencies: int = 0

    @classmethod
    def for_layout(
        cls,
        layout: Any,
        names: list[str],
        latent_dim: int,
        hidden_dims: tuple[int, ...],
        cond_columns: list[str],
        autoregressive: bool,
        n_frequencies: int,
    ) -> VAEConfig:
        """The network for a table encoder's ``layout`` (columns ``names``, conditioned on ``cond_columns``)."""
        order = column_positions(layout, names) if autoregressive else ((), ())
        cond_cards = tuple(layout.cardinalities[layout.codes[c].start] for c in cond_columns)
        return cls(
            layout.n_continuous,
            layout.cardinalities,
            latent_dim,
            tuple(hidden_dims),
            cond_cards,
            cont_positions=order[0],
            part_positions=order[1],
            value_gates=layout.value_gates,
            n_frequencies=n_frequencies,
        )

    @property
    def autoregressive(self) -> bool:
        """Positions were given, and more than one: a single column part has nothing to condition on."""
        return bool(self.cont_positions or self.part_positions) and len(np.unique(self.input_positions)) > 1

    @property
    def input_positions(self) -> np.ndarray:
        """(n_inputs,) position of every input/output unit: continuous dims, then one-hot dims."""
        parts = [np.full(k, p) for k, p in zip(self.cardinalities, self.part_positions)]
        return np.concatenate([np.asarray(self.cont_positions, dtype=np.int64), *parts]).astype(np.int64)

    @property
    def n_conditions(self) -> int:
        return sum(self.cond_cardinalities)

    @property
    def n_inputs(self) -> int:
        return self.n_continuous + sum(self.cardinalities)


def column_positions(layout: Any, names: list[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Order of each continuous dim and categorical part for the autoregressive decoder:
    table column order, a column's categorical parts (e.g. its missing flag) before its value."""
    cont, parts = [0] * layout.n_continuous, [0] * len(layout.cardinalities)
    for i, name in enumerate(names):
        for d in range(layout.continuous[name].start, layout.continuous[name].stop):
            cont[d] = 2 * i + 1
        for d in range(layout.codes[name].start, layout.codes[name].stop):
            parts[d] = 2 * i
    return tuple(cont), tuple(parts)


def mlp(d_in: int, hidden: tuple[int, ...], d_out: int) -> nn.Sequential:
    layers, d = [], d_in
    for h in hidden:
        layers += [nn.Linear(d, h), nn.SiLU()]
        d = h
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


class ColumnAutoregression(nn.Module):
    """Dependence between columns given z: a MADE network (Germain et al., 2015).

    A factorized decoder makes the columns independent given z, so whatever
    dependence z does not carry is lost, and that is most of what a model
    trained on synthetic rows misses.  This network adds to each column's
    decoder output a term that sees z and the *preceding* columns (in table
    order; a column's categorical parts, e.g. its missing flag, precede its
    value), so p(x | z) = prod_j p(x_j | z, x_<j) stays exact to evaluate in
    one pass.  Sampling then goes column by column.  Masks implement the
    order: hidden unit h has a degree d_h, sees inputs at positions <= d_h,
    and feeds outputs at positions > d_h.
    """

    mask_in: torch.Tensor
    mask_out: torch.Tensor
    mask_periodic: torch.Tensor
    frequencies: torch.Tensor

    def __init__(self, cfg: VAEConfig, hidden: int):
        super().__init__()
        self.n_continuous = cfg.n_continuous
        self.n_frequencies = cfg.n_frequencies if cfg.n_continuous else 0
        self.inp = nn.Linear(cfg.n_inputs, hidden, bias=False)
        n_periodic = 2 * self.n_frequencies * cfg.n_continuous
        self.periodic = nn.Linear(n_periodic, hidden, bias=False) if n_periodic else None
        self.lat = nn.Linear(cfg.latent_dim + cfg.n_conditions, hidden)
        self.out = nn.Linear(hidden, cfg.n_inputs, bias=False)
        self.set_order(cfg, "cpu")

    def set_order(self, cfg: VAEConfig, device) -> None:
        """Build the masks on ``device`` (a model built on the meta device rebuilds them)."""
        positions = cfg.input_positions
        levels = np.unique(positions)
        degree = levels[:-1][np.arange(self.inp.out_features) % max(len(levels) - 1, 1)]
        self.by_degree = np.argsort(degree, kind="stable")  # hidden units in the order sampling activates them
        self.sorted_degree = degree[self.by_degree]  # the last position each of them sees
        as_t = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
        self.register_buffer(
            "mask_in", as_t((positions[None, :] <= degree[:, None]).astype(np.float32)), persistent=False
        )
        self.register_buffer(
            "mask_out", as_t((degree[None, :] < positions[:, None]).astype(np.float32)), persistent=False
        )
        if self.periodic is not None:  # a value's features sit at its column's position
            periodic = np.repeat(np.asarray(cfg.cont_positions), 2 * self.n_frequencies)
            self.register_buffer(
                "mask_periodic", as_t((periodic[None, :] <= degree[:, None]).astype(np.float32)), persistent=False
            )
            self.register_buffer(
                "frequencies", as_t(2.0 ** np.arange(-1, self.n_frequencies - 1, dtype=np.float32)), persistent=False
            )

    def periodic_features(self, cont: torch.Tensor) -> torch.Tensor:
        """(B, C) values -> (B, C * 2F) sines and cosines at F frequencies, grouped by dimension.

        A small MLP on a raw number learns smooth functions of it first (spectral
        bias); sharp effects, such as a house price over latitude and longitude,
        need many steps or many units.  Periodic features at frequencies
        0.5, 1, 2, ... (inputs are on a standard-normal scale) give them
        directly (Gorishniy et al., 2022, "On embeddings for numerical features").
        """
        angles = cont[..., None] * self.frequencies  # (B, C, F)
        return torch.cat([angles.sin(), angles.cos()], dim=-1).flatten(1)

    def pre_activation(self, x, zc):
        out = F.linear(x, self.inp.weight * self.mask_in) + self.lat(zc)
        if self.periodic is not None:
            features = self.periodic_features(x[:, : self.n_continuous])
            out = out + F.linear(features, self.periodic.weight * self.mask_periodic)
        return out

    def forward(self, x, zc):
        """(B, n_inputs) output terms for inputs ``x`` (one-hot and continuous) and latents ``zc``."""
        return F.linear(F.silu(self.pre_activation(x, zc)), self.out.weight * self.mask_out)


class VAE(nn.Module):
    """Encoder q(z|x), decoder p(x|z) with Gaussian and categorical heads."""

    value_gates: torch.Tensor | None

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.parts = CategoricalParts(cfg.cardinalities)
        self.cond_parts = CategoricalParts(cfg.cond_cardinalities)
        self.encoder = mlp(cfg.n_inputs + cfg.n_conditions, cfg.hidden_dims, 2 * cfg.latent_dim)
        self.decoder = mlp(cfg.latent_dim + cfg.n_conditions, cfg.hidden_dims[::-1], cfg.n_inputs)
        self.log_sigma = nn.Parameter(torch.zeros(cfg.n_continuous))  # learned per-dim std
        self.ar = ColumnAutoregression(cfg, cfg.hidden_dims[0]) if cfg.autoregressive else None
        self.set_value_gates("cpu")

    def set_value_gates(self, device) -> None:
        gates = self.cfg.value_gates
        value = torch.as_tensor(gates, dtype=torch.long, device=device) if any(g >= 0 for g in gates) else None
        self.register_buffer("value_gates", value, persistent=False)

    def inputs(self, cont: torch.Tensor, codes: torch.Tensor, located=None) -> torch.Tensor:
        """(B, n_inputs) continuous values and one-hot codes (``located``: ``self.parts.locate(codes)``)."""
        return torch.cat([cont, self.parts.one_hot(codes, cont.dtype, located)], dim=1)

    def condition(self, cond: torch.Tensor | None) -> torch.Tensor | None:
        """(B, m) codes of the conditioning columns -> (B, n_conditions) one-hot."""
        return None if cond is None or not self.cfg.n_conditions else self.cond_parts.one_hot(cond)

    def encode(self, cont, codes, cond=None):
        return self._encode(self.inputs(cont, codes), cond)

    def _encode(self, h, cond=None):
        """Posterior mean and log-variance from the (B, n_inputs) one-hot/continuous rows ``h``."""
        if (c := self.condition(cond)) is not None:
            h = torch.cat([h, c.to(h.dtype)], dim=1)
        mu, logvar = self.encoder(h).chunk(2, dim=-1)  # (B, L) each
        # clamp(-12, 8) in one backward op rather than five; the gradient at exactly -12 or 8 is 0, not 1.
        return mu, F.hardtanh(logvar, -12.0, 8.0)

    def latent_input(self, z, cond=None):
        c = self.condition(cond)
        return z if c is None else torch.cat([z, c], dim=1)

    def decode(self, z, cond=None, x=None):
        """Means and logits of p(x | z); an autoregressive decoder needs the rows ``x`` (B, n_inputs)."""
        zc = self.latent_input(z, cond)
        out = self.decoder(zc)
        if self.ar is not None:
            out = out + self.ar(x, zc)
        return out.split([self.cfg.n_continuous, out.shape[1] - self.cfg.n_continuous], dim=1)  # means, logits

    def sigma(self) -> torch.Tensor:
        return self.log_sigma.clamp_min(MIN_LOG_SIGMA).exp()

    def reconstruction_nll(self, cont, codes, mean, logits, located=None) -> torch.Tensor:
        """(B, C + K) per-dimension negative log-likelihood of the data (``located``: as :meth:`inputs`)."""
        log_sigma = self.log_sigma.clamp_min(MIN_LOG_SIGMA)
        gauss = 0.5 * ((cont - mean) / log_sigma.exp()) ** 2 + log_sigma + 0.5 * LOG_2PI
        if self.value_gates is not None:
            # A missing or spike row's placeholder z = 0 is not data: left in, it pulled the
            # learned std of a mostly-spike column towards its floor.
            gated = self.value_gates >= 0
            present = (codes[:, self.value_gates.clamp_min(0)] == 0) | ~gated
            gauss = torch.where(present, gauss, 0.0)
        return torch.cat([gauss, self.parts.nll(logits, codes, located)], dim=1)

    def forward(self, cont, codes, eps, cond=None, located=None):
        """Decoder outputs for rows (B, ...) encoded and reparameterised with noise ``eps`` (B, L)."""
        x = self.inputs(cont, codes, located)  # built once: the encoder and the autoregressive network both read it
        mu, logvar = self._encode(x, cond)
        mean, logits = self.decode(mu + eps * (0.5 * logvar).exp(), cond, x if self.ar is not None else None)
        return mean, logits, mu, logvar

    @torch.no_grad()
    def draw(self, z, generator=None, cond=None, temperature: float = 1.0):
        """Decode latents into sampled (cont, codes) blocks (temperature 0: means and modes).

        On a CPU the rows go through in passes of ``CPU_DRAW_ROWS``, one after the other from
        ``generator``'s stream; on a GPU in one pass.
        """
        plan = None if self.ar is None else self._sampling_plan(self.ar, z.device)

        def one_pass(z, cond):
            if plan is None:
                return self._draw_factorized(z, generator, cond, temperature)
            return self._draw_in_order(plan, z, generator, cond, temperature)

        rows = CPU_DRAW_ROWS
        if z.device.type != "cpu" or len(z) <= rows:
            return one_pass(z, cond)
        passes = [
            one_pass(z[i : i + rows], None if cond is None else cond[i : i + rows]) for i in range(0, len(z), rows)
        ]
        return tuple(torch.cat(blocks) for blocks in zip(*passes))

    def _draw_factorized(self, z, generator, cond, temperature):
        mean, logits = self.decode(z, cond)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device)
        cont = mean + temperature * noise * self.sigma()
        return cont, self.parts.sample(logits, generator, temperature)

    def _draw_in_order(self, plan: SamplingPlan, z, generator, cond, temperature):
        """Sample one position at a time; what was drawn updates the hidden units that see it.

        A hidden unit of degree d sees positions <= d and feeds positions > d, so its
        activation is final once position d is drawn: each unit's SiLU is computed once, and
        a position reads only the units of lower degree (hidden units sorted by degree).
        """
        ar, w_in, w_out, w_per = plan.ar, plan.w_in, plan.w_out, plan.w_per
        zc = self.latent_input(z, cond)
        base = self.decoder(zc)  # (B, n_inputs)
        width = 2 * ar.n_frequencies  # periodic features per continuous dimension
        # (B, H): the pre-activation of x = 0, nothing drawn yet; a final unit's turns into its activation
        h = F.linear(zc, plan.w_lat, plan.b_lat)
        cont = base.new_zeros((len(z), self.cfg.n_continuous))
        codes = torch.zeros((len(z), len(self.cfg.cardinalities)), dtype=torch.long, device=z.device)
        sigma, done = self.sigma(), 0  # done: units whose SiLU is applied
        gates = self.cfg.value_gates  # host ints: no device sync per column
        for (start, stop), ready, conts, parts in plan.steps:
            F.silu(h[:, done:ready], inplace=True)  # the units of degree < this position are final
            done = ready
            out = base[:, start:stop] + h[:, :ready] @ w_out[start:stop, :ready].T  # (B, units here)
            later = h[:, ready:]  # pre-activations of the units that see this position
            for j, u in conts:
                noise = torch.randn(len(z), generator=generator, device=z.device)
                value = out[:, j] + temperature * noise * sigma[u]
                if gates and gates[u] >= 0:
                    # Missing and spike rows were trained with the placeholder 0 here; their gate precedes it.
                    value = torch.where(codes[:, gates[u]] == 0, value, 0.0)
                cont[:, u] = value
                later += value[:, None] * w_in[start + j, ready:]
                if w_per is not None:
                    later += ar.periodic_features(value[:, None]) @ w_per[ready:, u * width : (u + 1) * width].T
            for j, part, k in parts:
                code = sample_categorical(out[:, j : j + k], generator, temperature)
                codes[:, part] = code
                later += w_in[start + j + code, ready:]  # the one-hot input's weights
        return cont, codes

    def _sampling_plan(self, ar: ColumnAutoregression, device) -> SamplingPlan:
        """The masked weights with hidden units sorted by degree, and per position: the span
        [start, stop) of its units, how many hidden units are final there (degree < position),
        [(index in the span, continuous dim)] and [(index in the span, part, k)]."""
        cfg = self.cfg
        n_cont, cards, pos = cfg.n_continuous, cfg.cardinalities, cfg.input_positions
        starts = n_cont + np.concatenate([[0], np.cumsum(cards)[:-1]]).astype(np.int64)
        steps = []
        for level in np.unique(pos):
            units = np.flatnonzero(pos == level)
            start, stop = int(units[0]), int(units[-1]) + 1
            conts = [(int(u) - start, int(u)) for u in units if u < n_cont]
            parts = [(int(starts[p]) - start, p, k) for p, k in enumerate(cards) if cfg.part_positions[p] == level]
            steps.append(((start, stop), int(np.searchsorted(ar.sorted_degree, level)), conts, parts))
        hidden = torch.as_tensor(ar.by_degree, device=device)
        return SamplingPlan(
            ar,
            steps,
            w_in=(ar.inp.weight * ar.mask_in)[hidden].T.contiguous(),  # (n_inputs, H): a code's row is gathered
            w_out=(ar.out.weight * ar.mask_out)[:, hidden],  # (n_inputs, H)
            w_per=None if ar.periodic is None else (ar.periodic.weight * ar.mask_periodic)[hidden],  # (H, C * 2F)
            w_lat=ar.lat.weight[hidden],  # (H, L + conditions)
            b_lat=ar.lat.bias[hidden],  # (H,)
        )


class SamplingPlan(NamedTuple):
    """What :meth:`VAE.draw` reuses across its passes (see :meth:`VAE._sampling_plan`)."""

    ar: ColumnAutoregression
    steps: list
    w_in: torch.Tensor
    w_out: torch.Tensor
    w_per: torch.Tensor | None
    w_lat: torch.Tensor
    b_lat: torch.Tensor


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """(B,) KL(q(z|x) || N(0, I))."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def elbo(model: VAE, cont, codes, eps, kl_weight: float | torch.Tensor = 1.0, cond=None):
    """Per-row negative ELBO terms, with the standard-normal reparameterisation noise ``eps`` (B, L).

    Returns
    -------
    loss : (B,) tensor
        ``reconstruction + kl_weight * kl`` (the negative ELBO when kl_weight=1).
    reconstruction : (B,) tensor
    kl : (B,) tensor
    """
    located = model.parts.locate(codes)  # shared by the one-hot input and the categorical likelihood
    mean, logits, mu, logvar = model(cont, codes, eps, cond, located)
    rec = model.reconstruction_nll(cont, codes, mean, logits, located).sum(-1)
    kl = kl_divergence(mu, logvar)
    return rec + kl_weight * kl, rec, kl


@torch.no_grad()
def log_likelihood_terms(model: VAE, cont, codes, eps: torch.Tensor, cond=None):
    """Per-draw reconstruction NLL and log-weights for fixed standard-normal draws ``eps`` (S, L).

    Every row uses the same S draws, so a row's score does not depend on
    which other rows are in the batch or on their order.

    Returns
    -------
    rec : (S, B, C + K) tensor
        Per-dimension reconstruction NLL of each draw.
    log_w : (S, B) tensor
        log p(x|z) + log p(z) - log q(z|x) of each draw (importance weights).
    kl : (B,) tensor
        Analytic KL(q(z|x) || N(0, I)).
    """
    mu, logvar = model.encode(cont, codes, cond)
    std = (0.5 * logvar).exp()
    located = model.parts.locate(codes)
    x = model.inputs(cont, codes, located) if model.ar is not None else None
    recs, log_ws = [], []
    for e in eps:
        z = mu + std * e
        mean, logits = model.decode(z, cond, x)
        rec = model.reconstruction_nll(cont, codes, mean, logits, located)
        log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
        log_qz = -0.5 * (e.pow(2) + LOG_2PI).sum(-1) - (0.5 * logvar).sum(-1)
        recs.append(rec)
        log_ws.append(-rec.sum(-1) + log_pz - log_qz)
    return torch.stack(recs), torch.stack(log_ws), kl_divergence(mu, logvar)


def init_weights(model: VAE, generator: torch.Generator) -> None:
    """Initialise every Linear from ``generator`` (PyTorch's default scheme), never the global RNG."""
    for m in model.modules():
        if not isinstance(m, nn.Linear):
            continue
        if not m.weight.numel():  # a table of constants has 0 inputs: PyTorch's scheme gives bound 0
            if m.bias is not None:
                nn.init.zeros_(m.bias)  # memory from torch.empty otherwise
            continue
        nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
        if m.bias is not None:
            bound = 1 / math.sqrt(m.in_features)
            nn.init.uniform_(m.bias, -bound, bound, generator=generator)
    with torch.no_grad():
        model.log_sigma.zero_()
        if model.ar is not None:
            model.ar.out.weight.zero_()  # training starts from the factorized decoder


def build_vae(cfg: VAEConfig, device: torch.device, generator: torch.Generator) -> VAE:
    """Build on the meta device so construction draws no global random numbers."""
    with torch.device("meta"):
        model = VAE(cfg)
    # Module.to_empty, but with torch.empty: empty_like of a meta tensor goes through torch._refs,
    # whose first use imports sympy.
    model = model._apply(lambda t: torch.empty(t.shape, dtype=t.dtype, device=device))
    model.parts = CategoricalParts(cfg.cardinalities).to(device)  # buffers are not parameters
    model.cond_parts = CategoricalParts(cfg.cond_cardinalities).to(device)
    model.set_value_gates(device)
    if model.ar is not None:
        model.ar.set_order(cfg, device)
    init_weights(model, generator)
    return model
