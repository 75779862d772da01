"""The delivery cycle in plain psycopg on the project's own PostgreSQL schema: the floor.

Same work as the agent's drain -- route (delivery rows + routed_at), claim (lease, SKIP
LOCKED), read the text, mark (sent + an attempt row) -- in batches, with no policy, no
SQLAlchemy and no notifier.
"""

from __future__ import annotations

import psycopg

NOW = "2026-11-28 12:00:00"
LEASE = "2026-11-28 12:00:30"


def drain(url: str, batch: int) -> int:
    done = 0
    with psycopg.connect(url) as conn:
        while True:
            with conn.transaction():
                rows = conn.execute(
                    "SELECT seq, id FROM notifications WHERE routed_at IS NULL "
                    "ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
                    [batch],
                ).fetchall()
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO notification_deliveries (notification_id, route_name, sink, "
                        "status, rank, next_attempt_at, created_at, updated_at) "
                        "VALUES (%s, 'desktop', 'desktop', 'queued', 1, %s, %s, %s) "
                        "ON CONFLICT DO NOTHING",
                        [(r[1], NOW, NOW, NOW) for r in rows],
                    )
                conn.execute(
                    "UPDATE notifications SET routed_at = %s WHERE seq = ANY(%s)",
                    [NOW, [r[0] for r in rows]],
                )
            while True:
                with conn.transaction():
                    claimed = conn.execute(
                        "UPDATE notification_deliveries SET status = 'leased', "
                        "lease_owner = 'raw', lease_expires_at = %s WHERE id IN (SELECT id "
                        "FROM notification_deliveries WHERE sink = 'desktop' AND status IN "
                        "('queued', 'retry_wait') AND next_attempt_at <= %s "
                        "ORDER BY rank, next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) "
                        "RETURNING id, notification_id",
                        [LEASE, NOW, batch],
                    ).fetchall()
                    conn.execute(
                        "SELECT title, message FROM notifications WHERE id = ANY(%s)",
                        [[c[1] for c in claimed]],
                    ).fetchall()
                if not claimed:
                    break
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(
                        "UPDATE notification_deliveries SET status = 'sent', "
                        "attempts = attempts + 1, delivered_at = %s, lease_owner = NULL, "
                        "lease_expires_at = NULL WHERE id = ANY(%s) AND lease_owner = 'raw'",
                        [NOW, [c[0] for c in claimed]],
                    )
                    cur.executemany(
                        "INSERT INTO notification_delivery_attempts (delivery_id, attempt_no, "
                        "owner, outcome, started_at, finished_at) "
                        "VALUES (%s, 1, 'raw', 'sent', %s, %s)",
                        [(c[0], NOW, NOW) for c in claimed],
                    )
                done += len(claimed)
                if len(claimed) < batch:
                    break
            if not rows:
                break
    return done
