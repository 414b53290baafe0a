"""Write a synthetic specimen: ion file, range file beside it, optional truth."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.synth.truth import SpecimenTruth

__all__ = ["write_specimen", "truth_summary", "specimen_paths"]

_ION_SUFFIXES = (".pos", ".epos", ".apt")


def truth_summary(truth: SpecimenTruth) -> dict[str, object]:
    """JSON-ready summary of a truth: parameters, length, totals, features, depth table."""
    comp = truth.composition
    return {
        "params": asdict(truth.params),
        "length_nm": truth.length_nm,
        "ions": [ion.name for ion in truth.ions],
        "species": [sp.name for sp in truth.species],
        "n_ions": int(truth.ion_index.shape[0]),
        "n_background": int(truth.is_background.sum()),
        "atom_counts": comp.total_atom_counts(),
        "lost_atom_counts": dict(truth.lost_atom_counts),
        "composition_by_depth": {
            "depth_edges_nm": comp.depth_edges_nm.tolist(),
            "elements": list(comp.elements),
            "atom_counts": comp.atom_counts.tolist(),
            "material_ratios": np.round(comp.material_ratios, 6).tolist(),
            "generated_ratios": np.round(comp.generated_ratios, 6).tolist(),
        },
    }


def specimen_paths(path: str | os.PathLike, *, truth: bool = False) -> dict[str, Path]:
    """The files :func:`write_specimen` writes for ``path``: ions, ranges (and truth)."""
    path = Path(path)
    if path.suffix.lower() not in _ION_SUFFIXES:
        raise ParameterError(f"{path}: unknown ion-file suffix {path.suffix or '(none)'!r}; "
                             f"use one of {', '.join(_ION_SUFFIXES)}")
    stem = path.with_suffix("")
    out = {"ions": path, "ranges": stem.with_suffix(".rrng")}
    if truth:
        out.update(truth_json=Path(f"{stem}.truth.json"), truth_npz=Path(f"{stem}.truth.npz"))
    return out


def write_specimen(path: str | os.PathLike, ions: IonTable, ranges: RangeTable,
                   truth: SpecimenTruth | None = None, *, force: bool = True) -> dict[str, Path]:
    """Write ``ions`` (format from the suffix: .pos, .epos, .apt) and ``<stem>.rrng``.

    With ``truth``, also ``<stem>.truth.json`` (parameters, totals, composition by depth)
    and ``<stem>.truth.npz`` (per-ion species index, ion index, true m/q, true position,
    background flag). Every file is written atomically; with ``force=False`` an existing
    file among them is an :class:`~liprobe.errors.OverwriteError` before anything is written.

    Returns
    -------
    dict
        ``{"ions": path, "ranges": path[, "truth_json": path, "truth_npz": path]}``.
    """
    from liprobe.io import write_ions, write_ranges
    from liprobe.io.atomic import atomic_path
    from liprobe.io.output_policy import check_output_file

    path = Path(path)
    for target in specimen_paths(path, truth=truth is not None).values():
        check_output_file(target, force=force)
    stem = path.with_suffix("")
    # a synthetic file carries no wall-clock time (the .apt header's creation time is the
    # Unix epoch): one seed gives one file, byte for byte
    options = {"creation_time_s": 0.0} if path.suffix.lower() == ".apt" else {}
    written = {"ions": write_ions(path, ions, **options),
               "ranges": write_ranges(stem.with_suffix(".rrng"), ranges)}
    if truth is not None:
        json_path = Path(f"{stem}.truth.json")
        with atomic_path(json_path) as tmp:
            tmp.write_text(json.dumps(truth_summary(truth), indent=1, default=str))
        npz_path = Path(f"{stem}.truth.npz")
        with atomic_path(npz_path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(
                    fh, species_index=truth.species_index, ion_index=truth.ion_index,
                    true_mass_to_charge_da=truth.true_mass_to_charge_da,
                    position_nm=truth.position_nm, is_background=truth.is_background)
        written["truth_json"] = json_path
        written["truth_npz"] = npz_path
    return written
