"""Within-specimen APT commands: ``spectrum``, ``profile``, ``fda``, ``features``, ``qc``.

Each command reads the files, calls :mod:`liprobe.apt`, prints text or ``--json`` and,
with ``--figure``, writes a figure through :mod:`liprobe.report.apt_figures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import emit
from liprobe.errors import ParameterError

__all__ = ["register", "spectrum_payload", "profile_payload", "fda_payload",
           "features_payload", "qc_payload"]

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of text.")
FIGURE_OPTION = typer.Option(None, "--figure", help="Write a figure (.png, .pdf, .svg).")
RANGES_OPTION = typer.Option(..., "--ranges", "-r", help="Range file (RRNG, RNG, ENV).")
OVERLAP_OPTION = typer.Option("error", "--overlap", help="Overlapping ranges: error or first.")
FORCE_OPTION = typer.Option(False, "--force", help="Replace an existing figure or range file "
                            "(never an input).")


def _check_outputs(inputs: tuple[Path | None, ...], *, figure: Path | None = None,
                   files: tuple[Path | None, ...] = (), force: bool = False) -> None:
    """The output policy before any work: no output over an input, nor over an existing
    file without ``--force``; a figure path must have a figure suffix."""
    from liprobe.io.output_policy import check_output_file

    reads = tuple(p for p in inputs if p is not None)
    if figure is not None:
        from liprobe.report.canvas import check_figure_path

        check_figure_path(figure)
        check_output_file(figure, inputs=reads, force=force, what="figure")
    for target in files:
        if target is not None:
            check_output_file(target, inputs=reads, force=force)


def _names(value: str | None, option: str) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise ParameterError(f"{option} {value!r} names nothing; e.g. Li,Ni")
    return names


def _ints(value: str, option: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ParameterError(f"{option} must be comma-separated integers, got {value!r}") from None


def _load(path: Path, ranges_path: Path | None):
    from liprobe.io import read_ions, read_ranges

    ranges = read_ranges(ranges_path) if ranges_path is not None else None
    return read_ions(path), ranges


def _save(fig, figure: Path | None, force: bool = True) -> None:
    if figure is not None:
        from liprobe.report.apt_figures import save_figure

        save_figure(fig, figure, force=force)


#: A peak with at least this fraction of the strongest peak's net counts must be ranged.
STRONG_PEAK_FRACTION = 0.01


def spectrum_payload(path: Path, *, bin_da: float = 0.01, log: bool = True,
                     deconvolve: bool = False, propose: Path | None = None,
                     figure: Path | None = None, species: str | None = None,
                     force: bool = False) -> dict[str, Any]:
    """``liprobe spectrum`` payload: background, peaks, proposed ranges, overlaps.

    ``species``: comma-separated elements (or species such as ``Li2O+``) the proposal may
    use, or ``"all"``; default the species of an NCM cathode (H, Li, O, Ni, Co, Mn).
    """
    from liprobe.apt.isotope_patterns import species_for_elements
    from liprobe.apt.spectrum import (
        estimate_background,
        find_peaks,
        mass_spectrum,
        propose_ranges,
        unranged_peaks,
    )
    from liprobe.io import read_ions

    _check_outputs((path,), figure=figure, files=(propose,), force=force)
    if propose is not None:
        from liprobe.io import detect_format

        detect_format(propose, kind="ranges", for_writing=True)

    ions = read_ions(path)
    spectrum = mass_spectrum(ions.mass_to_charge_da, bin_width_da=bin_da)
    background = estimate_background(spectrum)
    peaks = find_peaks(spectrum, background)
    payload: dict[str, Any] = {
        "n_ions": ions.n_ions, "bin_width_da": bin_da,
        "background": {"amplitude": background.amplitude,
                       "amplitude_sigma": background.amplitude_sigma,
                       "model": "counts per Da = amplitude / sqrt(m/q)"},
        "peaks": [{"position_da": p.position_da, "low_da": p.low_da, "high_da": p.high_da,
                   "net_counts": p.net_counts, "significance": p.significance}
                  for p in peaks],
    }
    ranges = None
    if peaks:
        candidates = None if species is None else species_for_elements(species)
        ranges = propose_ranges(peaks, species=candidates)
        payload["candidate_species"] = list(candidates) if candidates else "NCM default"
        payload["proposed_ranges"] = [
            {"low_da": float(lo), "high_da": float(hi), "ion": ranges.ions[int(k)].name}
            for lo, hi, k in zip(ranges.low_da, ranges.high_da, ranges.ion_index)]
        payload["unranged_strong_peaks"] = [
            {"position_da": p.position_da, "net_counts": p.net_counts}
            for p in unranged_peaks(peaks, ranges,
                                    min_fraction_of_strongest=STRONG_PEAK_FRACTION)]
        if propose is not None:
            from liprobe.io import write_ranges

            write_ranges(propose, ranges, inputs=(path,), fill_missing=True)  # for IVAS
    elif propose is not None:
        payload["proposed_ranges"] = []
        payload["note"] = f"no peaks found: {propose} was not written"
    if deconvolve:
        from liprobe.apt.overlaps import deconvolve_overlaps

        payload["overlaps"] = deconvolve_overlaps(ions.mass_to_charge_da,
                                                  background=background).to_dict()
    if figure is not None:
        from liprobe.report.apt_figures import plot_spectrum

        _save(plot_spectrum(spectrum, background=background, ranges=ranges, log=log), figure)
    return payload


def profile_payload(path: Path, ranges_path: Path, *, bin_nm: float | None = None,
                    bin_ions: int | None = None, axis: str = "z",
                    normalize_to: str | None = None, overlap: str = "error",
                    figure: Path | None = None, force: bool = False) -> dict[str, Any]:
    """``liprobe profile`` payload: ``{"axis", "denominator", "bins": [...]}``."""
    from liprobe.apt.profiles import concentration_profile

    _check_outputs((path, ranges_path), figure=figure, force=force)
    ions, ranges = _load(path, ranges_path)
    norm = _names(normalize_to, "--normalize-to")
    axis_value: Any = axis
    if "," in axis:
        try:
            axis_value = tuple(float(v) for v in axis.split(","))
        except ValueError:
            raise ParameterError(f"--axis {axis!r}: give x, y, z or a vector like 1,0,0") from None
    profile = concentration_profile(
        ions, ranges, axis=axis_value, bin_nm=bin_nm, bin_ions=bin_ions,
        normalize_to=None if norm is None else tuple(norm), overlap=overlap)
    if figure is not None:
        from liprobe.report.apt_figures import plot_profile

        _save(plot_profile(profile), figure)
    return profile.to_dict()


def fda_payload(path: Path, ranges_path: Path, *, block_ions: int = 100,
                species: str | None = None, method: str = "spatial",
                scan: str | None = None, overlap: str = "error",
                figure: Path | None = None, force: bool = False) -> dict[str, Any]:
    """``liprobe fda`` payload: ``{"species": {El: {chi2, dof, p_value, mu, n_blocks,
    block_ions}}, "conventions": ...}`` plus ``"scan"`` with ``--scan``."""
    from liprobe.apt.frequency import frequency_distribution, scan_block_sizes

    _check_outputs((path, ranges_path), figure=figure, force=force)
    ions, ranges = _load(path, ranges_path)
    elements = _names(species, "--species")
    result = frequency_distribution(ions, ranges, block_ions=block_ions, elements=elements,
                                    method=method, overlap=overlap)
    payload = result.to_dict()
    mu_scan = None
    if scan is not None:
        mu_scan = scan_block_sizes(ions, ranges, block_ions=_ints(scan, "--scan"),
                                   elements=elements, method=method, overlap=overlap)
        payload["scan"] = mu_scan.to_dict()
    if figure is not None:
        from liprobe.report.apt_figures import plot_fda_all, plot_mu_scan

        _save(plot_mu_scan(mu_scan) if mu_scan is not None else plot_fda_all(result), figure)
    return payload


def features_payload(path: Path, ranges_path: Path, *, element: str = "Li",
                     voxel_nm: float = 1.0, delocalization_nm: float = 1.5,
                     threshold_sigma: float = 5.0, min_length_nm: float = 5.0,
                     overlap: str = "error", figure: Path | None = None,
                     force: bool = False) -> dict[str, Any]:
    """``liprobe features`` payload: ``{"features": [{length_nm, direction, centroid_nm,
    enrichment}], ...}``; the figure is the line proxigram."""
    from liprobe.apt.features import find_line_features, line_proxigram

    _check_outputs((path, ranges_path), figure=figure, force=force)
    ions, ranges = _load(path, ranges_path)
    found = find_line_features(ions, ranges, element=element, voxel_nm=voxel_nm,
                               delocalization_nm=delocalization_nm,
                               threshold_sigma=threshold_sigma, min_length_nm=min_length_nm,
                               overlap=overlap)
    payload = found.to_dict()
    if found.features:
        prox = line_proxigram(ions, ranges, found, overlap=overlap)
        payload["proxigram"] = prox.to_dict()["bins"]
        if figure is not None:
            from liprobe.report.apt_figures import plot_proxigram

            _save(plot_proxigram(prox, elements=(element,)), figure)
    return payload


def qc_payload(path: Path, ranges_path: Path, *, overlap: str = "error") -> dict[str, Any]:
    """``liprobe qc`` payload: ``{"verdict", "checks": [...], "skipped": [...]}``."""
    from liprobe.apt.quality import check_quality

    ions, ranges = _load(path, ranges_path)
    return check_quality(ions, ranges, overlap=overlap).to_dict()


def _f(value: Any, spec: str) -> str:
    return "-" if value is None or value != value else format(value, spec)


def profile_text(payload: dict[str, Any], *, ratios: bool) -> str:
    """Text table of a profile payload: ratios to the denominator (as the JSON's
    ``ratios``) when ``ratios``, else atom fractions; partial end bins flagged."""
    bins = payload["bins"]
    key, sigma_key = ("ratios", "ratio_sigmas") if ratios else ("fractions", "sigmas")
    elements = list(bins[0][key]) if bins else []
    what = ("ratio to " + "+".join(payload["denominator"])) if ratios else "atom fraction"
    widths = [b["end_nm"] - b["start_nm"] for b in bins]
    full = max(widths) if widths else 0.0
    lines = [f"{what} per bin along {payload['axis']}",
             f"{'start_nm':>9} {'end_nm':>9} {'atoms':>9} " + " ".join(
                 f"{e:>8} {'σ':>7}" for e in elements)]
    for b, width in zip(bins, widths):
        partial = "  (partial bin)" if full and width < 0.99 * full else ""
        lines.append(f"{b['start_nm']:9.2f} {b['end_nm']:9.2f} {b['n_atoms']:9d} " + " ".join(
            f"{_f(b[key][e], '8.4f')} {_f(b[sigma_key][e], '7.4f')}" for e in elements)
            + partial)
    return "\n".join(lines)


def scan_text(scan: dict[str, Any]) -> str:
    """Text table of a μ scan: one row per block size, μ and p per element."""
    elements = list(scan["mu"])
    lines = [f"{'block_ions':>10} " + " ".join(f"{'mu ' + e:>8} {'p ' + e:>9}"
                                               for e in elements)]
    for i, n in enumerate(scan["block_ions"]):
        lines.append(f"{n:>10d} " + " ".join(
            f"{_f(scan['mu'][e][i], '8.3f')} {_f(scan['p_value'][e][i], '9.3g')}"
            for e in elements))
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add ``spectrum``, ``profile``, ``fda``, ``features`` and ``qc`` to ``app``."""

    @app.command("spectrum")
    def spectrum(
        file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
        bin_da: float = typer.Option(0.01, "--bin-da", help="Bin width in Da."),
        linear: bool = typer.Option(False, "--linear", help="Linear count axis in the figure."),
        deconvolve: bool = typer.Option(False, "--deconvolve",
                                        help="Deconvolve the NCM peak overlaps."),
        propose: Path | None = typer.Option(None, "--propose",
                                            help="Write the proposed ranges to this RRNG."),
        species: str | None = typer.Option(
            None, "--species", help="Candidate elements of the proposal, comma-separated "
            "(e.g. Si,O,Cr; species like Li2O+ too), or 'all' for every element "
            "(default: H,Li,O,Ni,Co,Mn of an NCM cathode)."),
        figure: Path | None = FIGURE_OPTION,
        force: bool = FORCE_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Mass spectrum: background, peaks, isotope-pattern ranges, overlaps."""
        payload = spectrum_payload(file, bin_da=bin_da, log=not linear, deconvolve=deconvolve,
                                   propose=propose, figure=figure, species=species,
                                   force=force)
        missed = payload.get("unranged_strong_peaks", [])
        if missed:
            typer.echo(f"liprobe: warning: {len(missed)} strong peak(s) got no range: "
                       + ", ".join(f"{p['position_da']:.2f} Da ({p['net_counts']:.0f} ions)"
                                   for p in missed)
                       + "; add their elements with --species (or --species all)", err=True)
        n_ranges = len(payload.get("proposed_ranges", []))
        lines = [f"{file}: {payload['n_ions']} ions, background amplitude "
                 f"{payload['background']['amplitude']:.1f} counts Da^-1/2",
                 f"{len(payload['peaks'])} significant peaks; {n_ranges} proposed ranges "
                 "(peaks explained by a known isotope pattern, one range per peak kept)"
                 + ("" if n_ranges else "; no peak matched a known species")]
        for r in payload.get("proposed_ranges", []):
            lines.append(f"  {r['ion']:<6} {r['low_da']:8.3f} - {r['high_da']:8.3f} Da")
        for name, v in payload.get("overlaps", {}).get("species", {}).items():
            lines.append(f"  {name:<6} {v['count']:12.0f} ± {v['sigma']:.0f} "
                         f"(naive {v['naive']:.0f})")
        emit(payload, as_json=as_json, text="\n".join(lines))

    @app.command("profile")
    def profile(
        file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
        ranges: Path = RANGES_OPTION,
        bin_nm: float | None = typer.Option(None, "--bin-nm", help="Fixed bin width (nm)."),
        bin_ions: int | None = typer.Option(None, "--bin-ions", help="Ions per bin."),
        axis: str = typer.Option("z", "--axis", help="x, y, z (z: from the first ion) or a "
                                 "vector such as 1,1,0."),
        normalize_to: str | None = typer.Option(None, "--normalize-to",
                                                help="Ratio denominator, e.g. Ni,Co,Mn."),
        overlap: str = OVERLAP_OPTION,
        figure: Path | None = FIGURE_OPTION,
        force: bool = FORCE_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """1-D concentration profile along an axis, with counting σ."""
        payload = profile_payload(file, ranges, bin_nm=bin_nm, bin_ions=bin_ions, axis=axis,
                                  normalize_to=normalize_to, overlap=overlap, figure=figure,
                                  force=force)
        emit(payload, as_json=as_json, text=profile_text(payload,
                                                       ratios=normalize_to is not None))

    @app.command("fda")
    def fda(
        file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
        ranges: Path = RANGES_OPTION,
        block_ions: int = typer.Option(100, "--block-ions", help="Ions per block n_b."),
        species: str | None = typer.Option(None, "--species", help="Elements, e.g. Li,Ni."),
        method: str = typer.Option("spatial", "--method", help="spatial or evaporation."),
        scan: str | None = typer.Option(None, "--scan",
                                        help="Also scan block sizes, e.g. 25,50,100,200."),
        overlap: str = OVERLAP_OPTION,
        figure: Path | None = FIGURE_OPTION,
        force: bool = FORCE_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Frequency distribution analysis: χ², ν, p-value and Pearson μ per element."""
        payload = fda_payload(file, ranges, block_ions=block_ions, species=species,
                              method=method, scan=scan, overlap=overlap, figure=figure,
                              force=force)
        conv = payload["conventions"]
        lines = [f"{payload['n_blocks']} blocks of {payload['block_ions']} ions ({method}); "
                 f"pooling {conv['pooling']}, dof {conv['dof']}, μ with N = {conv['mu_n']}",
                 f"{'element':<8} {'chi2':>10} {'dof':>4} {'p':>9} {'mu':>7}"]
        for el, r in payload["species"].items():
            lines.append(f"{el:<8} {r['chi2']:10.1f} {r['dof']:4d} {_f(r['p_value'], '9.3g')} "
                         f"{r['mu']:7.3f}")
        if "scan" in payload:
            lines += ["", "Pearson μ against block size (--scan):", scan_text(payload["scan"])]
        emit(payload, as_json=as_json, text="\n".join(lines))

    @app.command("features")
    def features(
        file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
        ranges: Path = RANGES_OPTION,
        element: str = typer.Option("Li", "--element", help="Enriched element."),
        voxel_nm: float = typer.Option(1.0, "--voxel-nm", help="Voxel edge (nm)."),
        delocalization_nm: float = typer.Option(1.5, "--delocalization-nm",
                                                help="Gaussian smoothing σ (nm)."),
        threshold_sigma: float = typer.Option(5.0, "--threshold-sigma",
                                              help="Threshold: matrix median + k σ."),
        min_length_nm: float = typer.Option(5.0, "--min-length-nm", help="Shortest feature."),
        overlap: str = OVERLAP_OPTION,
        figure: Path | None = FIGURE_OPTION,
        force: bool = FORCE_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Linear solute-enriched features (dislocations) and their line proxigram."""
        payload = features_payload(file, ranges, element=element, voxel_nm=voxel_nm,
                                   delocalization_nm=delocalization_nm,
                                   threshold_sigma=threshold_sigma,
                                   min_length_nm=min_length_nm, overlap=overlap, figure=figure,
                                   force=force)
        lines = [f"{len(payload['features'])} {element} line features (matrix fraction "
                 f"{payload['matrix_fraction']:.3f}, threshold "
                 f"{payload['threshold_fraction']:.3f})"]
        for f in payload["features"]:
            d, c = f["direction"], f["centroid_nm"]
            lines.append(f"  length {f['length_nm']:6.1f} nm  direction ({d[0]:+.2f}, "
                         f"{d[1]:+.2f}, {d[2]:+.2f})  centroid ({c[0]:.1f}, {c[1]:.1f}, "
                         f"{c[2]:.1f}) nm  enrichment {f['enrichment']:.2f}")
        emit(payload, as_json=as_json, text="\n".join(lines))

    @app.command("qc")
    def qc(
        file: Path = typer.Argument(..., help="Ion file (EPOS or APT for multi-hit checks)."),
        ranges: Path = RANGES_OPTION,
        overlap: str = OVERLAP_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Li quality checks: isotope ratio, multi-hits, Li trend along z, O/metal."""
        payload = qc_payload(file, ranges, overlap=overlap)
        lines = [f"{file}: {payload['verdict'].upper()}"]
        for c in payload["checks"]:
            lines.append(f"  [{c['verdict']}] {c['name']}: {c['message']}")
        for s in payload["skipped"]:
            lines.append(f"  [skip] {s['name']}: {s['reason']}")
        emit(payload, as_json=as_json, text="\n".join(lines))
