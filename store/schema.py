"""SQLAlchemy table definitions of the shared database, used to build queries.

The DDL itself lives in `store.migrations` as plain SQLite SQL, because the schema is the
public interface for producers in any language; a test checks that these definitions and
the migrated file agree column for column. The words stored in the columns (priorities,
states, outcomes) are in `store.model`.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, Text

metadata = MetaData()

notifications = Table(
    "notifications",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload_json", Text, nullable=False),
    Column("actions_json", Text, nullable=False),
    Column("dedupe_key", Text, unique=True),
    Column("created_at", Text, nullable=False),
    Column("routed_at", Text),
    Column("read_at", Text),
    Column("archived_at", Text),
    Column("tag", Text),
    Column("progress", Integer),
    Column("answer", Text),
    Column("answered_at", Text),
    Column("answered_device", Text),
)

deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("notification_id", Text, nullable=False),
    Column("route_name", Text, nullable=False),
    Column("sink", Text, nullable=False),
    Column("destination_key", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("next_attempt_at", Text),
    Column("lease_owner", Text),
    Column("lease_expires_at", Text),
    Column("last_error_code", Text),
    Column("last_error", Text),
    Column("external_id", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("delivered_at", Text),
    Column("attempt_started_at", Text),
    Column("snoozed_until", Text),
    Column("closed_reason", Text),
    Column("closed_at", Text),
)

attempts = Table(
    "notification_delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_id", Integer, nullable=False),
    Column("attempt_no", Integer, nullable=False),
    Column("owner", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("error_code", Text),
    Column("error", Text),
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text, nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

agents = Table(
    "agents",
    metadata,
    Column("owner", Text, primary_key=True),
    Column("pid", Integer, nullable=False),
    Column("host", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("notifier", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("heartbeat_at", Text, nullable=False),
    Column("stopped_at", Text),
    Column("last_error", Text),
    Column("last_error_at", Text),
    Column("notifier_problem", Text),
    Column("history_wanted_at", Text),
    Column("history_address", Text),
)

mutes = Table(
    "mutes",
    metadata,
    Column("source", Text, primary_key=True),
    Column("until", Text),
    Column("urgent_too", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("registered_at", Text, nullable=False),
    Column("last_seen_at", Text, nullable=False),
    Column("since", Text, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("name", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("options_json", Text, nullable=False),
    Column("added_at", Text, nullable=False),
    Column("problem", Text),
    Column("problem_at", Text),
)
