"""The agent on a real PostgreSQL server (a throw-away cluster the tests start): producers on
their own connections with plain SQL, agents woken by LISTEN/NOTIFY, a server that goes away
and comes back, and a password that never reaches the screen or the log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT, run_cli, wait_for
from tests.multiproc.test_agents import count, prepare, shown_titles, start_agent
from tests.pgserver import PASSWORD, PgServer

pytestmark = pytest.mark.slow


def insert(url: str, *titles: str) -> None:
    """What a producer in any language does: a plain INSERT on its own connection."""
    with psycopg.connect(url) as conn:
        for title in titles:
            conn.execute(
                "INSERT INTO notifications (title, priority) VALUES (%s, 'urgent')", [title]
            )


def test_four_producers_and_three_agents_show_each_exactly_once(
    pg_url: str, tmp_path: Path
) -> None:
    prepare(pg_url).close()
    records = [tmp_path / f"agent{i}.jsonl" for i in range(3)]
    agents = [start_agent(pg_url, f"agent{i}", records[i]) for i in range(3)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        wait_for(
            lambda: count(pg_url, "SELECT count(*) FROM agents WHERE stopped_at IS NULL") == 3,
            "three agents to register",
        )
        producers = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.multiproc.producer_proc", pg_url, f"p{i}", "100"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(4)
        ]
        sent: dict[str, str] = {}
        for producer in producers:
            out, err = producer.communicate(timeout=120)
            assert producer.returncode == 0, err
            sent.update(json.loads(out))
        unique = len(set(sent.values()))
        assert unique == 4 * 80 + 20  # every 5th key is shared by all four producers
        wait_for(
            lambda: count(pg_url, "SELECT count(*) FROM notification_deliveries "
                          "WHERE status = 'sent'") == unique,
            "every notification sent",
        )  # fmt: skip
    finally:
        for agent in agents:
            agent.send_signal(signal.SIGTERM)
        outputs = [agent.communicate(timeout=30) for agent in agents]
    for agent, (_out, err) in zip(agents, outputs, strict=True):
        assert agent.returncode == 0, err
        assert "Traceback" not in err
    titles = shown_titles(records)
    assert len(titles) == unique and set(titles.values()) == {1}  # once each, by one agent
    assert count(pg_url, "SELECT count(*) FROM notification_delivery_attempts") == unique


def test_a_server_that_goes_away_and_comes_back_loses_nothing(
    pg_server: PgServer, pg_url: str, tmp_path: Path
) -> None:
    prepare(pg_url).close()
    record = tmp_path / "agent.jsonl"
    agent = start_agent(pg_url, "agent", record)
    try:
        insert(pg_url, "before")
        wait_for(lambda: shown_titles([record]) == Counter({"before": 1}), "shown before")
        pg_server.stop()
        time.sleep(10)  # the outage: ticks fail meanwhile, the agent stays up
        assert agent.poll() is None
        pg_server.start()
        insert(pg_url, "after 1", "after 2")
        wait_for(
            lambda: shown_titles([record]) == Counter({"before": 1, "after 1": 1, "after 2": 1}),
            "the agent reconnected and showed what came after",
        )
        assert agent.poll() is None
    finally:
        if pg_server.port and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
        _out, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err
    assert "Traceback" not in err
    assert "cannot reach" in err or "lost the change notifications" in err  # said, not hidden
    assert PASSWORD not in err


def test_the_password_never_reaches_output_or_log(pg_url: str, tmp_path: Path) -> None:
    assert PASSWORD in pg_url
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    outputs = [
        run_cli("send", "secret test", "--priority", "urgent", db=pg_url, env=env),
        run_cli("status", db=pg_url, env=env),
        run_cli("status", "--json", db=pg_url, env=env),
        run_cli("deliveries", "--json", db=pg_url, env=env),
        run_cli("doctor", "--json", db=pg_url, env=env),
        run_cli("--debug", "run", "--headless", "--once", "--notifier", "null", db=pg_url, env=env),
    ]
    for result in outputs:
        assert PASSWORD not in result.stdout + result.stderr, result.args
    status = json.loads(outputs[2].stdout)
    assert status["database"] == pg_url.replace(f":{PASSWORD}", "")
    doctor = {check["name"]: check for check in json.loads(outputs[4].stdout)["checks"]}
    assert doctor["database"]["level"] == "ok" and "schema 6 of 6" in doctor["database"]["detail"]
    assert doctor["notification channel"]["level"] == "ok"  # a NOTIFY reached a LISTEN
    logs = list((tmp_path / "state").rglob("*.log"))
    assert logs and all(PASSWORD not in log.read_text() for log in logs)


def test_a_wrong_password_or_no_server_is_one_line(pg_server: PgServer) -> None:
    wrong = pg_server.url("postgres").replace(PASSWORD, "not-it")
    refused = run_cli("status", db=wrong)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "refused the login" in refused.stderr and "not-it" not in refused.stderr
    nobody = run_cli("status", db=f"postgresql://{pg_server.root.name}@127.0.0.1:1/x")
    assert nobody.returncode == 1 and nobody.stderr.count("\n") == 1
    assert "cannot reach" in nobody.stderr


def test_libpq_password_file_and_the_environment_are_honoured(
    pg_server: PgServer, pg_url: str, tmp_path: Path
) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pg_server.port}:*:traycourier:{PASSWORD}\n")
    passfile.chmod(0o600)
    bare = pg_url.replace(f":{PASSWORD}", "")
    env = {"PGPASSFILE": str(passfile), "TRAYCOURIER_DB": bare}
    sent = run_cli("send", "via pgpass", "--priority", "urgent", env=env)
    assert sent.returncode == 0, sent.stderr
    assert count(pg_url, "SELECT count(*) FROM notifications WHERE title = 'via pgpass'") == 1
