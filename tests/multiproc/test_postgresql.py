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

import pytest

from tests.conftest import ROOT, query, run_cli, wait_for
from tests.multiproc.test_agents import count, prepare, shown_titles, start_agent, stop_cleanly
from tests.pgserver import PASSWORD, PgServer, psycopg
from traycourier.store import LATEST_VERSION

pytestmark = pytest.mark.slow


def insert(url: str, *titles: str) -> None:
    """What a producer in any language does: a plain INSERT on its own connection."""
    with psycopg.connect(url) as conn:
        for title in titles:
            conn.execute(
                "INSERT INTO notifications (title, priority) VALUES (%s, 'urgent')", [title]
            )


def run_producers(url: str, each: int) -> dict[str, str]:
    """Four producer processes, each on its own connection; every 5th dedupe key is shared
    by all four. Returns {dedupe key: notification id}."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.multiproc.producer_proc", url]
    producers = [
        subprocess.Popen(
            [*command, f"p{i}", str(each)],
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
    return sent


def test_four_producers_and_three_agents_show_each_exactly_once(
    pg_url: str, tmp_path: Path
) -> None:
    prepare(pg_url).close()
    records = [tmp_path / f"agent{i}.jsonl" for i in range(3)]
    agents = [start_agent(pg_url, f"agent{i}", records[i]) for i in range(3)]
    try:
        wait_for(
            lambda: count(pg_url, "SELECT count(*) FROM agents WHERE stopped_at IS NULL") == 3,
            "three agents to register",
        )
        sent = run_producers(pg_url, 100)
        unique = len(set(sent.values()))
        assert unique == 4 * 80 + 20  # every 5th key is shared by all four producers
        wait_for(
            lambda: count(pg_url, "SELECT count(*) FROM notification_deliveries "
                          "WHERE status = 'sent'") == unique,
            "every notification sent",
        )  # fmt: skip
    finally:
        stop_cleanly(agents)
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
    assert (
        doctor["database"]["level"] == "ok"
        and f"schema {LATEST_VERSION} of {LATEST_VERSION}" in doctor["database"]["detail"]
    )
    assert doctor["notification channel"]["level"] == "ok"  # a NOTIFY reached a LISTEN
    logs = list((tmp_path / "state").rglob("*.log"))
    assert logs and all(PASSWORD not in log.read_text() for log in logs)


def test_psycopgs_pure_python_binding_works_in_the_agent(pg_url: str, tmp_path: Path) -> None:
    """That binding (a user without psycopg-binary) imports `ssl` when it loads, after the
    entry point has loaded the command with OpenSSL left out (`agent/system/loading.py`)."""
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "PSYCOPG_IMPL": "python"}
    sent = run_cli("send", "through ctypes", "--priority", "urgent", db=pg_url, env=env)
    assert sent.returncode == 0, sent.stderr
    ran = run_cli("run", "--headless", "--once", "--notifier", "null", db=pg_url, env=env)
    assert ran.returncode == 0, ran.stderr
    [row] = json.loads(run_cli("deliveries", "--json", db=pg_url, env=env).stdout)
    assert (row["title"], row["status"]) == ("through ctypes", "sent")


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


def device_env(tmp_path: Path, device_id: str, name: str) -> dict[str, str]:
    """A machine of its own: its config folder holds its device (agent/system/device.py)."""
    config = tmp_path / f"config-{device_id}"
    (config / "traycourier").mkdir(parents=True, exist_ok=True)
    (config / "traycourier" / "device.json").write_text(json.dumps({"id": device_id, "name": name}))
    return {"XDG_CONFIG_HOME": str(config), "XDG_STATE_HOME": str(tmp_path / f"state-{name}")}


def start_device_agent(
    url: str, owner: str, record: Path, env: dict[str, str]
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "traycourier.agent", "--db", url, "run", "--headless",
         "--owner", owner, "--notifier", f"record:{record}"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_each_device_shows_each_notification_once_and_a_late_one_gets_no_flood(
    pg_url: str, tmp_path: Path
) -> None:
    """Four agents on three devices (two on the laptop), four producers: once per device.
    A fourth device that joins later gets only what is created after it registered."""
    prepare(pg_url).close()
    machines = {"laptop": 2, "desktop": 1, "homelab": 1}
    records: dict[str, list[Path]] = {name: [] for name in machines}
    agents = []
    for name, count_on in machines.items():
        env = device_env(tmp_path, f"dev_{name}", name)
        for i in range(count_on):
            record = tmp_path / f"{name}-{i}.jsonl"
            records[name].append(record)
            agents.append(start_device_agent(pg_url, f"{name}-{i}", record, env))
    late_record = tmp_path / "tablet.jsonl"
    late = None
    try:
        wait_for(lambda: count(pg_url, "SELECT count(*) FROM devices") == 3, "three devices")
        run_producers(pg_url, 50)
        total = count(pg_url, "SELECT count(*) FROM notifications")
        assert total == 4 * 40 + 10
        wait_for(
            lambda: count(pg_url, "SELECT count(*) FROM notification_deliveries "
                          "WHERE status = 'sent'") == 3 * total,
            "every notification sent on each of the three devices",
        )  # fmt: skip
        late = start_device_agent(
            pg_url, "tablet-0", late_record, device_env(tmp_path, "dev_tablet", "tablet")
        )
        wait_for(lambda: count(pg_url, "SELECT count(*) FROM devices") == 4, "the late device")
        insert(pg_url, "after the tablet joined")
        wait_for(
            lambda: shown_titles([late_record]) == Counter({"after the tablet joined": 1}),
            "the late device shows only what came after it",
        )
        wait_for(
            lambda: all(
                shown_titles(paths)["after the tablet joined"] == 1 for paths in records.values()
            ),
            "the others show it too",
        )
    finally:
        stop_cleanly([*agents, *([late] if late else [])])
    for name, paths in records.items():
        titles = shown_titles(paths)
        assert len(titles) == total + 1, name
        assert set(titles.values()) == {1}, f"{name} showed something twice"
    assert set(shown_titles([late_record])) == {"after the tablet joined"}  # no flood
    listed = json.loads(run_cli("devices", "--json", db=pg_url).stdout)
    assert sorted(d["name"] for d in listed) == ["desktop", "homelab", "laptop", "tablet"]


def test_forgetting_a_device_drops_what_waits_for_it(pg_url: str, tmp_path: Path) -> None:
    from traycourier.store import devices
    from traycourier.store.timestamps import utcnow

    db = prepare(pg_url)
    devices.register(db, "dev_a", "laptop", utcnow())
    devices.register(db, "dev_b", "desktop", utcnow())
    insert(pg_url, "for both")
    done = run_cli("--debug", "run", "--headless", "--once", "--notifier", "null", db=pg_url,
                   env=device_env(tmp_path, "dev_a", "laptop"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = dict(query(db, "SELECT destination_key, status FROM notification_deliveries"))
    assert rows == {"dev_a": "sent", "dev_b": "queued"}  # one each; the desktop's waits
    laptop = device_env(tmp_path, "dev_a", "laptop")
    mine = json.loads(run_cli("status", "--json", db=pg_url, env=laptop).stdout)
    every = json.loads(run_cli("status", "--json", "--all-devices", db=pg_url, env=laptop).stdout)
    assert (mine["device"], mine["deliveries"]["sent"], mine["deliveries"]["queued"]) == (
        "dev_a", 1, 0,
    )  # fmt: skip
    assert (every["device"], every["deliveries"]["queued"]) == (None, 1)
    assert "(device laptop)" in run_cli("status", db=pg_url, env=laptop).stdout
    forgot = run_cli("devices", "forget", "desktop", db=pg_url)
    assert forgot.returncode == 0 and forgot.stdout == "forgot 1 device called desktop\n"
    rows = query(db, "SELECT destination_key, status, last_error_code FROM notification_deliveries")
    assert sorted(rows) == [("dev_a", "sent", None), ("dev_b", "cancelled", "device_forgotten")]
    unknown = run_cli("devices", "forget", "toaster", db=pg_url)
    assert unknown.returncode == 2 and "no device called 'toaster'" in unknown.stderr
    db.close()
