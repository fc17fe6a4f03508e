"""Sampling from a fitted :class:`~tabvae.TabularVAE`: conditions, the condition table, rejection.

A condition fixes a column to a value (``{"sex": "Female"}``) or, for numbers
and datetimes, to an inclusive range (``{"age": (30, 40)}``).  Columns named
in ``conditional_columns`` at fit are conditioned inside the network (a
conditional VAE): every row is generated for its condition, no rejection.
Other columns fall back to bounded rejection sampling.

The functions here read only the fitted estimator's public attributes
(``model_``, ``encoder_``, ``schema_``, ``prior_``, ``condition_table_``,
``conditional_columns_``, ``constraints_``, ``device_``, ``latent_dim``).  With
constraints, the network models the table their transform writes: conditions
are translated onto it (:meth:`ConstraintSet.translate_conditions`), rows are
drawn and filtered in it, then turned back into the user's rows, and rows that
break a :class:`~tabvae.constraints.Predicate` are rejected.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch

from .config import check_int, check_non_negative
from .constraints.values import condition_mask

SAMPLE_CHUNK = 65_536  # rows decoded at a time: bounds memory when sampling millions
FRAME_BYTES_PER_CELL = 16  # estimated memory of a sampled cell, chunks and their concatenation together

Conditions = dict[str, Any]


def check_n(n: object, name: str = "n_samples") -> int:
    """``n`` as an int if it is a positive int, else a ValueError naming ``name``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}.")
    return int(n)


def torch_generator(rng: np.random.RandomState, device: torch.device) -> torch.Generator:
    """A torch generator on ``device`` seeded from ``rng`` (one draw)."""
    return torch.Generator(device=device).manual_seed(int(rng.randint(2**31 - 1)))


# --------------------------------------------------------------------------- condition table


def check_conditional_columns(columns: object, schema: Any) -> list[str]:
    """``conditional_columns`` as a list, checked against the fitted ``schema``."""
    if isinstance(columns, str):
        raise TypeError(f"conditional_columns must be a list of column names, got {columns!r}; use [{columns!r}].")
    cols = list(columns or [])  # type: ignore[call-overload]
    for c in cols:
        if c not in schema.names:
            raise ValueError(
                f"conditional_columns names {c!r}, which is not a column of X; columns are {schema.names}."
            )
        if schema[c].kind not in ("categorical", "boolean"):
            raise ValueError(
                f"conditional_columns: {c!r} is {schema[c].kind}; only categorical and "
                "boolean columns can be conditioned in the network. Condition numbers with "
                "ranges at sampling time instead (rejection sampling)."
            )
    return cols


class ConditionTable:
    """The empirical joint distribution of the conditioning columns' codes.

    Parameters
    ----------
    columns : list of str
        The conditioning columns, in the network's order.
    combos : ndarray of shape (n_combinations, n_columns)
        Every combination of codes seen in training.
    probs : ndarray of shape (n_combinations,)
        Their training frequencies.
    """

    def __init__(self, columns: list[str], combos: np.ndarray, probs: np.ndarray):
        self.columns = list(columns)
        self.combos = np.asarray(combos, np.int64)
        self.probs = np.asarray(probs, np.float64)

    @classmethod
    def fit(cls, columns: list[str], codes: np.ndarray) -> ConditionTable:
        """The table of the (n_rows, n_columns) training ``codes`` of ``columns``."""
        combos, counts = np.unique(codes, axis=0, return_counts=True)
        return cls(columns, combos, counts / counts.sum())

    def draw(self, n: int, rng: np.random.RandomState, fixed: dict[str, int] | None = None) -> np.ndarray:
        """Codes for ``n`` rows: ``fixed`` {column: code}, the other columns from the training joint."""
        fixed = fixed or {}
        match = np.ones(len(self.combos), bool)
        for j, c in enumerate(self.columns):
            if c in fixed:
                match &= self.combos[:, j] == fixed[c]
        if not match.any():  # never seen together: draw the free columns from the whole table
            match[:] = True
        p = self.probs * match
        out = self.combos[rng.choice(len(self.combos), size=n, p=p / p.sum())].copy()
        for j, c in enumerate(self.columns):
            if c in fixed:
                out[:, j] = fixed[c]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "combos": self.combos.tolist(), "probs": self.probs.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConditionTable:
        return cls(d["columns"], np.asarray(d["combos"], np.int64).reshape(-1, len(d["columns"])), d["probs"])


def draw_conditions(
    vae: Any, n: int, rng: np.random.RandomState, fixed: dict[str, int] | None = None
) -> np.ndarray | None:
    """Condition codes for ``n`` rows of a fitted model (None for an unconditional one)."""
    table = vae.condition_table_
    return None if table is None else table.draw(n, rng, fixed)


# --------------------------------------------------------------------------- parsing conditions


def parse(vae: Any, conditions: object) -> Conditions:
    """Check a ``{column: value or (low, high)}`` dict against the fitted schema.

    Raises a ValueError naming the column for unknown columns, values never
    seen in training, and ranges outside the training range.
    """
    if not isinstance(conditions, dict) or not conditions:
        raise TypeError(
            "conditions must be a non-empty dict {column: value or (low, high)} or a DataFrame "
            f"of per-row conditions, got {type(conditions).__name__}."
        )
    given = conditions if vae.constraints_ is None else vae.constraints_.translate_conditions(conditions)
    names = vae.schema_.names
    out = {}
    for col, value in given.items():
        if col not in names:
            raise ValueError(f"Unknown column {col!r} in conditions; columns are {names}.")
        spec, enc = vae.schema_[col], vae.encoder_[col]
        if isinstance(value, frozenset):  # any of these values (from translated conditions)
            out[col] = frozenset(_parse_level(col, enc, v) for v in value) if hasattr(enc, "levels_") else value
        elif isinstance(value, (tuple, list)):
            out[col] = _parse_range(col, spec, enc, value)
        elif spec.kind in ("categorical", "boolean", "constant"):
            out[col] = _parse_level(col, enc, value)
        elif spec.kind == "integer" or getattr(enc, "levels_", None) is not None:
            out[col] = _parse_number(col, spec, enc, value)
        else:
            raise ValueError(
                f"Condition {col}={value!r}: {col!r} is continuous, so an exact value is almost "
                f"never produced; give a range instead, e.g. {{{col!r}: ({value!r}, {value!r} + delta)}}."
            )
    return out


def _parse_number(col, spec, enc, value):
    lo, hi = enc.training_range()
    if pd.isna(value):
        return value
    if spec.kind == "integer" and float(value) != round(float(value)):
        raise ValueError(f"Condition {col}={value!r}: {col!r} holds integers; give an integer or a range.")
    if not lo <= value <= hi:
        raise ValueError(f"Condition {col}={value!r} is outside the training range [{lo}, {hi}].")
    return value


def _parse_level(col, enc, value):
    if not hasattr(enc, "levels_"):  # a constant column
        if value != enc.value_:
            raise ValueError(f"Condition {col}={value!r}: the column is constant ({enc.value_!r}) in training.")
        return value
    seen = enc.seen_values()
    if pd.isna(value) if np.ndim(value) == 0 else False:
        if enc.has_missing_:
            return None
        raise ValueError(f"Condition on {col!r}: missing values never occur in training.")
    if value not in seen:
        raise ValueError(f"Condition {col}={value!r}: value never seen in training. Seen values include {seen[:20]}.")
    return value


def _parse_range(col, spec, enc, value):
    if spec.kind not in ("numeric", "integer", "datetime") or len(value) != 2:
        raise ValueError(
            f"Condition on {col!r}: a (low, high) range needs a numeric or datetime column and "
            f"two bounds, got {value!r} for a {spec.kind} column."
        )
    lo, hi = _datetime_bounds(col, spec, value) if spec.kind == "datetime" else _number_bounds(col, value)
    if lo > hi:
        raise ValueError(f"Condition on {col!r}: need low <= high, got {value!r}.")
    tmin, tmax = enc.training_range()
    if hi < tmin or lo > tmax:
        raise ValueError(f"Condition {col} in [{lo}, {hi}] does not overlap the training range [{tmin}, {tmax}].")
    return (lo, hi)


def _number_bounds(col: str, value: Any) -> tuple[Any, Any]:
    """The (low, high) of a numeric range: real numbers, not NaN."""
    for bound in value:
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or bound != bound:  # NaN
            raise ValueError(f"Condition on {col!r}: range bounds must be numbers (not NaN), got {value!r}.")
    return value[0], value[1]


def _datetime_bounds(col: str, spec: Any, value: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The (low, high) of a datetime range as Timestamps in the column's time zone (naive bounds are read in
    it); a ValueError names the column for bounds that are not datetimes, NaT, or aware on a naive column."""
    tz = getattr(pd.api.types.pandas_dtype(spec.dtype), "tz", None)
    out = []
    for bound in value:
        try:
            ts = pd.Timestamp(bound)
        except (ValueError, TypeError) as err:
            raise ValueError(f"Condition on {col!r}: {bound!r} is not a datetime ({err}).") from None
        if pd.isna(ts):
            raise ValueError(f"Condition on {col!r}: range bounds must be datetimes (not missing), got {value!r}.")
        if ts.tz is None and tz is not None:
            ts = ts.tz_localize(tz)
        elif ts.tz is not None and tz is None:
            raise ValueError(f"Condition on {col!r}: the column has no time zone; give bounds without one.")
        out.append(ts if tz is None else ts.tz_convert(tz))
    return out[0], out[1]


def check_memory(vae: Any, n: int) -> None:
    """A ValueError when a frame of ``n`` sampled rows would need more memory than is available."""
    need, have = n * len(vae.schema_) * FRAME_BYTES_PER_CELL, available_memory()
    if have is not None and need > have:
        raise ValueError(
            f"sample({n}) would need about {need / 2**30:.1f} GiB for the rows, more than the "
            f"{have / 2**30:.1f} GiB of memory available. Stream them in chunks with iter_samples(n_samples, "
            "chunk_size=...), or write them to a file with `tabvae sample MODEL -n N -o rows.parquet`."
        )


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux's MemAvailable; None where unknown)."""
    try:
        with open("/proc/meminfo") as f:
            fields = dict(line.split(":", 1) for line in f)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def satisfied(frame: pd.DataFrame, conditions: Conditions) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` that meet every condition."""
    ok = np.ones(len(frame), dtype=bool)
    for col, value in conditions.items():
        ok &= condition_mask(frame[col], value)
    return ok


# --------------------------------------------------------------------------- decoding


def draw_latents(vae: Any, n: int, rng: np.random.RandomState, generator: torch.Generator) -> np.ndarray | torch.Tensor:
    """Latent codes (n, L) of new rows, from the latent mixture (``prior_``) or N(0, I).

    On the CPU they come from ``rng``; on a GPU from ``generator``, on the device, where a
    million codes take milliseconds instead of the second NumPy's draw costs.
    """
    if vae.device_.type == "cpu":
        return vae.prior_.sample(n, rng) if vae.prior_ is not None else rng.standard_normal((n, vae.latent_dim))
    if vae.prior_ is not None:
        return vae.prior_.sample_on(n, generator)
    return torch.randn((n, vae.latent_dim), generator=generator, device=vae.device_)


@torch.no_grad()
def decode(
    vae: Any,
    z: np.ndarray | torch.Tensor,
    cond: np.ndarray | None,
    rng: np.random.RandomState,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
    *,
    modelled: bool = False,
) -> pd.DataFrame:
    """User rows decoded from latent codes ``z`` (temperature 0: the decoder's means and modes).

    With ``modelled``, the rows of the table the network models (before the constraints' inverse).
    """
    vae.model_.eval()
    zt = torch.as_tensor(z, dtype=torch.float32, device=vae.device_)
    ct = None if cond is None else torch.as_tensor(cond, device=vae.device_)
    cont, codes = vae.model_.draw(zt, generator, ct, temperature=temperature)
    rows = vae.encoder_.inverse_transform(cont.cpu().numpy(), codes.cpu().numpy(), rng)
    return rows if modelled or vae.constraints_ is None else vae.constraints_.inverse_transform(rows)


class Sampler:
    """The random streams of one sampling call and the fitted model they draw from.

    Parameters
    ----------
    vae : TabularVAE
        Fitted.
    rng : numpy.random.RandomState
        Draws latent codes, conditions and rare levels; seeds the torch
        generator of the decoder's noise (one draw, at construction).
    temperature : float
        Scales the decoder's noise and softmax temperature (a finite number >= 0).
    max_tries : int
        Rejection budget per requested row (>= 1).

    Arguments are checked before anything is drawn from ``rng``.
    """

    def __init__(self, vae: Any, rng: np.random.RandomState, temperature: float = 1.0, max_tries: int = 100):
        check_non_negative("temperature", temperature)
        check_int("max_tries", max_tries)
        self.vae, self.rng = vae, rng
        self.temperature, self.max_tries = float(temperature), max_tries
        self._generator: torch.Generator | None = None

    @property
    def generator(self) -> torch.Generator:
        """The torch generator of the decoder's noise, seeded from ``rng`` when first needed."""
        if self._generator is None:
            self._generator = torch_generator(self.rng, self.vae.device_)
        return self._generator

    def frame(self, n_samples: int | None, conditions: Conditions | pd.DataFrame | None) -> pd.DataFrame:
        """:meth:`TabularVAE.sample`'s rows, in one frame; refused when it would not fit in memory."""
        if isinstance(conditions, pd.DataFrame):
            return self.per_row(conditions, n_samples)
        check_memory(self.vae, check_n(n_samples))
        chunks = list(self.chunks(n_samples, SAMPLE_CHUNK, conditions))
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]

    def chunks(
        self, n_samples: int | None, chunk_size: int, conditions: Conditions | pd.DataFrame | None
    ) -> Iterator[pd.DataFrame]:
        """``n_samples`` user rows meeting ``conditions``, as frames of at most ``chunk_size`` rows.

        With a DataFrame of per-row conditions, each frame holds the rows of ``chunk_size`` condition rows.
        """
        chunk_size = check_n(chunk_size, "chunk_size")
        if isinstance(conditions, pd.DataFrame):
            self.check_rows(conditions, n_samples)
            for start in range(0, len(conditions), chunk_size):
                yield self.per_row(conditions.iloc[start : start + chunk_size])
            return
        n_samples = check_n(n_samples)
        parsed = parse(self.vae, conditions) if conditions is not None else {}
        for start in range(0, n_samples, chunk_size):
            yield self.user_rows(min(chunk_size, n_samples - start), parsed)

    def user_rows(self, n: int, parsed: Conditions) -> pd.DataFrame:
        """``n`` rows meeting ``parsed`` in the user's columns, every Predicate constraint met."""
        cs = self.vae.constraints_
        if cs is None:
            return self.conditioned(n, parsed)
        draw = lambda m: cs.inverse_transform(self.conditioned(m, parsed))  # noqa: E731
        if not cs.predicates:
            return draw(n)
        names = [p.name for p in cs.predicates]
        return self.reject(n, draw, cs.accepts, f"the predicates {names}", "Relax the predicate or raise max_tries.")

    def conditioned(self, n: int, parsed: Conditions) -> pd.DataFrame:
        """``n`` rows meeting ``parsed``: conditional columns in the network, the rest by rejection."""
        vae = self.vae
        in_net = {
            c: v for c, v in parsed.items() if c in vae.conditional_columns_ and not isinstance(v, (tuple, frozenset))
        }
        rest = {c: v for c, v in parsed.items() if c not in in_net}
        fixed = {c: vae.encoder_[c].code_of(v) for c, v in in_net.items()}
        hint = (
            "Relax the condition, raise max_tries, or name categorical columns in conditional_columns at fit "
            "for exact conditioning."
        )
        draw, meets = (lambda m: self.generate(m, fixed)), (lambda rows: satisfied(rows, rest))
        out = self.reject(n, draw, meets, str(rest), hint) if rest else self.generate(n, fixed)
        for c, v in in_net.items():  # the network was told; make the value exact (e.g. rare levels)
            out[c] = vae.schema_[c].restore_dtype(pd.Series([v] * len(out), dtype=object))
        return out

    def generate(self, n: int, fixed: dict[str, int] | None = None) -> pd.DataFrame:
        """``n`` rows, the conditional columns ``fixed`` to the given codes."""
        vae, rng, generator = self.vae, self.rng, self.generator  # the generator's seed is drawn first
        z = draw_latents(vae, n, rng, generator)
        cond = draw_conditions(vae, n, rng, fixed)
        return decode(vae, z, cond, rng, generator, self.temperature, modelled=True)

    def reject(
        self,
        n: int,
        draw: Callable[[int], pd.DataFrame],
        meets: Callable[[pd.DataFrame], np.ndarray],
        what: str,
        hint: str,
    ) -> pd.DataFrame:
        """``n`` rows of ``draw(m)`` that ``meets``; a ValueError naming ``what`` when the budget runs out."""
        kept, n_kept, drawn, budget = [], 0, 0, self.max_tries * max(n, 100)
        while n_kept < n and drawn < budget:
            m = int(min(SAMPLE_CHUNK, max(2 * (n - n_kept), 1024)))
            cand = draw(m)
            drawn += m
            good = cand[meets(cand)]
            kept.append(good)
            n_kept += len(good)
        if n_kept < n:
            raise ValueError(
                f"Could only generate {n_kept} of {n} rows meeting {what} after drawing {drawn} "
                f"candidates (acceptance rate {n_kept / drawn:.2g}). {hint}"
            )
        return pd.concat(kept, ignore_index=True).iloc[:n].reset_index(drop=True)

    @staticmethod
    def check_rows(conditions: pd.DataFrame, n_samples: int | None) -> None:
        """A ValueError for a conditions frame without rows, or whose rows ``n_samples`` does not match."""
        if len(conditions) == 0:
            raise ValueError("conditions is a DataFrame with no rows; give one row per output row, or a dict.")
        if n_samples is not None and check_n(n_samples) != len(conditions):
            raise ValueError(
                f"n_samples={n_samples} but conditions has {len(conditions)} rows; "
                "pass n_samples=None or a matching number."
            )

    def per_row(self, conditions: pd.DataFrame, n_samples: int | None = None) -> pd.DataFrame:
        """One output row per condition row; rows with equal conditions are generated together.

        ``n_samples``, if given, must be the number of condition rows.  Cells that are NaN, and a frame
        without columns, leave rows unconstrained.
        """
        self.check_rows(conditions, n_samples)
        if conditions.shape[1] == 0:
            return self.user_rows(len(conditions), {})
        keys = conditions.astype(object).where(conditions.notna(), None)
        groups = keys.groupby(list(keys.columns), dropna=False, sort=False).indices
        parts, order = [], []
        for key, rows in groups.items():
            key = key if isinstance(key, tuple) else (key,)
            cond = {c: v for c, v in zip(keys.columns, key) if v is not None and not pd.isna(v)}
            parts.append(self.user_rows(len(rows), parse(self.vae, cond) if cond else {}))
            order.append(rows)
        out = pd.concat(parts, ignore_index=True)
        out.index = np.concatenate(order)
        return out.sort_index().reset_index(drop=True)
