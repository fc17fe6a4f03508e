"""Model files: one safetensors file, tensors plus JSON metadata, no pickle.

A model file holds the tensors of :meth:`TabularVAE.get_state` (the network's
weights, the sampling stream's key) and its JSON-safe state dict in the file's
metadata, with a format name and version.  Reading never unpickles anything,
so a model file from an untrusted source cannot run code.  Building the
estimator from what is read is :meth:`TabularVAE.from_state`'s job, which
validates it first (:mod:`tabvae.state_check`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    import torch

FORMAT = "tabvae-model"
FORMAT_VERSION = 1


def check_output_path(path: str | os.PathLike, *, force: bool = True) -> str:
    """``path`` as a string, if a file can be written there; else an OSError naming the path.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``force`` is False.
    IsADirectoryError
        If ``path`` is a directory.
    FileNotFoundError
        If its directory does not exist.
    PermissionError
        If its directory is not writable.
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot write {path!r}: it is a directory; give a file name.")
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"Cannot write {path!r}: the directory {parent!r} does not exist.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"Cannot write {path!r}: the directory {parent!r} is not writable.")
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path!r} exists; pass --force to overwrite it.")
    return path


def write_model_file(path: str | os.PathLike, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Write ``tensors`` and the JSON-safe ``state`` to ``path`` (an OSError naming it if that fails).

    The file is written under a temporary name in the same directory and
    renamed at the end, so an interrupted save never leaves a partial model.
    """
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    path = check_output_path(path)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "tabvae_version": __version__, "state": state}
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    try:
        with atomic_output(path) as tmp:
            save_file(tensors, tmp, metadata={"tabvae": json.dumps(meta)})
    except SafetensorError as e:
        raise OSError(f"Cannot write the model file {path!r}: {e}") from None


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[str]:
    """A temporary file beside ``path`` (ending in its name) that replaces ``path`` only when the block completes."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tabvae-", suffix="-" + os.path.basename(path), dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_model_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The state dict and the tensors (on the CPU) written by :func:`write_model_file`.

    Only the checks of the file's format are made here; the state is
    validated by :meth:`TabularVAE.from_state`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    PermissionError
        If it cannot be read for lack of permission.
    ValueError
        If the file is not a tabvae model, is truncated or corrupted, or was
        written by a newer, incompatible format.
    """
    from safetensors import safe_open

    path = os.fspath(path)
    check_readable(path)
    try:
        with safe_open(path, framework="pt", device="cpu") as f:
            header = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(header["tabvae"])
    except Exception as e:  # safetensors raises several error types for bad files
        raise ValueError(
            f"{path!r} is not a readable tabvae model file (truncated, corrupted, or another "
            f"format): {type(e).__name__}: {e}"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is a safetensors file but not a tabvae model.")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{path!r} has an invalid model format version {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written by tabvae {meta.get('tabvae_version')} in model format "
            f"{version}; this tabvae reads format {FORMAT_VERSION}. Upgrade tabvae."
        )
    if not isinstance(meta.get("state"), dict):
        raise ValueError(f"{path!r} holds no model state (its metadata has no 'state' object).")
    return meta["state"], tensors


def check_readable(path: str) -> None:
    """A FileNotFoundError, PermissionError or ValueError (a directory) unless ``path`` can be opened."""
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise FileNotFoundError(f"No model file at {path!r}.") from None
    except PermissionError:
        raise PermissionError(f"Cannot read the model file {path!r}: permission denied.") from None
    except IsADirectoryError:
        raise ValueError(f"{path!r} is a directory, not a tabvae model file.") from None
