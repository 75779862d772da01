"""The CLI as a user sees it: exit status, stdout and stderr. Most commands run in this
process through `cli.main(argv)`; the few that must prove the installed command itself (the
entry point, `--version`, a corrupt file, the headless fallback of `run`) start a process."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_cli, run_in_process
from traycourier.agent import __version__
from traycourier.store import LATEST_VERSION


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"traycourier {__version__}"


def test_send_prints_the_id_and_stores_the_row(db_path: Path) -> None:
    result = run_in_process(
        "send",
        "Build failed",
        "main is red",
        "--priority",
        "urgent",
        "--source",
        "ci",
        "--kind",
        "build.failed",
        "--action",
        "Open=https://ci.example/1",
        db=db_path,
    )
    assert result.code == 0, result.stderr
    ntf_id = result.stdout.strip()
    assert re.fullmatch(r"ntf_[0-9a-f]{16}", ntf_id)
    row = (
        sqlite3.connect(db_path)
        .execute(
            "SELECT title, message, priority, source, kind, actions_json FROM notifications "
            "WHERE id = ?",
            (ntf_id,),
        )
        .fetchone()
    )
    assert row == (
        "Build failed",
        "main is red",
        "urgent",
        "ci",
        "build.failed",
        '[{"label": "Open", "url": "https://ci.example/1"}]',
    )


def test_send_with_a_known_dedupe_key_prints_the_existing_id(db_path: Path) -> None:
    first = run_in_process("send", "a", "--dedupe-key", "k", db=db_path)
    second = run_in_process("send", "b", "--dedupe-key", "k", db=db_path)
    assert first.code == second.code == 0
    assert first.stdout == second.stdout
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM notifications").fetchone() == (1,)


def test_the_database_comes_from_the_environment(tmp_path: Path) -> None:
    target = tmp_path / "env" / "x.db"
    result = run_in_process("send", "hi", env={"TRAYCOURIER_DB": str(target)})
    assert result.code == 0, result.stderr
    assert target.exists()


def test_settings_set_and_get(db_path: Path) -> None:
    assert run_in_process("settings", "set", "min_priority", "urgent", db=db_path).code == 0
    assert run_in_process("settings", "set", "paused_until", "2h", db=db_path).code == 0
    got = run_in_process("settings", "get", "min_priority", db=db_path)
    assert got.stdout.strip() == '"urgent"'
    everything = run_in_process("settings", "get", db=db_path).stdout
    assert "enable_notifications = true" in everything
    assert 'paused_until = "20' in everything


def test_status_json(db_path: Path) -> None:
    run_in_process("send", "x", db=db_path)
    result = run_in_process("status", "--json", db=db_path)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["unrouted"] == 1
    assert data["schema_version"] == LATEST_VERSION
    assert data["settings"]["min_priority"] == "info"
    assert data["deliveries"]["queued"] == 0
    assert data["agents"] == []


def test_status_says_what_holds_the_waiting_ones(db_path: Path) -> None:
    """The same answer as the claim's (`agent.policy.visibility`): nothing, then quiet
    hours around now, then a pause, which is named first."""
    db_path.parent.mkdir()
    assert json.loads(run_in_process("status", "--json", db=db_path).stdout)["held"] is None
    assert "held " not in run_in_process("status", db=db_path).stdout
    local = datetime.now().astimezone()
    window = f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=1):%H:%M}"
    assert run_in_process("settings", "set", "quiet_hours", window, db=db_path).code == 0
    text = run_in_process("status", db=db_path).stdout
    assert "held        what waits: quiet hours (urgent and above still shown) until " in text
    assert json.loads(run_in_process("status", "--json", db=db_path).stdout)["held"]["by"] == (
        "quiet_hours"
    )
    run_in_process("settings", "set", "paused_until", "2h", db=db_path)
    held = json.loads(run_in_process("status", "--json", db=db_path).stdout)["held"]
    assert held["by"] == "paused" and held["until"] is not None
    assert "held        what waits: paused until " in run_in_process("status", db=db_path).stdout


def test_deliveries_on_an_empty_file(db_path: Path) -> None:
    db_path.parent.mkdir()
    result = run_in_process("deliveries", "--status", "failed", "--limit", "5", db=db_path)
    assert result.code == 0
    assert result.stdout.strip() == "no deliveries"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["settings", "set", "burst_limit", "many"], "burst_limit takes a whole number"),
        (["settings", "set", "volume", "3"], "unknown choice 'volume' (one of enable"),
        (["settings", "set", "paused_until", "soonish"], "paused_until takes 30m"),
        (["settings", "set", "max_age_seconds", "100000000000000"], "from 0 to 3153600000"),
        (["settings", "set", "paused_until", "99999999d"], "too far away"),
        (["settings", "set", "paused_until", "0001-01-01T00:00:00+05:00"], "too far away"),
        (["send", "x", "--priority", "critical"], "'critical' (one of urgent, action, warning"),
        (["send", "x", "--action", " "], "an action needs a label"),
        (["send", "x", "--action", "y" * 300], "an answer's id is 1 to 200 characters"),
        (["send", "x", "--progress", "101"], "from 0 to 100"),
        (["send", "x", "--tag", ""], "a tag may not be empty"),
        (["send", "x", "--action", "Run=javascript:alert(1)"], "must be http(s)"),
        (["send", "   "], "non-empty title"),
        (["deliveries", "--limit", "0"], ">= 1"),
        (["deliveries", "--limit", "99999999999999999999999"], "at most 1000000"),
        (["frobnicate"], "unknown choice 'frobnicate' (one of send, "),
        (["send", "caf\udcc3"], "not valid UTF-8"),  # what Python makes of bytes like \xc3
        (["run", "--once", "--lease-ttl", "nan"], "--lease-ttl: expected seconds"),
        (["run", "--once", "--lease-ttl", "1e300"], "--lease-ttl: expected seconds"),
        (["run", "--once", "--notify-timeout", "-1"], "--notify-timeout: expected seconds"),
        (["run", "--once", "--lease-ttl", "5", "--notify-timeout", "10"], "must outlast"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    db_path: Path, args: list[str], message: str
) -> None:
    result = run_in_process(*args, db=db_path)
    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("traycourier: error: ")
    assert message in lines[0]
    if db_path.exists():
        conn = sqlite3.connect(db_path)
        assert conn.execute("SELECT count(*) FROM notifications").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM settings").fetchone() == (0,)


@pytest.mark.parametrize("command", [["status"], ["send", "x"], ["settings", "get"]])
def test_a_corrupt_file_gives_one_line_and_stays_untouched(
    db_path: Path, command: list[str]
) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"GARBAGE" * 1000)
    result = run_cli(*command, db=db_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not a SQLite database" in result.stderr
    assert db_path.read_bytes() == b"GARBAGE" * 1000


def test_a_newer_schema_is_refused_by_the_cli(db_path: Path) -> None:
    run_in_process("send", "x", db=db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    result = run_in_process("send", "y", db=db_path)
    assert result.code == 1
    assert f"schema version {LATEST_VERSION + 1}" in result.stderr
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM notifications").fetchone() == (1,)


def test_run_without_a_display_falls_back_to_headless_and_says_why(db_path: Path) -> None:
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "XDG_STATE_HOME": str(db_path.parent / "state")}
    result = run_cli("run", "--once", "--notifier", "null", db=db_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        "traycourier: running headless: no display (DISPLAY and WAYLAND_DISPLAY are unset)"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--db", "{db}", "send", "hello"],
        ["send", "--db", "{db}", "hello"],
        ["send", "hello", "--db", "{db}"],
        ["--debug", "send", "hello", "--db", "{db}"],
        ["send", "hello", "--debug", "--db", "{db}"],
    ],
)
def test_global_options_work_before_or_after_the_command(argv: list[str], tmp_path: Path) -> None:
    db = tmp_path / "where.db"
    result = run_in_process(*[a.replace("{db}", str(db)) for a in argv])
    assert result.code == 0, result.err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT title FROM notifications").fetchall() == [("hello",)]


def test_the_option_after_the_command_wins_over_the_environment(tmp_path: Path) -> None:
    env_db, given = tmp_path / "env.db", tmp_path / "given.db"
    result = run_in_process(
        "settings", "get", "--db", str(given), env={"TRAYCOURIER_DB": str(env_db)}
    )
    assert result.code == 0, result.err
    assert given.exists() and not env_db.exists()


@pytest.mark.parametrize(
    "command",
    [["status"], ["settings", "get", "min_priority"], ["--version"], ["deliveries", "--json"]],
    ids=" ".join,
)
def test_a_reader_that_stops_early_gets_no_error(db_path: Path, command: list[str]) -> None:
    """`traycourier status | head -1`: the pipe closes under the writer; no error line, exit
    141 -- with Python's usual buffered output (a short text reaches the pipe only at the
    last flush), not only under PYTHONUNBUFFERED."""
    run_in_process("send", "x", db=db_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    child = subprocess.Popen(
        [sys.executable, "-m", "traycourier.agent", "--db", str(db_path), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    child.stdout.close()  # the reader is gone before the first line is written
    _out, err = child.communicate(timeout=60)
    assert err == ""
    assert child.returncode == 141


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://", "has no host"),
        ("postgresql://[::1", "cannot be read"),
        ("postgresql://me@db:x/tc", "the port is not a number"),
    ],
)
def test_a_database_url_that_cannot_be_used_is_one_line(url: str, message: str) -> None:
    result = run_in_process("status", db=url)
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr.startswith("traycourier: error: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_self_test_into_a_folder_is_one_line(tmp_path: Path) -> None:
    result = run_in_process("self-test", "--out", str(tmp_path))
    assert result.code == 1
    assert result.stderr == f"traycourier: error: cannot write {tmp_path}: Is a directory\n"


def test_a_year_9999_time_east_of_utc_is_shown_not_an_internal_error(db_path: Path) -> None:
    """Another program wrote the largest time there is; in UTC+14 it is past year 9999."""
    run_in_process("send", "x", db=db_path)
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO notification_deliveries (notification_id, route_name, sink, "
                 "status, delivered_at) SELECT id, 'desktop', 'desktop', 'sent', "
                 "'9999-12-31 23:59:59' FROM notifications")  # fmt: skip
    conn.commit()
    result = run_cli("status", db=db_path, env={"TZ": "Pacific/Kiritimati"})  # a new process
    assert result.returncode == 0, result.stderr
    assert "last sent   9999-12-31 23:59:59" in result.stdout


def test_deliveries_is_a_table_in_the_users_words_and_show_tells_the_whole_story(
    db_path: Path,
) -> None:
    """Issue 26: a header, local times, the source, what became of each in words with its
    attempts explained, `--source`, and `show ID` with text, links, deliveries, attempts."""
    env = {"TZ": "UTC"}
    shown = run_in_process(
        "send", "Build failed", "3 tests failed\nin api/", "--priority", "urgent", "--source",
        "ci", "--action", "Open log=https://ci.example/7", db=db_path, env=env,
    ).stdout.strip()  # fmt: skip
    assert run_in_process("settings", "set", "min_priority", "action", db=db_path).code == 0
    run_in_process("send", "backup done", "--source", "backup", db=db_path)
    assert run_in_process("run", "--headless", "--once", "--notifier", "null", db=db_path).code == 0
    table = run_in_process("deliveries", db=db_path, env=env).stdout.splitlines()
    assert table[0].split() == ["ID", "CREATED", "PRIORITY", "SOURCE", "TITLE", "WHAT",
                                "BECAME", "OF", "IT"]  # fmt: skip
    assert len(table) == 3
    assert table[1].split()[4:] == ["backup", "backup", "done", "not", "shown:", "below", "the",
                                    "minimum", "priority"]  # fmt: skip
    assert table[2].split()[4:7] == ["ci", "Build", "failed"] and " shown 20" in table[2]
    assert table[0].index("TITLE") == table[2].index("Build")  # aligned
    only_ci = run_in_process("deliveries", "--source", "ci", db=db_path).stdout.splitlines()
    assert len(only_ci) == 2 and "Build failed" in only_ci[1]
    story = run_in_process("show", shown, db=db_path, env=env).stdout.splitlines()
    assert story[:4] == [f"id          {shown}", "title       Build failed",
                         "message     3 tests failed", "message     in api/"]  # fmt: skip
    assert "link        Open log: https://ci.example/7" in story
    assert any(line.startswith("delivery    1: shown 20") for line in story)
    assert any(line.startswith("  attempt 1  20") and " sent  (" in line for line in story)
    missing = run_in_process("show", "ntf_nope", db=db_path)
    assert (missing.code, missing.stderr) == (
        2, "traycourier: error: no notification 'ntf_nope' (ids are what `send` printed)\n"
    )  # fmt: skip


def test_self_test_serves_and_fetches_the_history_window(tmp_path: Path) -> None:
    result = run_in_process("self-test", "--out", str(tmp_path / "report.json"))
    assert result.code == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["history_window_ok"] is True and report["ok"] is True
