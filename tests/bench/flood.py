"""A producer that commits as fast as it can for a while (contention benchmark).

python -m tests.bench.flood DB SECONDS NAME
  -> {"count": N, "p99_commit_ms": P, "worst_commit_ms": W}
"""

from __future__ import annotations

import json
import sys
import time

from traycourier.store import Database, enqueue


def main() -> None:
    db = Database.open(sys.argv[1])
    seconds, name = float(sys.argv[2]), sys.argv[3]
    deadline = time.monotonic() + seconds
    waits: list[float] = []
    while time.monotonic() < deadline:
        start = time.perf_counter()
        enqueue(db, f"{name}-{len(waits)}", priority="action")
        waits.append(1000 * (time.perf_counter() - start))
    db.close()
    waits.sort()
    p99 = waits[min(len(waits) - 1, int(0.99 * len(waits)))] if waits else 0.0
    worst = waits[-1] if waits else 0.0
    print(json.dumps({"count": len(waits), "p99_commit_ms": round(p99, 2),
                      "worst_commit_ms": round(worst, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
