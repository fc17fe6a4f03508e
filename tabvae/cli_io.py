"""Files of the ``tabvae`` command line: tables in, checked outputs, writes that complete or leave nothing."""

from __future__ import annotations

import os
import sys
from typing import Any

from .persistence import check_output_path


class UserError(Exception):
    """A mistake in what the user asked for, reported in one line."""


def read_table(path: str):
    """Read CSV (also gzip), TSV or Parquet; ``-`` reads CSV from standard input."""
    import pandas as pd

    if path == "-":
        return pd.read_csv(sys.stdin)
    if not os.path.exists(path):
        raise UserError(f"no such file: {path}")
    lower = path.lower()
    try:
        if lower.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        sep = "\t" if lower.endswith((".tsv", ".tsv.gz")) else ","
        return pd.read_csv(path, sep=sep)
    except (ValueError, UnicodeDecodeError, OSError, pd.errors.ParserError) as e:
        raise UserError(f"cannot read {path} as a table: {str(e).splitlines()[0]}") from None


TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


def check_output(path: str, force: bool, suffixes: tuple[str, ...] = ()) -> str:
    """``path`` if an output can be written there: its suffix, its directory, and no file unless ``force``."""
    if suffixes and not path.lower().endswith(suffixes):
        raise UserError(f"output must end in {', '.join(suffixes)}; got {path}")
    check_output_path(path, force=force)
    return path


class TableWriter:
    """Append DataFrame chunks to a CSV or Parquet file, so memory stays bounded."""

    def __init__(self, path: str):
        lower = path.lower()
        self.path, self.parquet, self._first = path, lower.endswith((".parquet", ".pq")), True
        self._writer: Any = None  # a pyarrow ParquetWriter once the first chunk is written

    def write(self, chunk) -> None:
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, table.schema)
            self._writer.write_table(table)
        else:
            chunk.to_csv(self.path, mode="w" if self._first else "a", header=self._first, index=False)
        self._first = False

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
