"""4 producers committing as fast as they can, alone and while 2 agents drain the same file:
what the agents cost the producers (their p99 and worst commit), rounds interleaved."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import agent_command
from traycourier.store import Database, timestamps, write_setting

ROOT = Path(__file__).resolve().parents[2]


def measure(
    seconds: float, producers: int = 4, agents: int = 2, rounds: int = 1
) -> dict[str, object]:
    """Each round: the producers alone, then with the agents draining."""
    alone, drained = [], []
    for _ in range(rounds):
        alone.append(run(seconds, producers, 0))
        drained.append(run(seconds, producers, agents))

    def median(runs: list[dict[str, object]], key: str) -> float:
        values = sorted(float(r[key]) for r in runs)  # type: ignore[arg-type]
        return values[len(values) // 2]

    result = dict(drained[len(drained) // 2])
    for key in ("p99_commit_ms", "worst_commit_ms", "produced_per_s"):
        result[f"alone_{key}"] = median(alone, key)
        result[key] = median(drained, key)
    result["rounds"] = rounds
    return result


def run(seconds: float, producers: int, agents: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="tc-contention-"))
    db_path = work / "c.db"
    db = Database.open(db_path)
    for key, value in (("burst_limit", 0), ("min_priority", "info")):
        write_setting(db, key, value, timestamps.utcnow())
    db.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(work / "state")}
    drainers = [
        subprocess.Popen(
            agent_command(db_path, "--headless", "--notifier", "null", "--owner", f"agent{i}"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(agents)
    ]
    try:
        time.sleep(1.5)
        start = time.monotonic()
        floods = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.bench.flood", str(db_path), str(seconds), f"p{i}"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(producers)
        ]
        outputs = [json.loads(f.communicate(timeout=seconds + 60)[0]) for f in floods]
        produced = sum(o["count"] for o in outputs)
        conn = sqlite3.connect(db_path)
        sent = 0
        while agents and time.monotonic() - start < seconds + 30:
            sent = conn.execute(
                "SELECT count(*) FROM notification_deliveries WHERE status = 'sent'"
            ).fetchone()[0]
            if sent >= produced:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - start
        conn.close()
    finally:
        for d in drainers:
            d.send_signal(signal.SIGTERM)
        for d in drainers:
            d.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return {
        "seconds": seconds,
        "producers": producers,
        "agents": agents,
        "produced": produced,
        "sent": sent,
        "produced_per_s": round(produced / seconds),
        "delivered_per_s": round(sent / elapsed),
        "p99_commit_ms": max(o["p99_commit_ms"] for o in outputs),
        "worst_commit_ms": max(o["worst_commit_ms"] for o in outputs),
    }
