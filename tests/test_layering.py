"""Imports flow one way: the analysis core never pulls in io, report, the CLI or matplotlib."""

import subprocess
import sys

CORE = ["liprobe.data", "liprobe.apt", "liprobe.stem", "liprobe.cell", "liprobe.study"]
FORBIDDEN = ["liprobe.io", "liprobe.report", "liprobe.cli", "matplotlib", "typer"]


def test_core_does_not_import_edges():
    code = (
        "import importlib, sys\n"
        f"for name in {CORE!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
