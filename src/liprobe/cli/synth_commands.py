"""``liprobe synth``: write synthetic NCM atom-probe specimens with their range file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import FORCE_HELP, emit

__all__ = ["register", "specimen_payload"]


def specimen_payload(preset: str, output: Path, *, seed: int, n_ions: int | None,
                     length_nm: float | None, overlaps: bool | None, dead_time: bool,
                     write_truth: bool, force: bool = False) -> dict[str, Any]:
    """Generate the preset and write it; return what was written."""
    import numpy as np

    from liprobe.io import detect_format
    from liprobe.io.output_policy import check_output_file
    from liprobe.synth import DeadTime, generate_specimen, get_preset, ncm_ranges, write_specimen
    from liprobe.synth.write import specimen_paths

    # the output policy before any work: every file that would be written
    for target in specimen_paths(output, truth=write_truth).values():
        check_output_file(target, force=force)
    detect_format(output, kind="ions", for_writing=True)

    overrides: dict[str, Any] = {}
    if n_ions is not None:
        overrides["n_ions"] = n_ions
    if length_nm is not None:
        overrides["length_nm"] = length_nm
    if overlaps is not None:
        overrides["overlaps"] = overlaps
    if dead_time:
        overrides["dead_time"] = DeadTime(enabled=True)
    params = get_preset(preset, **overrides)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(seed))
    ranges = ncm_ranges(params)
    written = write_specimen(output, ions, ranges, truth if write_truth else None, force=force)
    counts = truth.composition.total_atom_counts()
    tm = counts["Ni"] + counts["Co"] + counts["Mn"]
    return {
        "preset": preset,
        "seed": seed,
        "n_ions": ions.n_ions,
        "length_nm": truth.length_nm,
        "specimen_depth_nm": params.specimen_depth_nm,
        "true_ratios": {el: (n / tm if tm else float("nan")) for el, n in counts.items()},
        "files": {k: str(v) for k, v in written.items()},
    }


def register(app: typer.Typer) -> None:
    """Add the ``synth`` sub-command group (``synth specimen``, ``synth presets``)."""
    synth = typer.Typer(help="Synthetic NCM atom-probe specimens with known ground truth.",
                        no_args_is_help=True)

    @synth.command("specimen")
    def specimen(
        preset: str = typer.Option("ncm-homogeneous", "--preset", "-p",
                                   help="Preset name (see 'liprobe synth presets')."),
        output: Path = typer.Option(..., "--output", "-o",
                                    help="Ion file to write (.pos, .epos or .apt); the range "
                                    "file <stem>.rrng is written beside it."),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same bytes)."),
        n_ions: int | None = typer.Option(None, "--n-ions",
                                          help="Size by ion count instead of length."),
        length_nm: float | None = typer.Option(None, "--length-nm", help="Specimen length."),
        overlaps: bool | None = typer.Option(
            None, "--overlaps/--no-overlaps",
            help="Generate species with overlapping peaks (O2+/64Ni2+, O2 2+/O+)."),
        dead_time: bool = typer.Option(False, "--dead-time",
                                       help="Apply same-isotope dead-time loss."),
        truth: bool = typer.Option(False, "--truth",
                                   help="Also write <stem>.truth.json and <stem>.truth.npz."),
        force: bool = typer.Option(False, "--force", help=FORCE_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    ) -> None:
        """Generate a synthetic specimen and write it with its range file."""
        payload = specimen_payload(preset, output, seed=seed, n_ions=n_ions,
                                   length_nm=length_nm, overlaps=overlaps,
                                   dead_time=dead_time, write_truth=truth, force=force)
        ratios = ", ".join(f"{el} {v:.3f}" for el, v in payload["true_ratios"].items())
        text = "\n".join([
            f"preset    {preset} (seed {seed})",
            f"ions      {payload['n_ions']} over {payload['length_nm']:.1f} nm, top "
            f"{payload['specimen_depth_nm']:.0f} nm below the particle surface",
            f"true      {ratios} (per total metal)",
            *(f"wrote     {path}" for path in payload["files"].values()),
        ])
        emit(payload, as_json=as_json, text=text)

    @synth.command("presets")
    def presets(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List the presets and the published rows they reproduce."""
        from liprobe.synth import PRESET_ROWS, PRESETS

        payload = {name: {"specimen_depth_nm": p.specimen_depth_nm,
                          "cycles": PRESET_ROWS.get(name, {}).get("cycles"),
                          "published_li": PRESET_ROWS.get(name, {}).get("li")}
                   for name, p in PRESETS.items()}
        lines = [f"{name:24s} depth {v['specimen_depth_nm']:6.0f} nm"
                 + (f"  published Li {v['published_li']:.2f}" if v["published_li"] is not None
                    else "") for name, v in payload.items()]
        emit({"presets": payload}, as_json=as_json, text="\n".join(lines))

    app.add_typer(synth, name="synth")
