"""The agent on a PostgreSQL server, next to the SQLite file, in the same run: commit to
notifier over LISTEN/NOTIFY; backlog drain next to a raw psycopg batched floor; and what one
server sustains with 1, 2 and 4 devices (one agent process each, one delivery per device).

The server is a throw-away cluster of the tests (tests/pgserver.py) on this machine, so the
network is loopback: a server across a LAN adds its round trips to each transaction.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.bench import latency, stats, throughput
from tests.bench.baselines import raw_pg_cycle
from tests.pgserver import PgServer, find_bin
from traycourier.store import Database, timestamps, write_setting

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def server() -> Iterator[PgServer]:
    found = find_bin()
    if found is None:
        raise SystemExit("bench: PostgreSQL is not installed (scripts/setup.sh test)")
    pg = PgServer(Path(tempfile.mkdtemp(prefix="tc-bench-pg-")), found)
    pg.init()
    pg.start()
    try:
        yield pg
    finally:
        pg.stop("immediate")
        shutil.rmtree(pg.root, ignore_errors=True)


def prepare(url: str) -> None:
    db = Database.open(url)
    now = timestamps.utcnow()
    for key, value in (("burst_limit", 0), ("min_priority", "info"), ("max_age_seconds", 0)):
        write_setting(db, key, value, now)
    db.close()


def produce(url: str, n: int) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO notifications (title, message, priority) VALUES (%s, 'body', 'action')",
            [(f"n{i}",) for i in range(n)],
        )


def agent_process(url: str, record: Path, work: Path, device: str) -> subprocess.Popen[bytes]:
    config = work / f"config-{device}"
    (config / "traycourier").mkdir(parents=True, exist_ok=True)
    (config / "traycourier" / "device.json").write_text(json.dumps({"id": device, "name": device}))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_CONFIG_HOME": str(config),
        "XDG_STATE_HOME": str(work / "state"),
    }
    command = [sys.executable, "-m", "traycourier.agent", "--db", url, "run", "--headless"]
    return subprocess.Popen(
        [*command, "--owner", device, "--notifier", f"record:{record}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def pg_latency(pg: PgServer, count: int) -> list[float]:
    """A producer on its own connection commits one at a time at 50-150 ms gaps; the agent,
    woken by NOTIFY, records when it called the notifier."""
    url = pg.new_database()
    prepare(url)
    work = Path(tempfile.mkdtemp(prefix="tc-lat-pg-"))
    record = work / "shown.jsonl"
    agent = agent_process(url, record, work, "dev_bench")
    committed: dict[str, float] = {}
    try:
        time.sleep(2.0)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO notifications (title) VALUES ('warm-up')")
            time.sleep(1.0)
            for i in range(count):
                title = f"lat-{i}"
                conn.execute(
                    "INSERT INTO notifications (title, priority) VALUES (%s, 'action')", [title]
                )
                committed[title] = time.time()
                time.sleep(random.uniform(0.05, 0.15))
        time.sleep(1.5)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
    shown = {r["title"]: r["shown_at"] for r in map(json.loads, record.read_text().splitlines())}
    shutil.rmtree(work, ignore_errors=True)
    return [1000 * (shown[t] - committed[t]) for t in committed if t in shown]


def agent_drain(pg: PgServer, n: int) -> float:
    url = pg.new_database()
    prepare(url)
    produce(url, n)
    return n / throughput.one_tick(url, n)


def raw_drain(pg: PgServer, n: int) -> float:
    url = pg.new_database()
    prepare(url)
    produce(url, n)
    start = time.perf_counter()
    done = raw_pg_cycle.drain(url, 100)
    drain_s = time.perf_counter() - start
    assert done == n, done
    return n / drain_s


def devices_sustain(pg: PgServer, devices: int, n: int) -> float:
    """Deliveries per second the server gets done for `devices` devices, one agent process
    each, from the commit of `n` notifications until every device has shown all of them."""
    url = pg.new_database()
    prepare(url)
    work = Path(tempfile.mkdtemp(prefix="tc-dev-pg-"))
    agents = [agent_process(url, work / f"d{i}.jsonl", work, f"dev_{i}") for i in range(devices)]
    try:
        with psycopg.connect(url) as conn:
            deadline = time.monotonic() + 60
            while conn.execute("SELECT count(*) FROM devices").fetchone()[0] < devices:  # type: ignore[index]
                conn.commit()
                if time.monotonic() > deadline:
                    raise RuntimeError("the agents did not register")
                time.sleep(0.1)
            conn.commit()
        start = time.perf_counter()
        produce(url, n)
        with psycopg.connect(url, autocommit=True) as conn:
            sql = "SELECT count(*) FROM notification_deliveries WHERE status = 'sent'"
            while conn.execute(sql).fetchone()[0] < devices * n:  # type: ignore[index]
                if time.perf_counter() - start > 600:
                    raise RuntimeError("the devices did not drain within 10 minutes")
                time.sleep(0.05)
        elapsed = time.perf_counter() - start
    finally:
        for agent in agents:
            agent.send_signal(signal.SIGTERM)
        for agent in agents:
            agent.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return devices * n / elapsed


def measure(
    count: int, sizes: list[int], rounds: int, devices: list[int], device_backlog: int
) -> dict[str, object]:
    load_start = stats.load()
    with server() as pg:
        sqlite_lat: list[float] = []
        pg_lat: list[float] = []
        for _ in range(rounds):  # interleaved: the machine's noise hits both alike
            sqlite_lat += _sqlite_latencies(count)
            pg_lat += pg_latency(pg, count)
        latency_rows = [
            {
                "mode": mode,
                "samples": len(values),
                "p50_ms": round(stats.percentile(values, 0.5), 2),
                "p99_ms": round(stats.percentile(values, 0.99), 2),
            }
            for mode, values in (("sqlite agent", sqlite_lat), ("postgresql agent", pg_lat))
        ]
        drain_rows = []
        for n in sizes:
            agent_rates, raw_rates = [], []
            for _ in range(rounds):
                agent_rates.append(agent_drain(pg, n))
                raw_rates.append(raw_drain(pg, n))
            ratios = [a / b for a, b in zip(agent_rates, raw_rates, strict=True)]
            drain_rows += [
                {"variant": "agent", "n": n, "per_s": stats.summary(agent_rates, 0),
                 "x_raw": stats.summary(ratios, 3)},
                {"variant": "raw_psycopg_batch100", "n": n, "per_s": stats.summary(raw_rates, 0)},
            ]  # fmt: skip
        device_rows = [
            {
                "devices": d,
                "backlog": device_backlog,
                "deliveries_per_s": stats.summary(
                    [devices_sustain(pg, d, device_backlog) for _ in range(rounds)], 0
                ),
            }
            for d in devices
        ]
    return {
        "load_start": load_start,
        "load_end": stats.load(),
        "rounds": rounds,
        "latency": latency_rows,
        "drain": drain_rows,
        "devices": device_rows,
    }


def _sqlite_latencies(count: int) -> list[float]:
    """The SQLite agent's figure from the latency module, in this same run."""
    row = latency.run_mode("agent", count, 0.0)
    return row["latencies_ms"]  # type: ignore[return-value]
