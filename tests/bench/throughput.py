"""Backlog drain: route + claim + mark of N notifications with a no-op notifier, the agent
next to the raw-sqlite3 floor (batched), the seed's one-transaction-per-row design, huey's
storage and persist-queue, rounds interleaved so machine noise hits every variant alike."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.bench import stats
from tests.bench.baselines import peers, raw_cycle
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.notifiers.backends import NullNotifier
from traycourier.store import Database, timestamps, write_setting


def prepare(path: Path) -> None:
    """The project's schema, with settings that route and show every notification one by one."""
    db = Database.open(path)
    now = timestamps.utcnow()
    for key, value in (("burst_limit", 0), ("min_priority", "info"), ("max_age_seconds", 0)):
        write_setting(db, key, value, now)
    db.close()


def _fresh(folder: Path, n: int) -> tuple[Path, float]:
    """A prepared file holding N notifications, and how long the producer took to write them."""
    path = folder / "tc.db"
    prepare(path)
    conn = sqlite3.connect(path)
    start = time.perf_counter()
    conn.executemany(
        "INSERT INTO notifications (title, message, priority) VALUES (?, 'body', 'action')",
        ((f"n{i}",) for i in range(n)),
    )
    conn.commit()
    produce_s = time.perf_counter() - start
    conn.close()
    return path, produce_s


def agent_drain(folder: Path, n: int) -> tuple[float, float]:
    path, produce_s = _fresh(folder, n)
    return produce_s, one_tick(path, n)


def one_tick(target: Path | str, n: int) -> float:
    """Seconds one tick of the agent takes to route and show a backlog of `n` (a file or
    a server)."""
    db = Database.open(target)
    runtime = Runtime(db, NullNotifier(), RuntimeConfig(owner="bench"))
    start = time.perf_counter()
    report = runtime.tick()
    drain_s = time.perf_counter() - start
    db.close()
    assert report.sent == n, report
    return drain_s


def raw_drain(batch: int) -> Callable[[Path, int], tuple[float, float]]:
    def run(folder: Path, n: int) -> tuple[float, float]:
        path, produce_s = _fresh(folder, n)
        start = time.perf_counter()
        done = raw_cycle.drain(path, batch)
        drain_s = time.perf_counter() - start
        assert done == n, done
        return produce_s, drain_s

    return run


VARIANTS: dict[str, Callable[[Path, int], tuple[float, float]]] = {
    "agent": agent_drain,
    "raw_batch100": raw_drain(100),
    "raw_per_row": raw_drain(1),
    "huey_storage": peers.huey_cycle,
    "persist_queue": peers.persistqueue_cycle,
}


def measure(sizes: list[int], rounds: int, peer_limit: int) -> dict[str, object]:
    results = []
    load_start = stats.load()
    for n in sizes:
        names = [v for v in VARIANTS if v in ("agent", "raw_batch100") or n <= peer_limit]
        rates: dict[str, list[float]] = {v: [] for v in names}
        for _ in range(rounds):
            for name in names:
                folder = Path(tempfile.mkdtemp(prefix=f"tc-bench-{name}-"))
                try:
                    _produce_s, drain_s = VARIANTS[name](folder, n)
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
                rates[name].append(n / drain_s)
        for name in names:
            row: dict[str, object] = {
                "variant": name,
                "n": n,
                "per_s": stats.summary(rates[name], 0),
            }
            for base in ("raw_batch100", "raw_per_row"):
                if base in rates and name != base:
                    ratios = [a / b for a, b in zip(rates[name], rates[base], strict=True)]
                    row[f"x_{base}"] = stats.summary(ratios, 3)
            results.append(row)
    return {"load_start": load_start, "load_end": stats.load(), "rounds": rounds, "rows": results}
