"""The one output policy of every liprobe command that writes.

Rules (checked before any work is done):

1. never write over an input: an output path is compared with every path the run reads,
   resolved through symbolic links and by ``(st_dev, st_ino)`` (hard links);
2. never replace an existing file or a non-empty folder unless ``force=True``
   (``--force`` on the command line);
3. every file is written atomically (:func:`liprobe.io.atomic.atomic_path`);
4. an output *folder* (the study output) is written into a fresh hidden staging folder
   beside it, marked ``INCOMPLETE``; at the end a manifest of every file and its SHA-256
   (:data:`COMPLETE_NAME`) is written into it and the staging folder is swapped in place of
   the old one in one step. A run killed at any point leaves the old complete folder (and
   a hidden staging folder that the next run removes); stale files of an earlier run can
   never sit beside new ones;
5. a lock (``fcntl.flock`` on ``.<name>.lock`` beside the folder, released by the kernel
   when the process dies) stops two runs writing one folder: the second refuses at once.

:func:`verify_output_folder` is what a reader of such a folder (the report) calls: it
refuses a folder marked incomplete, one whose files do not match its manifest, and files
the manifest does not list.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from liprobe.errors import LiprobeError, OverwriteError, ParameterError

__all__ = ["COMPLETE_NAME", "INCOMPLETE_NAME", "IncompleteOutputError", "check_output_file",
           "check_output_folder", "staged_folder", "verify_output_folder", "add_output_file",
           "same_file", "file_sha256"]

#: Manifest of a complete output folder: ``{"files": {relative path: sha256}, ...}``.
COMPLETE_NAME = "liprobe-complete.json"
#: Marker of a folder still being written (a staging folder).
INCOMPLETE_NAME = "INCOMPLETE"
_MAX_WALK = 200_000


class IncompleteOutputError(LiprobeError, RuntimeError):
    """An output folder is incomplete, altered or holds files its run did not write."""


def file_sha256(path: str | os.PathLike, *, chunk_bytes: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file (resolved path or same device and inode)."""
    a, b = Path(a), Path(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    ia, ib = _identity(a), _identity(b)
    return ia is not None and ia == ib


def _check_parent(out: Path, what: str) -> None:
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise ParameterError(f"{out}: cannot write the {what}: {parent} is a file, not a folder; "
                             "choose another output path")


def check_output_file(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                      force: bool = False, what: str = "output file") -> Path:
    """Refuse an output file that is an input, a folder, or (without ``force``) exists.

    Raises
    ------
    OverwriteError
        ``path`` is one of ``inputs`` (whatever ``force``), or exists and ``force`` is False.
    ParameterError
        ``path`` is a folder, or a component of its folder is a file.
    """
    out = Path(path)
    for src in inputs:
        if same_file(out, src):
            raise OverwriteError(f"{out}: refusing to write the {what} over the input "
                                 f"{src}; choose another output path")
    _check_parent(out, what)
    if out.is_dir():
        raise ParameterError(f"{out}: is a folder; give a file path for the {what}")
    if (out.exists() or out.is_symlink()) and not force:
        raise OverwriteError(f"{out}: already exists; pass --force to replace it")
    return out


def _inputs_inside(folder: Path, inputs: Iterable[str | os.PathLike]) -> str | None:
    real = Path(os.path.realpath(folder))
    idents = {}
    for src in inputs:
        src_real = Path(os.path.realpath(src))
        if src_real == real or real in src_real.parents:
            return os.fspath(src)
        ident = _identity(Path(src))
        if ident is not None:
            idents[ident] = os.fspath(src)
    if not idents or not folder.is_dir():
        return None
    for n, (dirpath, _dirs, files) in enumerate(os.walk(folder)):
        if n > _MAX_WALK:
            break
        for name in files:
            ident = _identity(Path(dirpath) / name)
            if ident in idents:
                return idents[ident]
    return None


def check_output_folder(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                        force: bool = False) -> Path:
    """Refuse an output folder that holds an input, is a file, or (without ``force``) is a
    non-empty folder.

    Raises
    ------
    OverwriteError
        An input lies inside ``path`` (whatever ``force``), or ``path`` is a non-empty
        folder and ``force`` is False.
    ParameterError
        ``path`` is an existing file, or a component of its folder is a file.
    """
    out = Path(path)
    inside = _inputs_inside(out, list(inputs))
    if inside is not None:
        raise OverwriteError(f"{out}: the output folder holds the input {inside}; the run would "
                             "replace its own inputs. Choose another output folder (-o)")
    _check_parent(out, "output folder")
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out}: exists and is a file, not a folder; choose another "
                             "output folder (-o)")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OverwriteError(f"{out}: output folder exists and is not empty; pass --force to "
                             "replace it (it is replaced as a whole once the new run is "
                             "complete) or choose another folder")
    return out


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                     ctypes.c_uint]
    rc = func(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def _manifest_of(folder: Path) -> dict[str, str]:
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name not in (COMPLETE_NAME, INCOMPLETE_NAME):
            files[path.relative_to(folder).as_posix()] = file_sha256(path)
    return files


def _write_complete(folder: Path, extra: dict[str, Any]) -> None:
    body = {"format": "liprobe output folder", "version": 1, **extra,
            "files": _manifest_of(folder)}
    tmp = folder / f".{COMPLETE_NAME}.part"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(body, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / COMPLETE_NAME)


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[None]:
    import fcntl

    from liprobe.io.atomic import output_os_errors

    lock_path = folder.parent / f".{folder.name}.lock"
    with output_os_errors(folder):
        fh = open(lock_path, "a+")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OverwriteError(f"{folder}: another liprobe run is writing this folder "
                                 f"(lock {lock_path}); wait for it or choose another "
                                 "output folder") from None
        yield
    finally:
        fh.close()


def _clean_leftovers(folder: Path) -> None:
    for pattern in (f".{folder.name}.staging-*", f".{folder.name}.old-*"):
        for left in folder.parent.glob(pattern):
            if left.is_dir() and not left.is_symlink():
                shutil.rmtree(left, ignore_errors=True)


@contextlib.contextmanager
def staged_folder(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                  force: bool = False, extra: dict[str, Any] | None = None) -> Iterator[Path]:
    """Yield a fresh staging folder; on success swap it in as ``path``, complete.

    The policy checks run first (:func:`check_output_folder`), then the lock is taken
    (a second run refuses with :class:`~liprobe.errors.OverwriteError`). On an exception
    the staging folder is removed and ``path`` is left as it was.
    """
    from liprobe.io.atomic import output_os_errors

    out = Path(path)
    inputs = list(inputs)
    check_output_folder(out, inputs=inputs, force=force)
    with output_os_errors(out):
        out.parent.mkdir(parents=True, exist_ok=True)
    with _lock(out):
        check_output_folder(out, inputs=inputs, force=force)  # again, under the lock
        _clean_leftovers(out)
        stage = out.parent / f".{out.name}.staging-{os.getpid()}"
        with output_os_errors(out):
            stage.mkdir()
        try:
            (stage / INCOMPLETE_NAME).write_text(
                "This folder is being written by liprobe (or its run was killed); it is "
                "incomplete and must not be used.\n", encoding="utf-8")
            yield stage
            (stage / INCOMPLETE_NAME).unlink()
            _write_complete(stage, extra or {})
            if out.exists():
                if not _renameat2_exchange(stage, out):
                    old = out.parent / f".{out.name}.old-{os.getpid()}"
                    os.rename(out, old)
                    os.rename(stage, out)
                    stage = old
                shutil.rmtree(stage, ignore_errors=True)  # now the old folder
            else:
                os.rename(stage, out)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise


def verify_output_folder(path: str | os.PathLike, *, subfolders: tuple[str, ...] = ()
                         ) -> dict[str, str] | None:
    """Check a folder written through :func:`staged_folder` before it is used.

    Returns the manifest's ``{relative path: sha256}``, or None for a folder without any
    liprobe marker (not written by a liprobe run: nothing to verify).

    Raises
    ------
    IncompleteOutputError
        The folder is marked incomplete, its manifest cannot be read, a listed file is
        missing or changed, or a file under ``subfolders`` is not listed (stale or foreign).
    """
    folder = Path(path)
    if (folder / INCOMPLETE_NAME).exists():
        raise IncompleteOutputError(f"{folder}: incomplete output (the run writing it was "
                                    "stopped or is still running); run it again")
    marker = folder / COMPLETE_NAME
    if not marker.exists():
        return None
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IncompleteOutputError(f"{marker}: unreadable manifest of the output folder "
                                    f"({exc}); run the study again") from None
    for rel, digest in files.items():
        target = folder / rel
        if not target.is_file():
            raise IncompleteOutputError(f"{target}: listed in {COMPLETE_NAME} but missing; "
                                        "the folder is incomplete, run the study again")
        if file_sha256(target) != digest:
            raise IncompleteOutputError(f"{target}: changed since the run wrote it (SHA-256 "
                                        f"differs from {COMPLETE_NAME}); run the study again")
    for sub in subfolders:
        base = folder / sub
        if not base.is_dir():
            continue
        for item in sorted(base.rglob("*")):
            rel = item.relative_to(folder).as_posix()
            if item.is_file() and rel not in files:
                raise IncompleteOutputError(f"{item}: not written by the run that completed "
                                            f"{folder} (stale or foreign file); remove it or "
                                            "run the study again")
    return files


def add_output_file(folder: str | os.PathLike, relative: str, data: bytes) -> Path:
    """Add one file to a complete output folder and list it in the folder's manifest.

    Raises
    ------
    IncompleteOutputError
        ``folder`` is not a complete liprobe output folder.
    """
    folder = Path(folder)
    files = verify_output_folder(folder)
    if files is None:
        raise IncompleteOutputError(f"{folder}: not a complete liprobe output folder "
                                    f"(no {COMPLETE_NAME})")
    from liprobe.io.atomic import atomic_path

    with _lock(folder):
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            tmp.write_bytes(data)
        body = json.loads((folder / COMPLETE_NAME).read_text(encoding="utf-8"))
        body["files"][Path(relative).as_posix()] = hashlib.sha256(data).hexdigest()
        with atomic_path(folder / COMPLETE_NAME) as tmp:
            tmp.write_text(json.dumps(body, indent=1, sort_keys=True), encoding="utf-8")
    return target


