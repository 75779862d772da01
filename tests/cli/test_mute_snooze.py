"""`mute`, `unmute`, `mutes` and `snooze` as a user types them: one line each, a refusal says
why in one line with exit status 2, and what they change is what the agent then does."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_in_process


def deliveries(db: Path) -> list[dict[str, object]]:
    return json.loads(run_in_process("deliveries", "--json", db=db).stdout)


def test_mute_list_and_unmute(db_path: Path) -> None:
    done = run_in_process("mute", "backup", "--for", "2h", "--except-urgent", db=db_path)
    assert done.code == 0 and done.stdout.startswith("muted backup until ")
    assert "(except urgent)" in done.stdout
    listed = json.loads(run_in_process("mutes", "--json", db=db_path).stdout)
    assert [(m["source"], m["urgent_too"]) for m in listed] == [("backup", False)]
    sent = run_in_process(
        "send", "nightly", "--priority", "action", "--source", "backup", db=db_path
    )
    assert "not shown: backup is muted" in sent.stderr
    assert run_in_process("unmute", "backup", db=db_path).stdout == "backup: unmuted\n"
    assert run_in_process("mutes", db=db_path).stdout == "no muted sources\n"
    bad = run_in_process("mute", "backup", "--for", "soon", db=db_path)
    assert bad.code == 2 and bad.stderr.count("\n") == 1 and "expected 30m, 2h" in bad.stderr


def test_until_takes_the_next_hh_mm_and_refuses_a_past_time(db_path: Path) -> None:
    """`--until 08:00` is the next 08:00, as the tray's "until 08:00" and quiet hours mean
    it; a time already past is refused in one line, and nothing is muted or paused."""
    env = {"TZ": "UTC"}
    now = datetime.now(UTC)
    ahead = (now + timedelta(hours=2)).strftime("%H:%M")
    done = run_in_process("mute", "ci", "--until", ahead, db=db_path, env=env)
    assert done.code == 0, done.stderr
    [listed] = json.loads(run_in_process("mutes", "--json", db=db_path).stdout)
    until = datetime.fromisoformat(listed["until"]).replace(tzinfo=UTC)
    assert timedelta(hours=1, minutes=58) < until - now <= timedelta(hours=2)
    past = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    for command in (("mute", "backup", "--until", past),
                    ("settings", "set", "paused_until", past)):  # fmt: skip
        refused = run_in_process(*command, db=db_path, env=env)
        assert (refused.code, refused.stdout) == (2, "")
        assert refused.stderr == f"traycourier: error: {past} is already past; give a later " \
            "time, or 30m, 2h, 08:00\n"  # fmt: skip
    assert [
        m["source"] for m in json.loads(run_in_process("mutes", "--json", db=db_path).stdout)
    ] == ["ci"]
    assert run_in_process("settings", "get", "paused_until", db=db_path).stdout == "off\n"


def test_settings_say_off_for_a_window_not_set(db_path: Path) -> None:
    done = run_in_process("settings", "set", "quiet_hours", "off", db=db_path)
    assert done.stdout == "quiet_hours = off\n"
    shown = run_in_process("settings", "get", db=db_path).stdout
    assert "quiet_hours = off\n" in shown and "paused_until = off\n" in shown


@pytest.mark.parametrize(
    ("setup", "priority", "code", "notice"),
    [
        (
            [("mute", "backup", "--for", "2h"), ("settings", "set", "min_priority", "action")],
            "info",
            "min_priority",
            "below the minimum",
        ),
        ([("mute", "backup", "--for", "2h")], "action", "muted", "backup is muted"),
        (
            [("mute", "backup", "--for", "2h"), ("settings", "set", "enable_notifications", "off")],
            "action",
            "muted",
            "backup is muted",
        ),
        (
            [("settings", "set", "enable_notifications", "off")],
            "urgent",
            "disabled",
            "switched off",
        ),
    ],
)
def test_what_send_says_is_what_routing_records(
    db_path: Path, setup: list[tuple[str, ...]], priority: str, code: str, notice: str
) -> None:
    """One rule (`agent.policy.visibility`): `send`'s notice names the reason the agent then
    records on the delivery, whichever rules apply at once."""
    for command in setup:
        assert run_in_process(*command, db=db_path).code == 0
    sent = run_in_process(
        "send", "nightly", "--priority", priority, "--source", "backup", db=db_path
    )
    assert notice in sent.stderr
    assert run_in_process("run", "--headless", "--once", "--notifier", "null", db=db_path).code == 0
    [row] = deliveries(db_path)
    assert (row["status"], row["last_error_code"]) == ("skipped", code)


def test_snooze_a_shown_one_and_refuse_the_rest(db_path: Path) -> None:
    ntf = run_in_process("send", "disk full", "--priority", "urgent", db=db_path).stdout.strip()
    early = run_in_process("snooze", ntf, db=db_path)
    assert early.code == 2 and early.stderr.count("\n") == 1
    assert "only a notification that was shown can be snoozed" in early.stderr
    shown = run_in_process("run", "--headless", "--once", "--notifier", "null", db=db_path)
    assert shown.code == 0
    done = run_in_process("snooze", ntf, "--for", "1h", db=db_path)
    assert done.code == 0 and done.stdout.startswith(f"{ntf}: shown again at ")
    [row] = deliveries(db_path)
    assert (row["status"], row["last_error_code"], row["attempts"]) == ("queued", "snoozed", 1)
    until = sqlite3.connect(db_path).execute(
        "SELECT snoozed_until = next_attempt_at FROM notification_deliveries"
    )
    assert until.fetchone() == (1,)
    unknown = run_in_process("snooze", "ntf_nope", db=db_path)
    assert unknown.code == 2 and "no notification 'ntf_nope'" in unknown.stderr


def test_a_mute_stops_what_already_waits(db_path: Path) -> None:
    """The issue's steps: paused, a backup notification held, "Mute backup", Resume: it
    must not pop up. The agent's next tick applies the new mute to what waits."""
    assert run_in_process("settings", "set", "paused_until", "1h", db=db_path).code == 0
    run_in_process("send", "nightly", "--priority", "action", "--source", "backup", db=db_path)
    once = ("run", "--headless", "--once", "--notifier", "null")
    assert run_in_process(*once, db=db_path).code == 0
    assert [(d["status"], d["last_error_code"]) for d in deliveries(db_path)] == [("queued", None)]
    assert run_in_process("mute", "backup", "--for", "1h", db=db_path).code == 0
    assert run_in_process("settings", "set", "paused_until", "off", db=db_path).code == 0
    assert run_in_process(*once, db=db_path).code == 0
    [row] = deliveries(db_path)
    assert (row["status"], row["last_error_code"], row["attempts"]) == ("skipped", "muted", 0)


def test_status_shows_quiet_hours_and_mutes(db_path: Path) -> None:
    """Issue 26: `status` said "queued 1" during quiet hours and nothing of mutes."""
    assert run_in_process("settings", "set", "quiet_hours", "22:00-07:00", db=db_path).code == 0
    assert run_in_process("mute", "backup", "--for", "2h", db=db_path).code == 0
    shown = run_in_process("status", db=db_path).stdout
    settings_line = next(line for line in shown.splitlines() if line.startswith("settings "))
    assert "quiet hours 22:00-07:00 (urgent and above still shown)" in settings_line
    muted = [line for line in shown.splitlines() if line.startswith("muted ")]
    assert len(muted) == 1 and muted[0].startswith("muted       backup until ")
    assert muted[0].endswith("(urgent ones too)")
    data = json.loads(run_in_process("status", "--json", db=db_path).stdout)
    assert [m["source"] for m in data["mutes"]] == ["backup"]
