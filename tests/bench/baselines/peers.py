"""Peer durable queues doing put / take / ack of the same number of items.

huey keeps only its storage layer (enqueue / dequeue, which deletes: no separate ack);
persist-queue's SQLiteAckQueue does put / get / ack. Both are forced to synchronous=NORMAL
like the agent, so an fsync per commit does not decide the comparison.
"""

from __future__ import annotations

from pathlib import Path

ITEM = b'{"title": "build failed", "message": "main is red"}'


def huey_cycle(folder: Path, n: int) -> tuple[float, float]:
    import time

    from huey.storage import SqliteStorage

    storage = SqliteStorage("bench", filename=str(folder / "huey.db"))
    storage.conn.execute("PRAGMA synchronous = NORMAL")
    start = time.perf_counter()
    for _ in range(n):
        storage.enqueue(ITEM)
    put_s = time.perf_counter() - start
    start = time.perf_counter()
    taken = 0
    while storage.dequeue() is not None:
        taken += 1
    take_s = time.perf_counter() - start
    assert taken == n, taken
    return put_s, take_s


def persistqueue_cycle(folder: Path, n: int) -> tuple[float, float]:
    import time

    from persistqueue import SQLiteAckQueue
    from persistqueue.exceptions import Empty

    queue = SQLiteAckQueue(str(folder / "pq"), auto_commit=True)
    queue._putter.execute("PRAGMA synchronous = NORMAL")
    start = time.perf_counter()
    for _ in range(n):
        queue.put(ITEM)
    put_s = time.perf_counter() - start
    start = time.perf_counter()
    taken = 0
    while True:
        try:
            item = queue.get(block=False, raw=True)
        except Empty:
            break
        queue.ack(id=item["pqid"])
        taken += 1
    take_s = time.perf_counter() - start
    assert taken == n, taken
    return put_s, take_s
