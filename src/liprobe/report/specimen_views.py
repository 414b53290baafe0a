"""Per-specimen pictures of the report: what a microscopist looks at for each needle.

:func:`specimen_view` reads one specimen's files (through :mod:`liprobe.io`) and gathers
the results the figures render: the ranged ions (subsampled for the maps), the mass
spectrum, the within-specimen profile, the FDA of every element and any Li-rich line
features with their proxigram. :func:`specimen_figures` turns a view into the report's
figures, each as ``(data-kind, figure or HTML, caption)``. The analyses are the library's
own (:mod:`liprobe.apt`), with the study's settings, so the numbers match the tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.report.canvas import cycle_color, element_color, new_figure, plot_depth

__all__ = ["SpecimenView", "specimen_view", "specimen_figures", "depleted_layer_nm"]

#: Ions kept for the 2-D maps (per specimen) and for the 3-D view (all species together).
MAP_IONS, VIEW_IONS = 30_000, 3_000


@dataclass(frozen=True, eq=False)
class SpecimenView:
    """What the report shows of one specimen (results and a subsample of positions)."""

    name: str
    sample: str
    cycles: int
    depth_label: str
    depth_nm: float
    n_ions: int
    elements: tuple[str, ...]
    xyz_nm: np.ndarray          # (m, 3) float32 subsample of ranged ions
    element_of_ion: np.ndarray  # (m,) index into elements of each ion's first element
    spectrum: Any
    ranges: Any
    profile: Any
    fda: Any
    features: Any = None
    proxigram: Any = None
    detector: Any = None  # report.detector_views.DetectorView
    spatial: Any = None  # liprobe.report.spatial_views.SpatialView ([analysis.*])


def specimen_view(spec: Any, settings: Any, *, seed: int = 0,
                  find_lines: bool = True) -> SpecimenView:
    """Read and analyse one specimen of a manifest for its report figures."""
    from liprobe.apt.features import find_line_features, line_proxigram
    from liprobe.apt.frequency import frequency_distribution
    from liprobe.apt.profiles import concentration_profile
    from liprobe.apt.species import species_per_ion
    from liprobe.apt.spectrum import mass_spectrum
    from liprobe.errors import LiprobeError
    from liprobe.io import read_ions, read_ranges
    from liprobe.report.detector_views import detector_view

    ranges = read_ranges(spec.ranges)
    ions = read_ions(spec.apt)
    species = species_per_ion(ions.mass_to_charge_da, ranges, overlap="first")
    spectrum = mass_spectrum(ions.mass_to_charge_da, bin_width_da=0.05)
    profile = concentration_profile(ions, ranges, axis=settings.profile_axis,
                                    bin_nm=settings.profile_bin_nm,
                                    normalize_to=tuple(settings.normalize_to), species=species)
    elements = tuple(el for el in settings.elements if el in ranges.elements)
    fda = frequency_distribution(ions, ranges, block_ions=settings.fda_block_ions,
                                 elements=list(elements), species=species)
    first = np.full(ranges.n_ions + 1, -1, dtype=np.int64)
    for k, ion in enumerate(ranges.ions):
        symbols = [s for s, _ in ion.atoms if s in elements]
        if symbols:
            first[k] = elements.index(symbols[0])
    element_of_ion = first[species]  # species -1 -> the last slot (-1)
    rng = np.random.default_rng(seed)
    ranged = np.flatnonzero(element_of_ion >= 0)
    keep = ranged if len(ranged) <= MAP_IONS else np.sort(rng.choice(ranged, MAP_IONS,
                                                                      replace=False))
    features = proxigram = None
    if find_lines and "Li" in elements:
        try:
            found = find_line_features(ions, ranges, element="Li", species=species)
        except LiprobeError:
            found = None
        if found is not None and found.features:
            features = found
            proxigram = line_proxigram(ions, ranges, found, species=species,
                                       normalize_to=tuple(settings.normalize_to))
    from liprobe.report.spatial_views import spatial_view

    spatial = spatial_view(spec, ions, ranges, species, seed=seed)
    return SpecimenView(spec.name, spec.sample, spec.cycles, spec.depth.label,
                        float(spec.depth.depth_nm), ions.n_ions, elements,
                        np.ascontiguousarray(ions.xyz_nm[keep], dtype=np.float32),
                        element_of_ion[keep], spectrum, ranges, profile, fda, features,
                        proxigram, detector=detector_view(ions, ranges), spatial=spatial)


def depleted_layer_nm(depth_nm: np.ndarray, li: np.ndarray, bulk_li: float,
                      *, level: float = 0.2) -> float:
    """Depth where Li first reaches ``level`` x the bulk value (NaN if never below it)."""
    below = np.isfinite(li) & (li < level * bulk_li)
    if not below[:1].any():
        return math.nan
    above = np.flatnonzero(np.isfinite(li) & ~below)
    return float(depth_nm[above[0]]) if above.size else float(depth_nm[-1])


def _profile_figure(view: SpecimenView, bulk_li: float | None) -> tuple[Any, str]:
    from liprobe.report.apt_figures import partial_bins

    profile = view.profile
    offset = view.depth_nm if math.isfinite(view.depth_nm) else 0.0
    fig, ax = new_figure((7.0, 3.6))
    full = partial_bins(profile)
    start, end = profile.start_nm + offset, profile.end_nm + offset
    i = profile.elements.index("Li") if "Li" in profile.elements else None
    caption = (f"Li per metal along the needle of {view.name}, against depth below the "
               "particle surface (specimen depth + distance along the analysis direction; "
               f"{profile.end_nm[full][-1] - profile.start_nm[full][0]:.0f} nm analysed; "
               "band: 1σ counting)")
    if i is None or not full.any():
        return fig, caption + "."
    li, sigma = profile.ratios[:, i], profile.ratio_sigmas[:, i]
    edges = np.append(start[full], end[full][-1])
    ax.stairs(li[full], edges, color=cycle_color(view.cycles), lw=1.6, baseline=None,
              label=f"Li ({view.cycles} cycles)")
    ax.stairs(li[full] + sigma[full], edges, baseline=li[full] - sigma[full], fill=True,
              color=cycle_color(view.cycles), alpha=0.2, lw=0)
    if bulk_li is not None and math.isfinite(bulk_li):
        ax.axhline(bulk_li, color="#444444", ls="--", lw=1, label=f"bulk Li {bulk_li:.2f}")
        layer = depleted_layer_nm(0.5 * (start + end)[full], li[full], bulk_li)
        if math.isfinite(layer):
            ax.axvspan(edges[0], layer, color="#d62728", alpha=0.12, lw=0,
                       label=f"depleted layer (Li < 20 % of bulk) to {layer:.0f} nm")
            caption += (f". Conclusion: Li is below 20 % of its bulk value from the top of "
                        f"the needle to {layer:.0f} nm below the particle surface (the "
                        "depleted surface layer)" + (", then rises" if layer < edges[-1] - 2
                                                     else ""))
        else:
            low = float(np.nanmin(li[full]) / bulk_li)
            caption += (f". Conclusion: no depleted layer in this needle (lowest Li "
                        f"{100 * low:.0f} % of bulk)")
    if offset == 0.0 and not math.isfinite(view.depth_nm):
        ax.set_xlabel("distance along the analysis direction (nm); bulk specimen")
    else:
        ax.axvline(0.0, color="#444444", lw=1.2) if offset == 0.0 else None
        ax.set_xlabel("depth below the particle surface (nm)" + (" (0: surface)"
                                                                   if offset == 0.0 else ""))
    ax.set_ylabel("Li / (Ni+Co+Mn)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    return fig, caption + "."


def specimen_figures(view: SpecimenView, *, bulk_li: float | None = None,
                     with_3d: bool = True) -> list[tuple[str, Any, str]]:
    """The figures of one specimen: ``(data-kind, Figure or HTML text, caption)``."""
    from liprobe.report.apt_figures import (
        plot_atom_maps,
        plot_fda_all,
        plot_proxigram,
        plot_spectrum,
    )
    from liprobe.report.atom_map_3d import atom_map_3d_html

    out: list[tuple[str, Any, str]] = []
    offset = view.depth_nm if math.isfinite(view.depth_nm) else 0.0
    fig = plot_atom_maps(view.xyz_nm, view.element_of_ion, view.elements, projection="xz",
                         slab_nm=10.0, depth_offset_nm=offset, rng=np.random.default_rng(0))
    out.append(("atom-map", fig, f"Atom maps of {view.name} ({view.sample}, "
                f"{view.depth_label}): a 10-nm slab through the needle axis, one panel per "
                "element, analysis direction downwards. Conclusion: look for layers (a "
                "surface band), lines or clusters in one element that the others lack."))
    if with_3d:
        html = atom_map_3d_html(view.xyz_nm, view.element_of_ion, view.elements,
                                features=view.features, max_points=VIEW_IONS,
                                div_id=f"atom-map-3d-{_slug(view.name)}")
        out.append(("atom-map-3d", html, f"Interactive 3-D atom map of {view.name} "
                    f"({VIEW_IONS} ions subsampled across the species; drag to rotate, "
                    "click a species in the legend to hide it)"
                    + ("; lines: the detected Li-rich line features" if view.features
                       else "") + "."))
    fig = plot_spectrum(view.spectrum, ranges=view.ranges)
    out.append(("mass-spectrum", fig, f"Mass spectrum of {view.name} (0.05 Da bins, log "
                f"counts) with its {view.ranges.n_ranges} ranges shaded in the colour of their "
                "element and each species labelled. Conclusion: every major peak is ranged; "
                "unshaded peaks would be uncounted atoms."))
    fig, caption = _profile_figure(view, bulk_li)
    out.append(("specimen-profile", fig, caption))
    fig = plot_fda_all(view.fda)
    random = [el for el, r in view.fda.species.items() if r.p_value >= 0.01]
    segregated = [el for el, r in view.fda.species.items() if r.p_value < 0.01]
    out.append(("fda-histogram", fig, f"Frequency distribution of each element in blocks of "
                f"{view.fda.block_ions} ions against the binomial expected for a random "
                f"solution (Moody et al. 2008). Conclusion: random: {', '.join(random) or '-'}; "
                f"not random (p < 0.01): {', '.join(segregated) or '-'}"
                + (" — a depth gradient along the needle or segregation also gives this"
                   if segregated else "") + "."))
    if view.features is not None and view.proxigram is not None:
        fig = plot_proxigram(view.proxigram, elements=("Li",))
        n = len(view.features.features)
        out.append(("proxigram", fig, f"Li per metal against distance from the axes of the "
                    f"{n} Li-rich line feature(s) found in {view.name} (threshold: matrix + "
                    f"{view.features.threshold_sigma:g} σ). Conclusion: Li is enriched within "
                    "~1-2 nm of the lines (dislocation-like Li pipes, paper Fig. 6)."))
    from liprobe.report.detector_views import detector_figures
    from liprobe.report.spatial_views import spatial_figures

    out += detector_figures(view.detector, name=view.name)
    out += spatial_figures(view.spatial, with_3d=with_3d)
    return out


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)


def profile_overview(profiles: Any, specimens: Any, bulk_li: float | None,
                     names: list[str]) -> tuple[Any, str] | None:
    """Li along each named specimen's needle against depth, one colour per cycle count."""
    if profiles is None or profiles.empty or "Li_ratio" not in profiles:
        return None
    info = specimens.set_index("specimen") if specimens is not None else None
    fig, ax = new_figure((7.5, 3.8))
    seen = set()
    for name in names:
        group = profiles[profiles["specimen"] == name]
        if group.empty or info is None or name not in info.index:
            continue
        cycles, depth = info.loc[name, "cycles"], float(info.loc[name, "depth_nm"])
        atoms = group["n_atoms"].to_numpy(np.float64)
        group = group[atoms >= 0.5 * np.nanmedian(atoms)]
        offset = float(plot_depth(depth))
        centre = 0.5 * (group["start_nm"].to_numpy() + group["end_nm"].to_numpy()) + offset
        ax.plot(centre, group["Li_ratio"], color=cycle_color(cycles), lw=1,
                label=f"{cycles} cycles" if cycles not in seen else None)
        seen.add(cycles)
    from liprobe.report.canvas import depth_axis

    depth_axis(ax)
    if bulk_li is not None:
        ax.axhline(bulk_li, color="#444444", ls="--", lw=1, label="bulk Li")
    ax.set_ylabel("Li / (Ni+Co+Mn)")
    ax.legend(fontsize=7)
    return fig, ("Li along every needle, each placed at its depth below the particle surface "
                 "(one colour per cycle count). Conclusion: needles from the same depth agree, "
                 "and the within-needle trends join into the particle's depth profile.")


def element_swatch(element: str) -> str:
    """The element's colour (for legends in HTML)."""
    return element_color(element)
