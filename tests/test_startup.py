"""Start-up cost: a one-shot ``liprobe composition`` imports none of the heavy libraries.

Importing numba, scipy.stats, matplotlib, dask or rosettasciio costs more than ranging and
counting a million ions; each must be imported only by the function that needs it.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from liprobe.data import Ion, IonTable, RangeTable
from liprobe.io import write_ions, write_ranges

HEAVY = ("numba", "scipy", "matplotlib", "dask", "distributed", "rsciio", "pandas", "h5py",
         "skimage")


def test_composition_command_imports_no_heavy_library(tmp_path):
    rng = np.random.default_rng(3)
    n = 20_000
    mass = rng.choice(np.array([7.0, 16.0, 29.0], np.float32), n)
    ions = IonTable(rng.normal(0, 10, (n, 3)).astype(np.float32), mass)
    ranges = RangeTable((Ion("Li", (("Li", 1),)), Ion("O", (("O", 1),)), Ion("Ni", (("Ni", 1),))),
                        [6.8, 15.8, 28.8], [7.2, 16.2, 29.2], [0, 1, 2])
    write_ions(tmp_path / "run.pos", ions)
    write_ranges(tmp_path / "run.rrng", ranges)
    code = (
        "import sys\n"
        "from liprobe.cli import main\n"
        f"code = main(['composition', {str(tmp_path / 'run.pos')!r}, '-r', "
        f"{str(tmp_path / 'run.rrng')!r}])\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
        "sys.exit(code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY=")][0]
    assert line == "HEAVY=", f"heavy libraries imported by a one-shot composition: {line[6:]}"
    assert "Li" in out.stdout
