"""The ``liprobe`` command line: parse, call, format; nothing else.

``main(argv)`` returns the exit code: 0 on success, 2 on any liprobe error (one line on
stderr naming the file and the problem; ``--traceback`` prints the whole trace) and on
usage errors. Liprobe warnings are printed aggregated: one line per kind, with the count of
the others like it.
"""

from __future__ import annotations

import re
import sys
import traceback
import warnings

from liprobe.errors import LiprobeError, LiprobeWarning

__all__ = ["main", "run"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    from liprobe.cli._app import build_app

    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args
    args = [a for a in args if a != "--traceback"]
    command = build_app()
    with warnings.catch_warnings(record=True) as caught:
        # every liprobe warning is recorded (others keep their filters), then printed
        # aggregated, before the error line if any
        warnings.simplefilter("always", LiprobeWarning)
        code, error = _invoke(command, args, show_traceback)
    _print_warnings(caught)
    if error is not None:
        print(f"liprobe: error: {error}", file=sys.stderr)
    return code


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    """One stderr line per kind of warning, with how many there were of that kind.

    Messages of one kind differ only in numbers and quoted names (``skipped APT section
    'X' at byte 123``); the first one is printed, with the count of the others.
    """
    kinds: dict[tuple[str, str], list[str]] = {}
    for item in caught:
        text = str(item.message)
        key = re.sub(r"'[^']*'|\"[^\"]*\"|\d+(\.\d+)?(e[-+]?\d+)?", "#", text)
        kinds.setdefault((item.category.__name__, key), []).append(text)
    for texts in kinds.values():
        more = f" (and {len(texts) - 1} more like it)" if len(texts) > 1 else ""
        print(f"liprobe: warning: {texts[0]}{more}", file=sys.stderr)


def _invoke(command, args: list[str], show_traceback: bool) -> tuple[int, str | None]:
    """Run the command; return the exit code and the liprobe error's text (or None)."""
    try:
        # standalone mode: usage errors print their message and exit with code 2
        command(args=args, prog_name="liprobe", standalone_mode=True)
    except LiprobeError as exc:
        if show_traceback:
            traceback.print_exc()
        from liprobe.cli._hints import cli_message

        return 2, cli_message(str(exc))
    except SystemExit as exc:
        if exc.code is None:
            return 0, None
        return (exc.code if isinstance(exc.code, int) else 1), None
    return 0, None


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
