"""An agent killed again and again: every notification is still shown, and none is failed for
expired leases whose notifier call never started (before, 20 rows and 8 kill cycles left 7
never shown)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, agent_command, wait_for
from traycourier.store import Database, enqueue, write_setting
from traycourier.store.timestamps import utcnow

KILLS = 8


def start(db_path: Path, record: Path, tmp_path: Path) -> subprocess.Popen[str]:
    command = agent_command(
        db_path,
        "--headless",
        "--notifier",
        f"record:{record},delay=0.2",
        "--lease-ttl",
        "3",
        "--notify-timeout",
        "1",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def shown(record: Path) -> list[str]:
    if not record.exists():
        return []
    return [json.loads(line)["title"] for line in record.read_text().splitlines()]


@pytest.mark.slow
def test_repeated_kills_lose_nothing_and_fail_nothing(db_path: Path, tmp_path: Path) -> None:
    db = Database.open(db_path)
    write_setting(db, "burst_limit", 0, utcnow())
    titles = [f"n{i:02d}" for i in range(20)]
    for title in titles:
        enqueue(db, title, priority="urgent")
    record = tmp_path / "shown.jsonl"
    kills = 0
    for cycle in range(KILLS):
        agent = start(db_path, record, tmp_path)
        before = len(shown(record))
        # kill it mid-call: once it has shown one more, or after a moment if leases are
        # still held by the agent killed before
        deadline = time.monotonic() + 5
        while len(shown(record)) <= before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1 * (cycle % 3))
        agent.send_signal(signal.SIGKILL)
        agent.wait(timeout=10)
        kills += 1
    survivor = start(db_path, record, tmp_path)
    try:
        wait_for(lambda: set(titles) <= set(shown(record)), "every notification shown", 120)
        wait_for(
            lambda: (
                sqlite3.connect(db_path)
                .execute("SELECT count(*) FROM notification_deliveries WHERE status != 'sent'")
                .fetchone()
                == (0,)
            ),
            "every delivery sent",
            120,
        )
    finally:
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=30) == 0
    conn = sqlite3.connect(db_path)
    assert conn.execute(
        "SELECT count(*) FROM notification_deliveries WHERE status = 'failed'"
    ).fetchone() == (0,)
    expired = conn.execute(
        "SELECT count(*) FROM notification_delivery_attempts WHERE outcome = 'lease_expired'"
    ).fetchone()[0]
    assert expired <= kills, "more expired attempts than calls in flight at the kills"
    repeats = len(shown(record)) - len(set(shown(record)))
    assert repeats <= kills
    db.close()
