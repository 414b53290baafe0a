"""The one exception hierarchy of liprobe.

Every error liprobe raises on bad input is a :class:`LiprobeError`. Each subclass also
inherits the built-in exception it refines, so ``except ValueError`` keeps working for
callers that do not know liprobe. Messages say *what* is wrong, *where* (path, byte
offset, line, parameter) and *what to try*.
"""

from __future__ import annotations

import os

__all__ = [
    "LiprobeError",
    "FormatError",
    "UnknownFormatError",
    "RangeOverlapError",
    "ParameterError",
    "ManifestError",
    "MissingFileError",
    "OverwriteError",
    "DependencyError",
    "LiprobeWarning",
    "SpecimenError",
    "ResultsSchemaError",
]


class LiprobeError(Exception):
    """Base class of every error liprobe raises on purpose."""


def _place(path: str | os.PathLike | None, offset: int | None, line: int | None) -> str:
    parts = []
    if path is not None:
        parts.append(os.fspath(path))
    if line is not None:
        parts.append(f"line {line}")
    if offset is not None:
        parts.append(f"byte {offset}")
    return ", ".join(parts)


class FormatError(LiprobeError, ValueError):
    """A file's bytes or text do not follow its format.

    Parameters
    ----------
    message : str
        What is wrong.
    path : path-like, optional
        The file.
    offset : int, optional
        Byte offset where the problem was found (binary formats).
    line : int, optional
        1-based line number (text formats).
    hint : str, optional
        What to try.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike | None = None,
        offset: int | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = None if path is None else os.fspath(path)
        self.offset = offset
        self.line = line
        self.hint = hint
        self.reason = message
        place = _place(path, offset, line)
        text = f"{place}: {message}" if place else message
        if hint:
            text = f"{text}. {hint}"
        super().__init__(text)


class UnknownFormatError(FormatError):
    """The format of a file could not be recognised from its bytes or suffix."""


class RangeOverlapError(LiprobeError, ValueError):
    """Two mass ranges overlap, so an ion could be counted twice."""


class ParameterError(LiprobeError, ValueError):
    """A function or command was given a value it cannot use."""


class ManifestError(LiprobeError, ValueError):
    """A study manifest is invalid (the message names the line and key)."""


class MissingFileError(LiprobeError, FileNotFoundError):
    """An input file does not exist."""


class OverwriteError(LiprobeError, FileExistsError):
    """An output would overwrite an input or an existing file."""


class DependencyError(LiprobeError, ImportError):
    """An optional dependency needed for this operation is not installed."""


class LiprobeWarning(UserWarning):
    """Something liprobe could handle but the user should know (e.g. a skipped APT section)."""


class SpecimenError(LiprobeError, RuntimeError):
    """An analysis step failed on one specimen of a study (the message names it and its file)."""


class ResultsSchemaError(LiprobeError, ValueError):
    """A study results folder, or a table written into one, does not follow the results
    schema (:mod:`liprobe.workflow.results_schema`); the message names the file, the table
    or key and what is missing."""
