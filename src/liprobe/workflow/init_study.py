"""``liprobe study init``: a commented study manifest from a folder of files.

:func:`scan_folder` sorts the files of a folder by what they hold, by the io registry
(:func:`liprobe.io.detect_format`: magic bytes, then suffix) and, for delimited text, by
their header (an ICP-AES weight % table or a cycler export). :func:`manifest_template`
writes the ``study.toml`` text: every value it could infer, a ``"TODO"`` for each value
only the experimenter knows (specimen depths, cycle counts, HAADF depth offsets), and a
comment on each saying what to write. ``liprobe study check`` lists the TODOs left.

What is inferred, and from what:

- the range file of an ion file: ``<stem>.rrng/.rng/.env`` beside it (as ``liprobe synth``
  writes), else the only range file of the folder;
- a depth: a file name holding ``<number>nm`` / ``<number>um``, ``surface`` or ``bulk``
  (marked "from the file name: check");
- samples: a file name holding ``<number>cyc`` / ``ncm<number>`` / ``<number>cycles`` gives
  a sample of that many cycles; otherwise one sample with cycles = "TODO";
- the HAADF reference: an image whose name holds ``ref`` or ``ordered``;
- cycler CSV columns: headers such as ``cycle``, ``discharge capacity (mAh)``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from liprobe.errors import MissingFileError, ParameterError

__all__ = ["FolderScan", "scan_folder", "manifest_template", "TODO"]

#: The marker of a value the experimenter must fill in.
TODO = "TODO"

_DEPTH_RE = re.compile(r"(?<![a-z0-9])(?:lt)?(\d+(?:\.\d+)?)\s*(nm|um)(?![a-z])", re.I)
_CYCLES_RE = re.compile(r"(?:(\d+)\s*-?(?:cyc|cycles|cycle|c)(?![a-z]))|(?:ncm-?(\d+)(?!\d))",
                        re.I)
_CYCLER_HEADERS = {
    "cycle": ("cycle", "cycle_index", "cycle number", "cycle_number", "cycle no", "cyc#"),
    "discharge_capacity_mah": ("discharge_capacity_mah", "discharge capacity (mah)",
                               "q_dis", "discharge_capacity", "dchg capacity (mah)"),
    "charge_capacity_mah": ("charge_capacity_mah", "charge capacity (mah)", "q_chg",
                            "charge_capacity", "chg capacity (mah)"),
}


@dataclass(frozen=True)
class FolderScan:
    """The files of a study folder, sorted by what they hold (paths relative to it)."""

    root: Path
    ions: tuple[str, ...] = ()
    ranges: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    icp: tuple[str, ...] = ()
    cycling: tuple[tuple[str, str], ...] = ()  # (path, format)
    unknown: tuple[str, ...] = ()
    cycling_columns: dict[str, dict[str, str]] = field(default_factory=dict)


def _header(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            line = fh.readline()
    except OSError:
        return []
    sep = max((",", ";", "\t"), key=line.count)
    return [h.strip().strip('"') for h in line.rstrip("\n").split(sep)]


def _cycler_columns(headers: list[str]) -> dict[str, str]:
    lower = {h.lower(): h for h in headers}
    return {std: lower[name] for std, names in _CYCLER_HEADERS.items()
            for name in names if name in lower}


def scan_folder(folder: str | os.PathLike) -> FolderScan:
    """Sort every file under ``folder`` (recursively, hidden files skipped) by kind."""
    from liprobe.errors import LiprobeError
    from liprobe.io import detect_format

    root = Path(folder)
    if not root.is_dir():
        raise MissingFileError(f"{root}: no such folder; give the folder holding the study's "
                               "APT, range, image, ICP-AES and cycler files")
    kinds: dict[str, list] = {k: [] for k in ("ions", "ranges", "images", "icp", "cycling",
                                              "unknown")}
    columns: dict[str, dict[str, str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts) or \
                path.name in ("study.toml",) or ".truth." in path.name:
            continue
        try:
            fmt = detect_format(path)
        except LiprobeError:
            kinds["unknown"].append(rel)
            continue
        if fmt.kind == "ions":
            kinds["ions"].append(rel)
        elif fmt.kind == "ranges":
            kinds["ranges"].append(rel)
        elif fmt.kind == "image":
            kinds["images"].append(rel)
        elif fmt.kind == "cycling" and fmt.name == "cycling_csv":
            headers = _header(path)
            if any(re.match(r"^[a-z]{1,2}_wt_pct$", h.lower()) for h in headers):
                kinds["icp"].append(rel)
            elif "cycle" in _cycler_columns(headers):
                kinds["cycling"].append((rel, "csv"))
                columns[rel] = _cycler_columns(headers)
            else:
                kinds["unknown"].append(rel)
        elif fmt.kind == "cycling":
            kinds["cycling"].append((rel, fmt.name))
        else:
            kinds["unknown"].append(rel)
    return FolderScan(root, *(tuple(kinds[k]) for k in ("ions", "ranges", "images", "icp",
                                                        "cycling", "unknown")),
                      cycling_columns=columns)


def _depth_from_name(name: str) -> str | None:
    stem = Path(name).stem.lower()
    if "surface" in stem:
        return "surface"
    if "bulk" in stem or "pristine" in stem:
        return "bulk"
    match = _DEPTH_RE.search(stem.replace("_", " "))
    if match:
        value = float(match[1])
        text = f"{value:g} {match[2]}"
        return ("< " + text) if match[0].lower().startswith("lt") else text
    return None


def _cycles_from_name(name: str) -> int | None:
    match = _CYCLES_RE.search(Path(name).stem.replace("_", " "))
    if match:
        return int(match[1] or match[2])
    if "pristine" in name.lower():
        return 0
    return None


def _ranges_for(ion: str, ranges: tuple[str, ...]) -> str | None:
    stem = ion.rsplit(".", 1)[0]
    for candidate in ranges:
        if candidate.rsplit(".", 1)[0] == stem:
            return candidate
    return ranges[0] if len(ranges) == 1 else None


def _q(value: str) -> str:
    return json.dumps(value)


def manifest_template(scan: FolderScan, *, name: str | None = None) -> str:
    """The commented ``study.toml`` text for a scanned folder.

    Raises
    ------
    ParameterError
        The folder holds no APT ion file (a study needs at least one specimen).
    """
    if not scan.ions:
        found = ", ".join(f"{len(v)} {k}" for k, v in (
            ("range", scan.ranges), ("image", scan.images), ("ICP", scan.icp),
            ("cycler", scan.cycling)) if v) or "no file liprobe reads"
        raise ParameterError(f"{scan.root}: no APT ion file (POS, EPOS, APT) found ({found}); "
                             "a study needs at least one specimen")
    study_name = name or scan.root.resolve().name or "my-study"
    cycles_by_sample: dict[str, int | None] = {}
    sample_of: dict[str, str] = {}
    for ion in scan.ions:
        cycles = _cycles_from_name(ion)
        sample = f"cycled-{cycles}" if cycles is not None else "sample-1"
        if cycles == 0:
            sample = "pristine"
        cycles_by_sample.setdefault(sample, cycles)
        sample_of[ion] = sample
    lines = [
        "# Study manifest written by 'liprobe study init'. Every value marked \"TODO\" is",
        "# one only you know: fill it in, then run 'liprobe study check study.toml' (it",
        "# lists what is left) and 'liprobe study run study.toml -o results --report report'.",
        "# Reference of every key: 'liprobe study schema' (or docs/manifest.md).",
        "",
        "[study]",
        f"name = {_q(study_name)}",
        f"description = {_q('Files found in ' + scan.root.name + ' by liprobe study init')}",
        "",
        "[settings]",
        "# defaults shown; uncomment to change",
        "# normalize_to = [\"Ni\", \"Co\", \"Mn\"]   # denominator of every ratio",
        "# particle_radius_um = 5.0              # secondary-particle radius",
        "# profile_bin_nm = 2.0                  # within-specimen profile bin width",
    ]
    references = [p for p in scan.images if re.search(r"ref|ordered", Path(p).stem, re.I)]
    if references:
        lines.append(f"haadf_reference = {_q(references[0])}   # ordered crystal, same "
                     "imaging conditions (from the file name: check)")
    for sample, cycles in cycles_by_sample.items():
        lines += ["", "[[samples]]", f"name = {_q(sample)}"]
        if cycles is None:
            lines.append(f"cycles = {_q(TODO)}   # TODO: charge-discharge cycles of this "
                         "sample (0 = pristine), an integer")
        else:
            lines.append(f"cycles = {cycles}   # from the file names: check")
    replicate: dict[tuple[str, str], int] = {}
    for i, ion in enumerate(scan.ions):
        sample = sample_of[ion]
        depth = _depth_from_name(ion)
        key = (sample, depth or f"todo-{i}")
        replicate[key] = replicate.get(key, 0) + 1
        ranges = _ranges_for(ion, scan.ranges)
        lines += ["", "[[specimens]]", f"name = {_q(Path(ion).stem)}",
                  f"sample = {_q(sample)}"]
        if depth is None:
            lines.append(f"depth = {_q(TODO)}   # TODO: depth below the particle surface, "
                         "e.g. \"30 nm\", \"< 100 nm\", \"surface\", \"bulk\"")
        else:
            lines.append(f"depth = {_q(depth)}   # from the file name: check")
        lines += [f"replicate = {replicate[key]}", f"apt = {_q(ion)}"]
        if ranges is None:
            lines.append(f"ranges = {_q(TODO)}   # TODO: the range file of this specimen "
                         f"(found: {', '.join(scan.ranges) or 'none'})")
        else:
            lines.append(f"ranges = {_q(ranges)}")
    if scan.icp:
        lines += ["", "[icp]", f"file = {_q(scan.icp[0])}"]
        if len(scan.icp) > 1:
            lines.append(f"# also found: {', '.join(scan.icp[1:])}")
    first_sample = next(iter(cycles_by_sample))
    for path, fmt in scan.cycling:
        lines += ["", "[[cycling]]", f"file = {_q(path)}", f"format = {_q(fmt)}",
                  f"sample = {_q(first_sample)}   # which sample's cell: check",
                  "# active_mass_g = 0.0125   # uncomment for specific capacity (mAh/g)"]
        cols = scan.cycling_columns.get(path)
        if cols:
            lines.append("columns = { " + ", ".join(f"{k} = {_q(v)}" for k, v in cols.items())
                         + " }")
    for image in scan.images:
        if image in references:
            continue
        depth = _depth_from_name(image)
        offset = {"surface": "0.0", None: None}.get(depth, None)
        if depth and depth not in ("surface", "bulk"):
            value, unit = depth.lstrip("< ").split()
            offset = f"{float(value) * (1000.0 if unit == 'um' else 1.0):g}"
        lines += ["", "[[haadf]]", f"image = {_q(image)}",
                  f"sample = {_q(first_sample)}   # check"]
        if offset is None:
            lines.append(f"depth_offset_nm = {_q(TODO)}   # TODO: depth of the image's surface "
                         "edge below the particle surface, in nm")
        else:
            lines.append(f"depth_offset_nm = {offset}   # from the file name: check")
    if scan.unknown:
        lines += ["", "# files liprobe did not recognise: " + ", ".join(scan.unknown)]
    return "\n".join(lines) + "\n"


_TODO_LINE = re.compile(r'^\s*([A-Za-z_]+)\s*=\s*"TODO"\s*(?:#\s*(?:TODO:\s*)?(.*))?$')


def todo_items(text: str) -> list[dict[str, object]]:
    """The values still ``"TODO"`` in manifest text: line, table, key and what to write."""
    items: list[dict[str, object]] = []
    table, counts = None, {}
    for number, line in enumerate(text.splitlines(), start=1):
        head = re.match(r"^\s*\[\[?\s*([A-Za-z_]+)\s*\]\]?", line)
        if head:
            table = head[1]
            counts[table] = counts.get(table, 0) + 1
            continue
        match = _TODO_LINE.match(line)
        if match:
            where = f"[[{table}]] #{counts[table]}" if table in ("samples", "specimens",
                                                               "cycling", "haadf") else f"[{table}]"
            items.append({"line": number, "table": where, "key": match[1],
                          "what": (match[2] or "fill in this value").strip()})
    return items
