"""``liprobe detector``: synthetic detector-space runs and detector-space analyses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import emit
from liprobe.cli.reconstruct_commands import (
    FIGURE_OPTION,
    FORCE_OPTION,
    JSON_OPTION,
    check_output,
    save_kind,
)

__all__ = ["register", "synth_payload", "map_payload", "voltage_payload",
           "correlation_payload"]

#: Tracks drawn and matched by ``detector correlation``: label, parent M, n, first m, q.
TRACKS = (("LiO+ -> Li+ + O", 7.016 + 15.995, 1, 7.016, 1),
          ("NiO+ -> Ni+ + O", 57.935 + 15.995, 1, 57.935, 1))


def synth_payload(output: Path, *, n_ions: int, seed: int, icf: float,
                  lattice_spacing_nm: float | None, voltage_offset_kv: float, bowl_error: float,
                  dissociation_fraction: float, dead_time: bool, force: bool) -> dict[str, Any]:
    """Write a synthetic detector-space run with its truth."""
    import numpy as np

    from liprobe.synth import DeadTime, ncm_ranges
    from liprobe.synth.detector import generate_detector_run, write_detector_run
    from liprobe.synth.detector_params import DetectorRun, Dissociation, detector_specimen

    check_output(output, (), force)
    specimen = detector_specimen(n_ions=n_ions, dead_time=DeadTime(enabled=dead_time))
    run = DetectorRun(specimen, icf=icf, lattice_spacing_nm=lattice_spacing_nm,
                      voltage_offset_kv=voltage_offset_kv, bowl_error=bowl_error,
                      dissociations=(Dissociation(fraction=dissociation_fraction),)
                      if dissociation_fraction > 0 else ())
    ions, truth = generate_detector_run(run, rng=np.random.default_rng(seed))
    written = write_detector_run(output, ions, ncm_ranges(specimen), truth)
    return {**truth.summary(), "files": {k: str(v) for k, v in written.items()}}


def _ions(path: Path):
    from liprobe.io import read_ions

    return read_ions(path)


def map_payload(path: Path, *, bins: int = 128, figure: Path | None = None) -> dict[str, Any]:
    """Hit-density map figures."""
    from liprobe.apt.detector import detector_hit_map
    from liprobe.apt.reconstruct import detector_fields

    x, y, _ = detector_fields(_ions(path))
    hit_map = detector_hit_map(x, y, bins=bins)
    if figure is not None:
        from liprobe.report.detector_figures import plot_hit_map

        save_kind(plot_hit_map(hit_map), figure, "detector-map")
    return {"input": str(path), **hit_map.to_dict()}


def voltage_payload(path: Path, *, figure: Path | None = None) -> dict[str, Any]:
    """Voltage-curve figures."""
    from liprobe.apt.detector import voltage_curve
    from liprobe.apt.reconstruct import detector_fields

    _, _, v = detector_fields(_ions(path))
    curve = voltage_curve(v)
    if figure is not None:
        from liprobe.report.detector_figures import plot_voltage_curve

        save_kind(plot_voltage_curve(curve), figure, "voltage-curve")
    return {"input": str(path), **curve.to_dict()}


def correlation_payload(path: Path, *, range_da: tuple[float, float] = (0.0, 100.0),
                        bin_da: float = 0.25, same_da: float = 0.1, close_mm: float = 3.0,
                        figure: Path | None = None, pile_up_figure: Path | None = None
                        ) -> dict[str, Any]:
    """Saxey plot, dissociation tracks and the same-isotope dead-time deficit."""
    from liprobe.apt.detector import (
        correlation_histogram,
        dissociation_track,
        match_track,
        pulse_pairs,
        same_isotope_pair_deficit,
    )
    from liprobe.errors import ParameterError

    ions = _ions(path)
    if "ions_per_pulse" not in ions.fields:
        raise ParameterError(f"{path}: no multi-hit information (ions_per_pulse); use an EPOS "
                             "or an APT file with a Multiplicity section")
    f = ions.fields
    pairs = pulse_pairs(ions.mass_to_charge_da, f["ions_per_pulse"],
                        detector_x_mm=f.get("detector_x_mm"), detector_y_mm=f.get("detector_y_mm"))
    hist = correlation_histogram(pairs, f["ions_per_pulse"], range_da=range_da, bin_da=bin_da)
    tracks = [dissociation_track(parent_mass_da=m, parent_charge=n, first_mass_da=m1,
                                 first_charge=q, label=label) for label, m, n, m1, q in TRACKS]
    payload: dict[str, Any] = {"input": str(path), **hist.to_dict(),
                               "tracks": {t.label: match_track(pairs, t).to_dict()
                                          for t in tracks}}
    if pairs.separation_mm is not None:
        deficit = same_isotope_pair_deficit(pairs, same_da=same_da, close_mm=close_mm)
        payload["same_isotope_pairs"] = deficit.to_dict()
        if pile_up_figure is not None:
            from liprobe.report.detector_figures import plot_pair_deficit

            save_kind(plot_pair_deficit(deficit), pile_up_figure, "pile-up")
    if figure is not None:
        from liprobe.report.detector_figures import plot_correlation_histogram

        save_kind(plot_correlation_histogram(hist, tracks), figure, "correlation-histogram")
    return payload


def register(app: typer.Typer) -> None:
    """Add the ``detector`` group."""
    group = typer.Typer(help="Detector-space runs: synthesis, hit map, voltage curve, "
                        "correlation histograms.", no_args_is_help=True)

    @group.command("synth")
    def synth_cmd(
        output: Path = typer.Option(..., "--output", "-o", help="Run to write (.epos, .apt)."),
        n_ions: int = typer.Option(200_000, "--n-ions", help="Evaporation events."),
        seed: int = typer.Option(0, "--seed"),
        icf: float = typer.Option(1.65, "--icf", help="Image compression factor."),
        lattice: float | None = typer.Option(0.473, "--lattice-spacing-nm",
                                             help="Planes normal to z (0: none)."),
        voltage_offset: float = typer.Option(0.0, "--voltage-offset-kv",
                                             help="TOF error: energy deficit (kV)."),
        bowl: float = typer.Option(0.0, "--bowl-error", help="TOF error: flight-path term."),
        dissociation: float = typer.Option(0.0, "--dissociation-fraction",
                                           help="Share of LiO+ dissociating into Li+ + O."),
        dead_time: bool = typer.Option(False, "--dead-time/--no-dead-time"),
        force: bool = FORCE_OPTION, as_json: bool = JSON_OPTION,
    ) -> None:
        """Write a synthetic point-projection run (EPOS/APT) with its truth."""
        payload = synth_payload(output, n_ions=n_ions, seed=seed, icf=icf,
                                lattice_spacing_nm=lattice or None,
                                voltage_offset_kv=voltage_offset, bowl_error=bowl,
                                dissociation_fraction=dissociation, dead_time=dead_time,
                                force=force)
        emit(payload, as_json=as_json,
             text=f"{output}: {payload['n_ions']} ions, apex depth "
             f"{payload['final_apex_depth_nm']:.1f} nm")

    @group.command("map")
    def map_cmd(path: Path = typer.Argument(...), bins: int = typer.Option(128, "--bins"),
                as_json: bool = JSON_OPTION, figure: Path | None = FIGURE_OPTION) -> None:
        """Detector hit-density map and field of view."""
        payload = map_payload(path, bins=bins, figure=figure)
        emit(payload, as_json=as_json,
             text=f"{path}: {payload['n_hits']} hits, field of view "
             f"{payload['field_of_view_radius_mm']:.1f} mm")

    @group.command("voltage")
    def voltage_cmd(path: Path = typer.Argument(...), as_json: bool = JSON_OPTION,
                    figure: Path | None = FIGURE_OPTION) -> None:
        """Voltage curve."""
        payload = voltage_payload(path, figure=figure)
        emit(payload, as_json=as_json,
             text=f"{path}: {payload['start_kv']:.2f} -> {payload['end_kv']:.2f} kV")

    @group.command("correlation")
    def correlation_cmd(
        path: Path = typer.Argument(...),
        low: float = typer.Option(0.0, "--low-da"), high: float = typer.Option(100.0, "--high-da"),
        bin_da: float = typer.Option(0.25, "--bin-da"),
        pile_up_figure: Path | None = typer.Option(None, "--pile-up-figure",
                                                   help="Same-isotope pair separation figure."),
        as_json: bool = JSON_OPTION, figure: Path | None = FIGURE_OPTION,
    ) -> None:
        """Multi-hit correlation histogram (Saxey plot), tracks and dead-time deficit."""
        payload = correlation_payload(path, range_da=(low, high), bin_da=bin_da, figure=figure,
                                      pile_up_figure=pile_up_figure)
        emit(payload, as_json=as_json,
             text=f"{path}: {payload['n_pairs']} pairs in {payload['n_multi_hit_pulses']} "
             "multi-hit pulses")

    app.add_typer(group, name="detector")
