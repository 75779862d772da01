"""The CLI helps (issue 26): every argument and option has help text, `send --help` has
examples, a typo of a command, a priority or a setting gets "did you mean", priorities are
case-insensitive, and a bare `traycourier` prints the usage and the commands."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.conftest import query, run_in_process
from traycourier.agent.cli.parser import build_parser
from traycourier.store import Database


def _parsers(
    parser: argparse.ArgumentParser, name: str = "traycourier"
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found += _parsers(sub, f"{name} {sub_name}")
    return found


PARSERS = _parsers(build_parser())


@pytest.mark.parametrize(("name", "parser"), PARSERS, ids=[n for n, _ in PARSERS])
def test_every_argument_and_option_has_help(name: str, parser: argparse.ArgumentParser) -> None:
    missing = [
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()
    ]
    assert not missing, f"{name}: {missing} have no help text"


def test_send_help_has_examples_and_says_the_defaults() -> None:
    shown = run_in_process("send", "--help")
    assert shown.code == 0
    assert 'examples:\n  traycourier send "Backup done"\n' in shown.stdout
    assert "(default: info)" in shown.stdout and "(default: none)" in shown.stdout


def test_a_long_default_path_is_never_broken_inside() -> None:
    """argparse breaks a word longer than the help column: the default database path came
    out cut in two in every help."""
    share = "/home/someone-with-a-rather-long-name/.local/share"
    env = {"XDG_DATA_HOME": share, "COLUMNS": "60"}
    for command in ("status", "send", "run"):
        shown = run_in_process(command, "--help", env=env)
        assert f"{share}/traycourier/traycourier.db" in shown.stdout, shown.stdout


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["sned", "x"], "unknown choice 'sned'; did you mean 'send'?"),
        (["send", "x", "--priority", "urgnet"], "unknown choice 'urgnet'; did you mean 'urgent'?"),
        (["settings", "set", "min_priorty", "info"], "did you mean 'min_priority'?"),
        (["deliveries", "--status", "sennt"], "did you mean 'sent'?"),
    ],
)
def test_a_typo_gets_a_suggestion_in_one_line(argv: list[str], meant: str) -> None:
    result = run_in_process(*argv)
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and meant in result.stderr, result.stderr


def test_priorities_are_case_insensitive(tmp_path: Path) -> None:
    db = tmp_path / "tc.db"
    sent = run_in_process("send", "x", "--priority", "Urgent", db=db)
    assert sent.code == 0, sent.stderr
    with Database.open(db) as opened:
        assert query(opened, "SELECT priority FROM notifications") == [("urgent",)]


def test_bare_traycourier_prints_the_usage_and_the_commands() -> None:
    bare = run_in_process()
    assert bare.code == 2
    assert bare.stdout.startswith("usage: traycourier ")
    for command in ("send", "status", "run", "mute", "settings"):
        assert f"\n    {command} " in bare.stdout
    assert "the following arguments are required" not in bare.stdout + bare.stderr
