"""Versioned schema: every step is plain SQLite DDL, applied in order. All the steps a file
needs run in one write transaction together with `PRAGMA user_version`, so an upgrade
happens entirely or not at all (`store.db.Database._migrate`).

A fresh file runs every step from version 0, so the upgrade path is exercised on every
install, not only on old files. Steps are only ever appended: the schema is a public
interface, so a step may add tables, columns and indexes but never drop or rename them.
"""

from __future__ import annotations

from traycourier.store.dialects import is_count, is_text, is_time
from traycourier.store.model import DESKTOP, DeliveryStatus, Priority

NOW = "(strftime('%Y-%m-%d %H:%M:%f','now'))"

# Version 1: the first cut -- notifications, one delivery row per route, settings.
_V1 = [
    f"""
    CREATE TABLE notifications (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE DEFAULT ('ntf_' || lower(hex(randomblob(8)))),
        title TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        priority TEXT NOT NULL DEFAULT 'info'
            CHECK (priority IN ('urgent', 'action', 'warning', 'info')),
        source TEXT NOT NULL DEFAULT '',
        dedupe_key TEXT UNIQUE,
        created_at TEXT NOT NULL DEFAULT {NOW},
        routed_at TEXT
    )
    """,
    f"""
    CREATE TABLE notification_deliveries (
        id INTEGER PRIMARY KEY,
        notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
        route_name TEXT NOT NULL,
        sink TEXT NOT NULL,
        destination_key TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN
            ('queued', 'leased', 'retry_wait', 'sent', 'failed', 'skipped', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL DEFAULT 5,
        next_attempt_at TEXT,
        lease_owner TEXT,
        lease_expires_at TEXT,
        last_error_code TEXT,
        last_error TEXT,
        external_id TEXT,
        created_at TEXT NOT NULL DEFAULT {NOW},
        updated_at TEXT NOT NULL DEFAULT {NOW},
        delivered_at TEXT,
        UNIQUE (notification_id, route_name, destination_key)
    )
    """,
    f"""
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL CHECK (json_valid(value)),
        updated_at TEXT NOT NULL DEFAULT {NOW}
    )
    """,
]

# Version 2: kinds, payloads and actions, read/archive marks,
# the attempt log, live agents, the claim rank, and the indexes that keep a tick O(new rows).
_V2 = [
    "ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE notifications ADD COLUMN payload_json TEXT NOT NULL DEFAULT '{}' "
    "CHECK (json_valid(payload_json))",
    "ALTER TABLE notifications ADD COLUMN actions_json TEXT NOT NULL DEFAULT '[]' "
    "CHECK (json_valid(actions_json) AND json_type(actions_json) = 'array')",
    "ALTER TABLE notifications ADD COLUMN read_at TEXT",
    "ALTER TABLE notifications ADD COLUMN archived_at TEXT",
    # rank = index of the notification's priority (0 = urgent): the claim orders by it
    # without a join. Additive, so producers never write it.
    "ALTER TABLE notification_deliveries ADD COLUMN rank INTEGER NOT NULL DEFAULT 3",
    "UPDATE notification_deliveries SET rank = (SELECT CASE n.priority "
    + " ".join(f"WHEN '{p}' THEN {p.rank}" for p in Priority)
    + " ELSE 3 END FROM notifications n WHERE n.id = notification_deliveries.notification_id)",
    f"""
    CREATE TABLE notification_delivery_attempts (
        id INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL
            REFERENCES notification_deliveries(id) ON DELETE CASCADE,
        attempt_no INTEGER NOT NULL,
        owner TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN
            ('sent', 'retryable_failed', 'failed', 'lease_expired', 'coalesced')),
        error_code TEXT,
        error TEXT,
        started_at TEXT NOT NULL DEFAULT {NOW},
        finished_at TEXT NOT NULL DEFAULT {NOW}
    )
    """,
    f"""
    CREATE TABLE agents (
        owner TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        version TEXT NOT NULL,
        mode TEXT NOT NULL DEFAULT 'headless',
        notifier TEXT NOT NULL DEFAULT '',
        started_at TEXT NOT NULL DEFAULT {NOW},
        heartbeat_at TEXT NOT NULL DEFAULT {NOW},
        stopped_at TEXT
    )
    """,
    "CREATE INDEX ix_notifications_unrouted ON notifications (seq) WHERE routed_at IS NULL",
    "CREATE INDEX ix_notifications_recent ON notifications (created_at)",
    # The claim walks this in claim order and stops at its LIMIT; the claim query repeats
    # the WHERE clause literally so SQLite can use the partial index.
    "CREATE INDEX ix_deliveries_pending ON notification_deliveries "
    "(rank, next_attempt_at, id) WHERE sink = 'desktop' AND status IN ('queued', 'retry_wait')",
    "CREATE INDEX ix_deliveries_lease ON notification_deliveries (lease_expires_at) "
    "WHERE status = 'leased'",
    "CREATE INDEX ix_attempts_delivery ON notification_delivery_attempts (delivery_id)",
]

# Version 3: indexes that keep the tray's refresh (after every tick) independent of history.
_V3 = [
    "CREATE INDEX ix_deliveries_failed ON notification_deliveries (id) WHERE status = 'failed'",
    "CREATE INDEX ix_deliveries_delivered ON notification_deliveries (delivered_at) "
    "WHERE delivered_at IS NOT NULL",
]

# Version 4: an expired lease counts an attempt only when the notifier call had started
# (`attempt_started_at`), and each agent records its last internal error for `status`/`doctor`.
_V4 = [
    "ALTER TABLE notification_deliveries ADD COLUMN attempt_started_at TEXT",
    "ALTER TABLE agents ADD COLUMN last_error TEXT",
    "ALTER TABLE agents ADD COLUMN last_error_at TEXT",
]

# Version 5: muted sources, readable and writable by any program (docs/schema.md).
_V5 = [
    "CREATE TABLE mutes (source TEXT PRIMARY KEY, until TEXT, "
    "urgent_too INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL)",
]

# Version 6: a delivery the user snoozed ("Show again in 10 minutes") keeps when it was due
# again; the re-show is a further attempt of the same delivery (docs/schema.md).
_V6 = [
    "ALTER TABLE notification_deliveries ADD COLUMN snoozed_until TEXT",
]

# Version 7: devices (the user on one machine) sharing one server; each gets its own desktop
# delivery (`destination_key` = device id). A SQLite file serves one device and never
# writes here.
_V7 = [
    "CREATE TABLE devices (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "registered_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, since TEXT NOT NULL)",
    "CREATE INDEX ix_deliveries_destination ON notification_deliveries (destination_key, status)",
]


def malformed(dialect: str) -> str:
    """Desktop deliveries whose agent-written columns another program broke: a count that is
    no number, a due time or lease end that is no time, a device key that is no text. Such a
    row can never be claimed (or its lease never end) as it is: it fails alone, with the
    reason. Literally the WHERE of the partial index `ix_deliveries_malformed` (schema v8;
    never change this text, add an index instead), so looking for one costs nothing."""
    counts = f"{is_count('attempts', dialect)} AND {is_count('max_attempts', dialect)}"
    waiting = (
        f"{counts} AND {is_count('rank', dialect)} AND {is_text('destination_key', dialect)} "
        f"AND {is_time('next_attempt_at', dialect)}"
    )
    leased = f"{counts} AND {is_time('lease_expires_at', dialect)}"
    s = DeliveryStatus
    return (
        f"sink = '{DESKTOP}' AND ((status IN ('{s.QUEUED}', '{s.RETRY_WAIT}') AND NOT ({waiting})) "
        f"OR (status = '{s.LEASED}' AND NOT ({leased})))"
    )


# Version 8: the user answers and the producer hears it -- a notification's answer (the
# chosen action's id, first answer wins), when and on which device; a tag whose newer
# notification replaces an older one from the same source, and a progress bar; how each
# popup was closed (expired, dismissed, closed by the agent). Also why an agent's notifier
# can show nothing right now (`send` and `status` say so: the agent's environment decides,
# not the command's, which may be a cron job's with no session bus), and the deliveries
# another program broke, found by every tick at no cost; and an index the claim walks in
# claim order for its device.
_V8 = [
    "ALTER TABLE agents ADD COLUMN notifier_problem TEXT",
    f"CREATE INDEX ix_deliveries_malformed ON notification_deliveries (id) "
    f"WHERE {malformed('sqlite')}",
    "ALTER TABLE notifications ADD COLUMN tag TEXT",
    "ALTER TABLE notifications ADD COLUMN progress INTEGER "
    "CHECK (progress IS NULL OR progress BETWEEN 0 AND 100)",
    "ALTER TABLE notifications ADD COLUMN answer TEXT",
    "ALTER TABLE notifications ADD COLUMN answered_at TEXT",
    "ALTER TABLE notifications ADD COLUMN answered_device TEXT",
    "ALTER TABLE notification_deliveries ADD COLUMN closed_reason TEXT",
    "ALTER TABLE notification_deliveries ADD COLUMN closed_at TEXT",
    "CREATE INDEX ix_notifications_tag ON notifications (source, tag) WHERE tag IS NOT NULL",
    "CREATE INDEX ix_deliveries_popup ON notification_deliveries (external_id) "
    "WHERE external_id IS NOT NULL",
    # the claim, per device, in claim order: it stops at its LIMIT instead of sorting every
    # waiting row (since v7's device index the planner had preferred that one, and sorted)
    "CREATE INDEX ix_deliveries_due ON notification_deliveries "
    "(destination_key, rank, next_attempt_at, id) "
    "WHERE sink = 'desktop' AND status IN ('queued', 'retry_wait')",
]

# Version 9: sources -- databases of other programs the agents follow read-only (ReverbCode's
# `ao.db` first), one list for every agent and device; `problem` is what stops following one
# now, for `status` and `doctor` in other processes.
_V9 = [
    f"""
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        location TEXT NOT NULL,
        options_json TEXT NOT NULL DEFAULT '{{}}' CHECK (json_valid(options_json)),
        added_at TEXT NOT NULL DEFAULT {NOW},
        problem TEXT,
        problem_at TEXT
    )
    """,
    # a followed row unread here: as many as are unread in the program followed, so the agent
    # counts them on each tick to notice one read here (`store.sources.unread_here_count`)
    "CREATE INDEX ix_notifications_unread_imports ON notifications (dedupe_key) "
    "WHERE dedupe_key IS NOT NULL AND read_at IS NULL AND answer IS NULL",
]

# Version 10: the history window on demand -- `traycourier history --url/--open` asks a running
# agent to serve it (`history_wanted_at`), and the agent says where it listens
# (`history_address`, without the secret: that stays in a private file of the user's).
_V10 = [
    "ALTER TABLE agents ADD COLUMN history_wanted_at TEXT",
    "ALTER TABLE agents ADD COLUMN history_address TEXT",
]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    tuple(_V1),
    tuple(_V2),
    tuple(_V3),
    tuple(_V4),
    tuple(_V5),
    tuple(_V6),
    tuple(_V7),
    tuple(_V8),
    tuple(_V9),
    tuple(_V10),
)
"""MIGRATIONS[n] brings a file from version n to version n + 1."""

LATEST_VERSION = len(MIGRATIONS)
