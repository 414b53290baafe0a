"""The reconstruction and detector-space modules stay in the analysis core."""

import subprocess
import sys

MODULES = ["liprobe.apt.reconstruct", "liprobe.apt.depth_calibration",
           "liprobe.apt.mass_calibration", "liprobe.apt.detector", "liprobe.apt.tip_profile"]
FORBIDDEN = ["liprobe.io", "liprobe.report", "liprobe.cli", "matplotlib", "typer", "skimage"]


def test_modules_do_not_import_edges():
    code = ("import importlib, sys\n"
            f"for name in {MODULES!r}:\n"
            "    importlib.import_module(name)\n"
            f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
