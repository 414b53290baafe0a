"""Start-up cost: a one-shot ``liprobe composition`` imports none of the heavy libraries,
and ``liprobe --help`` none of the command modules.

Importing numba, scipy.stats, matplotlib, dask or rosettasciio costs more than ranging and
counting a million ions; each must be imported only by the function that needs it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np

from liprobe.data import Ion, IonTable, RangeTable
from liprobe.io import write_ions, write_ranges

HEAVY = ("numba", "scipy", "matplotlib", "dask", "distributed", "rsciio", "pandas", "h5py",
         "skimage")


def _write_run(folder, *, seed: int) -> None:
    """A 20 000-ion POS of Li, O and Ni and its range file (run.pos, run.rrng) in ``folder``."""
    rng = np.random.default_rng(seed)
    n = 20_000
    mass = rng.choice(np.array([7.0, 16.0, 29.0], np.float32), n)
    ions = IonTable(rng.normal(0, 10, (n, 3)).astype(np.float32), mass)
    ranges = RangeTable((Ion("Li", (("Li", 1),)), Ion("O", (("O", 1),)), Ion("Ni", (("Ni", 1),))),
                        [6.8, 15.8, 28.8], [7.2, 16.2, 29.2], [0, 1, 2])
    write_ions(folder / "run.pos", ions)
    write_ranges(folder / "run.rrng", ranges)


def test_composition_command_imports_no_heavy_library(tmp_path):
    _write_run(tmp_path, seed=3)
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


#: Third-party packages a ``liprobe composition`` process may import (beside the standard
#: library): the parser, the arrays, the element and isotope data.
FAST_PATH_PACKAGES = {"liprobe", "numpy", "click", "periodictable"}
#: The typer stack: its import alone costs more than the whole composition of 1 M ions.
TYPER_STACK = ("typer", "pydantic", "pydantic_core", "rich", "shellingham")


def _imported(args: list[str], cwd) -> tuple[set[str], str]:
    """Modules a fresh ``python -X importtime -m liprobe ARGS`` imports, and its stdout."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "liprobe", *args],
                         capture_output=True, text=True, check=True, cwd=cwd)
    names = {line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    return names - {"imported package"}, out.stdout


def _command_modules() -> set[str]:
    from liprobe.cli._app import COMMANDS

    return {module for module, _ in COMMANDS.values()}


def test_composition_process_imports_only_its_own_command(tmp_path):
    _write_run(tmp_path, seed=5)
    names, stdout = _imported(["composition", "run.pos", "-r", "run.rrng", "--json"], tmp_path)
    assert '"Li"' in stdout
    top = {name.split(".")[0] for name in names}
    # -X importtime also lists tries that fail (copy's ``org.python.core``, site's
    # ``sitecustomize``): only packages that exist count
    third_party = {t for t in top - set(sys.stdlib_module_names)
                   if not t.startswith("_") and importlib.util.find_spec(t) is not None}
    assert third_party <= FAST_PATH_PACKAGES, sorted(third_party - FAST_PATH_PACKAGES)
    assert not top & set(HEAVY + TYPER_STACK)
    others = _command_modules() - {"liprobe.cli.composition_command", "liprobe.cli._app"}
    assert not names & others, sorted(names & others)


def test_help_lists_every_command_without_importing_any(tmp_path):
    from liprobe.cli._app import COMMANDS

    names, stdout = _imported(["--help"], tmp_path)
    others = _command_modules() - {"liprobe.cli._app"}
    assert not names & others, sorted(names & others)
    assert not {name.split(".")[0] for name in names} & set(HEAVY + TYPER_STACK)
    listed = [line.split()[0] for line in stdout.split("Commands:")[1].splitlines()
              if line.startswith("  ") and not line.startswith("   ")]
    assert listed == list(COMMANDS)
