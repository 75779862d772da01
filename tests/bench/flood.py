"""A producer that commits as fast as it can for a while (contention benchmark).

python -m tests.bench.flood DB SECONDS NAME   -> {"count": N, "worst_commit_ms": W}
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
    count, worst = 0, 0.0
    while time.monotonic() < deadline:
        start = time.perf_counter()
        enqueue(db, f"{name}-{count}", priority="action")
        worst = max(worst, time.perf_counter() - start)
        count += 1
    db.close()
    print(json.dumps({"count": count, "worst_commit_ms": round(1000 * worst, 2)}))


if __name__ == "__main__":
    main()
