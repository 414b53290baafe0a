"""Chunked reading of POS/EPOS files: one reused buffer, ordinary reads, bounded memory.

For point clouds larger than memory (10^9 ions): the chunked composition and profile of
:mod:`liprobe.workflow.scaleout` and the streamed specimen pass read through
:func:`iter_ion_chunks`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from liprobe.data import IonTable
from liprobe.errors import FormatError, MissingFileError, ParameterError

__all__ = ["DEFAULT_CHUNK_IONS", "iter_ion_chunks", "record_bytes"]

#: Ions per chunk by default (64 MiB of POS records).
DEFAULT_CHUNK_IONS = 1 << 22
_RECORD_BYTES = {".pos": 16, ".epos": 44}


def record_bytes(path: Path) -> int:
    suffix = path.suffix.lower()
    if suffix not in _RECORD_BYTES:
        raise FormatError(f"chunked reading supports POS and EPOS files, not {suffix or 'no'} "
                          "suffix", path=path, hint="convert the file to POS, or read it whole "
                          "with liprobe.io.read_ions")
    return _RECORD_BYTES[suffix]


def iter_ion_chunks(path: str | os.PathLike, *, chunk_ions: int = DEFAULT_CHUNK_IONS,
                    start_ion: int = 0, stop_ion: int | None = None) -> Iterator[IonTable]:
    """Yield the ions of a POS/EPOS file as IonTables of at most ``chunk_ions`` ions.

    One buffer of ``chunk_ions`` records is reused (ordinary reads, no memory map), so
    memory stays bounded whatever the file size. The yielded tables are *views of that
    buffer*: use each before asking for the next. Only x, y, z and m/q are read.

    Raises
    ------
    MissingFileError, FormatError
        Missing file; size not a multiple of the record size.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such file; check the path")
    record = record_bytes(path)
    size = path.stat().st_size
    if size % record:
        raise FormatError(f"size {size} bytes is not a multiple of {record} bytes per ion",
                          path=path, offset=size, hint="check that the file is complete")
    if int(chunk_ions) < 1:
        raise ParameterError(f"chunk_ions must be at least 1, got {chunk_ions}")
    n_ions = size // record
    stop = n_ions if stop_ion is None else min(int(stop_ion), n_ions)
    words = record // 4
    buffer = np.empty((int(chunk_ions), words), dtype=">f4")
    with open(path, "rb", buffering=0) as fh:
        fh.seek(int(start_ion) * record)
        position = int(start_ion)
        while position < stop:
            n = min(int(chunk_ions), stop - position)
            view = buffer[:n]
            target = memoryview(view).cast("B")
            got = 0
            while got < n * record:
                step = fh.readinto(target[got:])
                if not step:
                    raise FormatError(f"short read: expected {n * record} bytes, got {got}",
                                      path=path, offset=position * record + got,
                                      hint="the file changed while being read?")
                got += step
            yield IonTable(view[:, :3], view[:, 3])
            position += n


