"""Validation helpers of the study manifest: locate a key's line in TOML text (tomllib
reports no positions) and check keys, files and numbers with one-line errors."""

from __future__ import annotations

import difflib
import math
import os
import re
from pathlib import Path
from typing import Any

from liprobe.errors import ManifestError

__all__ = ["Locator", "Checker"]


class Locator:
    """Find the line of a key in TOML text (tomllib reports no positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _headers(self, table: str, array: bool) -> list[int]:
        pattern = re.compile(
            rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]" if array
            else rf"^\s*\[\s*{re.escape(table)}\s*\]"
        )
        return [i for i, line in enumerate(self.lines) if pattern.match(line)]

    def line(self, table: str | None, index: int | None = None,
             key: str | None = None) -> int | None:
        """1-based line of ``key`` in ``[table]`` (or its ``index``-th ``[[table]]``)."""
        if table is None:
            start, stop = 0, len(self.lines)
        else:
            heads = self._headers(table, index is not None)
            pos = 0 if index is None else index
            if pos >= len(heads):
                return None
            start = heads[pos]
            stop = next((i for i in range(start + 1, len(self.lines))
                         if re.match(r"^\s*\[", self.lines[i])), len(self.lines))
        if key is None:
            return start + 1
        key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(start, stop):
            if key_re.match(self.lines[i]):
                return i + 1
        return start + 1 if table is not None else None


class Checker:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.loc = Locator(text)

    def fail(self, message: str, table: str | None = None, index: int | None = None,
             key: str | None = None) -> ManifestError:
        line = self.loc.line(table, index, key)
        where = str(self.path) + (f", line {line}" if line else "")
        if table is not None:
            what = f"[[{table}]] #{index + 1}" if index is not None else f"[{table}]"
            where += f": {what}"
        return ManifestError(f"{where}: {message}")

    def keys(self, entry: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...],
             table: str, index: int | None = None) -> None:
        if not isinstance(entry, dict):
            raise self.fail("must be a table", table, index)
        for key in entry:
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = (f"; did you mean {near[0]!r}?" if near
                        else f"; allowed: {', '.join(allowed)}")
                raise self.fail(f"unknown key {key!r}{hint}", table, index, key)
        for key in required:
            if key not in entry:
                raise self.fail(f"missing required key {key!r}", table, index)

    def file(self, base: Path, value: Any, table: str, index: int | None, key: str) -> Path:
        if not isinstance(value, str) or not value:
            raise self.fail(f"{key!r} must be a file path (a string)", table, index, key)
        path = Path(value)
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise self.fail(f"{key!r}: file {os.fspath(path)!r} does not exist; check the path "
                            "(relative paths resolve against the manifest's folder)",
                            table, index, key)
        return path

    def files(self, base: Path, value: Any, table: str, index: int | None,
              key: str) -> tuple[Path, ...]:
        """A path or a list of paths (each checked by :meth:`file`)."""
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            raise self.fail(f"{key!r} must be a list of file paths", table, index, key)
        return tuple(self.file(base, v, table, index, key) for v in values)

    def reference(self, base: Path, value: Any, table: str, index: int | None,
                  key: str) -> str | Path:
        """A HAADF reference: ``"simulate"`` or an existing image file."""
        if value == "simulate":
            return "simulate"
        if not isinstance(value, str) or not value:
            raise self.fail(f"{key!r} must be \"simulate\" or the path of an image of the "
                            "ordered material", table, index, key)
        return self.file(base, value, table, index, key)

    def number(self, value: Any, table: str, index: int | None, key: str, *,
               integer: bool = False, minimum: float | None = None, positive: bool = False) -> Any:
        ok_types = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok_types):
            kind = "an integer" if integer else "a number"
            raise self.fail(f"{key!r} must be {kind}, got {value!r}", table, index, key)
        if not math.isfinite(value) or (minimum is not None and value < minimum) or (
                positive and value <= 0):
            bound = "> 0" if positive else f">= {minimum}"
            raise self.fail(f"{key!r} must be {bound}, got {value!r}", table, index, key)
        return value

    def strings(self, value: Any, table: str, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
            raise self.fail(f"{key!r} must be a non-empty list of strings", table, None, key)
        return tuple(value)
