"""Run every ``benchmarks/bench_*.py`` (its ``main()``), one after another (``make bench``)."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Import each benchmark module by path and call its ``main()``; report failures."""
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        print(f"=== {path.name}", flush=True)
        start = time.perf_counter()
        try:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.main()
        except Exception as exc:  # noqa: BLE001 - report and go on with the next one
            failed.append(path.name)
            print(f"!!! {path.name} failed: {type(exc).__name__}: {exc}", flush=True)
        print(f"=== {path.name}: {time.perf_counter() - start:.1f} s\n", flush=True)
    if failed:
        print("failed: " + ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
