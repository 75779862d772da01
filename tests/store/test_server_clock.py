"""On a server every agent compares times the others wrote: a device whose clock is two days
fast used to route a fresh notification as stale for every device and to expire the leases
of every other agent. The agent stamps and judges by the server's clock instead."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import query
from tests.fakes import Shown
from traycourier.agent.engine.clock import ServerClock
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.policy.routing import decide_desktop
from traycourier.store import Database, Settings, enqueue, timestamps
from traycourier.store.deliveries import route_batch
from traycourier.store.leases import claim

TWO_DAYS = timedelta(days=2)


def test_a_device_two_days_fast_decides_by_the_servers_clock(pg_url: str) -> None:
    db = Database.open(pg_url)
    try:
        server_now = db.server_time()
        assert server_now is not None
        enqueue(db, "held by a slow agent", priority="urgent")
        route_batch(db, lambda item: decide_desktop(item, Settings(), server_now), server_now)
        (held,) = claim(db, "slow", server_now, timedelta(seconds=30), 10)
        enqueue(db, "fresh", priority="urgent")  # created_at: the server's now()
        fast = ServerClock(db, local=lambda: timestamps.utcnow() + TWO_DAYS)
        shown = Shown()
        agent = Runtime(
            db, shown, RuntimeConfig(owner="fast", device="d1", device_name="fast"), clock=fast
        )  # type: ignore[arg-type]
        agent.start()
        agent.tick()
        assert shown.titles == ["fresh"]  # not skipped as two days old
        rows = dict(
            query(
                db,
                "SELECT d.status, n.title FROM notification_deliveries d JOIN "
                "notifications n ON n.id = d.notification_id",
            )
        )
        assert rows == {"leased": "held by a slow agent", "sent": "fresh"}  # not expired
        (stamp,) = query(db, "SELECT heartbeat_at FROM agents WHERE owner = 'fast'")[0]
        assert abs(timestamps.parse(stamp) - server_now) < timedelta(minutes=1)
        assert held.delivery_id
    finally:
        db.close()


def test_a_file_keeps_this_machines_clock(db: Database) -> None:
    assert db.server_time() is None
