"""Atomic writes that never overwrite an input."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from liprobe.errors import LiprobeError, OverwriteError, ParameterError

__all__ = ["atomic_path", "check_not_input", "output_os_errors"]


def check_not_input(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse an output path that is one of the inputs (same resolved path, or the same
    device and inode: a symbolic or hard link)."""
    from liprobe.io.output_policy import same_file

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
    with output_os_errors(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        os.close(fd)
    tmp_path = Path(tmp)
    try:
        with output_os_errors(out):
            yield tmp_path
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600: the usual file mode
            os.replace(tmp_path, out)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def output_os_errors(out: Path) -> Iterator[None]:
    """Turn an operating-system error while writing ``out`` into one :class:`ParameterError`
    line naming the path and the reason (a liprobe error passes through)."""
    try:
        yield
    except LiprobeError:
        raise
    except OSError as exc:
        where = exc.filename if exc.filename is not None else out
        raise ParameterError(f"{out}: cannot write ({exc.strerror or exc} at {where}); choose "
                             "a writable output path with free space") from None
