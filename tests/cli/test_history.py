"""`traycourier history`: every notification with its text, newest first, as a terminal user
reads it; narrowed by source, by a search taken literally and in any case, by age; escapes
a producer wrote never reach the terminal; a bad `--since` is one line, exit 2."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_in_process


@pytest.fixture
def sent(db_path: Path) -> Path:
    for args in (
        ("Build failed", "prod is down\nsee \x1b[31mthe log", "--priority", "urgent",
         "--source", "deploy"),
        ("100% done_", "backup finished", "--source", "backup"),
        ("Nightly report", "all green", "--source", "backup"),
    ):  # fmt: skip
        assert run_in_process("send", *args, db=db_path).code == 0
    old = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO notifications (title, message, source, created_at) "
            "VALUES ('Old news', 'from last week', 'news', ?)",
            (old,),
        )
    return db_path


def titles(db: Path, *args: str) -> list[str]:
    done = run_in_process("history", "--json", *args, db=db)
    assert done.code == 0, done.stderr
    return [row["title"] for row in json.loads(done.stdout)]


def test_every_notification_newest_first_with_its_body(sent: Path) -> None:
    done = run_in_process("history", db=sent)
    assert done.code == 0 and done.stderr == ""
    out = done.stdout.splitlines()
    assert [line.split("  ")[-1].strip() for line in out if line.startswith("●")] == [
        "news — Old news",
        "backup — Nightly report",
        "backup — 100% done_",
        "deploy — Build failed",
    ]
    build = out.index(next(line for line in out if line.endswith("deploy — Build failed")))
    assert out[build + 1 : build + 4] == ["    prod is down", "    see [31mthe log", "    new"]
    assert "\x1b" not in done.stdout  # the producer's escape is removed, its text stays inert
    assert "urgent" in out[build]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--source", "backup"), ["Nightly report", "100% done_"]),
        (("--search", "100%"), ["100% done_"]),  # % is a character, not a wildcard
        (("--search", "_"), ["100% done_"]),
        (("--search", "PROD"), ["Build failed"]),  # the body, in any case
        (("--search", "Backup"), ["Nightly report", "100% done_"]),  # the source
        (("--since", "1d"), ["Nightly report", "100% done_", "Build failed"]),
        (("--limit", "2"), ["Old news", "Nightly report"]),
        (("--search", "nothing like it"), []),
    ],
)
def test_narrowed(sent: Path, args: tuple[str, ...], expected: list[str]) -> None:
    assert titles(sent, *args) == expected


def test_since_a_local_date(sent: Path) -> None:
    yesterday = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    assert "Old news" not in titles(sent, "--since", yesterday)
    assert "Old news" in titles(sent, "--since", "7d")


@pytest.mark.parametrize("bad", ["soon", "3 weeks", "2h ago"])
def test_a_bad_since_is_one_line(sent: Path, bad: str) -> None:
    done = run_in_process("history", "--since", bad, db=sent)
    assert (done.code, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and "--since takes 30m, 2h, 3d" in done.stderr


def test_an_empty_history_says_so(db_path: Path) -> None:
    run_in_process("settings", "set", "min_priority", "info", db=db_path)  # a file, empty
    assert run_in_process("history", db=db_path).stdout == "no notifications\n"
