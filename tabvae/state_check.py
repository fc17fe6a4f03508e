"""Validation of a fitted state (:func:`tabvae.state.fitted_state`'s output) before anything is built from it.

A model file comes from outside, so its JSON description is checked against
the schema below (keys, types, ranges, lengths) and the network sizes it
declares against the shapes of the tensors actually present.  Every problem
is a ``ValueError`` naming the offending entry, and none of the checks
allocates more than the description itself: a file cannot make loading
build a network larger than the tensors it holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .config import field_names
from .schema import pandas_dtype

Check = Callable[[Any, str], None]

KINDS = ("numeric", "integer", "categorical", "boolean", "datetime", "constant")
RNG_KEYS = 624  # words of the MT19937 state of the sampling stream


def fail(path: str, what: str, value: Any) -> None:
    shown = repr(value)
    raise ValueError(f"invalid model state: {path} must be {what}, got {shown[:80]}{'...' * (len(shown) > 80)}.")


# --------------------------------------------------------------------------- building blocks


def boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        fail(path, "true or false", value)


def text(value: Any, path: str) -> None:
    if not isinstance(value, str):
        fail(path, "a string", value)


def scalar(value: Any, path: str) -> None:
    """A JSON scalar other than null (a category level, a column name)."""
    if not isinstance(value, (str, int, float, bool)):
        fail(path, "a string, number or boolean", value)


def anything(value: Any, path: str) -> None:
    """Any JSON value (checked by the code that reads it)."""


def integer(low: int | None = None, high: int | None = None) -> Check:
    def check(value: Any, path: str) -> None:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok or (low is not None and value < low) or (high is not None and value > high):
            bounds = [f">= {low}"] * (low is not None) + [f"<= {high}"] * (high is not None)
            fail(path, " ".join(["an integer", *bounds]), value)

    return check


def number(low: float = -math.inf, high: float = math.inf, *, finite: bool = True) -> Check:
    bounds = [f">= {low}"] * (low > -math.inf) + [f"<= {high}"] * (high < math.inf)
    what = " ".join(["a finite number" if finite else "a number", *bounds])

    def check(value: Any, path: str) -> None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or (finite and not math.isfinite(value)) or (not math.isnan(value) and not low <= value <= high):
            fail(path, what, value)

    return check


def optional(check: Check) -> Check:
    def opt(value: Any, path: str) -> None:
        if value is not None:
            check(value, path)

    return opt


def one_of(*choices: Any) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, (str, int)) or value not in choices:
            fail(path, f"one of {list(choices)}", value)

    return check


def list_of(item: Check, length: int | None = None) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list) or (length is not None and len(value) != length):
            fail(path, "a list" + ("" if length is None else f" of {length} items"), value)
        for i, v in enumerate(value):
            item(v, f"{path}[{i}]")

    return check


def record(fields: dict[str, Check], optional_keys: Collection[str] = ()) -> Check:
    """A dict with exactly these keys (those in ``optional_keys`` may be left out)."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            fail(path, "an object", value)
        missing = sorted(set(fields) - set(value) - set(optional_keys))
        extra = sorted(set(value) - set(fields), key=str)
        if missing or extra:
            fail(path, f"an object with keys {sorted(fields)} (missing {missing}, unexpected {extra})", list(value))
        for key, sub in fields.items():
            if key in value:
                sub(value[key], f"{path}.{key}")

    return check


def mapping(item: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            fail(path, "an object", value)
        for key, v in value.items():
            item(v, f"{path}.{key}")

    return check


def require(ok: bool, path: str, what: str, value: Any) -> None:
    if not ok:
        fail(path, what, value)


# --------------------------------------------------------------------------- the schema


FLOATS = list_of(number())
SHARES = list_of(number(0, 1))
NUMERIC = record(
    {
        "clip": boolean,
        "quantiles": FLOATS,
        "references": SHARES,
        "levels": optional(FLOATS),
        "decimals": optional(integer(0, 15)),
        "has_missing": boolean,
        "min_gap": number(0),
        "level_probs": optional(SHARES),
        "spike": optional(number()),
        "discrete": boolean,
        "n_values": integer(0),
        "discrete_levels": integer(0),
        "int_range": optional(list_of(integer(), 2)),
        "protection": integer(0),
    },
    optional_keys=("int_range", "protection"),  # files written before they were recorded
)
CATEGORICAL = record(
    {
        "max_categories": integer(1),
        "levels": list_of(scalar),
        "rare_levels": list_of(scalar),
        "rare_probs": SHARES,
        "has_missing": boolean,
        "protection": integer(0),
        "rare_replacement": one_of("frequent", "placeholder"),
        "protected_share": number(0, 1),
        "replacement": optional(scalar),
        "replacement_probs": optional(SHARES),
        "categories": optional(list_of(scalar)),
    },
    optional_keys=(  # files written before value protection
        "protection",
        "rare_replacement",
        "protected_share",
        "replacement",
        "replacement_probs",
        "categories",
    ),
)
DATETIME = record(
    {"clip": boolean, "resolution_ns": integer(1, 86_400 * 10**9), "local": boolean, "numeric": NUMERIC},
    optional_keys=("local",),  # files written before it was recorded
)
CONSTANT = record({"value": optional(scalar)})
ENCODER_OF_KIND = {
    "numeric": NUMERIC,
    "integer": NUMERIC,
    "categorical": CATEGORICAL,
    "boolean": CATEGORICAL,
    "datetime": DATETIME,
    "constant": CONSTANT,
}
COLUMN = record(
    {
        "name": scalar,
        "kind": one_of(*KINDS),
        "dtype": text,
        "null_rate": number(0, 1),
        "categories": optional(list_of(scalar)),
        "ordered": boolean,
    }
)
TABLE_ENCODER = record(
    {
        "schema": record({"columns": list_of(COLUMN)}),
        "max_categories": integer(1),
        "clip": boolean,
        "discrete_levels": integer(0),
        "value_protection": integer(0),
        "rare_replacement": one_of("frequent", "placeholder"),
        "dp": optional(record({"epsilon": number(0), "delta": number(0, 1)})),  # the preprocessing budget
        "encoders": mapping(anything),  # each checked against its column's kind
    },
    optional_keys=("value_protection", "rare_replacement", "dp"),  # files saved before value protection
)
NETWORK = record(
    {
        "n_continuous": integer(0),
        "cardinalities": list_of(integer(1)),
        "latent_dim": integer(1),
        "hidden_dims": list_of(integer(1)),
        "cond_cardinalities": list_of(integer(1)),
        "cont_positions": list_of(integer(0)),
        "part_positions": list_of(integer(0)),
        "value_gates": list_of(integer(-1)),
        "n_frequencies": integer(0, 16),
    }
)
PRIOR = record(
    {
        "weights": list_of(number(0)),
        "means": list_of(list_of(number())),
        "chol": list_of(list_of(list_of(number()))),
        "active": list_of(boolean),
    }
)
CONDITION_TABLE = record({"columns": list_of(scalar), "combos": list_of(list_of(integer(0))), "probs": SHARES})
STATE = record(
    {
        "params": record({"config": optional(record({"kind": one_of("TrainingConfig", "dict"), "fields": anything}))}),
        "encoder": TABLE_ENCODER,
        "network": NETWORK,
        "prior": optional(PRIOR),
        "history": mapping(list_of(number(finite=False))),
        "n_features_in": integer(0),
        "feature_names_in": optional(list_of(scalar)),
        "conditional_columns": list_of(scalar),
        "condition_table": optional(CONDITION_TABLE),
        "constraints": optional(mapping(anything)),  # read by ConstraintSet.from_state
        "resolved": record(
            {
                "numeric_frequencies_": integer(0, 16),
                "kl_weight_": number(0),
                "kl_warmup_": number(0, 1),
                "early_stopping_": boolean,
            }
        ),
        "sample_rng": record({"pos": integer(0, RNG_KEYS), "has_gauss": integer(0, 1), "cached": number()}),
        "privacy": record(
            {
                "dp_epsilon_": optional(number(0)),
                "dp_delta_": optional(number(0, 1)),
                "dp_noise_multiplier_": optional(number(0)),
            }
        ),
    },
    optional_keys=("constraints", "privacy"),
)


# --------------------------------------------------------------------------- checks


def check_state(state: Any, tensor_shapes: dict[str, Sequence[int]], param_names: Collection[str]) -> None:
    """Check a fitted state against the schema and ``tensor_shapes`` ({name: shape} of its tensors).

    ``param_names`` are the estimator's parameters; the state may leave some
    out (their defaults apply) but names no others.

    Raises
    ------
    ValueError
        Naming the first entry that is missing, of the wrong type, out of
        range, or inconsistent with another entry or with the tensors.
    """
    params = state.get("params") if isinstance(state, dict) else None
    if isinstance(params, dict):  # the parameters' own values are checked by the estimator
        unknown = sorted(set(params) - set(param_names), key=str)
        require(not unknown, "state.params", f"parameters of the estimator {sorted(param_names)}", unknown)
        state = dict(state, params={k: params[k] for k in ("config",) if k in params})
    STATE(state, "state")
    check_config_fields(state["params"]["config"])
    check_columns(state["encoder"])
    check_network(state["network"], tensor_shapes)
    check_conditions(state)
    if state["prior"] is not None:
        check_prior(state["prior"], state["network"]["latent_dim"])
    if isinstance(params, dict) and "latent_dim" in params:
        latent = state["network"]["latent_dim"]
        require(
            params["latent_dim"] == latent, "state.params.latent_dim", f"{latent} (the network's)", params["latent_dim"]
        )
    require(
        tuple(tensor_shapes.get("sample_rng.keys", ())) == (RNG_KEYS,),
        "tensor sample_rng.keys",
        f"of shape ({RNG_KEYS},)",
        tensor_shapes.get("sample_rng.keys"),
    )


def check_config_fields(config: dict[str, Any] | None) -> None:
    if config is not None:
        fields = config["fields"]
        require(isinstance(fields, dict), "state.params.config.fields", "an object", fields)
        unknown = sorted(set(fields) - set(field_names()), key=str)
        require(not unknown, "state.params.config.fields", f"fields of TrainingConfig {field_names()}", unknown)
        if "hidden_dims" in fields:  # the other fields are checked by the estimator
            list_of(integer(1))(fields["hidden_dims"], "state.params.config.fields.hidden_dims")
        if "robust_ramp" in fields:  # the two tuple fields come back as lists
            optional(list_of(number(0), 2))(fields["robust_ramp"], "state.params.config.fields.robust_ramp")


def check_columns(encoder: dict[str, Any]) -> None:
    """Each column's dtype parses and fits its kind, and its encoder state fits its kind."""
    columns = encoder["schema"]["columns"]
    names = [c["name"] for c in columns]
    require(len(set(names)) == len(names), "state.encoder.schema.columns", "columns of distinct names", names)
    require(
        sorted(map(str, encoder["encoders"])) == sorted(map(str, names)),
        "state.encoder.encoders",
        f"one encoder per column {names}",
        list(encoder["encoders"]),
    )
    for c in columns:
        path = f"state.encoder.schema.columns[{c['name']!r}]"
        check_dtype(c["kind"], c["dtype"], path)
        enc = encoder["encoders"].get(c["name"], encoder["encoders"].get(str(c["name"])))
        ENCODER_OF_KIND[c["kind"]](enc, f"state.encoder.encoders.{c['name']}")
        numeric = enc.get("numeric", enc) if c["kind"] in ("numeric", "integer", "datetime") else None
        if numeric is not None:
            check_quantile_map(numeric, f"state.encoder.encoders.{c['name']}")
        if c["kind"] in ("categorical", "boolean"):
            require(len(enc["rare_probs"]) == len(enc["rare_levels"]), path, "one probability per rare level", enc)
            levels = enc["levels"] + enc["rare_levels"]
            require(pd.Index(levels, dtype=object).is_unique, path, "distinct levels", levels)


def check_dtype(kind: str, dtype: str, path: str) -> None:
    try:
        parsed = pandas_dtype(dtype)
    except (TypeError, ValueError, KeyError, ImportError):
        parsed = None
    require(parsed is not None, f"{path}.dtype", "a pandas dtype", dtype)
    if kind in ("numeric", "integer"):
        ok = pd.api.types.is_numeric_dtype(parsed) and not pd.api.types.is_bool_dtype(parsed)
        require(ok, f"{path}.dtype", f"a numeric dtype for a {kind} column", dtype)
    if kind == "datetime":
        require(pd.api.types.is_datetime64_any_dtype(parsed), f"{path}.dtype", "a datetime dtype", dtype)


def check_quantile_map(enc: dict[str, Any], path: str) -> None:
    q, r = enc["quantiles"], enc["references"]
    require(len(q) == len(r) >= 2, f"{path}.quantiles", "as long as references (at least 2)", len(q))
    require(all(a <= b for a, b in zip(q, q[1:])), f"{path}.quantiles", "sorted", q)
    require(all(a <= b for a, b in zip(r, r[1:])), f"{path}.references", "sorted", r)
    levels, probs = enc["levels"], enc["level_probs"]
    require(levels is None or len(levels) >= 1, f"{path}.levels", "null or a non-empty list", levels)
    if enc["discrete"]:
        require(levels is not None and probs is not None, path, "levels and level_probs for a discrete column", enc)
    if levels is not None and probs is not None:
        require(len(levels) == len(probs) >= 1, f"{path}.level_probs", "one probability per level", probs)


def check_network(net: dict[str, Any], shapes: dict[str, Sequence[int]]) -> None:
    """The declared sizes against the file's tensors, before any network is built.

    The encoder and decoder MLPs and ``log_sigma`` pin every size the network
    is built from (hidden widths, latent size, inputs, conditions), so a
    declared size that the tensors do not have is refused here.
    """
    n_cont, cards = net["n_continuous"], net["cardinalities"]
    cont_pos, part_pos = net["cont_positions"], net["part_positions"]
    require(
        (not cont_pos and not part_pos) or (len(cont_pos) == n_cont and len(part_pos) == len(cards)),
        "state.network",
        "positions for every continuous dimension and categorical part, or none",
        (len(cont_pos), len(part_pos)),
    )
    gates = net["value_gates"]
    require(len(gates) == n_cont, "state.network.value_gates", f"a list of {n_cont} items", gates)
    require(all(g < len(cards) for g in gates), "state.network.value_gates", "indices of categorical parts", gates)
    n_in, n_cond, latent = n_cont + sum(cards), sum(net["cond_cardinalities"]), net["latent_dim"]
    hidden = net["hidden_dims"]
    require(len(hidden) >= 1, "state.network.hidden_dims", "a non-empty list", hidden)
    expected: dict[str, tuple[int, ...]] = {"model.log_sigma": (n_cont,)}
    expected |= mlp_shapes("model.encoder", [n_in + n_cond, *hidden, 2 * latent])
    expected |= mlp_shapes("model.decoder", [latent + n_cond, *hidden[::-1], n_in])
    for name, shape in expected.items():
        have = tuple(shapes[name]) if name in shapes else None
        require(have == shape, f"tensor {name}", f"of shape {shape} (declared by state.network)", have)


def mlp_shapes(prefix: str, dims: list[int]) -> dict[str, tuple[int, ...]]:
    """Weight and bias shapes of :func:`tabvae.model.mlp` with layer sizes ``dims`` (Linear, SiLU, ...)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (d_in, d_out) in enumerate(zip(dims, dims[1:])):
        shapes[f"{prefix}.{2 * i}.weight"] = (d_out, d_in)
        shapes[f"{prefix}.{2 * i}.bias"] = (d_out,)
    return shapes


def check_conditions(state: dict[str, Any]) -> None:
    """Conditional columns exist, match the network's condition sizes, and their table fits them."""
    cols, cards = state["conditional_columns"], state["network"]["cond_cardinalities"]
    kinds = {c["name"]: c["kind"] for c in state["encoder"]["schema"]["columns"]}
    for c in cols:
        require(kinds.get(c) in ("categorical", "boolean"), "state.conditional_columns", "categorical columns", c)
    require(len(cards) == len(cols), "state.network.cond_cardinalities", f"a list of {len(cols)} items", cards)
    table = state["condition_table"]
    require((table is None) == (not cols), "state.condition_table", "given exactly for conditional columns", table)
    if table is None:
        return
    require(table["columns"] == cols, "state.condition_table.columns", f"{cols}", table["columns"])
    combos, probs = table["combos"], table["probs"]
    require(len(combos) == len(probs) >= 1, "state.condition_table.probs", "one probability per combination", probs)
    for row in combos:
        ok = len(row) == len(cols) and all(code < k for code, k in zip(row, cards))
        require(ok, "state.condition_table.combos", f"rows of {len(cols)} codes below {cards}", row)
    require(sum(probs) > 0, "state.condition_table.probs", "not all zero", probs)


def check_prior(prior: dict[str, Any], latent_dim: int) -> None:
    active = prior["active"]
    require(len(active) == latent_dim, "state.prior.active", f"a list of {latent_dim} items", active)
    k, a = len(prior["weights"]), sum(active)
    require(k >= 1 and sum(prior["weights"]) > 0, "state.prior.weights", "non-empty, not all zero", prior["weights"])
    means, chol = prior["means"], prior["chol"]
    ok = len(means) == k and all(len(m) == a for m in means)
    require(ok, "state.prior.means", f"{k} lists of {a} numbers", means)
    ok = len(chol) == k and all(len(c) == a and all(len(row) == a for row in c) for c in chol)
    require(ok, "state.prior.chol", f"{k} matrices of {a} x {a} numbers", chol)


def check_layout(layout: Any, net: dict[str, Any]) -> None:
    """The column encoders' ``layout`` (a :class:`~tabvae.encoders.table.Layout`) is the network's input."""
    have = (layout.n_continuous, list(layout.cardinalities), list(layout.value_gates))
    declared = (net["n_continuous"], net["cardinalities"], net["value_gates"])
    require(have == declared, "state.network", f"the column encoders' layout {have}", declared)


def check_tensors(expected: dict[str, Sequence[int]], tensors: dict[str, Any]) -> None:
    """``tensors`` has exactly the ``expected`` names and shapes, and finite values."""
    missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    require(not missing and not extra, "the file's tensors", f"{sorted(expected)}", (missing, extra))
    for name, t in tensors.items():
        require(tuple(t.shape) == tuple(expected[name]), f"tensor {name}", f"of shape {expected[name]}", t.shape)
        require(bool(t.isfinite().all()), f"tensor {name}", "finite", "non-finite values")


def check_decodes(encoder: Any) -> None:
    """The column encoders (a fitted :class:`~tabvae.encoders.TableEncoder`) decode every code and extreme values.

    Rows ``i`` hold code ``i`` of every categorical part (its last code past
    the end) and -6, 0 or 6 in every continuous dimension.
    """
    layout = encoder.layout_
    cards = np.asarray(layout.cardinalities, np.int64)
    n = int(max(cards.max(initial=1), 3))
    cont = np.repeat(np.asarray([-6.0, 0.0, 6.0])[np.arange(n) % 3, None], layout.n_continuous, axis=1)
    codes = np.minimum(np.arange(n)[:, None], cards[None, :] - 1)
    try:
        encoder.inverse_transform(cont, codes, np.random.RandomState(0))
    except (ValueError, TypeError, OverflowError) as e:
        raise ValueError(
            f"invalid model state: its column encoders cannot decode a row: {type(e).__name__}: {e}"
        ) from None
