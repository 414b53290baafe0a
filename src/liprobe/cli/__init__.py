"""The ``liprobe`` command line: parse, call, format; nothing else.

``main(argv)`` returns the exit code: 0 on success, 2 on any liprobe error (one line on
stderr naming the file and the problem; ``--traceback`` prints the whole trace) and on
usage errors.
"""

from __future__ import annotations

import sys
import traceback

from liprobe.errors import LiprobeError

__all__ = ["main", "run"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    from liprobe.cli._app import build_app

    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args
    args = [a for a in args if a != "--traceback"]
    command = build_app()
    try:
        # standalone mode: usage errors print their message and exit with code 2
        command(args=args, prog_name="liprobe", standalone_mode=True)
    except LiprobeError as exc:
        if show_traceback:
            traceback.print_exc()
        from liprobe.cli._hints import cli_message

        print(f"liprobe: error: {cli_message(str(exc))}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
