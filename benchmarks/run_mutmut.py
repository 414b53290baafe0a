"""Run mutmut (3.x) over ONE module with only that module's own tests, in a scratch copy.

mutmut 3 mutates a copy of the source tree under ``mutants/`` and runs the selected tests
once per mutant. This script keeps the run cheap and the checkout clean: it copies ``src/``,
``tests/`` and ``pyproject.toml`` to a scratch folder, appends a ``[tool.mutmut]`` table that
mutates only the named module and runs only the named test files (plus the module's own
docstring examples), runs ``mutmut run`` there and writes the score and the diff of every
surviving mutant to ``--out``.

Needs ``pip install mutmut libcst`` (the ``mutation`` extra). Example::

    python benchmarks/run_mutmut.py src/liprobe/counting.py tests/test_counting.py \\
        --out docs/mutation_results/counting_mutmut.txt
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("module", help="file to mutate, e.g. src/liprobe/counting.py")
    ap.add_argument("tests", nargs="+", help="test files run for each mutant")
    ap.add_argument("--out", type=Path, required=True, help="score and survivors (text)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--marks", default="not slow", help="pytest -m expression")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args(argv)
    mutmut = Path(sys.executable).with_name("mutmut")
    work = Path(tempfile.mkdtemp(prefix="liprobe-mutmut-"))
    try:
        for name in ("src", "tests"):
            shutil.copytree(ROOT / name, work / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        selection = [*args.tests, args.module]  # the module's doctests run too
        config = (ROOT / "pyproject.toml").read_text() + (
            "\n[tool.mutmut]\n"
            'source_paths = ["src/"]\n'
            f"only_mutate = [{args.module!r}]\n"
            f"pytest_add_cli_args_test_selection = {selection!r}\n"
            f'pytest_add_cli_args = ["-m", {args.marks!r}, "-p", "no:cacheprovider"]\n')
        (work / "pyproject.toml").write_text(config.replace("'", '"'))
        subprocess.run([str(mutmut), "run", "--max-children", str(args.jobs)], cwd=work,
                       stdout=subprocess.DEVNULL, check=False)
        res = subprocess.run([str(mutmut), "results", "--all", "true"], cwd=work,
                             capture_output=True, text=True, check=False).stdout
        status = dict(re.findall(r"^\s*(\S+): (\S.*)$", res, flags=re.M))
        killed = sum(v == "killed" for v in status.values())
        survived = sorted(k for k, v in status.items() if v == "survived")
        lines = [f"module {args.module}; tests {' '.join(selection)} (-m {args.marks!r})",
                 f"mutants {len(status)}, killed {killed}, survived {len(survived)}, "
                 f"other {len(status) - killed - len(survived)}", ""]
        for name in survived:
            diff = subprocess.run([str(mutmut), "show", name], cwd=work, capture_output=True,
                                  text=True, check=False).stdout
            lines.append(f"=== {name}")
            lines += [ln for ln in diff.splitlines()
                      if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
        print(lines[1])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
