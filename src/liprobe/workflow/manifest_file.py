"""Reading a study manifest file: the file checks, then :func:`liprobe.study.manifest.
parse_manifest` (the schema and its validation live with the study science; opening files is
the workflow's).
"""

from __future__ import annotations

import os
from pathlib import Path

from liprobe.errors import LiprobeError, ManifestError, MissingFileError
from liprobe.study.manifest import MANIFEST_MAX_BYTES, Manifest, parse_manifest

__all__ = ["read_manifest"]


def read_manifest(path: str | os.PathLike) -> Manifest:
    """Read and validate a study manifest (see the module docstring for the schema).

    Examples
    --------
    >>> read_manifest("study.toml")  # doctest: +SKIP
    """
    from liprobe.io.validate import decode_text, require_input_file

    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path}: no such manifest file")
    require_input_file(path, what="manifest file")
    data = path.read_bytes()
    if len(data) > MANIFEST_MAX_BYTES:
        raise ManifestError(f"{path}: {len(data)} bytes is too large for a study manifest "
                            f"(at most {MANIFEST_MAX_BYTES}); is this the right file?")
    try:
        text = decode_text(data, path=path, what="manifest")
    except LiprobeError as exc:
        raise ManifestError(str(exc)) from None
    return parse_manifest(text, path)
