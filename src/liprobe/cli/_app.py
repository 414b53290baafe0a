"""The ``liprobe`` command group: every command registered, none imported until it runs.

The root is a plain click group. It lists the commands from :data:`COMMANDS` (name, the
module that defines it, its one-line help), so ``liprobe --help`` imports no command
module, and ``liprobe NAME`` imports only NAME's module. A module defines its commands
either as click commands (``CLICK_COMMANDS``, the fast one-shot commands: no typer, no
pydantic on their path) or with typer (``register(app)``); a typer command is built when
it runs, from its own module only, and receives the rest of the command line.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

#: Every command: name -> (module that defines it, its one-line help as ``liprobe --help``
#: lists it; ``tests/cli/test_lazy_app.py`` checks it is the command's own help).
COMMANDS: dict[str, tuple[str, str]] = {
    "version": ("liprobe.cli._app", "Print the liprobe version."),
    "info": ("liprobe.cli.files_commands",
             "What a file holds: an ion file's count, fields, bounding box and acquisition "
             "conditions; a range file's species and ranges."),
    "ranges": ("liprobe.cli.files_commands", "Ion species and mass ranges of a range file."),
    "composition": ("liprobe.cli.composition_command",
                    "Ion counts, atomic fractions and ratios with counting-statistics sigma."),
    "convert": ("liprobe.cli.files_commands",
                "Convert ion files (POS, EPOS, APT, ATO -> POS, EPOS, APT, NeXus) or range "
                "files (RRNG, RNG, ENV, NeXus -> RRNG)."),
    "spectrum": ("liprobe.cli.apt_commands",
                 "Mass spectrum: background, peaks, isotope-pattern ranges, overlaps."),
    "profile": ("liprobe.cli.apt_commands",
                "1-D concentration profile along an axis, with counting σ."),
    "fda": ("liprobe.cli.apt_commands",
            "Frequency distribution analysis: χ², ν, p-value and Pearson μ per element."),
    "features": ("liprobe.cli.apt_commands",
                 "Linear solute-enriched features (dislocations) and their line proxigram."),
    "qc": ("liprobe.cli.apt_commands",
           "Li quality checks: isotope ratio, multi-hits, Li trend along z, O/metal."),
    "isosurface": ("liprobe.cli.spatial_commands",
                   "Isoconcentration surfaces (area, enclosed volume, centroid) and the "
                   "proxigram."),
    "clusters": ("liprobe.cli.spatial_commands",
                 "Solute clusters (maximum separation or DBSCAN) with a random-labelling "
                 "baseline."),
    "nn": ("liprobe.cli.spatial_commands",
           "k-th nearest-neighbour distances against random labelling (and g(r))."),
    "map": ("liprobe.cli.spatial_commands",
            "2-D concentration map (projection or slab) with σ per pixel."),
    "cycling": ("liprobe.cli.cycling_commands",
                "Charge/discharge capacity, coulombic efficiency, energy and mean voltage "
                "per cycle."),
    "report": ("liprobe.cli.study_workflow",
               "Write the self-contained HTML report of a study results folder."),
    "demo": ("liprobe.cli.demo_command",
             "Generate the demo study (cached), run it and write the HTML report."),
    "reconstruct": ("liprobe.cli.reconstruct_commands",
                    "Reconstruct from detector hits and voltages (Bas, shank or tip-profile)."),
    "mass-calibrate": ("liprobe.cli.reconstruct_commands",
                       "Voltage and bowl correction of m/q; resolving power before and after."),
    "tip-profile": ("liprobe.cli.reconstruct_commands",
                    "Apex radius and shank angle of a needle from its image."),
    "synth": ("liprobe.cli.synth_commands",
              "Synthetic NCM atom-probe specimens with known ground truth."),
    "haadf": ("liprobe.cli.haadf_commands",
              "STEM-HAADF of layered cathodes: TM-on-Li fraction and phase vs depth."),
    "study": ("liprobe.cli.study_commands",
              "Multi-specimen studies: manifest, run, published tables."),
    "detector": ("liprobe.cli.detector_commands",
                 "Detector-space runs: synthesis, hit map, voltage curve, correlation "
                 "histograms."),
}

HELP = ("Where is the lithium, and why did it leave? Atom probe, STEM-HAADF, ICP-AES and "
        "cycling data of layered cathodes. Add --traceback to any command for detail on "
        "errors.")


def _print_version(ctx: click.Context, _param: Any, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from liprobe import __version__

        click.echo(f"liprobe {__version__}")
        ctx.exit()


@click.command("version", help=COMMANDS["version"][1])
def version() -> None:
    from liprobe import __version__

    click.echo(__version__)


#: The click commands this module defines.
CLICK_COMMANDS = {"version": version}


class _Forward(click.Command):
    """A typer command (or group) run with the rest of the command line, unparsed here."""

    def __init__(self, name: str, target: Any) -> None:
        super().__init__(name, help=COMMANDS[name][1], add_help_option=False)
        self.target = target

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.args = list(args)
        return ctx.args

    def invoke(self, ctx: click.Context) -> Any:
        # standalone: typer prints its own usage errors and help, and exits
        return self.target.main(args=ctx.args, prog_name=ctx.command_path,
                                standalone_mode=True)


def typer_commands(module_name: str) -> dict[str, Any]:
    """The commands a typer module registers (name -> typer's click command), built now."""
    import typer
    import typer.main

    module = importlib.import_module(module_name)
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _group() -> None:  # a group even when the module registers a single command
        """Commands of one module."""

    module.register(app)
    group = typer.main.get_command(app)
    _hide_flag_types(group)
    return dict(group.commands)


def load_command(name: str) -> click.Command | None:
    """The command ``name`` (importing only its module), or None when there is none."""
    if name not in COMMANDS:
        return None
    module_name = COMMANDS[name][0]
    module = importlib.import_module(module_name)
    native = getattr(module, "CLICK_COMMANDS", None)
    if native is not None:
        return native[name]
    return _Forward(name, typer_commands(module_name)[name])


class LazyGroup(click.Group):
    """A group whose commands are imported only when one of them runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:  # the help on stdout, exit code 2
            click.echo(ctx.get_help())
            ctx.exit(2)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in COMMANDS.items()])


def build_app() -> click.Group:
    """The click command behind ``liprobe``."""
    group = LazyGroup("liprobe", help=HELP, no_args_is_help=True,
                      context_settings={"max_content_width": 100})
    group.params.append(click.Option(["--version"], is_flag=True, is_eager=True,
                                     expose_value=False, callback=_print_version,
                                     help="Print the liprobe version and exit."))
    return group


def _no_type(option: Any) -> Any:
    if option is not None and getattr(option, "is_flag", False):
        option.metavar = ""
    return option


def _hide_flag_types(command: Any) -> None:
    """On/off flags take no value: show no type (such as ``<bool>``) beside them in help."""
    for param in command.params:
        _no_type(param)
    original = command.get_help_option
    command.get_help_option = lambda ctx, original=original: _no_type(original(ctx))
    for sub in getattr(command, "commands", {}).values():
        _hide_flag_types(sub)
