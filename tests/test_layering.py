"""Imports flow one way, including imports inside functions.

``(errors, tabular) -> data -> (isotopes, counting, formula) -> io | apt | stem | cell -> synth -> study ->
workflow -> report -> cli``. A module may import from its own package and from packages of
an earlier tier; packages of one tier never import each other; the science (apt, stem,
cell, study) never imports matplotlib or the CLI toolkit; no package imports another
package's private module or name. Every ``import`` statement of every module is read (AST),
not only those executed at import time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import liprobe

SRC = Path(liprobe.__file__).resolve().parent

#: Tier of each top-level part of the package.
TIERS = {
    "errors": 0, "tabular": 0,
    "data": 1,
    "__init__": 2, "isotopes": 2, "counting": 2, "formula": 2,
    "io": 3, "apt": 3, "stem": 3, "cell": 3,
    "synth": 4,
    "study": 5,
    "workflow": 6,
    "report": 7,
    "cli": 8,
    "__main__": 9,
}
SCIENCE = ("apt", "stem", "cell", "study")
NOT_IN_SCIENCE = ("matplotlib", "typer", "click", "rich", "plotly", "distributed")


def _part(module_path: Path) -> str:
    rel = module_path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path):
    """``(line, imported module, imported names)`` of every import statement in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, tuple(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            yield node.lineno, "." * node.level + (node.module or ""), ()


def _modules():
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_part_has_a_tier():
    parts = {_part(p) for p in _modules()}
    assert parts <= set(TIERS), f"parts without a tier: {sorted(parts - set(TIERS))}"


def test_imports_flow_one_way_including_function_level_imports():
    bad = []
    for path in _modules():
        here = _part(path)
        for line, module, _ in _imports(path):
            where = f"{path.relative_to(SRC.parent)}:{line} imports {module}"
            if module.startswith("."):
                bad.append(f"{where} (relative import: write the absolute name)")
                continue
            top = module.split(".")[0]
            if here in SCIENCE and top in NOT_IN_SCIENCE:
                bad.append(f"{where} (the science never imports plotting, CLI or scale-out)")
            if top != "liprobe" or module == "liprobe":
                continue
            target = module.split(".")[1]
            if target == here:
                continue
            if TIERS[target] > TIERS[here]:
                bad.append(f"{where} (tier {TIERS[target]} above tier {TIERS[here]})")
            elif TIERS[target] == TIERS[here]:
                bad.append(f"{where} (same tier: {here} and {target} are independent)")
    assert not bad, "\n".join(bad)


def test_no_private_name_crosses_a_package():
    bad = []
    for path in _modules():
        here = _part(path)
        for line, module, names in _imports(path):
            if not module.startswith("liprobe.") or module.split(".")[1] == here:
                continue
            private = [p for p in module.split(".")[1:] if p.startswith("_")]
            private += [n for n in names if n.startswith("_")]
            if private:
                bad.append(f"{path.relative_to(SRC.parent)}:{line} uses {module} {private}")
    assert not bad, "\n".join(bad)


def test_core_does_not_import_edges_at_run_time():
    core = ["liprobe.data", "liprobe.apt", "liprobe.stem", "liprobe.cell", "liprobe.study"]
    forbidden = ["liprobe.io", "liprobe.workflow", "liprobe.report", "liprobe.cli",
                 "matplotlib", "typer"]
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {core!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(getattr(pkg, '__path__', []), name + '.'):\n"
        "        importlib.import_module(info.name)\n"
        f"print(','.join(m for m in {forbidden!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
