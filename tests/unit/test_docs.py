"""The README documents every command and option the CLI has."""

from __future__ import annotations

import argparse

import pytest

from tests.conftest import ROOT
from traycourier.agent.cli import main as cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, list[str]]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((f"{prefix}{name}", _options(sub)))
                found += _commands(sub, f"{prefix}{name} ")
    return found


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]


COMMANDS = _commands(cli.build_parser())


def test_the_cli_has_the_commands_this_test_expects() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"send", "run", "status", "settings get", "autostart"} <= names


@pytest.mark.parametrize(("command", "options"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_every_command_and_option_is_in_the_readme(command: str, options: list[str]) -> None:
    assert f"traycourier {command}" in README or f"`{command}`" in README, command
    missing = [option for option in options if option not in README]
    assert not missing, f"{command}: {missing} are not documented in README.md"
