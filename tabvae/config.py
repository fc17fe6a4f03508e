"""``TrainingConfig``: the network and training settings of a :class:`~tabvae.TabularVAE`, in one place.

The estimator's own parameters are the ones most users set (size of the
latent code, epochs, which columns are what); everything else lives here, with
the one set of defaults tabvae uses.  The checks of every parameter, the
estimator's and the config's, are the functions at the end of this module.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from sklearn.utils import check_random_state

AUTO: Final = "auto"
AUTO_STEPS = 2_000  # optimisation steps that epochs="auto" aims for (docs/decisions/epochs-auto.md)
# early_stopping="auto" holds out rows and stops early on tables smaller than this
# (docs/decisions/early-stopping-auto.md)
AUTO_EARLY_STOPPING_ROWS = 5_000
# numeric_frequencies="auto": periodic features for tables that are mostly continuous numbers and have
# enough rows for the sharper network (docs/decisions/periodic-features.md)
AUTO_FREQUENCIES = 6
AUTO_FREQUENCIES_MIN_SHARE = 0.8  # of the columns, modelled as continuous values
AUTO_FREQUENCIES_MIN_ROWS = 5_000
# decoder="auto": the factorized decoder on tables smaller than this, where the autoregressive one
# learns the training rows (docs/decisions/decoder-auto.md)
AUTO_AUTOREGRESSIVE_ROWS = 5_000
RARE_REPLACEMENTS = ("frequent", "placeholder")  # what a protected category becomes


@dataclass
class TrainingConfig:
    """Network and optimisation settings of a :class:`~tabvae.TabularVAE`.

    Pass it as ``TabularVAE(config=TrainingConfig(...))`` or as a dict of the
    fields to change.  scikit-learn sees the fields as nested parameters:
    ``get_params()`` lists ``config__learning_rate`` and so on, and
    ``set_params(config__learning_rate=1e-3)``, ``clone`` and grid searches
    work on them.  Values are checked at ``fit``.

    Parameters
    ----------
    hidden_dims : tuple of int, default=(96, 96)
        Widths of the encoder's hidden layers (the decoder mirrors them; the
        autoregressive network has ``hidden_dims[0]`` units).  See
        ``docs/decisions/network-size.md``.
    learning_rate : float, default=2e-3
        Adam's step size (``docs/decisions/learning-rate.md``).
    weight_decay : float, default=1e-5
        Adam's L2 penalty.
    ema_decay : float in [0, 1), default=0.995
        The fitted weights are an exponential moving average of the
        optimiser's iterates with this decay (0 keeps the last iterate).  With
        early stopping it is the average that is validated and kept
        (``docs/decisions/weight-averaging.md``).
    kl_warmup : float in [0, 1) or "auto", default="auto"
        Share of the training epochs over which the KL weight rises linearly
        from 0 to ``kl_weight`` (KL annealing).  0 trains at ``kl_weight``
        from the start.  ``"auto"``: 0.25 when periodic features are in use,
        else 0 (value used: ``kl_warmup_``; ``docs/decisions/kl-weight.md``).
    prior : {"gmm", "standard"}, default="gmm"
        Where ``sample`` draws latent codes.  ``"gmm"``: a Gaussian mixture
        fitted after training to draws from the training rows' posteriors on
        the latent dimensions the model uses (the others stay N(0, 1)), so
        samples come from where the data lives in latent space.
        ``"standard"``: the N(0, I) prior of the ELBO.  Training, ``transform``
        and ``score_samples`` use N(0, I) either way
        (``docs/decisions/gmm-prior.md``).
    prior_components : int, default=32
        Components of the ``"gmm"`` prior.
    decoder : {"auto", "autoregressive", "factorized"}, default="auto"
        ``"autoregressive"``: each column's distribution depends on the
        latent code and on the columns before it in table order (a masked,
        MADE-style network); sampling decodes column by column.
        ``"factorized"``: columns are independent given the latent code; the
        fastest sampling of very wide tables
        (``docs/decisions/autoregressive-decoder.md``).  ``"auto"``:
        autoregressive on tables of 5,000 rows or more, factorized on smaller
        ones, where the autoregressive network learns the training rows
        themselves (value used: ``decoder_``;
        ``docs/decisions/decoder-auto.md``).
    numeric_frequencies : int in [0, 16] or "auto", default="auto"
        With the autoregressive decoder, also feed each numeric value to the
        masked network as sines and cosines at this many frequencies (0.5, 1,
        2, ... on the value's standard-normal scale; 0: the raw value only).
        ``"auto"``: 6 when at least 80 % of the columns are modelled as
        continuous values and the table has at least 5,000 rows, else 0
        (value used: ``numeric_frequencies_``;
        ``docs/decisions/periodic-features.md``).
    max_categories : int, default=256
        Most categories the network sees per column; rarer levels share an
        "other" code and are drawn from their empirical frequencies
        (``docs/decisions/rare-categories.md``).
    discrete_levels : int, default=128
        A numeric or integer column with at most this many distinct values,
        each seen at least 10 times on average, that fill less than a quarter
        of the grid of their smallest gap is modelled as one code per
        observed value, so its exact values come back.  0 turns this off
        (``docs/decisions/sparse-grid-codes.md``).
    validation_fraction : float in (0, 1), default=0.1
        Share of the rows held out with ``early_stopping``.
    n_iter_no_change : int, default=10
        Epochs without improvement of the held-out loss before
        ``early_stopping`` stops.
    stop_when_settled : bool, default=False
        Stop once training no longer changes which rows the model finds
        likely: every ``SETTLE_EVERY`` (25) epochs after the KL warm-up, each
        training row's negative ELBO at its posterior mean is computed, and
        the fit ends when their ranking correlates at least ``SETTLED``
        (0.999, Spearman) with the previous check's.  For models fitted to
        score rows; the anomaly detector's template sets it
        (``docs/decisions/anomaly-detector.md``).
    robust_ramp : (float, float) or None, default=None
        ``(low, high)``: in each batch, a row whose negative ELBO lies more
        than ``low`` robust standard deviations (1.4826 x MAD) above the
        batch's median counts less in the gradient, linearly down to nothing
        at ``high``; the weights are rescaled to average 1.  Rows the model
        finds very unlikely, such as a cluster of anomalies among the
        training rows, then pull less on what it learns.  The reported
        losses are unweighted.  Not with differential privacy.  The anomaly
        detector's template sets ``(2, 4)``
        (``docs/decisions/anomaly-detector.md``).
    precision : {"fp32", "bf16"}, default="fp32"
        ``"bf16"`` trains under bfloat16 autocast (mixed precision); losses
        and weights stay fp32.
    compile : bool, default=False
        Wrap the training objective in ``torch.compile`` (a one-off compile
        time).
    cuda_graph : bool, default=True
        On a CUDA GPU, capture the whole training step (forward, backward,
        Adam update, weight average) as a CUDA graph and replay it, so a step
        is one launch instead of a few hundred.  Batches then all have
        ``batch_size`` rows: each epoch leaves out the fewer than
        ``batch_size`` rows its shuffle puts last.  Falls back to eager steps
        with ``compile``, ``precision="bf16"``, several processes, fewer rows
        than one batch, or when capture fails.  No effect on the CPU.
    value_protection : int, default=5
        Value protection of ``sample``: a category seen in fewer than this
        many training rows is never emitted (it shares the "other" code in
        training and decodes to ``rare_replacement``), and numbers and
        datetimes are clipped to their ``value_protection``-th smallest and
        largest training values, so the raw extremes are never emitted.  The
        saved model holds neither the protected levels nor the raw extremes,
        except the declared categories of a ``category`` dtype, which its
        schema keeps so that samples have the same dtype.
        0 turns protection off and gives the raw values back
        (``docs/decisions/value-protection.md``).
    rare_replacement : {"frequent", "placeholder"}, default="frequent"
        What a protected category becomes: one of the column's kept levels,
        drawn by their training shares (the dtype is kept), or the text
        ``"_RARE_"`` (added to the categories of a ``category`` column; a
        column whose dtype cannot hold text gets a kept level).  With no level of ``value_protection``
        rows, ``"frequent"`` gives missing values (the median value for numpy
        integers and bool).
    public_bounds : dict or None, default=None
        ``{column: (low, high)}``: public bounds of numeric and datetime
        columns; training values are clipped to them too, and under
        differential privacy they are the range (no budget is spent on
        finding one).
    public_levels : dict or None, default=None
        ``{column: [levels]}``: the public category list of categorical
        columns, all kept however rare; other values are protected (under
        differential privacy, no level is dropped by the noisy threshold).

    Examples
    --------
    >>> from tabvae import TabularVAE, TrainingConfig
    >>> model = TabularVAE(config=TrainingConfig(learning_rate=1e-3))
    >>> model.get_params()["config__learning_rate"]
    0.001
    >>> model.set_params(config__decoder="factorized").config.decoder
    'factorized'
    """

    hidden_dims: tuple[int, ...] = (96, 96)
    learning_rate: float = 2e-3
    weight_decay: float = 1e-5
    ema_decay: float = 0.995
    kl_warmup: float | Literal["auto"] = AUTO
    prior: Literal["gmm", "standard"] = "gmm"
    prior_components: int = 32
    decoder: Literal["auto", "autoregressive", "factorized"] = AUTO
    numeric_frequencies: int | Literal["auto"] = AUTO
    max_categories: int = 256
    discrete_levels: int = 128
    validation_fraction: float = 0.1
    n_iter_no_change: int = 10
    stop_when_settled: bool = False
    robust_ramp: tuple[float, float] | None = None
    precision: Literal["fp32", "bf16"] = "fp32"
    compile: bool = False
    cuda_graph: bool = True
    value_protection: int = 5
    rare_replacement: Literal["frequent", "placeholder"] = "frequent"
    public_bounds: dict[str, tuple[Any, Any]] | None = None
    public_levels: dict[str, list[Any]] | None = None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The fields as a dict (scikit-learn's nested-parameter protocol)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def set_params(self, **params: Any) -> TrainingConfig:
        """Set fields by name; an unknown name is a ValueError listing the fields."""
        unknown = sorted(set(params) - set(field_names()))
        if unknown:
            raise ValueError(f"TrainingConfig has no field(s) {unknown}; fields are {field_names()}.")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    @classmethod
    def coerce(cls, config: TrainingConfig | dict[str, Any] | None) -> TrainingConfig:
        """``config`` as a TrainingConfig: None gives the defaults, a dict the fields it names."""
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        if isinstance(config, dict):
            return cls().set_params(**config)
        raise TypeError(f"config must be a TrainingConfig, a dict of its fields or None, got {config!r}.")


class ConfigParamsMixin:
    """scikit-learn parameters for an estimator whose ``config`` parameter is a TrainingConfig.

    ``get_params(deep=True)`` lists the config's fields as ``config__<field>``
    also when ``config`` is None or a dict, and ``set_params(config__<field>=v)``
    sets the field on a copy of the config, so a config shared by several
    estimators is never changed through one of them.
    """

    config: TrainingConfig | dict[str, Any] | None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params: dict[str, Any] = super().get_params(deep=deep)  # type: ignore[misc]
        if deep and (self.config is None or isinstance(self.config, dict)):  # a TrainingConfig nests itself
            try:
                cfg = TrainingConfig.coerce(self.config)
            except (TypeError, ValueError):  # an invalid dict: reported at fit
                return params
            params.update({f"config__{k}": v for k, v in cfg.get_params().items()})
        return params

    def set_params(self, **params: Any) -> Any:
        nested = {k[len("config__") :]: params.pop(k) for k in list(params) if k.startswith("config__")}
        super().set_params(**params)  # type: ignore[misc]
        if nested:
            self.config = dataclasses.replace(TrainingConfig.coerce(self.config)).set_params(**nested)
        return self


def field_names() -> list[str]:
    """Names of the fields of :class:`TrainingConfig`, in order."""
    return [f.name for f in dataclasses.fields(TrainingConfig)]


# --------------------------------------------------------------------------- "auto"


def resolve_epochs(epochs: int | str, batch_size: int, n_rows: int) -> int:
    """``epochs``, or for "auto" about ``AUTO_STEPS`` optimisation steps (10 to 300 epochs)."""
    if not is_auto(epochs):
        return int(epochs)
    steps_per_epoch = max(1, round(n_rows / batch_size))
    return int(min(max(math.ceil(AUTO_STEPS / steps_per_epoch), 10), 300))


def resolve_early_stopping(early_stopping: bool | str, n_rows: int, validation_fraction: float, private: bool) -> bool:
    """``early_stopping``, or for "auto": on below ``AUTO_EARLY_STOPPING_ROWS`` rows.

    "auto" stays off when training is private and when the table is too small
    to hold out a row.
    """
    if isinstance(early_stopping, bool):
        return early_stopping
    if not is_auto(early_stopping):
        raise ValueError(f'early_stopping must be True, False or "auto", got {early_stopping!r}.')
    return can_hold_out(n_rows, validation_fraction) and n_rows < AUTO_EARLY_STOPPING_ROWS and not private


def held_out_rows(n_rows: int, validation_fraction: float) -> int:
    """How many of ``n_rows`` rows early stopping holds out."""
    return int(round(n_rows * validation_fraction))


def can_hold_out(n_rows: int, validation_fraction: float) -> bool:
    """Whether holding out ``validation_fraction`` leaves at least one row on each side."""
    return 1 <= held_out_rows(n_rows, validation_fraction) < n_rows


def resolve_decoder(decoder: str, n_rows: int) -> str:
    """``decoder``, or for "auto": autoregressive from ``AUTO_AUTOREGRESSIVE_ROWS`` rows, else factorized."""
    if not is_auto(decoder):
        return decoder
    return "autoregressive" if n_rows >= AUTO_AUTOREGRESSIVE_ROWS else "factorized"


def resolve_auto(
    cfg: TrainingConfig, kl_weight: float | str, n_continuous_columns: int, n_columns: int, n_rows: int
) -> tuple[str, int, float, float]:
    """``decoder``, ``numeric_frequencies``, ``kl_weight`` and ``kl_warmup`` with "auto" resolved for a table.

    ``n_continuous_columns`` counts the columns modelled as continuous values.
    """
    freq, decoder = cfg.numeric_frequencies, resolve_decoder(cfg.decoder, n_rows)
    if decoder != "autoregressive" or n_continuous_columns == 0:
        freq = 0  # the periodic features feed the masked network, of continuous values only
    elif is_auto(freq):
        mostly_numbers = n_continuous_columns >= AUTO_FREQUENCIES_MIN_SHARE * n_columns
        freq = AUTO_FREQUENCIES if mostly_numbers and n_rows >= AUTO_FREQUENCIES_MIN_ROWS else 0
    # The sharper network needs a lighter, warmed-up KL term to keep the latent code in use; a small
    # table's factorized decoder a heavier one, which keeps its rows from the training rows.
    if freq:
        kl, warmup = 0.6, 0.25
    else:
        kl, warmup = (1.0 if decoder == "factorized" and n_rows < AUTO_AUTOREGRESSIVE_ROWS else 0.75), 0.0
    return (
        decoder,
        int(freq),
        kl if is_auto(kl_weight) else float(kl_weight),
        warmup if is_auto(cfg.kl_warmup) else float(cfg.kl_warmup),
    )


# --------------------------------------------------------------------------- checks


def is_auto(value: object) -> bool:
    return isinstance(value, str) and value == AUTO


def _fail(name: str, value: object, what: str, auto: bool) -> None:
    suffix = ' or "auto"' if auto else ""
    raise ValueError(f"{name} must be {what}{suffix}, got {value!r}.")


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name: str, value: object, low: int = 1, high: int | None = None, *, auto: bool = False) -> None:
    """An int in ``[low, high]`` (or "auto" where allowed), else a ValueError naming ``name``."""
    if auto and is_auto(value):
        return
    if not _is_int(value) or value < low or (high is not None and value > high):  # type: ignore[operator]
        what = (
            "a positive int"
            if low == 1 and high is None
            else f"an int >= {low}"
            if high is None
            else f"an int in [{low}, {high}]"
        )
        _fail(name, value, what, auto)


def _check_number(name: str, value: object, ok: Any, what: str, auto: bool = False) -> None:
    """A finite number for which ``ok(value)`` holds (or "auto" where allowed), else a ValueError naming ``name``."""
    if auto and is_auto(value):
        return
    if _is_real(value) and not math.isfinite(value):  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if not (_is_real(value) and ok(value)):
        _fail(name, value, what, auto)


def check_positive(name: str, value: object, *, auto: bool = False) -> None:
    """A finite number > 0 (or "auto" where allowed)."""
    _check_number(name, value, lambda v: v > 0, "a positive number", auto)


def check_non_negative(name: str, value: object) -> None:
    """A finite number >= 0."""
    _check_number(name, value, lambda v: v >= 0, "a number >= 0")


def check_seed(random_state: object, name: str = "random_state") -> np.random.RandomState:
    """A RandomState from None, an int, a RandomState or a numpy Generator, else a TypeError naming ``name``.

    A Generator gives one draw, the seed of a new RandomState (global state is not touched);
    None gives numpy's global RandomState, as in scikit-learn.
    """
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(int(random_state.integers(2**31 - 1)))
    if random_state is None or _is_int(random_state) or isinstance(random_state, np.random.RandomState):
        return check_random_state(random_state)
    raise TypeError(
        f"{name} must be None, an int, a numpy.random.RandomState or a numpy.random.Generator, "
        f"got {random_state!r} ({type(random_state).__name__})."
    )


def check_share(name: str, value: object, *, auto: bool = False) -> None:
    """A number in [0, 1) (or "auto" where allowed)."""
    _check_number(name, value, lambda v: 0 <= v < 1, "a number in [0, 1)", auto)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        options = " or ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be {options}, got {value!r}.")


def check_config(cfg: TrainingConfig) -> None:
    """Check every field of ``cfg``; errors name the field as ``config.<field>``."""
    name = lambda field: f"config.{field}"  # noqa: E731
    dims = cfg.hidden_dims
    if not (isinstance(dims, (tuple, list)) and len(dims) >= 1 and all(_is_int(d) and d >= 1 for d in dims)):
        raise ValueError(f"config.hidden_dims must be a non-empty tuple of positive ints, got {dims!r}.")
    check_positive(name("learning_rate"), cfg.learning_rate)
    check_non_negative(name("weight_decay"), cfg.weight_decay)
    check_share(name("ema_decay"), cfg.ema_decay)
    check_share(name("kl_warmup"), cfg.kl_warmup, auto=True)
    check_choice(name("prior"), cfg.prior, ("gmm", "standard"))
    check_int(name("prior_components"), cfg.prior_components)
    check_choice(name("decoder"), cfg.decoder, (AUTO, "autoregressive", "factorized"))
    check_int(name("numeric_frequencies"), cfg.numeric_frequencies, 0, 16, auto=True)
    check_int(name("max_categories"), cfg.max_categories, 2)
    check_int(name("discrete_levels"), cfg.discrete_levels, 0)
    _check_number(name("validation_fraction"), cfg.validation_fraction, lambda v: 0 < v < 1, "in (0, 1)")
    check_int(name("n_iter_no_change"), cfg.n_iter_no_change)
    if not isinstance(cfg.stop_when_settled, bool):
        raise ValueError(f"config.stop_when_settled must be True or False, got {cfg.stop_when_settled!r}.")
    ramp = cfg.robust_ramp
    if ramp is not None and not (
        isinstance(ramp, (tuple, list))
        and len(ramp) == 2
        and all(_is_real(v) and math.isfinite(v) for v in ramp)
        and 0 <= ramp[0] < ramp[1]
    ):
        raise ValueError(f"config.robust_ramp must be None or (low, high) with 0 <= low < high, got {ramp!r}.")
    check_choice(name("precision"), cfg.precision, ("fp32", "bf16"))
    check_int(name("value_protection"), cfg.value_protection, 0)
    check_choice(name("rare_replacement"), cfg.rare_replacement, RARE_REPLACEMENTS)
    for field in ("public_bounds", "public_levels"):
        if getattr(cfg, field) is not None and not isinstance(getattr(cfg, field), dict):
            raise TypeError(f"config.{field} must be a dict of column names or None, got {getattr(cfg, field)!r}.")
