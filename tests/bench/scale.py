"""Does a tick grow with history? One tick over 100 k rows of history against one over a
larger history (1 M by default): idle (nothing new), 1 new and 100 new notifications."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from tests.bench import stats, throughput
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.notifiers.backends import NullNotifier
from traycourier.store import Database

OLD = "2026-01-01 00:00:00"


def build(path: Path, history: int) -> None:
    """`history` notifications, each routed with a sent delivery and its attempt."""
    throughput.prepare(path)
    conn = sqlite3.connect(path)
    conn.executescript(
        f"""
        BEGIN;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {history})
        INSERT INTO notifications (id, title, priority, created_at, routed_at)
        SELECT 'old_' || i, 'old ' || i, 'action', '{OLD}', '{OLD}' FROM n;
        INSERT INTO notification_deliveries (notification_id, route_name, sink, status, rank,
            attempts, created_at, updated_at, delivered_at)
        SELECT id, 'desktop', 'desktop', 'sent', 1, 1, '{OLD}', '{OLD}', '{OLD}'
        FROM notifications;
        INSERT INTO notification_delivery_attempts (delivery_id, attempt_no, owner, outcome,
            started_at, finished_at)
        SELECT id, 1, 'old', 'sent', '{OLD}', '{OLD}' FROM notification_deliveries;
        COMMIT;
        """
    )
    conn.close()


def tick_ms(paths: list[Path], backlog: int, repeat: int) -> list[list[float]]:
    """Tick times per file, the files' ticks interleaved so noise hits them alike."""
    dbs = [Database.open(p) for p in paths]
    runtimes = [Runtime(db, NullNotifier(), RuntimeConfig(owner="scale")) for db in dbs]
    conns = [sqlite3.connect(p) for p in paths]
    times: list[list[float]] = [[] for _ in paths]
    for _ in range(repeat):
        for i, (runtime, conn) in enumerate(zip(runtimes, conns, strict=True)):
            if backlog:
                conn.executemany(
                    "INSERT INTO notifications (title, priority) VALUES (?, 'action')",
                    [(f"new {n}",) for n in range(backlog)],
                )
                conn.commit()
            start = time.perf_counter()
            runtime.tick()
            times[i].append(1000 * (time.perf_counter() - start))
    for conn in conns:
        conn.close()
    for db in dbs:
        db.close()
    return times


def measure(small: int, large: int, repeat: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="tc-scale-"))
    rows = []
    try:
        files = {}
        for history in (small, large):
            files[history] = work / f"h{history}.db"
            build(files[history], history)
        for backlog in (0, 1, 100):
            small_ms, large_ms = tick_ms([files[small], files[large]], backlog, repeat)
            rows.append(
                {
                    "backlog": backlog,
                    "small_ms": stats.summary(small_ms),
                    "large_ms": stats.summary(large_ms),
                    "large_over_small": round(
                        stats.summary(large_ms)["median"] / stats.summary(small_ms)["median"], 2
                    ),
                }
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"small": small, "large": large, "repeat": repeat, "rows": rows}
