"""Which library reads the BioLogic .mpr files of the corpus: yadg, galvani (navani reads
.mpr through galvani). Prints one row per file: read ok (records) or the error, and the
wall time of each; liprobe's choice (yadg, galvani where yadg fails) follows from it.
Needs ../shared/data/real-corpus; skips without it."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-corpus"


def _galvani(path: Path) -> int:
    from galvani import BioLogic

    with open(path, "rb") as fh:
        return len(BioLogic.MPRfile(fh).data)


def _yadg(path: Path) -> int:
    from yadg.extractors.eclab import mpr

    return int(mpr.extract(path, timezone="UTC").to_dataset().sizes.get("uts", 0))


def main() -> None:
    files = sorted((CORPUS / "cycler" / "biologic").glob("*.mpr"))
    if not files:
        print(f"no corpus at {CORPUS}: skipped")
        return
    logging.disable(logging.CRITICAL)
    counts = {"yadg": 0, "galvani": 0, "either": 0}
    print(f"{'file':24s} {'yadg':>26s} {'galvani':>40s}")
    for path in files:
        cells, any_ok = [], False
        for name, read in (("yadg", _yadg), ("galvani", _galvani)):
            start = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    n = read(path)
                cells.append(f"ok {n} ({time.perf_counter() - start:.2f} s)")
                counts[name] += 1
                any_ok = True
            except Exception as exc:  # noqa: BLE001 - the point is to record every failure
                cells.append(f"FAIL {type(exc).__name__}: {str(exc)[:28]}")
        counts["either"] += any_ok
        print(f"{path.name:24s} {cells[0]:>26s} {cells[1]:>40s}")
    n = len(files)
    print(f"read: yadg {counts['yadg']}/{n}, galvani {counts['galvani']}/{n}, "
          f"either {counts['either']}/{n}")


if __name__ == "__main__":
    main()
