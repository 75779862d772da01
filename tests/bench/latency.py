"""Commit-to-notify latency and idle CPU of a running headless agent.

A producer (this process) commits one notification at a time at random 50-150 ms gaps; the
agent (another process, recording notifier) records the wall time it called the notifier.
Latency = notifier call time - producer's time right after its commit. Idle CPU = the
agent's user+system CPU time over `--idle` seconds with nothing to do (from /proc).

    .venv/bin/python -m tests.bench.latency --count 200 --idle 30
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from store import Database, enqueue, timestamps, write_setting

ROOT = Path(__file__).resolve().parents[2]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(count: int, idle_s: float) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="tc-bench-"))
    db_path, record = work / "bench.db", work / "shown.jsonl"
    db = Database.open(db_path)
    write_setting(db, "burst_limit", 0, timestamps.utcnow())
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent",
            "--db",
            str(db_path),
            "run",
            "--headless",
            "--notifier",
            f"record:{record}",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)  # let it start and settle
        cpu0, t0 = cpu_seconds(agent.pid), time.monotonic()
        time.sleep(idle_s)
        idle_pct = 100 * (cpu_seconds(agent.pid) - cpu0) / (time.monotonic() - t0)
        committed: dict[str, float] = {}
        for i in range(count):
            title = f"lat-{i}"
            enqueue(db, title, priority="urgent")
            committed[title] = time.time()
            time.sleep(random.uniform(0.05, 0.15))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if record.exists() and len(record.read_text().splitlines()) >= count:
                break
            time.sleep(0.1)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
        db.close()
    shown = {r["title"]: r["shown_at"] for r in map(json.loads, record.read_text().splitlines())}
    latencies = [1000 * (shown[t] - committed[t]) for t in committed if t in shown]
    return {
        "samples": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
        "idle_cpu_pct": round(idle_pct, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--idle", type=float, default=30.0)
    args = parser.parse_args()
    print(json.dumps({"bench": "latency", **measure(args.count, args.idle)}))


if __name__ == "__main__":
    main()
