"""Error hints in the words of the command line.

The library's errors suggest Python keywords ("pass format=", "check_elements=False")
that a command-line user cannot type; :func:`cli_message` rewrites them into what to do
at the command line. One table, so a new library hint gets its CLI wording here.
"""

from __future__ import annotations

import re

__all__ = ["CLI_HINTS", "cli_message"]

#: (pattern in a library message, replacement for the command line)
CLI_HINTS: tuple[tuple[str, str], ...] = (
    (r"\s*or pass format=\s*", " (rename the file with one of these suffixes)"),
    (r"pass format=\S*", "rename the file with a known suffix"),
    (r"fix the symbol, or pass check_elements=False for placeholder symbols",
     "fix the symbol in the range file (an element symbol such as Li, Ni, O)"),
    (r";?\s*pass fill_missing=True to write zeros for them, or write POS/APT instead",
     "; convert to a .pos or .apt file instead"),
    (r"pass overwrite=True to write into it", "choose an empty folder"),
    (r"\s*\(allow_unknown_elements=True\)", ""),
)


def cli_message(message: str) -> str:
    """``message`` with Python-keyword hints replaced by command-line wording."""
    for pattern, replacement in CLI_HINTS:
        message = re.sub(pattern, replacement, message)
    return message
