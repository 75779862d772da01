"""The clock an agent stamps shared rows with. On a file it is this machine's. On a server
every agent compares times the others wrote (a lease's end, a row's creation for staleness, a
device's registration), so they all read the server's clock: one device whose clock is two
days fast would otherwise expire every other agent's leases and skip everything as stale."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from traycourier.store import Database, StoreError, timestamps

log = logging.getLogger(__name__)

RESYNC_S = 30.0
"""How often the offset to the server is measured again (NTP, a laptop's sleep)."""
NOTICEABLE = timedelta(seconds=2)


class ServerClock:
    """This machine's clock plus its offset to the server's, measured again every RESYNC_S
    (while the server is away, the last offset stays)."""

    def __init__(self, db: Database, local: Callable[[], datetime] = timestamps.utcnow) -> None:
        self._db, self._local = db, local
        self._offset = timedelta(0)
        self._synced_at: float | None = None
        self._said = timedelta(0)

    def __call__(self) -> datetime:
        if self._synced_at is None or time.monotonic() - self._synced_at >= RESYNC_S:
            self._sync()
        return self._local() + self._offset

    def _sync(self) -> None:
        self._synced_at = time.monotonic()
        try:
            server = self._db.server_time()
        except StoreError as err:
            log.debug("cannot read the server's clock (%s); keeping the last offset", err)
            return
        if server is None:
            return
        self._offset = server - self._local()
        if abs(self._offset - self._said) >= NOTICEABLE:
            log.warning(
                "this machine's clock is %.1f s %s the server's; using the server's",
                abs(self._offset.total_seconds()),
                "behind" if self._offset > timedelta(0) else "ahead of",
            )
            self._said = self._offset


def for_database(db: Database) -> Callable[[], datetime]:
    return ServerClock(db) if db.is_server else timestamps.utcnow
