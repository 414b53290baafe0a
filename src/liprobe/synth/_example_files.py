"""File writers of the synthetic example study (private: see example_study).

Cycling CSV, ICP-AES table, HAADF images and the TOML manifest; each returns the truth
it wrote so that example_study can record it beside the data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.synth._example_design import (
    ACTIVE_MASS_G,
    INITIAL_CAPACITY_MAH_G,
    PAPER_DESIGN,
    PARTICLE_RADIUS_NM,
    StudyScale,
    capacity_curve,
    haadf_disorder_profile,
    particle_average,
)
from liprobe.synth.profile import paper_profile

__all__ = ["write_cycling", "write_icp", "write_haadf", "write_manifest"]


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(float(value))
    return str(value)


def _toml_table(header: str, entries: dict[str, Any]) -> str:
    lines = [header] + [f"{key} = {_toml_value(value)}" for key, value in entries.items()]
    return "\n".join(lines) + "\n"


def _toml_entry(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return _toml_value(value)


def write_cycling(root: Path, rng: np.random.Generator) -> dict[str, Any]:
    import pandas as pd

    cycle = np.arange(1, 301)
    specific = capacity_curve(cycle, rng=rng)
    discharge = specific * ACTIVE_MASS_G
    frame = pd.DataFrame({"cycle": cycle,
                          "charge_capacity_mah": np.round(discharge / 0.995, 3),
                          "discharge_capacity_mah": np.round(discharge, 3)})
    (root / "cycling").mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "cycling" / "cell300.csv", index=False)
    return {"file": "cycling/cell300.csv", "active_mass_g": ACTIVE_MASS_G,
            "initial_capacity_mah_g": INITIAL_CAPACITY_MAH_G,
            "capacity_300_mah_g": float(capacity_curve(np.array([300]))[0]),
            "retention_300": float(capacity_curve(np.array([300]))[0] / INITIAL_CAPACITY_MAH_G),
            "model": "q(N) = q1 (1 - 0.24 ((N - 1) / 299)^1.1) + N(0, 0.15 mAh/g)"}


def write_icp(root: Path) -> list[dict[str, Any]]:
    import pandas as pd

    from liprobe.cell.icp import ratios_to_wt_pct

    rows, truth = [], []
    # absolute scale: the paper's Ni weight % (Table 1); ratios are what ICP-AES fixes
    for name, cycles, ni_wt_pct in (("NCM-pristine", 0, 44.31), ("NCM-100", 100, 44.36),
                                    ("NCM-300", 300, 44.58)):
        profile = paper_profile(cycles)
        ratios = {el: particle_average(profile, el) for el in ("Li", "Ni", "Co", "Mn")}
        wt = ratios_to_wt_pct(ratios, scale_to=("Ni", ni_wt_pct))
        rows.append({"specimen": name, "cycles": cycles,
                     **{f"{el.lower()}_wt_pct": round(float(wt[el]), 4) for el in ratios}})
        truth.append({"sample": name, "cycles": cycles,
                      **{f"{el.lower()}_ratio": r for el, r in ratios.items()}})
    pd.DataFrame(rows).to_csv(root / "icp_aes.csv", index=False)
    return truth


#: Conditions shared by every HAADF image of the example study and its ordered reference
#: (those not named are HaadfParams defaults: probe, tail, Z exponent, thickness, dose and a
#: constant detector background of 2 % of the dose, in vacuum and crystal alike).
HAADF_PIXEL_NM = 0.02
HAADF_REFERENCE = "haadf/ncm300_reference_ordered.tif"


def write_haadf(root: Path, scale: StudyScale, rng: np.random.Generator) -> list[dict]:
    """HAADF images at the 300-cycle depths, and the ordered reference recorded beside them.

    Every image, the reference included, is taken under the same conditions and keeps its
    detector background (no black-level correction): images without vacuum in view carry
    a background nothing in them measures, and it cancels in f only against a reference
    with the same background (DOMAIN.md §4), so the manifest names the reference for each
    image. Disorder follows :func:`haadf_disorder_profile`; the reference is the ordered crystal.
    """
    import dataclasses

    from liprobe.io import write_image
    from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf

    (root / "haadf").mkdir(parents=True, exist_ok=True)
    disorder = haadf_disorder_profile(300)
    size = (scale.haadf_size_px, scale.haadf_size_px)
    conditions = HaadfParams(shape_px=size, pixel_size_nm=HAADF_PIXEL_NM)
    reference, _ = simulate_haadf(dataclasses.replace(conditions, disorder=DisorderProfile()),
                                  rng=rng)
    write_image(root / HAADF_REFERENCE, reference)
    out = []
    for sample, cycles, _label, depth in PAPER_DESIGN:
        if cycles != 300 or depth is None:
            continue
        half_field_nm = scale.haadf_size_px * HAADF_PIXEL_NM / 2.0
        centre_nm = max(float(depth), half_field_nm - 0.5)  # surface image: surface in view
        params = dataclasses.replace(conditions, disorder=disorder, surface_depth_nm=centre_nm,
                                     coating_nm=1.0 if depth == 0 else 0.0)
        image, _truth = simulate_haadf(params, rng=rng)
        path = f"haadf/ncm300_{int(depth):04d}nm.tif"
        write_image(root / path, image)
        out.append({"image": path, "sample": sample, "depth_nm": float(depth),
                    "image_centre_depth_nm": centre_nm, "reference": HAADF_REFERENCE,
                    "background_counts_per_px": params.background_fraction
                    * params.dose_e_per_px,
                    "antisite_fraction": float(disorder.f_at(np.array([centre_nm]))[0]),
                    "phase": disorder.phase_at(centre_nm)})
    return out


def write_manifest(root: Path, scale: StudyScale, records: list[dict[str, Any]],
                    haadf: list[dict[str, Any]]) -> Path:
    parts = [_toml_table("[study]", {
        "name": f"liprobe-example-{scale.name}",
        "description": "Synthetic study shaped like Chae et al. (Nat. Commun.): NCM811 after "
                       "0, 2, 100 and 300 cycles; generated by liprobe.synth.example_study"})]
    parts.append(_toml_table("[settings]", {"particle_radius_um": PARTICLE_RADIUS_NM / 1000.0,
                                            "seed": 0}))
    for sample, cycles in dict((s, c) for s, c, _, _ in PAPER_DESIGN).items():
        parts.append(_toml_table("[[samples]]", {"name": sample, "cycles": cycles}))
    for rec in records:
        parts.append(_toml_table("[[specimens]]", {
            "name": rec["name"], "sample": rec["sample"], "depth": rec["depth_label"],
            "replicate": rec["replicate"], "apt": rec["apt"], "ranges": "ranges/ncm.rrng"}))
    parts.append(_toml_table("[icp]", {"file": "icp_aes.csv"}))
    parts.append("[[cycling]]\n" + "\n".join(f"{k} = {_toml_entry(v)}" for k, v in {
        "file": "cycling/cell300.csv", "format": "csv", "sample": "NCM-300",
        "active_mass_g": ACTIVE_MASS_G,
        "columns": {"cycle": "cycle", "discharge_capacity_mah": "discharge_capacity_mah",
                    "charge_capacity_mah": "charge_capacity_mah"}}.items()) + "\n")
    for item in haadf:
        parts.append(_toml_table("[[haadf]]", {"image": item["image"], "sample": item["sample"],
                                               "depth_offset_nm": float(item["depth_nm"]),
                                               "reference": item["reference"]}))
    parts += _analysis_tables(records)
    path = root / "study.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _analysis_tables(records: list[dict[str, Any]]) -> list[str]:
    """``[analysis.clusters]`` and ``[analysis.nn]`` on the Li-line specimen (the surface
    layer is measured on every specimen by default). Parameters: Li ions within 0.35 nm
    of at least 4 others link (the matrix's own Li, ~25 % of the atoms, percolates at the
    CLI default d_max = 0.5 nm, order 1), clusters from 30 Li ions."""
    from liprobe.synth._example_design import LINE_SPECIMEN

    names = [r["name"] for r in records
             if (r["sample"], r["depth_label"], r["replicate"]) == LINE_SPECIMEN]
    if not names:
        return []
    return [_toml_table("[analysis.clusters]", {"element": "Li", "method": "maxsep",
                                                 "dmax_nm": 0.35, "order": 4, "nmin": 30,
                                                 "specimens": names}),
            _toml_table("[analysis.nn]", {"element": "Li", "k": 1, "specimens": names})]


