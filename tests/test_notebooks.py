"""Every example notebook in notebooks/ is in step with its source and runs top to bottom without an error.

Each notebook ``NN_name.ipynb`` is paired (jupytext, see notebooks/jupytext.toml) with the percent-format
script ``NN_name.py``, the source to edit; ``jupytext --sync notebooks/*.ipynb`` brings the pair back in step
(the .ipynb keeps its saved outputs). Each notebook is executed from a temporary copy of the notebooks folder (the
committed files, with their saved outputs, are never touched) with
``TABVAE_NOTEBOOK_EPOCHS=3`` and ``TABVAE_NOTEBOOK_FAST=1``, which the
notebooks read to train briefly on smaller tables. The numbers they print are
then meaningless; this test only checks that the code runs against the
current API.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("sdmetrics")
pytest.importorskip("pyarrow")

jupytext = pytest.importorskip("jupytext")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
FAST_ENV = {"TABVAE_NOTEBOOK_EPOCHS": "3", "TABVAE_NOTEBOOK_FAST": "1"}
CELL_TIMEOUT_S = 300


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 5, f"expected the example notebooks in {NOTEBOOK_DIR}, found {NOTEBOOKS}"
    unpaired = [p.name for p in NOTEBOOKS if not p.with_suffix(".py").exists()]
    unpaired += [p.name for p in NOTEBOOK_DIR.glob("[0-9]*.py") if not p.with_suffix(".ipynb").exists()]
    assert not unpaired, f"notebooks without their paired source (run `jupytext --sync notebooks/*`): {unpaired}"


def _cells(path: Path) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in jupytext.read(path).cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_in_sync_with_source(path):
    notebook, source = _cells(path), _cells(path.with_suffix(".py"))
    assert notebook == source, (
        f"{path.name} and {path.with_suffix('.py').name} differ: edit the .py and run "
        f"`jupytext --sync notebooks/{path.with_suffix('.py').name}` (keeps the saved outputs)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    nb = nbformat.read(work / path.name, as_version=4)
    for cell in nb.cells:  # run from scratch: no stale outputs can hide an error
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None

    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(work)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError (with the traceback) on any failing cell
    elapsed = time.perf_counter() - start

    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors, errors
    assert elapsed < 600, f"{path.name} took {elapsed:.0f} s in fast mode"
    assert os.path.exists(path)  # the committed notebook is still there, untouched
