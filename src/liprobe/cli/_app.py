"""Assemble the typer application from the command modules."""

from __future__ import annotations

import importlib
from typing import Any

import typer
import typer.core

#: Command modules; each exposes ``register(app: typer.Typer) -> None``.
COMMAND_MODULES = (
    "liprobe.cli.files_commands",
    "liprobe.cli.apt_commands",
    "liprobe.cli.spatial_commands",
    "liprobe.cli.synth_commands",
    "liprobe.cli.haadf_commands",
    "liprobe.cli.cycling_commands",
    "liprobe.cli.study_commands",
    "liprobe.cli.study_workflow",
    "liprobe.cli.demo_command",
    "liprobe.cli.reconstruct_commands",
    "liprobe.cli.detector_commands",
)


def build_app() -> typer.core.TyperGroup:
    """The click command behind ``liprobe`` (typer app with every command registered)."""
    app = typer.Typer(
        name="liprobe",
        help="Where is the lithium, and why did it leave? Atom probe, STEM-HAADF, ICP-AES "
        "and cycling data of layered cathodes. Add --traceback to any command for detail "
        "on errors.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    def _print_version(value: bool) -> None:
        if value:
            from liprobe import __version__

            typer.echo(f"liprobe {__version__}")
            raise typer.Exit()

    @app.callback()
    def _root(version: bool = typer.Option(False, "--version", is_eager=True,
                                           callback=_print_version,
                                           help="Print the liprobe version and exit.")
              ) -> None:
        """Where is the lithium, and why did it leave?"""

    @app.command("version")
    def version() -> None:
        """Print the liprobe version."""
        from liprobe import __version__

        typer.echo(__version__)

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)
    command = typer.main.get_command(app)
    _hide_flag_types(command)
    return command


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
