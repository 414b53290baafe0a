"""Validation at the file boundary, in one place: what an input path must be, how its text
is decoded, and the memory budget a reader may spend on what a header claims.

- :func:`require_input_file` checks a path with ``os.stat`` *before* anything opens it: a
  missing path is a :class:`~liprobe.errors.MissingFileError`; a folder, a FIFO (named
  pipe), a device or a socket is a :class:`~liprobe.errors.FormatError` naming the kind
  (opening a FIFO would block forever);
- :func:`decode_text` decodes UTF-8 (a UTF-8 byte-order mark is dropped), names UTF-16 and
  UTF-32 files as such, and falls back to latin-1 only where the caller allows it;
- :func:`check_budget` refuses an allocation a header asks for beyond
  :data:`MEMORY_BUDGET_BYTES` (or the file's size for data that must be in the file).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from liprobe.errors import FormatError, MissingFileError

__all__ = ["require_input_file", "decode_text", "check_budget", "MEMORY_BUDGET_BYTES",
           "text_encoding_problem"]

#: Most memory a reader allocates for what a file's header claims (4 GiB); larger
#: requests are an error naming the file, not an attempt.
MEMORY_BUDGET_BYTES = 4 << 30

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def require_input_file(path: str | os.PathLike, *, what: str = "file") -> Path:
    """``path`` as a Path if it is an existing regular file (links followed).

    Checked with ``os.stat`` before the file is opened, so a FIFO never blocks.

    Raises
    ------
    MissingFileError
        Nothing exists at ``path``.
    FormatError
        ``path`` is a folder, a FIFO, a device or a socket.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise MissingFileError(f"{p}: no such {what}; check the path and the working "
                               "directory") from None
    except OSError as exc:
        raise FormatError(f"cannot read the {what} ({exc.strerror})", path=p) from None
    if stat.S_ISDIR(st.st_mode):
        raise FormatError(f"is a folder, where the {what} was expected", path=p,
                          hint="pass the path of the file itself")
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise FormatError(f"is {kind}, where the {what} (a regular file) was expected", path=p,
                          hint="liprobe reads regular files only; copy the data to a file")
    return p


def text_encoding_problem(data: bytes) -> str | None:
    """The name of a UTF-16/UTF-32 encoding ``data`` is in (by BOM or NUL pattern), else None."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    head = data[:200]
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
        return "UTF-16 (little-endian, no BOM)"
    if len(head) >= 4 and head[0::2].count(0) > len(head) // 4 and head[1::2].count(0) == 0:
        return "UTF-16 (big-endian, no BOM)"
    return None


def decode_text(data: bytes, *, path: str | os.PathLike, what: str = "text file",
                latin1_fallback: bool = False) -> str:
    """Decode the bytes of a text input; a UTF-8 BOM is dropped.

    Raises
    ------
    FormatError
        UTF-16 or UTF-32 text (named as such, with what to do), or bytes that are not
        UTF-8 when ``latin1_fallback`` is False.
    """
    encoding = text_encoding_problem(data)
    if encoding is not None:
        raise FormatError(f"the {what} is {encoding} text", path=path, offset=0,
                          hint="save it as UTF-8 (e.g. 'Save as... UTF-8' or "
                          "iconv -f UTF-16 -t UTF-8)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if latin1_fallback:
            return data.decode("latin-1")
        raise FormatError(f"the {what} is not UTF-8 text ({exc.reason})", path=path,
                          offset=exc.start, hint="save it as UTF-8") from None


def check_budget(n_bytes: int, *, path: str | os.PathLike, what: str,
                 file_size: int | None = None) -> None:
    """Refuse an allocation of ``n_bytes`` a header asks for.

    ``file_size``: data that must be stored in the file cannot exceed it.

    Raises
    ------
    FormatError
        Negative, larger than the file holds, or beyond :data:`MEMORY_BUDGET_BYTES`.
    """
    if n_bytes < 0:
        raise FormatError(f"{what}: the header gives a negative size", path=path, offset=0)
    if file_size is not None and n_bytes > file_size:
        raise FormatError(f"{what}: the header asks for {n_bytes} bytes but the file holds "
                          f"{file_size}", path=path, offset=0,
                          hint="the file is truncated or its header is damaged")
    if n_bytes > MEMORY_BUDGET_BYTES:
        raise FormatError(f"{what}: the header asks for {n_bytes / 2**30:.1f} GiB, beyond "
                          f"liprobe's {MEMORY_BUDGET_BYTES / 2**30:.0f} GiB reader budget",
                          path=path, offset=0)
