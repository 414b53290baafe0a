"""The lazy command group: ``liprobe --help`` lists every command from a table, without
importing the command modules; each command imports only its own module.

Truth: the commands the modules really define (their names and their own help), not the
table under test.
"""

from __future__ import annotations

import importlib

import pytest

from liprobe.cli import main
from liprobe.cli._app import COMMANDS, load_command, typer_commands


def _own_help(name: str) -> str:
    """The command's own help (docstring or help=), first paragraph, one line."""
    command = load_command(name)
    text = getattr(command, "target", command).help or ""
    return " ".join(text.split("\n\n")[0].split())


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_table_help_is_the_commands_own_help(name):
    assert COMMANDS[name][1] == _own_help(name)


def test_the_table_lists_every_command_each_module_defines():
    import pkgutil

    import liprobe.cli

    # every module of liprobe.cli that defines commands is in the table
    defining = {f"liprobe.cli.{info.name}" for info in pkgutil.iter_modules(liprobe.cli.__path__)
                if any(hasattr(importlib.import_module(f"liprobe.cli.{info.name}"), attr)
                       for attr in ("register", "CLICK_COMMANDS"))}
    assert defining == {module for module, _ in COMMANDS.values()}
    for module_name in sorted(defining):
        module = importlib.import_module(module_name)
        native = getattr(module, "CLICK_COMMANDS", None)
        defined = set(native) if native is not None else set(typer_commands(module_name))
        listed = {name for name, (mod, _) in COMMANDS.items() if mod == module_name}
        assert defined == listed, module_name


def test_root_help_lists_every_command_with_its_help(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: liprobe [OPTIONS] COMMAND [ARGS]...")
    flat = " ".join(out.split())
    for name, (_, text) in COMMANDS.items():
        assert f"\n  {name} " in out, name
        # the help as listed (the formatter may break a line after a hyphen)
        assert " ".join(text.split()[:4]) in flat.replace("- ", "-"), name


def test_every_command_and_subcommand_has_help(capsys):
    for name in COMMANDS:
        assert main([name, "--help"]) == 0, name
        out = capsys.readouterr().out
        assert f"Usage: liprobe {name}" in out, name
        command = load_command(name)
        for sub in getattr(getattr(command, "target", command), "commands", {}):
            assert main([name, sub, "--help"]) == 0, (name, sub)
            assert f"Usage: liprobe {name} {sub}" in capsys.readouterr().out


def test_no_command_prints_the_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "Commands:" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["compositon"]) == 2
    assert "No such command 'compositon'" in capsys.readouterr().err


def test_typer_usage_errors_keep_exit_code_2(capsys):
    assert main(["info"]) == 2
    assert "Missing argument" in capsys.readouterr().err
