"""The delivery cycle in plain sqlite3 on the project's own schema: the floor.

Same work as the agent's drain -- route (delivery rows + routed_at), claim (lease), mark
(sent + an attempt row) -- with no policy, no SQLAlchemy and no notifier. `batch=1` is the
seed's one-transaction-per-row design.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

NOW = "2026-11-28 12:00:00"
LEASE = "2026-11-28 12:00:30"


def drain(path: Path, batch: int) -> int:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA synchronous = NORMAL")
    done = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        rows = conn.execute(
            "SELECT seq, id, priority FROM notifications WHERE routed_at IS NULL "
            "ORDER BY seq LIMIT ?",
            (batch,),
        ).fetchall()
        conn.executemany(
            "INSERT INTO notification_deliveries (notification_id, route_name, sink, status, "
            "rank, next_attempt_at, created_at, updated_at) "
            "VALUES (?, 'desktop', 'desktop', 'queued', 1, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(r[1], NOW, NOW, NOW) for r in rows],
        )
        conn.executemany(
            "UPDATE notifications SET routed_at = ? WHERE seq = ?", [(NOW, r[0]) for r in rows]
        )
        conn.execute("COMMIT")
        while True:
            conn.execute("BEGIN IMMEDIATE")
            claimed = conn.execute(
                "UPDATE notification_deliveries SET status = 'leased', lease_owner = 'raw', "
                "lease_expires_at = ? WHERE id IN (SELECT id FROM notification_deliveries "
                "WHERE sink = 'desktop' AND status IN ('queued', 'retry_wait') "
                "AND next_attempt_at <= ? ORDER BY rank, next_attempt_at, id LIMIT ?) "
                "RETURNING id, notification_id",
                (LEASE, NOW, batch),
            ).fetchall()
            conn.execute(
                "SELECT title, message FROM notifications WHERE id IN "
                f"({','.join('?' * len(claimed))})"
                if claimed
                else "SELECT 1",
                [c[1] for c in claimed],
            ).fetchall()
            conn.execute("COMMIT")
            if not claimed:
                break
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "UPDATE notification_deliveries SET status = 'sent', attempts = attempts + 1, "
                "delivered_at = ?, lease_owner = NULL, lease_expires_at = NULL "
                "WHERE id = ? AND lease_owner = 'raw'",
                [(NOW, c[0]) for c in claimed],
            )
            conn.executemany(
                "INSERT INTO notification_delivery_attempts (delivery_id, attempt_no, owner, "
                "outcome, started_at, finished_at) VALUES (?, 1, 'raw', 'sent', ?, ?)",
                [(c[0], NOW, NOW) for c in claimed],
            )
            conn.execute("COMMIT")
            done += len(claimed)
            if len(claimed) < batch:
                break
        if not rows:
            break
    conn.close()
    return done
