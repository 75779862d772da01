"""The `devices` table: the user's machines sharing one PostgreSQL server. Routing gives
each active device its own desktop delivery (`destination_key` = the device's id), so a
notification appears once on the laptop and once on the desktop, whatever number of agents
each runs. A SQLite file serves one device and never writes here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from traycourier.store import timestamps
from traycourier.store.db import Database
from traycourier.store.deliveries import WAITING
from traycourier.store.errors import InvalidInput
from traycourier.store.model import Code, DeliveryStatus
from traycourier.store.rows import Device

STALE_AFTER = timedelta(days=7)
"""A device not seen for this long gets no new deliveries (until it is seen again)."""

# The first device ever takes everything not yet routed; a later one only what is created
# from its registration on (no flood of the past). Registering again keeps `since`.
_REGISTER = text(
    "INSERT INTO devices (id, name, registered_at, last_seen_at, since) "
    "VALUES (:id, :name, :now, :now, "
    "  CASE WHEN EXISTS (SELECT 1 FROM devices) THEN :now ELSE '' END) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, last_seen_at = excluded.last_seen_at"
)
_ACTIVE = text(
    "SELECT id, name, registered_at, last_seen_at, since FROM devices "
    "WHERE last_seen_at > :cutoff ORDER BY registered_at, id"
)
_ALL = text(
    "SELECT id, name, registered_at, last_seen_at, since FROM devices ORDER BY registered_at, id"
)
_FORGET = text("DELETE FROM devices WHERE name = :name RETURNING id")
_DROP_WAITING = text(
    f"UPDATE notification_deliveries SET status = '{DeliveryStatus.CANCELLED}', "
    f"last_error_code = '{Code.DEVICE_FORGOTTEN}', last_error = 'its device was forgotten', "
    f"next_attempt_at = NULL, updated_at = :now WHERE {WAITING} AND destination_key = :id"
)


def register(db: Database, device_id: str, name: str, now: datetime) -> None:
    """At start and with every heartbeat: a device forgotten meanwhile comes back as a new
    one (from now on)."""
    with db.write() as conn:
        conn.execute(_REGISTER, {"id": device_id, "name": name, "now": timestamps.fmt(now)})


def active(db: Database, now: datetime, stale_after: timedelta = STALE_AFTER) -> list[Device]:
    with db.read() as conn:
        found = conn.execute(_ACTIVE, {"cutoff": timestamps.fmt(now - stale_after)})
        return [Device(*row) for row in found]


def listing(db: Database) -> list[Device]:
    with db.read() as conn:
        return [Device(*row) for row in conn.execute(_ALL)]


def forget(db: Database, name: str, now: datetime) -> int:
    """Forget every device called `name`: no new deliveries, and what waits for it is
    cancelled (code `device_forgotten`). An agent of it that still runs registers again,
    as a new device. Returns how many were forgotten (InvalidInput when none)."""
    with db.write() as conn:
        ids = list(conn.execute(_FORGET, {"name": name}).scalars())
        for device_id in ids:
            conn.execute(_DROP_WAITING, {"id": device_id, "now": timestamps.fmt(now)})
    if not ids:
        raise InvalidInput(f"no device called {name!r} (see: traycourier devices)")
    return len(ids)
