"""``liprobe reconstruct``, ``liprobe mass-calibrate`` and ``liprobe tip-profile``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import emit
from liprobe.errors import FormatError, OverwriteError, ParameterError

__all__ = ["register", "reconstruct_payload", "mass_calibrate_payload", "tip_profile_payload",
           "check_output", "save_kind"]

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of text.")
FIGURE_OPTION = typer.Option(None, "--figure", help="Write a figure (.png, .pdf, .svg).")
FORCE_OPTION = typer.Option(False, "--force", help="Overwrite an existing output file.")


def check_output(output: Path, inputs: tuple[Path, ...], force: bool) -> None:
    """Refuse to overwrite an input, or an existing file without ``--force``."""
    from liprobe.io.atomic import check_not_input

    check_not_input(output, inputs)
    if output.exists() and not force:
        raise OverwriteError(f"{output}: the file exists; pass --force to overwrite it")


def save_kind(fig, figure: Path | None, kind: str) -> None:
    """Write a detector-space figure with its data-kind."""
    if figure is not None:
        from liprobe.report.detector_figures import save_detector_figure

        save_detector_figure(fig, figure, kind=kind)


def read_tip_profile_csv(path: Path) -> tuple[Any, Any]:
    """Depth (nm) and radius (nm) columns of a tip-profile CSV (header line optional)."""
    import numpy as np

    if not path.exists():
        from liprobe.errors import MissingFileError

        raise MissingFileError(f"{path}: no such tip-profile file")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = [p.strip() for p in text.replace(";", ",").split(",")]
        try:
            rows.append((float(parts[0]), float(parts[1])))
        except (ValueError, IndexError):
            if rows:
                raise FormatError("expected two numbers: depth_nm, radius_nm", path=path,
                                  line=number) from None
    if not rows:
        raise FormatError("no depth_nm, radius_nm rows", path=path,
                          hint="write one 'depth_nm,radius_nm' pair per line")
    data = np.array(rows)
    return data[:, 0], data[:, 1]


def _tip_from_image(tip_image: Path, pixel_size_nm: float | None, needle: str):
    from liprobe.apt.tip_profile import measure_tip_profile
    from liprobe.io import read_image

    image = read_image(tip_image, pixel_size_nm=pixel_size_nm)
    if image.pixel_size_nm is None:
        raise ParameterError(f"{tip_image}: the image has no pixel size; pass --pixel-size-nm")
    return image, measure_tip_profile(image.pixels, pixel_size_nm=image.pixel_size_nm,
                                      needle=needle)


def reconstruct_payload(path: Path, output: Path, *, protocol: str, params, force: bool = False,
                        tip_profile_csv: Path | None = None, tip_image: Path | None = None,
                        pixel_size_nm: float | None = None, needle: str = "bright",
                        calibrate: str | None = None, plane_spacing_nm: float = 0.473,
                        figure: Path | None = None) -> dict[str, Any]:
    """Reconstruct ``path`` into ``output``; return parameters, depth, radius, voltage."""
    import numpy as np

    from liprobe.apt.reconstruct import detector_fields, reconstruct_ions
    from liprobe.io import read_ions, write_ions

    check_output(output, (path,), force)
    ions = read_ions(path)
    payload: dict[str, Any] = {"input": str(path), "output": str(output)}
    tip = None
    if tip_profile_csv is not None and tip_image is not None:
        raise ParameterError("give one of --tip-profile and --tip-image")
    if tip_profile_csv is not None:
        tip = read_tip_profile_csv(tip_profile_csv)
    elif tip_image is not None:
        from liprobe.apt.tip_profile import tip_profile_radius

        _, measured = _tip_from_image(tip_image, pixel_size_nm, needle)
        payload["tip_image"] = measured.to_dict()
        depth = np.linspace(0.0, 2000.0, 401)
        tip = (depth, tip_profile_radius(measured, depth))
    if calibrate is not None:
        from liprobe.apt.depth_calibration import calibrate_depth_scale

        x, y, v = detector_fields(ions)
        cal = calibrate_depth_scale(x, y, v, params=params, free=calibrate,
                                    plane_spacing_nm=plane_spacing_nm)
        payload["calibration"] = cal.to_dict()
        params = cal.params
    rebuilt, rec = reconstruct_ions(ions, params=params, protocol=protocol, tip_profile=tip)
    write_ions(output, rebuilt)
    payload.update(rec.to_dict())
    if figure is not None:
        from liprobe.apt.depth_calibration import z_distribution_map
        from liprobe.report.detector_figures import plot_z_sdm

        save_kind(plot_z_sdm(z_distribution_map(rec.xyz_nm), known_spacing_nm=plane_spacing_nm),
                  figure, "z-sdm")
    return payload


def mass_calibrate_payload(path: Path, output: Path, *, peaks_da: list[float],
                           resolution_peak_da: float | None = None, voltage_degree: int = 2,
                           bowl_degree: int = 2, force: bool = False,
                           figure: Path | None = None) -> dict[str, Any]:
    """Fit and apply the voltage and bowl correction; resolving power and overlaps."""
    from liprobe.apt.mass_calibration import (
        apply_mass_calibration,
        fit_mass_calibration,
        resolving_power,
    )
    from liprobe.apt.overlaps import deconvolve_overlaps
    from liprobe.apt.reconstruct import detector_fields
    from liprobe.data import IonTable
    from liprobe.io import read_ions, write_ions

    check_output(output, (path,), force)
    ions = read_ions(path)
    x, y, v = detector_fields(ions)
    cal = fit_mass_calibration(ions.mass_to_charge_da, v, x, y, peaks_da=peaks_da,
                               voltage_degree=voltage_degree, bowl_degree=bowl_degree)
    corrected = apply_mass_calibration(cal, ions.mass_to_charge_da, v, x, y)
    peak = resolution_peak_da if resolution_peak_da is not None else max(
        peaks_da, key=lambda p: int(((ions.mass_to_charge_da > 0.97 * p)
                                     & (ions.mass_to_charge_da < 1.03 * p)).sum()))
    before = resolving_power(ions.mass_to_charge_da, peak_da=peak)
    after = resolving_power(corrected, peak_da=peak)
    write_ions(output, IonTable(ions.xyz_nm, corrected, dict(ions.fields)))
    payload = {"input": str(path), "output": str(output), "calibration": cal.to_dict(),
               "resolving_power": {"before": before.to_dict(), "after": after.to_dict()},
               "overlap_deconvolution": {
                   "before": deconvolve_overlaps(ions.mass_to_charge_da).to_dict(),
                   "after": deconvolve_overlaps(corrected).to_dict()}}
    if figure is not None:
        from liprobe.apt.spectrum import mass_spectrum
        from liprobe.report.detector_figures import plot_mass_calibration

        fig = plot_mass_calibration(mass_spectrum(ions.mass_to_charge_da, bin_width_da=0.01),
                                    mass_spectrum(corrected, bin_width_da=0.01),
                                    range_da=(0.9 * peak, 1.1 * peak))
        save_kind(fig, figure, "mass-calibration")
    return payload


def tip_profile_payload(image_path: Path, *, pixel_size_nm: float | None = None,
                        needle: str = "bright", figure: Path | None = None) -> dict[str, Any]:
    """Apex radius and shank angle of a needle image."""
    image, tip = _tip_from_image(image_path, pixel_size_nm, needle)
    if figure is not None:
        from liprobe.report.detector_figures import plot_tip_profile

        save_kind(plot_tip_profile(image.pixels, tip), figure, "tip-profile")
    return {"image": str(image_path), **tip.to_dict()}


def register(app: typer.Typer) -> None:
    """Add ``reconstruct``, ``mass-calibrate`` and ``tip-profile``."""

    @app.command("reconstruct")
    def reconstruct_cmd(
        path: Path = typer.Argument(..., help="EPOS or APT file with detector fields."),
        output: Path = typer.Option(..., "--output", "-o", help="Ion file to write."),
        protocol: str = typer.Option("bas", "--protocol", help="bas, shank or tip-profile."),
        icf: float = typer.Option(1.65, "--icf", help="Image compression factor xi."),
        field_factor: float = typer.Option(3.3, "--field-factor", help="k_f in V = k_f F R."),
        field: float = typer.Option(25.0, "--evaporation-field-v-nm",
                                    help="Evaporation field F (V/nm)."),
        efficiency: float = typer.Option(0.37, "--detection-efficiency", help="eta (0-1)."),
        flight: float = typer.Option(100.0, "--flight-path-mm", help="Flight path L (mm)."),
        radius: float = typer.Option(20.0, "--detector-radius-mm", help="Detector radius."),
        volume: float = typer.Option(0.0105, "--atomic-volume-nm3",
                                     help="Volume per detected ion in the specimen (nm^3)."),
        initial_radius: float | None = typer.Option(None, "--initial-radius-nm",
                                                    help="R_0 (shank protocol)."),
        shank_angle: float | None = typer.Option(None, "--shank-angle-deg",
                                                 help="Shank half-angle (shank protocol)."),
        area_model: str = typer.Option("small-angle", "--area-model",
                                       help="small-angle (the protocol) or projected-cap."),
        tip_profile: Path | None = typer.Option(None, "--tip-profile",
                                                help="CSV of depth_nm,radius_nm."),
        tip_image: Path | None = typer.Option(None, "--tip-image",
                                              help="SEM/TEM image of the needle."),
        pixel_size_nm: float | None = typer.Option(None, "--pixel-size-nm",
                                                   help="Pixel size of --tip-image."),
        needle: str = typer.Option("bright", "--needle", help="Needle bright or dark."),
        calibrate: str | None = typer.Option(None, "--calibrate",
                                             help="Calibrate field_factor or icf from planes."),
        spacing: float = typer.Option(0.473, "--plane-spacing-nm",
                                      help="Known plane spacing along z for --calibrate."),
        force: bool = FORCE_OPTION, as_json: bool = JSON_OPTION,
        figure: Path | None = FIGURE_OPTION,
    ) -> None:
        """Reconstruct from detector hits and voltages (Bas, shank or tip-profile)."""
        from liprobe.apt.reconstruct import ReconstructionParams

        params = ReconstructionParams(
            icf=icf, field_factor=field_factor, evaporation_field_v_per_nm=field,
            detection_efficiency=efficiency, flight_path_mm=flight, detector_radius_mm=radius,
            atomic_volume_nm3=volume, initial_radius_nm=initial_radius,
            shank_angle_deg=shank_angle, area_model=area_model)
        if calibrate is not None:
            calibrate = calibrate.replace("-", "_")
        payload = reconstruct_payload(path, output, protocol=protocol, params=params,
                                      force=force, tip_profile_csv=tip_profile,
                                      tip_image=tip_image, pixel_size_nm=pixel_size_nm,
                                      needle=needle, calibrate=calibrate,
                                      plane_spacing_nm=spacing, figure=figure)
        lo, hi = payload["radius_range_nm"]
        emit(payload, as_json=as_json,
             text=f"{output}: {payload['n_ions']} ions, {protocol}, depth "
             f"{payload['depth_nm']:.1f} nm, radius {lo:.1f}-{hi:.1f} nm")

    @app.command("mass-calibrate")
    def mass_calibrate_cmd(
        path: Path = typer.Argument(..., help="EPOS or APT file with detector fields."),
        output: Path = typer.Option(..., "--output", "-o", help="Ion file to write."),
        peaks: str = typer.Option("7.016,15.995,28.9676", "--peaks",
                                  help="Reference peaks (true m/q, comma-separated)."),
        resolution_peak: float | None = typer.Option(None, "--resolution-peak",
                                                     help="Peak for the resolving power."),
        voltage_degree: int = typer.Option(2, "--voltage-degree"),
        bowl_degree: int = typer.Option(2, "--bowl-degree"),
        force: bool = FORCE_OPTION, as_json: bool = JSON_OPTION,
        figure: Path | None = FIGURE_OPTION,
    ) -> None:
        """Voltage and bowl correction of m/q; resolving power before and after."""
        try:
            peak_list = [float(p) for p in peaks.split(",") if p.strip()]
        except ValueError:
            raise ParameterError(f"--peaks must be comma-separated numbers, got {peaks!r}") \
                from None
        payload = mass_calibrate_payload(path, output, peaks_da=peak_list,
                                         resolution_peak_da=resolution_peak,
                                         voltage_degree=voltage_degree,
                                         bowl_degree=bowl_degree, force=force, figure=figure)
        rp = payload["resolving_power"]
        emit(payload, as_json=as_json,
             text=f"{output}: m/FWHM {rp['before']['mrp_fwhm']:.0f} -> "
             f"{rp['after']['mrp_fwhm']:.0f} at {rp['after']['peak_da']:g} Da")

    @app.command("tip-profile")
    def tip_profile_cmd(
        image: Path = typer.Argument(..., help="SEM/TEM image of the needle (TIFF, DM, ...)."),
        pixel_size_nm: float | None = typer.Option(None, "--pixel-size-nm",
                                                   help="Pixel size (overrides the file's)."),
        needle: str = typer.Option("bright", "--needle", help="Needle bright or dark."),
        as_json: bool = JSON_OPTION, figure: Path | None = FIGURE_OPTION,
    ) -> None:
        """Apex radius and shank angle of a needle from its image."""
        payload = tip_profile_payload(image, pixel_size_nm=pixel_size_nm, needle=needle,
                                      figure=figure)
        emit(payload, as_json=as_json,
             text=f"{image}: apex radius {payload['apex_radius_nm']:.1f} +- "
             f"{payload['apex_radius_sigma_nm']:.1f} nm, shank half-angle "
             f"{payload['shank_angle_deg']:.2f} +- {payload['shank_angle_sigma_deg']:.2f} deg")
