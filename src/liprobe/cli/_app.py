"""Assemble the typer application from the command modules."""

from __future__ import annotations

import importlib

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
    @app.callback()
    def _root() -> None:
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
    return typer.main.get_command(app)
