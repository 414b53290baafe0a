"""Atomic writes that never overwrite an input."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from liprobe.errors import OverwriteError

__all__ = ["atomic_path", "check_not_input"]


def check_not_input(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse an output path that is one of the inputs (same resolved path, or the same
    device and inode: a symbolic or hard link)."""
    from liprobe.io._output_policy import same_file

    out = Path(path)
    for src in inputs:
        if same_file(out, src):
            raise OverwriteError(
                f"{out}: refusing to overwrite the input file; choose another output path"
            )
    return out


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = ()
) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The final file appears complete or not at all. ``inputs`` are paths that must not be
    overwritten (raises :class:`~liprobe.errors.OverwriteError`).
    """
    out = check_not_input(path, inputs)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp_path, out)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
