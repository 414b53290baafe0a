"""The tutorial notebook (docs/tutorial.ipynb) runs: its code cells, in order, in a fresh
Python process (the notebook has no kernel-only syntax), on its own small synthetic data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"


def _script(cells: list[dict]) -> str:
    parts = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        # a notebook shows the value of a cell's last expression: show it here too
        body = "\n".join(lines[:-1])
        last = lines[-1] if lines else ""
        if last and not last.startswith((" ", "print(", "import ", "from ")) and "=" not in last:
            last = f"_shown = {last}\nprint(type(_shown).__name__, (_shown._repr_html_() if hasattr(_shown, '_repr_html_') else repr(_shown))[:200])"
        parts.append(body + "\n" + last)
    return "\n\n".join(parts)


@pytest.mark.slow
def test_tutorial_notebook_runs(tmp_path):
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    script = tmp_path / "tutorial.py"
    script.write_text(_script(notebook["cells"]), encoding="utf-8")
    env = {**os.environ, "TMPDIR": str(tmp_path), "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Li/(Ni+Co+Mn) = " in result.stdout
    assert "IonTable <div><strong>IonTable</strong>" in result.stdout
