"""``liprobe haadf analyze``, ``calibrate`` and ``simulate``: parse, call, format.

``analyze`` reads an image (TIFF, DM3/DM4, EMD, NPY), runs
:func:`liprobe.stem.analyze.analyze_haadf` and prints the summary (``--json``: the
result's ``to_dict()``); ``-o DIR`` also writes ``haadf.json``, ``windows.csv``,
``profile.csv`` and three PNG figures. ``simulate`` writes a simulated image (TIFF with
its pixel size) and, with ``--truth``, the columns' ground truth as CSV. ``calibrate``
computes a frozen-phonon multislice calibration table (R0, k vs thickness; abTEM) and
writes it as JSON; ``analyze --kv --convergence-mrad --detector-mrad --thickness-nm``
uses one (the shipped default, or ``--calibration FILE``).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import FORCE_HELP, emit, to_json
from liprobe.errors import ParameterError

__all__ = ["register", "parse_profile", "analyze_payload", "simulate_payload",
           "calibrate_payload", "parse_pairs", "parse_floats"]


def parse_floats(text: str, option: str) -> tuple[float, ...]:
    """``"2,4,8"`` -> (2.0, 4.0, 8.0)."""
    try:
        values = tuple(float(p) for p in text.replace(";", ",").split(",") if p.strip())
    except ValueError:
        raise ParameterError(f"{option} {text!r}: give numbers separated by commas") from None
    if not values:
        raise ParameterError(f"{option} is empty")
    return values


def parse_pairs(texts: list[str], option: str) -> tuple[tuple[float, float], ...]:
    """``["70,160", "90,200"]`` -> ((70, 160), (90, 200)) (inner < outer, mrad)."""
    pairs = []
    for text in texts:
        values = parse_floats(text, option)
        if len(values) != 2 or not 0 <= values[0] < values[1]:
            raise ParameterError(f"{option} {text!r}: give inner,outer in mrad (e.g. 70,160)")
        pairs.append((values[0], values[1]))
    return tuple(pairs)


def _calibration_point(*, calibration: Path | None, kv: float | None,
                       convergence_mrad: float | None, detector_mrad: str | None,
                       thickness_nm: float | None, thickness_sigma_nm: float | None):
    from liprobe.stem.calibration import calibration_at

    given = {"--kv": kv, "--convergence-mrad": convergence_mrad,
             "--detector-mrad": detector_mrad, "--thickness-nm": thickness_nm}
    if all(v is None for v in given.values()):
        if calibration is not None:
            raise ParameterError("--calibration needs the optics and thickness: --kv, "
                                 "--convergence-mrad, --detector-mrad, --thickness-nm")
        return None
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise ParameterError(f"a calibrated analysis needs {', '.join(missing)} as well "
                             "(all of --kv, --convergence-mrad, --detector-mrad, "
                             "--thickness-nm)")
    table = None
    if calibration is not None:
        from liprobe.workflow.haadf_calibration import read_haadf_calibration

        table = read_haadf_calibration(calibration)
    sigma = 0.1 * thickness_nm if thickness_sigma_nm is None else thickness_sigma_nm
    return calibration_at(table, kv=kv, convergence_mrad=convergence_mrad,
                          detector_mrad=parse_pairs([detector_mrad], "--detector-mrad")[0],
                          thickness_nm=thickness_nm, thickness_sigma_nm=sigma)


def calibrate_payload(output: Path, *, kv: str, convergence_mrad: str, detector_mrad: list[str],
                      thickness_nm: str, configs: int, seed: int, device: str,
                      a_nm: float, c_nm: float, sites_per_type: int = 5,
                      progress=None) -> dict[str, Any]:
    """Compute the calibration table, write it, return a summary."""
    import dataclasses

    from liprobe.stem.calibration import compute_calibration
    from liprobe.stem.multislice import NCM811, MultisliceSettings
    from liprobe.workflow.haadf_calibration import write_haadf_calibration

    material = dataclasses.replace(NCM811, a_nm=a_nm, c_nm=c_nm)
    cal = compute_calibration(kv=parse_floats(kv, "--kv"),
                              convergence_mrad=parse_floats(convergence_mrad,
                                                            "--convergence-mrad"),
                              detectors_mrad=parse_pairs(detector_mrad, "--detector-mrad"),
                              thickness_nm=parse_floats(thickness_nm, "--thickness-nm"),
                              material=material,
                              settings=MultisliceSettings(n_configs=configs, seed=seed,
                                                          sites_per_type=sites_per_type,
                                                          device=device),
                              progress=progress)
    write_haadf_calibration(output, cal)
    return {"calibration": str(output), "rows": cal.n_rows, "provenance": cal.provenance}


def parse_profile(text: str):
    """``"0:0.5:rock-salt,3:0.25:spinel-like,7:0.03:layered"`` -> DisorderProfile.

    Each item is ``depth_nm:f:phase`` (zone start, antisite fraction, phase label).
    """
    from liprobe.stem.simulate import DisorderProfile

    depths, fs, phases = [], [], []
    for k, item in enumerate(filter(None, (p.strip() for p in text.split(",")))):
        parts = item.split(":")
        if len(parts) != 3:
            raise ParameterError(
                f"--profile item {k + 1} {item!r} is not depth_nm:f:phase "
                "(e.g. 0:0.5:rock-salt,3:0.25:spinel-like,7:0.03:layered)"
            )
        try:
            depths.append(float(parts[0]))
            fs.append(float(parts[1]))
        except ValueError:
            raise ParameterError(f"--profile item {k + 1} {item!r}: depth and f must be "
                                 "numbers") from None
        phases.append(parts[2].strip())
    if not depths:
        raise ParameterError("--profile is empty")
    return DisorderProfile(tuple(depths), tuple(fs), tuple(phases))


def analyze_payload(image_path: Path, *, pixel_size_nm: float | None, reference: Path | None,
                    simulate_reference: bool, model: str, window_nm: float,
                    depth_offset_nm: float, background: float | None,
                    probe_fwhm_nm: float | None, out_dir: Path | None,
                    orientation_deg: float | None = None, calibration: Path | None = None,
                    kv: float | None = None, convergence_mrad: float | None = None,
                    detector_mrad: str | None = None, thickness_nm: float | None = None,
                    thickness_sigma_nm: float | None = None,
                    surface_normal_deg: float | None = None, signal: str | None = None,
                    force: bool = False):
    """Run the analysis; write the outputs to ``out_dir``; return (payload, analysis)."""
    from liprobe.io import read_image
    from liprobe.io.output_policy import check_output_folder
    from liprobe.stem.analyze import analyze_haadf

    if reference is not None and simulate_reference:
        raise ParameterError("give either --reference REF or --simulate-reference, not both")
    point = _calibration_point(calibration=calibration, kv=kv, convergence_mrad=convergence_mrad,
                               detector_mrad=detector_mrad, thickness_nm=thickness_nm,
                               thickness_sigma_nm=thickness_sigma_nm)
    inputs = tuple(p for p in (image_path, reference) if p is not None)
    if out_dir is not None:
        check_output_folder(out_dir, inputs=inputs, force=force)
    image = read_image(image_path, pixel_size_nm=pixel_size_nm, signal=signal)
    ref: Any = "simulate"
    if reference is not None:
        ref = read_image(reference, pixel_size_nm=pixel_size_nm)
    analysis = analyze_haadf(image, reference=ref, model=model, window_nm=window_nm,
                             depth_offset_nm=depth_offset_nm, background=background,
                             probe_fwhm_nm=probe_fwhm_nm, orientation_deg=orientation_deg,
                             calibration=point, surface_normal_deg=surface_normal_deg)
    payload = analysis.to_dict()
    payload["image"] = str(image_path)
    if out_dir is not None:
        from liprobe.io.output_policy import staged_folder

        with staged_folder(out_dir, inputs=inputs, force=force,
                           extra={"image": str(image_path)}) as stage:
            written = _write_outputs(stage, image, analysis, payload)
        payload["outputs"] = [str(out_dir / p.relative_to(stage)) for p in written]
    return payload, analysis


def _write_csv(path: Path, table: dict[str, Any]) -> Path:
    from liprobe.io.atomic import atomic_path

    names = list(table)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        for row in zip(*(table[n] for n in names)):
            writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in
                             (x.item() if hasattr(x, "item") else x for x in row)])
    return path


def _write_outputs(out_dir: Path, image, analysis, payload) -> list[Path]:
    from liprobe.report.stem_figures import (
        plot_depth_profile,
        plot_plane_profile,
        plot_sites,
        save_figure,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "haadf.json"]
    paths[0].write_text(to_json(payload) + "\n", encoding="utf-8")
    paths.append(_write_csv(out_dir / "windows.csv", analysis.window_table()))
    paths.append(_write_csv(out_dir / "profile.csv", analysis.profile.to_table()))
    for name, fig in (("depth_profile.png", plot_depth_profile(analysis)),
                      ("plane_profile.png", plot_plane_profile(analysis)),
                      ("sites.png", plot_sites(image, analysis))):
        paths.append(save_figure(fig, out_dir / name))
    return paths


def simulate_payload(output: Path, *, shape_px: tuple[int, int], pixel_size_nm: float,
                     rotation_deg: float, profile: str | None, f: float, phase: str,
                     surface_depth_nm: float | None, surface_normal_deg: float,
                     coating_nm: float, dose_e_per_px: float, thickness_nm: float,
                     probe_fwhm_nm: float, scan_noise_nm: float, seed: int,
                     truth_path: Path | None, force: bool = False) -> dict[str, Any]:
    """Simulate, write the TIFF (and truth CSV), return a summary."""
    import numpy as np

    from liprobe.io import detect_format, write_image
    from liprobe.io.output_policy import check_output_file

    check_output_file(output, force=force, what="image")
    detect_format(output, kind="image", for_writing=True)
    if truth_path is not None:
        check_output_file(truth_path, force=force, what="truth table")
        if Path(truth_path).resolve() == Path(output).resolve():
            raise ParameterError(f"--truth {truth_path}: the same path as the image; name "
                                 "another file (e.g. truth.csv)")
    from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf

    disorder = parse_profile(profile) if profile else DisorderProfile.uniform(f, phase)
    params = HaadfParams(shape_px=shape_px, pixel_size_nm=pixel_size_nm,
                         rotation_deg=rotation_deg, disorder=disorder,
                         surface_depth_nm=surface_depth_nm,
                         surface_normal_deg=surface_normal_deg, coating_nm=coating_nm,
                         dose_e_per_px=dose_e_per_px, thickness_nm=thickness_nm,
                         probe_fwhm_nm=probe_fwhm_nm, scan_noise_nm=scan_noise_nm)
    image, truth = simulate_haadf(params, rng=np.random.default_rng(seed))
    write_image(output, image)
    payload: dict[str, Any] = {
        "image": str(output), "shape_px": list(shape_px), "pixel_size_nm": pixel_size_nm,
        "d003_nm": truth.d003_nm, "orientation_deg": truth.orientation_deg,
        "n_tm_columns": int(truth.tm_mask.sum()), "seed": seed,
    }
    if truth_path is not None:
        from liprobe.stem.simulate import SITE_NAMES
        from liprobe.stem.structure import PHASES

        _write_csv(truth_path, {
            "x_px": truth.x_px, "y_px": truth.y_px,
            "site": np.array([SITE_NAMES[s] for s in truth.site], dtype=object),
            "occupancy_tm": truth.occupancy_tm, "depth_nm": truth.depth_nm,
            "phase": np.array([PHASES[p] for p in truth.phase], dtype=object),
        })
        payload["truth"] = str(truth_path)
    return payload


def _shape(text: str) -> tuple[int, int]:
    try:
        parts = [int(p) for p in text.lower().replace("x", " ").split()]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 16:
        raise ParameterError(f"--size {text!r}: use HxW (e.g. 512x512), each at least 16")
    return parts[0], parts[1]


def register(app: typer.Typer) -> None:
    """Add the ``haadf`` command group (``analyze``, ``simulate``) to ``app``."""
    haadf = typer.Typer(help="STEM-HAADF of layered cathodes: TM-on-Li fraction and phase "
                        "vs depth.", no_args_is_help=True)

    @haadf.command("analyze")
    def analyze(
        image: Path = typer.Argument(..., help="HAADF image (TIFF, DM3/DM4, EMD, TIA, HSPY, NPY)."),
        pixel_size_nm: float = typer.Option(None, "--pixel-size-nm",
                                            help="Pixel size in nm (overrides the file)."),
        reference: Path = typer.Option(None, "--reference",
                                       help="Image of the ordered material (R0)."),
        simulate_reference: bool = typer.Option(
            False, "--simulate-reference",
            help="R0 from a simulated ordered crystal (the default without --reference)."),
        model: str = typer.Option("exchange", "--model", help="exchange or substitution."),
        window_nm: float = typer.Option(1.0, "--window-nm", help="Depth window (nm)."),
        depth_offset_nm: float = typer.Option(
            0.0, "--depth-offset-nm", help="Added to depths (nominal depth of an image "
            "fully inside the particle)."),
        background: float = typer.Option(None, "--background",
                                         help="Background level (default: vacuum level)."),
        probe_fwhm_nm: float = typer.Option(None, "--probe-fwhm-nm",
                                            help="Probe FWHM (default: measured)."),
        orientation_deg: float = typer.Option(
            None, "--orientation-deg", help="Approximate (003) plane direction from x "
            "(only for images without layered material)."),
        kv: float = typer.Option(None, "--kv", help="Accelerating voltage (kV), for the "
                                 "multislice calibration."),
        convergence_mrad: float = typer.Option(None, "--convergence-mrad",
                                               help="Probe convergence semi-angle (mrad)."),
        detector_mrad: str = typer.Option(None, "--detector-mrad",
                                          help="HAADF detector inner,outer (mrad), e.g. 70,160."),
        thickness_nm: float = typer.Option(None, "--thickness-nm",
                                           help="Specimen thickness (nm)."),
        thickness_sigma_nm: float = typer.Option(
            None, "--thickness-sigma-nm", help="Its standard uncertainty (default 10 %)."),
        calibration: Path = typer.Option(None, "--calibration", help="Calibration table "
                                         "(`haadf calibrate`; default: the shipped NCM one)."),
        surface_normal_deg: float = typer.Option(
            None, "--surface-normal-deg", help="Direction of increasing depth (deg from x) "
            "for an image with no vacuum edge: depth strips across it, --depth-offset-nm "
            "at the image centre."),
        out_dir: Path = typer.Option(None, "-o", "--output", help="Folder for tables and "
                                     "figures."),
        signal: str = typer.Option(None, "--signal", help="Image of a multi-signal file "
                                   "(EMD, DM) by title or detector, e.g. HAADF (default: the "
                                   "HAADF, or the only image)."),
        force: bool = typer.Option(False, "--force", help=FORCE_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Measure d(003), R, the TM-on-Li fraction f and the phase vs depth."""
        payload, analysis = analyze_payload(
            image, pixel_size_nm=pixel_size_nm, reference=reference,
            simulate_reference=simulate_reference, model=model, window_nm=window_nm,
            depth_offset_nm=depth_offset_nm, background=background,
            probe_fwhm_nm=probe_fwhm_nm, out_dir=out_dir, orientation_deg=orientation_deg,
            calibration=calibration, kv=kv, convergence_mrad=convergence_mrad,
            detector_mrad=detector_mrad, thickness_nm=thickness_nm,
            thickness_sigma_nm=thickness_sigma_nm, surface_normal_deg=surface_normal_deg,
            signal=signal, force=force)
        lines = [
            f"image        {image}",
            f"d(003)       {analysis.d003_nm:.4f} nm (FFT {analysis.d003_fft_nm:.4f} nm)",
            f"orientation  {analysis.orientation_deg:.2f} deg",
            f"R / R0       {analysis.R:.4f} / {analysis.R0:.4f} ({analysis.reference})",
            f"k / k_tm     {analysis.k:.3f} / {analysis.k_tm:.3f}",
            f"f            {analysis.f:.4f} [{analysis.f_ci[0]:.4f}, {analysis.f_ci[1]:.4f}] "
            f"({analysis.model} model; {analysis.R_se_method})",
            f"interval     {analysis.interval_note}",
            "depth_nm        R        f  phase",
            *(f"{w.depth_nm:8.2f} {w.R:8.4f} {w.f:8.4f}  {w.phase}" for w in analysis.windows),
        ]
        emit(payload, as_json=as_json, text="\n".join(lines))

    @haadf.command("calibrate")
    def calibrate(
        output: Path = typer.Option(..., "-o", "--output", help="Table to write (.json)."),
        kv: str = typer.Option("200", "--kv", help="Voltages (kV), comma-separated."),
        convergence_mrad: str = typer.Option("25", "--convergence-mrad",
                                             help="Convergence semi-angles (mrad)."),
        detector_mrad: list[str] = typer.Option(["70,160"], "--detector-mrad",
                                                help="Detector inner,outer (mrad); repeat."),
        thickness_nm: str = typer.Option("2,4,8,12,16,20,30,40", "--thickness-nm",
                                         help="Thicknesses (nm), comma-separated."),
        configs: int = typer.Option(2, "--configs", help="Frozen-phonon configurations."),
        sites_per_type: int = typer.Option(5, "--sites-per-type",
                                           help="Li and TM columns scanned per configuration "
                                                "(5 = every antisite depth phase at f 0.2)."),
        a_nm: float = typer.Option(0.287, "--a-nm", help="Lattice parameter a (nm)."),
        c_nm: float = typer.Option(1.419, "--c-nm", help="Lattice parameter c (nm)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu or gpu."),
        seed: int = typer.Option(0, "--seed"),
        quiet: bool = typer.Option(False, "--quiet", help="No progress lines."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Frozen-phonon multislice calibration (R0, k vs thickness) with abTEM."""
        progress = None if quiet else (lambda line: typer.echo(line, err=True))
        payload = calibrate_payload(output, kv=kv, convergence_mrad=convergence_mrad,
                                    detector_mrad=detector_mrad, thickness_nm=thickness_nm,
                                    configs=configs, seed=seed, device=device, a_nm=a_nm,
                                    c_nm=c_nm, sites_per_type=sites_per_type,
                                    progress=progress)
        emit(payload, as_json=as_json,
             text=f"wrote {output} ({payload['rows']} rows, abTEM "
                  f"{payload['provenance']['abtem_version']})")

    @haadf.command("simulate")
    def simulate(
        output: Path = typer.Option(..., "-o", "--output", help="Image to write (.tif)."),
        size: str = typer.Option("512x512", "--size", help="HxW in pixels."),
        pixel_size_nm: float = typer.Option(0.02, "--pixel-size-nm"),
        rotation_deg: float = typer.Option(0.0, "--rotation-deg",
                                           help="(003) plane direction from x."),
        f: float = typer.Option(0.0, "--f", help="Uniform antisite fraction."),
        phase: str = typer.Option("layered", "--phase", help="Uniform phase."),
        profile: str = typer.Option(None, "--profile",
                                    help="depth:f:phase,... e.g. 0:0.5:rock-salt,3:0.25:"
                                    "spinel-like,7:0.03:layered (overrides --f/--phase)."),
        surface_depth_nm: float = typer.Option(
            None, "--surface-depth-nm", help="Depth of the image centre below the surface "
            "(default: no surface in view)."),
        surface_normal_deg: float = typer.Option(0.0, "--surface-normal-deg"),
        coating_nm: float = typer.Option(0.0, "--coating-nm"),
        dose: float = typer.Option(4000.0, "--dose", help="Electrons per pixel."),
        thickness_nm: float = typer.Option(20.0, "--thickness-nm"),
        probe_fwhm_nm: float = typer.Option(0.09, "--probe-fwhm-nm"),
        scan_noise_nm: float = typer.Option(0.0, "--scan-noise-nm"),
        seed: int = typer.Option(0, "--seed"),
        truth: Path = typer.Option(None, "--truth", help="Also write the truth as CSV."),
        force: bool = typer.Option(False, "--force", help=FORCE_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Simulate a HAADF image of layered NCM along [100]hex with known truth."""
        payload = simulate_payload(
            output, shape_px=_shape(size), pixel_size_nm=pixel_size_nm,
            rotation_deg=rotation_deg, profile=profile, f=f, phase=phase,
            surface_depth_nm=surface_depth_nm, surface_normal_deg=surface_normal_deg,
            coating_nm=coating_nm, dose_e_per_px=dose, thickness_nm=thickness_nm,
            probe_fwhm_nm=probe_fwhm_nm, scan_noise_nm=scan_noise_nm, seed=seed,
            truth_path=truth, force=force)
        emit(payload, as_json=as_json,
             text=f"wrote {output} ({payload['shape_px'][0]}x{payload['shape_px'][1]} px, "
                  f"{pixel_size_nm} nm/px, {payload['n_tm_columns']} TM columns)")

    app.add_typer(haadf, name="haadf")
