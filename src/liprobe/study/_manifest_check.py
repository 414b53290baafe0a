"""Validation helpers of the study manifest: locate a key's line in TOML text (tomllib
reports no positions) and check keys, files and numbers with one-line errors."""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from liprobe.errors import ManifestError

__all__ = ["Locator", "Checker", "SETTING_BOUNDS", "DEPTH_MAX_NM", "CYCLES_MAX",
           "PIXEL_SIZE_RANGE_NM", "canonical_depth_label"]

#: Deepest depth below a particle surface a manifest may give (1 mm).
DEPTH_MAX_NM = 1.0e6
#: Most cycles a sample may state.
CYCLES_MAX = 1_000_000
#: Pixel sizes a HAADF image may have (0.1 pm to 1 um per pixel).
PIXEL_SIZE_RANGE_NM = (1.0e-4, 1.0e3)
#: ``[settings]`` numbers: (lowest, highest, integer). Outside these a run would fail or
#: allocate beyond its budget (e.g. 10^12 profile bins), so ``study check`` refuses them.
SETTING_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "profile_bin_nm": (0.01, 1.0e5, False),      # >= 0.01 nm: at most ~10^6 bins per specimen
    "particle_radius_um": (0.01, 1.0e4, False),  # 10 nm to 1 cm
    "bulk_depth_nm": (0.0, DEPTH_MAX_NM, False),
    "fda_block_ions": (2, 10_000_000, True),
    "seed": (0, 2**63 - 1, True),
    "max_in_memory_ions": (1_000, 2_000_000_000, True),  # <= 2e9 ions (~32 GB of POS)
}


def canonical_depth_label(op: str | None, value: str, unit: str | None, label: str) -> str:
    """One spelling per depth: ``"30nm"``, ``"30 nm"`` and ``" 30  nm"`` are ``"30 nm"``;
    ``"<100nm"`` is ``"< 100 nm"``; a note in parentheses is kept."""
    note = label[label.index("("):].strip() if "(" in label else ""
    text = f"{op} " if op in ("<", "<=", "about") else (op or "")
    text += f"{value} {unit or 'nm'}"
    return f"{text} {note}".strip()


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
        try:
            mode = os.stat(path).st_mode
        except OSError:
            raise self.fail(f"{key!r}: file {os.fspath(path)!r} does not exist; check the path "
                            "(relative paths resolve against the manifest's folder)",
                            table, index, key) from None
        if not stat.S_ISREG(mode):
            kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)"
                    if stat.S_ISFIFO(mode) else "not a regular file")
            raise self.fail(f"{key!r}: {os.fspath(path)!r} is {kind}; name a regular file",
                            table, index, key)
        return path

    def identity(self, path: Path) -> tuple[int, int]:
        """``(st_dev, st_ino)`` of an existing file: the same file under any link."""
        st = os.stat(path)
        return (st.st_dev, st.st_ino)

    def text(self, value: Any, table: str, index: int | None, key: str) -> str:
        """A non-empty string (a name), else a one-line error naming the type found."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key!r} must be a non-empty text (a name in quotes), got "
                            f"{type(value).__name__} {str(value)[:40]!r}", table, index, key)
        return value

    def bounded(self, value: float, low: float, high: float, table: str, index: int | None,
                key: str) -> float:
        """``value`` if ``low <= value <= high``, else a one-line error naming the range."""
        if not (low <= value <= high):
            raise self.fail(f"{key!r} must be from {low:g} to {high:g}, got {value:g}",
                            table, index, key)
        return value

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
