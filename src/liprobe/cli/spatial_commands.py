"""3-D APT commands: ``isosurface``, ``clusters``, ``nn``, ``map``.

Each reads the files, calls :mod:`liprobe.apt` (field, isosurface, proxigram, clusters,
neighbours), prints text or ``--json`` and, with ``--figure``, writes a figure through
:mod:`liprobe.report.spatial_figures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer

from liprobe.cli._output import emit
from liprobe.errors import ParameterError

__all__ = ["register", "isosurface_payload", "clusters_payload", "nn_payload", "map_payload"]

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of text.")
FIGURE_OPTION = typer.Option(None, "--figure", help="Write a figure (.png, .pdf, .svg; "
                             "isosurface: .html for the interactive 3-D view).")
RANGES_OPTION = typer.Option(..., "--ranges", "-r", help="Range file (RRNG, RNG, ENV).")
OVERLAP_OPTION = typer.Option("error", "--overlap", help="Overlapping ranges: error or first.")
ELEMENT_OPTION = typer.Option("Li", "--element", help="Solute element(s), e.g. Li or Li,Ni.")
SEED_OPTION = typer.Option(0, "--seed", help="Seed of the random labelling.")


def _load(path: Path, ranges_path: Path):
    from liprobe.io import read_ions, read_ranges

    ranges = read_ranges(ranges_path)
    ions = read_ions(path)
    return ions, ranges


def _elements(value: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    if not names:
        raise ParameterError(f"--element {value!r} names nothing; e.g. Li")
    return names


def _save(fig, figure: Path | None) -> None:
    if figure is not None:
        from liprobe.report.canvas import save_figure

        save_figure(fig, figure)


def isosurface_payload(path: Path, ranges_path: Path, *, element: str = "Li",
                       threshold: float = 0.3, voxel_nm: float = 1.0,
                       delocalization_nm: float = 1.5, min_area_nm2: float = 0.0,
                       with_proxigram: bool = False, bin_nm: float = 0.5,
                       max_distance_nm: float = 5.0, overlap: str = "error",
                       figure: Path | None = None) -> dict[str, Any]:
    """``{"surfaces": [{"area_nm2", "enclosed_volume_nm3", "centroid_nm"}], "proxigram"}``."""
    from liprobe.apt.field import concentration_field
    from liprobe.apt.isosurface import find_isosurfaces
    from liprobe.apt.proxigram import proxigram, proxigram_to_dict
    from liprobe.apt.ranging import species_per_ion

    ions, ranges = _load(path, ranges_path)
    species = species_per_ion(ions.mass_to_charge_da, ranges, overlap=overlap)
    field = concentration_field(ions, ranges, element=element, voxel_nm=voxel_nm,
                                delocalization_nm=delocalization_nm, species=species)
    surfaces = find_isosurfaces(field, threshold=threshold, min_area_nm2=min_area_nm2)
    payload = surfaces.to_dict()
    profile = None
    if with_proxigram:
        profile = proxigram(ions, ranges, surfaces, bin_nm=bin_nm,
                            distance_range_nm=(-max_distance_nm, max_distance_nm),
                            species=species)
        payload["proxigram"] = proxigram_to_dict(profile)
    if figure is not None:
        if Path(figure).suffix.lower() in (".html", ".htm"):
            from liprobe.report.spatial_figures import isosurface_html

            page = ("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    + isosurface_html(surfaces) + "</body></html>")
            Path(figure).write_text(page, encoding="utf-8")
        elif profile is not None:
            from liprobe.report.spatial_figures import plot_surface_proxigram

            _save(plot_surface_proxigram(profile), figure)
        else:
            raise ParameterError(f"--figure {figure}: give an .html file for the 3-D "
                                 "isosurface view, or add --proxigram for a proxigram figure")
    return payload


def clusters_payload(path: Path, ranges_path: Path, *, element: str = "Li",
                     method: str = "maxsep", dmax_nm: float = 0.5, order: int = 1,
                     nmin: int = 10, envelope_nm: float | None = None,
                     erosion_nm: float | None = None, eps_nm: float = 0.5,
                     min_samples: int = 5, baseline_repeats: int = 1, seed: int = 0,
                     overlap: str = "error", figure: Path | None = None) -> dict[str, Any]:
    """``{"method", "parameters", "clusters": [...], "random_label_baseline"}``."""
    from liprobe.apt.clusters import dbscan_clusters, maximum_separation_clusters

    ions, ranges = _load(path, ranges_path)
    rng = np.random.default_rng(seed)
    names = _elements(element)
    if method == "maxsep":
        result = maximum_separation_clusters(
            ions, ranges, element=names, d_max_nm=dmax_nm, order=order, n_min=nmin,
            envelope_nm=envelope_nm, erosion_nm=erosion_nm,
            baseline_repeats=baseline_repeats, rng=rng, overlap=overlap)
    elif method == "dbscan":
        result = dbscan_clusters(
            ions, ranges, element=names, eps_nm=eps_nm, min_samples=min_samples, n_min=nmin,
            envelope_nm=envelope_nm or 0.0, erosion_nm=erosion_nm or 0.0,
            baseline_repeats=baseline_repeats, rng=rng, overlap=overlap)
    else:
        raise ParameterError(f"--method {method!r}: use maxsep or dbscan")
    if figure is not None:
        from liprobe.report.spatial_figures import plot_clusters

        _save(plot_clusters(result), figure)
    return result.to_dict()


def nn_payload(path: Path, ranges_path: Path, *, element: str = "Li", k: int = 1,
               target: str = "solute", bin_nm: float = 0.05, max_distance_nm: float = 2.0,
               n_random: int = 5, edge_exclusion_nm: float | None = None,
               pair_correlation: bool = False, seed: int = 0, overlap: str = "error",
               figure: Path | None = None) -> dict[str, Any]:
    """``{"nn": {...}, "pair_correlation": {...} (with --pair-correlation)}``."""
    from liprobe.apt import neighbours

    ions, ranges = _load(path, ranges_path)
    rng = np.random.default_rng(seed)
    names = _elements(element)
    nn = neighbours.nearest_neighbour_distribution(
        ions, ranges, rng=rng, element=names, k=k, target=target, bin_nm=bin_nm,
        max_distance_nm=max_distance_nm, n_random=n_random,
        edge_exclusion_nm=edge_exclusion_nm, overlap=overlap)
    payload: dict[str, Any] = {"nn": nn.to_dict()}
    if pair_correlation:
        payload["pair_correlation"] = neighbours.pair_correlation(
            ions, ranges, rng=rng, element=names, overlap=overlap).to_dict()
    if figure is not None:
        from liprobe.report.spatial_figures import plot_nn_distribution

        _save(plot_nn_distribution(nn), figure)
    return payload


def map_payload(path: Path, ranges_path: Path, *, element: str = "Li", axis: str = "z",
                pixel_nm: float = 1.0, slab_center_nm: float | None = None,
                thickness_nm: float | None = None, delocalization_nm: float = 0.0,
                overlap: str = "error", figure: Path | None = None) -> dict[str, Any]:
    """The :class:`~liprobe.apt.field.ConcentrationMap` as a dict (fraction and σ grids)."""
    from liprobe.apt.field import concentration_map

    ions, ranges = _load(path, ranges_path)
    slab = None
    if (slab_center_nm is None) != (thickness_nm is None):
        raise ParameterError("give --slab-center-nm and --thickness-nm together (or neither "
                             "for a projection)")
    if slab_center_nm is not None:
        slab = (slab_center_nm - thickness_nm / 2, slab_center_nm + thickness_nm / 2)
    cmap = concentration_map(ions, ranges, element=element, axis=axis, pixel_nm=pixel_nm,
                             slab_nm=slab, delocalization_nm=delocalization_nm,
                             overlap=overlap)
    if figure is not None:
        from liprobe.report.spatial_figures import plot_concentration_map

        _save(plot_concentration_map(cmap), figure)
    return cmap.to_dict()


def register(app: typer.Typer) -> None:
    """Add ``isosurface``, ``clusters``, ``nn`` and ``map`` to ``app``."""

    @app.command("isosurface")
    def isosurface(
        file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
        ranges: Path = RANGES_OPTION,
        element: str = typer.Option("Li", "--element", help="Element of the field."),
        threshold: float = typer.Option(0.3, "--threshold", help="Atom fraction (0-1)."),
        voxel_nm: float = typer.Option(1.0, "--voxel-nm", help="Voxel edge (nm)."),
        delocalization_nm: float = typer.Option(1.5, "--delocalization-nm",
                                                help="Gaussian delocalisation σ (nm)."),
        min_area_nm2: float = typer.Option(0.0, "--min-area-nm2", help="Drop smaller surfaces."),
        with_proxigram: bool = typer.Option(False, "--proxigram", help="Also the proxigram."),
        bin_nm: float = typer.Option(0.5, "--bin-nm", help="Proxigram bin (nm)."),
        max_distance_nm: float = typer.Option(5.0, "--max-distance-nm",
                                              help="Proxigram range ± (nm)."),
        overlap: str = OVERLAP_OPTION,
        figure: Path | None = FIGURE_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Isoconcentration surfaces (area, enclosed volume, centroid) and the proxigram."""
        payload = isosurface_payload(
            file, ranges, element=element, threshold=threshold, voxel_nm=voxel_nm,
            delocalization_nm=delocalization_nm, min_area_nm2=min_area_nm2,
            with_proxigram=with_proxigram, bin_nm=bin_nm, max_distance_nm=max_distance_nm,
            overlap=overlap, figure=figure)
        lines = [f"{len(payload['surfaces'])} {element} isosurfaces at {threshold:g}"]
        for s in payload["surfaces"]:
            c = s["centroid_nm"]
            vol = ("open" if s["enclosed_volume_nm3"] is None
                   else f"volume {s['enclosed_volume_nm3']:.1f} nm^3")
            lines.append(f"  area {s['area_nm2']:9.1f} nm^2  {vol}  centroid ({c[0]:.1f}, "
                         f"{c[1]:.1f}, {c[2]:.1f}) nm")
        if "proxigram" in payload:
            p = payload["proxigram"]
            lines.append(f"{'distance_nm':>11} {'ions':>8} " + " ".join(
                f"{e:>7}" for e in p["fractions"]))
            for b, d in enumerate(p["distance_nm"]):
                lines.append(f"{d:11.2f} {p['n_ions'][b]:8d} " + " ".join(
                    f"{p['fractions'][e][b]:7.4f}" for e in p["fractions"]))
        emit(payload, as_json=as_json, text="\n".join(lines))

    @app.command("clusters")
    def clusters(
        file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
        ranges: Path = RANGES_OPTION,
        element: str = ELEMENT_OPTION,
        method: str = typer.Option("maxsep", "--method", help="maxsep or dbscan."),
        dmax_nm: float = typer.Option(0.5, "--dmax-nm", help="maxsep: linking distance."),
        order: int = typer.Option(1, "--order", help="maxsep: solute neighbours of a core."),
        nmin: int = typer.Option(10, "--nmin", help="Smallest cluster (solute ions)."),
        envelope_nm: float | None = typer.Option(None, "--envelope-nm",
                                                 help="Envelope (maxsep default d_max)."),
        erosion_nm: float | None = typer.Option(None, "--erosion-nm",
                                                help="Erosion (maxsep default envelope)."),
        eps_nm: float = typer.Option(0.5, "--eps-nm", help="dbscan: neighbourhood radius."),
        min_samples: int = typer.Option(5, "--min-samples", help="dbscan: core size."),
        baseline_repeats: int = typer.Option(1, "--baseline-repeats",
                                             help="Random-labelling repeats (0: none)."),
        seed: int = SEED_OPTION,
        overlap: str = OVERLAP_OPTION,
        figure: Path | None = FIGURE_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Solute clusters (maximum separation or DBSCAN) with a random-labelling baseline."""
        payload = clusters_payload(
            file, ranges, element=element, method=method, dmax_nm=dmax_nm, order=order,
            nmin=nmin, envelope_nm=envelope_nm, erosion_nm=erosion_nm, eps_nm=eps_nm,
            min_samples=min_samples, baseline_repeats=baseline_repeats, seed=seed,
            overlap=overlap, figure=figure)
        base = payload["random_label_baseline"]
        lines = [f"{payload['n_clusters']} {element} clusters ({method}); random labelling: "
                 + ("not run" if base is None else f"{base['n_clusters']:g}")]
        for c in payload["clusters"]:
            x = c["centroid_nm"]
            lines.append(f"  {c['n_solute']:6d} solute / {c['n_ions']:6d} ions  centroid "
                         f"({x[0]:.1f}, {x[1]:.1f}, {x[2]:.1f}) nm  R_g "
                         f"{c['radius_of_gyration_nm']:.2f} nm")
        emit(payload, as_json=as_json, text="\n".join(lines))

    @app.command("nn")
    def nn(
        file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
        ranges: Path = RANGES_OPTION,
        element: str = ELEMENT_OPTION,
        k: int = typer.Option(1, "--k", help="Neighbour order."),
        target: str = typer.Option("solute", "--target", help="solute or all."),
        bin_nm: float = typer.Option(0.05, "--bin-nm", help="Histogram bin (nm)."),
        max_distance_nm: float = typer.Option(2.0, "--max-distance-nm", help="Last bin edge."),
        n_random: int = typer.Option(5, "--n-random", help="Random-labelling repeats."),
        edge_exclusion_nm: float | None = typer.Option(
            None, "--edge-exclusion-nm", help="Skip ions nearer the boundary (default "
            "--max-distance-nm; 0: none)."),
        pair_correlation: bool = typer.Option(False, "--pair-correlation",
                                              help="Also g(r)."),
        seed: int = SEED_OPTION,
        overlap: str = OVERLAP_OPTION,
        figure: Path | None = FIGURE_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """k-th nearest-neighbour distances against random labelling (and g(r))."""
        payload = nn_payload(
            file, ranges, element=element, k=k, target=target, bin_nm=bin_nm,
            max_distance_nm=max_distance_nm, n_random=n_random,
            edge_exclusion_nm=edge_exclusion_nm, pair_correlation=pair_correlation,
            seed=seed, overlap=overlap, figure=figure)
        d = payload["nn"]
        text = (f"{element} k={k} to {target}: mean {d['mean_distance_nm']:.3f} nm, random "
                f"labelling {d['random_mean_distance_nm']:.3f} nm ({d['n_query']} ions, "
                f"{d['n_excluded_edge']} excluded near the boundary)")
        emit(payload, as_json=as_json, text=text)

    @app.command("map")
    def concentration_map(
        file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
        ranges: Path = RANGES_OPTION,
        element: str = typer.Option("Li", "--element", help="Element mapped."),
        axis: str = typer.Option("z", "--axis", help="Map normal: x, y or z."),
        pixel_nm: float = typer.Option(1.0, "--pixel-nm", help="Pixel edge (nm)."),
        slab_center_nm: float | None = typer.Option(None, "--slab-center-nm",
                                                    help="Slab centre along the axis."),
        thickness_nm: float | None = typer.Option(None, "--thickness-nm",
                                                  help="Slab thickness (nm)."),
        delocalization_nm: float = typer.Option(0.0, "--delocalization-nm",
                                                help="In-plane Gaussian σ (nm)."),
        overlap: str = OVERLAP_OPTION,
        figure: Path | None = FIGURE_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """2-D concentration map (projection or slab) with σ per pixel."""
        payload = map_payload(
            file, ranges, element=element, axis=axis, pixel_nm=pixel_nm,
            slab_center_nm=slab_center_nm, thickness_nm=thickness_nm,
            delocalization_nm=delocalization_nm, overlap=overlap, figure=figure)
        frac = np.asarray(payload["fraction"], dtype=float)
        text = (f"{element} map normal to {axis}: {frac.shape[0]} x {frac.shape[1]} pixels of "
                f"{pixel_nm:g} nm, slab {payload['slab_nm'][0]:.1f}-{payload['slab_nm'][1]:.1f}"
                f" nm, mean fraction {np.nanmean(frac):.4f}")
        emit(payload, as_json=as_json, text=text)
