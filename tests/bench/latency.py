"""Commit-to-notify latency and idle CPU.

A producer (this process) commits one notification at a time at random 50-150 ms gaps.
Consumers, each in its own process:
- `agent`: the headless agent with the recording notifier (time it called the notifier);
- `poll_1s`: the seed's design, a consumer that wakes every second (baseline);
- `agent_dunst`: the headless agent with the real plyer notifier in a private desktop
  session; the time is when the bus routed the Notify call to dunst (dbus-monitor);
- `agent_pr`: `agent`, with the notification a ReverbCode row becomes (body, link, payload,
  key) committed natively in the same way (one INSERT on an open sqlite3 connection): the
  baseline of
- `agent_reverbcode`: the recording agent following a ReverbCode `ao.db`, into which this
  process commits the rows instead, as ReverbCode's Go store does (one open connection);
  the same agent and notification as `agent_pr`, so the difference is what following costs.
One warm-up notification, not counted, goes first the same way in: the first call after start
connects to the session bus and makes the daemon draw its first popup, and the first row of a
followed file is the first use of its statements.
Idle CPU: the consumer's CPU time over `idle_s` with nothing to do, before producing.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from tests import aodb
from tests.bench import stats
from tests.conftest import agent_command
from traycourier.store import Action, Database, enqueue, timestamps, write_setting

ROOT = Path(__file__).resolve().parents[2]


def _consumer(
    mode: str, db_path: Path, record: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    if mode == "poll_1s":
        cmd = [
            sys.executable,
            "-m",
            "tests.bench.baselines.poll_consumer",
            str(db_path),
            str(record),
        ]
    else:
        notifier = "plyer" if mode == "agent_dunst" else f"record:{record}"
        cmd = agent_command(db_path, "--headless", "--notifier", notifier)
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


_NOTIFY = re.compile(r"^method call time=(?P<t>[\d.]+) .*member=Notify$")


def dunst_arrivals(monitor_log: Path) -> dict[str, float]:
    """summary -> time the bus routed its Notify call (the 4th argument is the summary)."""
    arrivals: dict[str, float] = {}
    lines = monitor_log.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        match = _NOTIFY.match(line)
        if match and i + 4 < len(lines):
            summary = lines[i + 4].strip()
            if summary.startswith('string "'):
                arrivals[summary[len('string "') : -1]] = float(match["t"])
    return arrivals


def _native(db: Database) -> Callable[[str], None]:
    return lambda title: enqueue(db, title, priority="action") and None


def _native_pr(db: Database) -> Callable[[str], None]:
    """A native producer's notification, the same one a ReverbCode row becomes (the body, the
    link, the payload, the key), written as the ReverbCode row is: one INSERT on a sqlite3
    connection kept open, the time taken when it returns. The baseline of `agent_reverbcode`;
    `enqueue` would not do: it reads the settings after its commit (what the row will meet),
    which puts its return ~0.4 ms after the commit the agent wakes on."""
    session = {"type": "ready_to_merge", "project_id": aodb.PROJECT,
               "session_id": f"{aodb.PROJECT}-s1"}  # fmt: skip
    assert db.path is not None
    conn = sqlite3.connect(db.path, timeout=10.0, isolation_level=None)
    insert = (
        "INSERT INTO notifications (title, message, priority, source, kind, payload_json, "
        "actions_json, dedupe_key) VALUES (?, ?, 'action', ?, 'ready_to_merge', ?, ?, ?)"
    )

    def produce(title: str) -> None:
        link = Action("Open pull request", f"https://x.example/{title}")
        values = (title, aodb.BODY, aodb.PROJECT, json.dumps({"reverbcode": session}),
                  json.dumps([link.as_json()]), f"native:{title}")  # fmt: skip
        conn.execute(insert, values)

    return produce


def _reverbcode(db: Database, ao: Path) -> Callable[[str], None]:
    from traycourier.agent.engine import sources

    aodb.build(ao)
    sources.follow(db, "reverbcode", str(ao), timestamps.utcnow())
    conn = aodb.connect(ao)  # ReverbCode's store keeps its connection open
    return lambda title: aodb.create(ao, title=title, pr_url=f"https://x.example/{title}",
                                     conn=conn) and None  # fmt: skip


def run_mode(mode: str, count: int, idle_s: float) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix=f"tc-lat-{mode}-"))
    db_path, record = work / "bench.db", work / "shown.jsonl"
    db = Database.open(db_path)
    write_setting(db, "burst_limit", 0, timestamps.utcnow())
    produce = _native(db)
    if mode == "agent_pr":
        produce = _native_pr(db)
    if mode == "agent_reverbcode":
        produce = _reverbcode(db, work / "ao" / "ao.db")
    session: AbstractContextManager[object] = nullcontext()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(work / "state")}
    if mode == "agent_dunst":
        from tests.desktop.conftest import desktop_session

        # no per-notification logging hook: dunst spawning it would be what is measured
        session = desktop_session(work / "desktop", notify_hook=False)
    try:
        with session as desktop:
            if desktop is not None:
                env = {**desktop.env, "XDG_STATE_HOME": str(work / "state")}  # type: ignore[attr-defined]
            consumer = _consumer(mode, db_path, record, env)
            try:
                time.sleep(1.5)
                produce("warm-up")  # the first call connects to the bus; the way in is warm
                time.sleep(1.5)
                cpu0, t0 = stats.cpu_seconds(consumer.pid), time.monotonic()
                time.sleep(idle_s)
                idle_pct = 100 * (stats.cpu_seconds(consumer.pid) - cpu0) / (time.monotonic() - t0)
                committed: dict[str, float] = {}
                for i in range(count):
                    title = f"lat-{i}"
                    produce(title)
                    committed[title] = time.time()
                    time.sleep(random.uniform(0.05, 0.15))
                time.sleep(1.5)
            finally:
                consumer.send_signal(signal.SIGTERM)
                consumer.wait(timeout=30)
            if desktop is not None:
                shown = dunst_arrivals(Path(desktop.logdir) / "dbus-monitor.log")  # type: ignore[attr-defined]
            else:
                shown = {
                    r["title"].removeprefix("acme-app: "): r["shown_at"]
                    for r in map(json.loads, record.read_text().splitlines())
                }
    finally:
        db.close()
        shutil.rmtree(work, ignore_errors=True)
    latencies = [1000 * (shown[t] - committed[t]) for t in committed if t in shown]
    return {
        "mode": mode,
        "samples": len(latencies),
        "of": count,
        "p50_ms": round(stats.percentile(latencies, 0.5), 2) if latencies else None,
        "p99_ms": round(stats.percentile(latencies, 0.99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "idle_cpu_pct": round(idle_pct, 3),
        "latencies_ms": latencies,
    }


def measure(count: int, idle_s: float, modes: list[str], rounds: int) -> dict[str, object]:
    runs: dict[str, list[dict[str, object]]] = {m: [] for m in modes}
    for _ in range(rounds):
        for mode in modes:
            runs[mode].append(run_mode(mode, count, idle_s))
    rows = []
    for mode, results in runs.items():
        row: dict[str, object] = {"mode": mode, "samples": sum(int(r["samples"]) for r in results)}
        for key in ("p50_ms", "p99_ms", "max_ms", "idle_cpu_pct"):
            values = [float(r[key]) for r in results if r[key] is not None]  # type: ignore[arg-type]
            row[key] = stats.summary(values, 3) if values else None
        rows.append(row)
    return {"count": count, "idle_s": idle_s, "rounds": rounds, "rows": rows}
