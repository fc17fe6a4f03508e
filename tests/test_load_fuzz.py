"""Model files from outside: tampered descriptions, declared sizes and random mutations of a valid file.

Every damaged file must end in the documented ValueError (or load as a model
that samples), quickly and without allocating more than the file holds.
"""

import json
import math
import resource
import struct
import time

import numpy as np
import pytest
from conftest import make_mixed

from tabvae import TabularVAE, load

MB = 1 << 20


def max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    df = make_mixed(150)
    model = TabularVAE(
        epochs=1, latent_dim=4, config={"hidden_dims": (16,)}, conditional_columns=["object"], random_state=0
    ).fit(df)
    path = tmp_path_factory.mktemp("fuzz") / "model.tabvae"
    model.save(path)
    return path.read_bytes()


def split(raw: bytes) -> tuple[dict, bytes]:
    """A safetensors file's header (a dict) and its tensor bytes."""
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def with_state(raw: bytes, change) -> bytes:
    """``raw`` with ``change(meta)`` applied to its tabvae metadata (the tensors kept as they are)."""
    header, body = split(raw)
    meta = json.loads(header["__metadata__"]["tabvae"])
    change(meta)
    header["__metadata__"]["tabvae"] = json.dumps(meta)
    return join(header, body)


def load_bytes(tmp_path, data: bytes, name="m.tabvae"):
    p = tmp_path / name
    p.write_bytes(data)
    return load(p, device="cpu")


# --------------------------------------------------------------------------- item 14: tampered descriptions


def set_in(path, value):
    def change(meta):
        node = meta
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change, match",
    [
        (set_in(["state", "encoder"], KeyError), r"state must be an object with keys .*missing \['encoder'\]"),
        (set_in(["state"], [1, 2]), "holds no model state"),
        (set_in(["state", "network", "latent_dim"], 5), r"tensor model\.encoder\.\d\.\w+ must be of shape"),
        (set_in(["state", "encoder", "schema", "columns", 0, "dtype"], "subprocess.Popen"), "must be a pandas dtype"),
        (set_in(["format_version"], "1"), "invalid model format version"),
        (set_in(["state", "surprise"], 1), r"unexpected \['surprise'\]"),
        (set_in(["state", "prior", "means"], [[0.0]]), r"state\.prior\.means must be"),
        (set_in(["state", "params", "latent_dim"], "four"), "latent_dim"),
        (set_in(["state", "params", "not_a_param"], 1), "parameters of the estimator"),
        (set_in(["state", "sample_rng", "pos"], 10**9), r"state\.sample_rng\.pos"),
        (set_in(["state", "condition_table", "combos", 0, 0], 99), r"state\.condition_table\.combos"),
        (set_in(["state", "network", "cardinalities", 0], 3), "tensor model.encoder.0.weight|layout"),
        (set_in(["state", "encoder", "encoders", "float", "quantiles"], [3.0, 1.0, 2.0]), "quantiles"),
    ],
)
def test_tampered_description_is_a_value_error(model_file, tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        load_bytes(tmp_path, with_state(model_file, change))


# --------------------------------------------------------------------------- item 15: declared sizes


@pytest.mark.parametrize("dims", [[12_000, 12_000], [40_000, 40_000], [10**12]])
def test_declared_sizes_are_checked_before_allocating(model_file, tmp_path, dims):
    data = with_state(model_file, set_in(["state", "network", "hidden_dims"], dims))
    before, start = max_rss(), time.perf_counter()
    with pytest.raises(ValueError, match="tensor model.encoder.0.weight must be of shape"):
        load_bytes(tmp_path, data)
    assert time.perf_counter() - start < 2 and max_rss() - before < 50 * MB


def test_declared_cardinalities_and_counts_are_checked(model_file, tmp_path):
    for path, value in [
        (["state", "network", "n_continuous"], 10**9),
        (["state", "network", "cond_cardinalities"], [10**9]),
        (["state", "network", "cardinalities"], [10**9] * 11),
    ]:
        with pytest.raises(ValueError, match="state.network|tensor model"):
            load_bytes(tmp_path, with_state(model_file, set_in(path, value)))


# --------------------------------------------------------------------------- random mutations


def paths(node, prefix=()):
    """Every path into a JSON tree."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:6]):
            yield from paths(v, (*prefix, i))


REPLACEMENTS = [None, True, 0, -1, 3, 2**40, 1e308, -math.inf, math.nan, "", "x", "float64", [], [1, 2], {}, {"a": 1}]


TENSOR_ENTRIES = [None, "F64", "I8", [], [1], [10**9, 10**9], [0, 10**12], [4, 2]]


def mutate_state(meta, rng):
    all_paths = [p for p in paths(meta["state"]) if p]
    path = all_paths[rng.randint(len(all_paths))]
    node = meta["state"]
    for key in path[:-1]:
        node = node[key]
    key, op = path[-1], rng.randint(4)
    if op == 0 and isinstance(node, dict):
        del node[key]
    elif op == 1 and isinstance(node[key], (int, float)) and not isinstance(node[key], bool):
        node[key] = node[key] * [-1, 2, 1000, 10**9][rng.randint(4)]
    elif op == 2 and isinstance(node[key], list) and node[key]:
        node[key] = node[key][: rng.randint(len(node[key]))] if rng.rand() < 0.5 else node[key] * 2
    else:
        node[key] = REPLACEMENTS[rng.randint(len(REPLACEMENTS))]


def mutate(raw: bytes, rng) -> bytes:
    kind = rng.randint(4)
    if kind == 0:  # the tabvae description
        return with_state(raw, lambda meta: mutate_state(meta, rng))
    header, body = split(raw)
    if kind == 1:  # the safetensors entry of one tensor
        names = sorted(k for k in header if k != "__metadata__")
        name = names[rng.randint(len(names))]
        field = ["dtype", "shape", "data_offsets"][rng.randint(3)]
        header[name][field] = TENSOR_ENTRIES[rng.randint(len(TENSOR_ENTRIES))]
        return join(header, body)
    data = bytearray(raw)
    if kind == 2:  # bytes anywhere
        for i in rng.randint(0, len(data), size=rng.randint(1, 8)):
            data[i] = rng.randint(256)
        return bytes(data)
    return bytes(data[: rng.randint(len(data))])  # truncated


def test_random_mutations_end_in_value_errors(model_file, tmp_path):
    rng = np.random.RandomState(0)
    outcomes = {"ValueError": 0, "loaded": 0}
    before, start = max_rss(), time.perf_counter()
    for _ in range(150):
        data = mutate(model_file, rng)
        try:
            model = load_bytes(tmp_path, data)
        except ValueError:
            outcomes["ValueError"] += 1
            continue
        model.sample(3, random_state=0)  # a file that loads is a working model
        outcomes["loaded"] += 1
    elapsed = time.perf_counter() - start
    assert outcomes["ValueError"] > 100, outcomes
    assert elapsed < 30, elapsed
    assert max_rss() - before < 100 * MB
