"""Several real agent processes on one file, and on one PostgreSQL server: exactly once
without a crash, nothing lost with one.

Agents use the recording notifier (one JSON line per notification shown, per agent); the
desktop tests prove the real notifier separately.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT, agent_command, query, run_in_process, wait_for
from traycourier.store import Database, enqueue, write_setting
from traycourier.store.timestamps import utcnow


def start_agent(
    db_path: Path | str, owner: str, record: Path, *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        agent_command(
            db_path, "--headless", "--owner", owner, "--notifier", f"record:{record}", *extra
        ),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def count(db_path: Path | str, sql: str) -> int:
    db = Database.open(db_path)
    try:
        return int(query(db, sql)[0][0])
    finally:
        db.close()


def shown_titles(records: list[Path]) -> Counter[str]:
    titles: Counter[str] = Counter()
    for path in records:
        if path.exists():
            for line in path.read_text().splitlines():
                titles[json.loads(line)["title"]] += 1
    return titles


def stop_cleanly(agents: list[subprocess.Popen[str]]) -> list[str]:
    """SIGTERM every agent; each exits 0 with no traceback. Returns their stderr."""
    for agent in agents:
        agent.send_signal(signal.SIGTERM)
    errs = [agent.communicate(timeout=30)[1] for agent in agents]
    for agent, err in zip(agents, errs, strict=True):
        assert agent.returncode == 0, err
        assert "Traceback" not in err, err
    return errs


def prepare(db_path: Path | str) -> Database:
    db = Database.open(db_path)
    write_setting(db, "burst_limit", 0, utcnow())  # count every notification individually
    write_setting(db, "min_priority", "info", utcnow())
    return db


@pytest.mark.slow
def test_three_agents_deliver_each_notification_exactly_once(
    any_target: Path | str, tmp_path: Path
) -> None:
    db_path = any_target
    db = prepare(db_path)
    records = [tmp_path / f"agent{i}.jsonl" for i in range(3)]
    agents = [start_agent(db_path, f"agent{i}", records[i]) for i in range(3)]
    try:
        wait_for(
            lambda: count(db_path, "SELECT count(*) FROM agents WHERE stopped_at IS NULL") == 3,
            "three agents to register",
        )
        for i in range(300):
            enqueue(db, f"n{i:03d}", priority=("urgent", "action", "info")[i % 3])
        wait_for(
            lambda: (
                count(db_path, "SELECT count(*) FROM notification_deliveries WHERE status = 'sent'")
                == 300
            ),
            "300 sent",
        )
    finally:
        stop_cleanly(agents)
    titles = shown_titles(records)
    assert titles == Counter({f"n{i:03d}": 1 for i in range(300)})
    assert (
        count(db_path, "SELECT count(*) FROM notification_deliveries WHERE status != 'sent'") == 0
    )
    assert count(db_path, "SELECT count(*) FROM notification_delivery_attempts") == 300
    assert count(db_path, "SELECT count(*) FROM agents WHERE stopped_at IS NOT NULL") == 3
    db.close()


@pytest.mark.slow
def test_a_killed_agent_loses_nothing(any_target: Path | str, tmp_path: Path) -> None:
    db_path = any_target
    db = prepare(db_path)
    for i in range(150):
        enqueue(db, f"n{i:03d}", priority="action")
    victim_log, survivor_log = tmp_path / "victim.jsonl", tmp_path / "survivor.jsonl"
    survivor = None
    victim = start_agent(
        db_path,
        "victim",
        victim_log,
        "--notifier",
        f"record:{victim_log},delay=0.05",
        "--lease-ttl",
        "3",
        "--notify-timeout",
        "1",
    )
    try:
        wait_for(
            lambda: (
                victim_log.exists()
                and len(victim_log.read_text().splitlines()) >= 20
                and count(
                    db_path,
                    "SELECT count(*) FROM notification_deliveries "
                    "WHERE status = 'leased' AND lease_owner = 'victim'",
                )
                > 1
            ),
            "the victim to show 20 and hold leases",
        )
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        held = count(
            db_path,
            "SELECT count(*) FROM notification_deliveries "
            "WHERE status = 'leased' AND lease_owner = 'victim'",
        )
        assert held > 0, "the victim died holding no lease; the test proves nothing"
        in_flight = count(
            db_path,
            "SELECT count(*) FROM notification_deliveries WHERE status = 'leased' "
            "AND lease_owner = 'victim' AND attempt_started_at IS NOT NULL",
        )
        survivor = start_agent(
            db_path, "survivor", survivor_log, "--lease-ttl", "3", "--notify-timeout", "1"
        )
        wait_for(
            lambda: (
                count(db_path, "SELECT count(*) FROM notification_deliveries WHERE status = 'sent'")
                == 150
            ),
            "all 150 sent",
        )
    finally:
        if victim.poll() is None:
            victim.kill()
        if survivor is not None:
            survivor.send_signal(signal.SIGTERM)
    assert survivor is not None
    _out, err = survivor.communicate(timeout=30)
    assert survivor.returncode == 0, err
    titles = shown_titles([victim_log, survivor_log])
    assert set(titles) == {f"n{i:03d}" for i in range(150)}, "a notification was lost"
    repeats = sum(n - 1 for n in titles.values())
    assert repeats <= 2, f"{repeats} shown twice: more than the one call in flight at the kill"
    expired = count(
        db_path,
        "SELECT count(*) FROM notification_delivery_attempts "
        "WHERE outcome = 'lease_expired' AND owner = 'victim'",
    )
    # only the call in flight at the kill counts an attempt; the other leases came back free
    assert expired == in_flight <= 1 < held
    db.close()


def test_an_agent_killed_without_stopping_is_shown_dead_not_running(
    db: Database, db_path: Path, tmp_path: Path
) -> None:
    """SIGKILL leaves its row "running" until its heartbeat goes stale; `status` asks this
    machine whether its process still exists, and `send` does not count on it."""
    agent = start_agent(db_path, "killed", tmp_path / "shown.jsonl")
    wait_for(lambda: count(db_path, "SELECT count(*) FROM agents") == 1, "the agent to register")
    agent.send_signal(signal.SIGKILL)
    agent.wait(timeout=30)
    state = json.loads(run_in_process("status", "--json", db=db_path).stdout)
    assert state["agents"] == []
    assert [a["owner"] for a in state["dead_agents"]] == ["killed"]
    text = run_in_process("status", db=db_path).stdout
    assert "agent       none running\n" in text
    assert "dead        killed pid " in text and "ended without stopping (killed?)" in text
    sent = run_in_process("send", "anyone?", db=db_path)
    assert "no traycourier agent is running for this database" in sent.stderr
