"""The seed's design as a latency baseline: wake every second, route + claim + mark with plain
sqlite3, and record when each notification would have been shown.

    python -m tests.bench.baselines.poll_consumer DB RECORD.jsonl
"""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import time

NOW = "2026-11-28 12:00:00"


def main() -> None:
    db_path, record = sys.argv[1], sys.argv[2]
    stop = False

    def on_term(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    with open(record, "a", encoding="utf-8") as out:
        while not stop:
            time.sleep(1.0)
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(
                "SELECT seq, title FROM notifications WHERE routed_at IS NULL ORDER BY seq"
            ).fetchall()
            conn.executemany(
                "UPDATE notifications SET routed_at = ? WHERE seq = ?", [(NOW, r[0]) for r in rows]
            )
            conn.execute("COMMIT")
            for _seq, title in rows:
                out.write(json.dumps({"title": title, "shown_at": time.time()}) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
