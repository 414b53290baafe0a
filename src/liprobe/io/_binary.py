"""Shared plumbing of the binary point-cloud readers and writers (POS, EPOS, APT).

Checks that a path is a readable file, memory-maps fixed-size records without copying,
and writes record arrays in bounded chunks so that a writer never holds a second full
copy of a large table in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from liprobe.errors import FormatError

__all__ = ["existing_file", "file_size", "map_records", "write_chunked", "CHUNK_ROWS"]

#: Rows converted and written per chunk (1 M rows of 44 B = 44 MB at most).
CHUNK_ROWS = 1 << 20


def existing_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path, or :class:`MissingFileError` / :class:`FormatError` (not a file)."""
    from liprobe.io.validate import require_input_file

    return require_input_file(path)


def file_size(path: Path) -> int:
    """Size of ``path`` in bytes."""
    return path.stat().st_size


def map_records(path: Path, dtype: np.dtype, count: int, *, offset: int = 0,
                shape_tail: tuple[int, ...] = (), mmap: bool = True) -> np.ndarray:
    """``count`` records of ``dtype`` starting at ``offset``, memory-mapped read-only.

    With ``mmap=False`` the records are read into memory with one read. A count of 0
    gives an empty array (a zero-length mapping is not allowed by the OS).
    """
    shape = (count, *shape_tail)
    if count == 0:
        return np.zeros(shape, dtype=dtype)
    if mmap:
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
    n_items = int(np.prod(shape))
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = np.fromfile(fh, dtype=dtype, count=n_items)
    if data.size != n_items:
        raise FormatError(f"expected {n_items} values, found {data.size}", path=path,
                          offset=offset)
    return data.reshape(shape)


def write_chunked(path: str | os.PathLike, n_rows: int, dtype: np.dtype,
                  fill: Callable[[np.ndarray, slice], None], *, mode: str = "wb") -> None:
    """Write ``n_rows`` records of ``dtype`` to ``path`` chunk by chunk.

    ``fill(buffer, rows)`` fills ``buffer`` (a record array of ``len(rows)``) with the
    records of the slice ``rows``.
    """
    with open(path, mode) as fh:
        for start in range(0, n_rows, CHUNK_ROWS):
            rows = slice(start, min(start + CHUNK_ROWS, n_rows))
            buffer = np.empty(rows.stop - rows.start, dtype=dtype)
            fill(buffer, rows)
            buffer.tofile(fh)
