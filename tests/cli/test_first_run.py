"""What a newcomer meets first (issue "first run and everyday use"): a notification that will
not appear says so and why, skips are not errors, and times are the user's local time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, run_in_process
from traycourier.agent.cli.send import NO_AGENT
from traycourier.agent.engine.presence import Presence
from traycourier.store import Database, timestamps


def tick(db: Path) -> None:
    result = run_in_process("run", "--headless", "--once", "--notifier", "null", db=db)
    assert result.code == 0, result.stderr


def test_a_plain_notification_is_shown_by_default(db_path: Path) -> None:
    """A title alone gets `info`, and the default minimum is `info`: a user's first `send`
    (or bare INSERT) appears (issue 26)."""
    sent = run_in_process("send", "hello", db=db_path)
    assert sent.code == 0 and "not shown" not in sent.stderr
    tick(db_path)
    [row] = json.loads(run_in_process("deliveries", "--json", db=db_path).stdout)
    assert (row["status"], row["last_error_code"]) == ("sent", None)


def test_a_notification_below_the_minimum_says_so_and_shows_up_as_skipped(
    db_path: Path,
) -> None:
    assert run_in_process("settings", "set", "min_priority", "action", db=db_path).code == 0
    sent = run_in_process("send", "hello", db=db_path)  # info, below the minimum set
    assert sent.code == 0
    assert sent.stderr.strip() == (
        "traycourier: not shown: info is below the minimum priority; "
        "to see these: traycourier settings set min_priority info"
    )
    tick(db_path)
    [row] = json.loads(run_in_process("deliveries", "--json", db=db_path).stdout)
    assert (row["status"], row["last_error_code"]) == ("skipped", "min_priority")
    status = run_in_process("status", db=db_path).stdout
    assert "not shown   1 below the minimum priority" in status
    assert "error" not in status  # a deliberate skip is not an error


def test_a_switched_off_or_paused_agent_says_what_happens_to_a_new_notification(
    db_path: Path,
) -> None:
    assert run_in_process("settings", "set", "enable_notifications", "false", db=db_path).code == 0
    off = run_in_process("send", "x", "--priority", "urgent", db=db_path)
    assert off.code == 0 and "not shown: notifications are switched off" in off.stderr
    assert run_in_process("settings", "set", "enable_notifications", "true", db=db_path).code == 0
    assert run_in_process("settings", "set", "paused_until", "2h", db=db_path).code == 0
    held = run_in_process("send", "y", "--priority", "urgent", db=db_path)
    assert held.code == 0 and "held: notifications are paused until " in held.stderr
    assert run_in_process("settings", "set", "paused_until", "off", db=db_path).code == 0
    resumed = run_in_process("send", "w", "--priority", "urgent", db=db_path)
    assert resumed.code == 0 and resumed.stderr == f"traycourier: {NO_AGENT}\n"  # none runs
    with Database.open(db_path) as db:  # an agent that runs, with a notification daemon
        Presence(db, "a1").start("headless", "record", lambda: None, timestamps.utcnow())
        shown = run_in_process("send", "v", "--priority", "urgent", db=db_path)
    assert shown.code == 0 and shown.stderr == ""  # shown at once: nothing to say


def test_a_read_command_refuses_a_db_folder_that_does_not_exist(tmp_path: Path) -> None:
    typo = tmp_path / "typo" / "x.db"
    for command in (("status",), ("deliveries",), ("settings", "get"), ("doctor",)):
        result = run_in_process(*command, db=typo)
        assert (result.code, result.stdout) == (2, "")
        assert result.stderr == (
            f"traycourier: error: no database at {typo}: the folder {typo.parent} does not "
            "exist (check --db)\n"
        )
    assert not typo.parent.exists()
    assert run_in_process("send", "hello", db=typo).code == 0  # a write creates it, as before
    assert typo.exists()


@pytest.mark.parametrize(
    ("zone", "typed", "shown", "utc"),
    [
        ("Pacific/Auckland", "2027-11-30T09:00", "2027-11-30 09:00:00 NZDT", "2027-11-29 20:00"),
        ("America/New_York", "2027-07-01T09:00", "2027-07-01 09:00:00 EDT", "2027-07-01 13:00"),
        ("UTC", "2027-11-30T09:00", "2027-11-30 09:00:00 UTC", "2027-11-30 09:00"),
    ],
)
def test_times_on_the_command_line_are_local_with_the_zone_and_json_stays_utc(
    zone: str, typed: str, shown: str, utc: str, db_path: Path
) -> None:
    env = {"TZ": zone}
    echoed = run_cli("settings", "set", "paused_until", typed, db=db_path, env=env)
    assert echoed.returncode == 0, echoed.stderr
    assert echoed.stdout.strip() == f'paused_until = "{shown}"'
    assert f"paused until {shown}" in run_cli("status", db=db_path, env=env).stdout
    as_json = json.loads(run_cli("status", "--json", db=db_path, env=env).stdout)
    assert as_json["settings"]["paused_until"].startswith(utc)
