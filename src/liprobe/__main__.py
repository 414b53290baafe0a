"""``python -m liprobe`` runs the command-line interface."""

from liprobe.cli import run

run()
