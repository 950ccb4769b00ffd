"""Command modules beyond the core ones in :mod:`imr_audio.cli`.

Each module listed in ``COMMAND_MODULES`` defines ``commands``: the click commands or groups it
adds to ``imr-audio``. Every command parses, calls one library function and prints.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["COMMAND_MODULES", "register_commands"]

COMMAND_MODULES: tuple[str, ...] = (
    "imr_audio.commands.record_sheet",
    "imr_audio.commands.cache",
    "imr_audio.commands.voices",
    "imr_audio.commands.soundscapes",
    "imr_audio.commands.batch",
    "imr_audio.commands.pack",
    "imr_audio.commands.purge",
    "imr_audio.commands.studio",
)


def register_commands(group: click.Group) -> None:
    """Add every command module's commands to ``group``."""
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.commands:
            group.add_command(command)
