"""Fixtures of the robustness suite: a CLI runner asserting the one-line error contract."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    """Run ``liprobe ARGS`` in this process; return exit code, stdout and stderr."""
    from liprobe.cli import main

    def run(*args: object) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def assert_one_line_error(result: CliResult, *names: object) -> str:
    """Exit 2, exactly one stderr line ``liprobe: error: ...`` naming every ``names``."""
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert result.code == 2, (result.code, result.err[-2000:])
    assert len(lines) == 1 and lines[0].startswith("liprobe: error: "), result.err[-2000:]
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


def peak_rss_kib() -> int:
    """Peak resident memory of this process's own image in KiB (``VmHWM``).

    Not ``ru_maxrss``: Linux keeps that across ``execve``, so a child started from a large
    pytest process would report the parent's size.
    """
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_cli_subprocess(*args: object, timeout_s: float = 10.0, cwd: Path | None = None
                       ) -> tuple[CliResult, int]:
    """``liprobe ARGS`` in a fresh interpreter under ``timeout_s``; returns the result and
    the process's peak resident memory in bytes (a hang fails the test, never blocks it)."""
    code = ("import sys\nfrom liprobe.cli import main\nfrom tests.robustness.conftest import "
            "peak_rss_kib\nrc = main(sys.argv[1:])\n"
            "sys.stderr.write(f'\\n@maxrss {peak_rss_kib()}\\n')\nsys.exit(rc)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=timeout_s, env=env, cwd=cwd)
    err, _, rss = proc.stderr.rpartition("@maxrss ")
    return CliResult(proc.returncode, proc.stdout, err), int(rss.strip() or 0) * 1024
