"""The command line as a whole: every command is registered and documented, and start-up stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from facecraft.cli.main import COMMANDS, build_parser, main


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: facecraft {command}" in capsys.readouterr().out


def test_top_level_help_lists_every_command():
    text = build_parser().format_help()
    for command in COMMANDS:
        assert command in text


def test_extract_does_not_import_the_learning_or_animation_stacks():
    code = (
        "import sys; from facecraft.cli.main import build_parser; build_parser(['extract', 'x', '-o', 'y']); "
        "heavy = [m for m in ('torch', 'scipy', 'skimage', 'facecraft.animate') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["nosuch"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
