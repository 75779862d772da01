"""The agent's presence in the shared database: its `agents` row (who runs, with which
notifier, the last heartbeat and error) and, on a server, its device's row, which keeps the
device active for routing. `status`, `doctor` and other agents read them."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from traycourier.agent import __version__
from traycourier.store import Database, StoreError, agents, devices, housekeeping

log = logging.getLogger(__name__)

HEARTBEAT_S = 30.0
"""How often a running agent refreshes its heartbeat. Every heartbeat wakes the agent (and
redraws the tray), so it is the idle cost's main term."""
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_S)
"""An agent that missed three heartbeats is gone (`status` no longer lists it)."""


class Presence:
    def __init__(self, db: Database, owner: str, device: str = "", device_name: str = "") -> None:
        self.db, self.owner = db, owner
        self.device, self.device_name = device, device_name or socket.gethostname()
        self.last_heartbeat: datetime | None = None

    def start(self, mode: str, notifier: str, now: datetime) -> None:
        agents.register(
            self.db,
            owner=self.owner,
            pid=os.getpid(),
            host=socket.gethostname(),
            version=__version__,
            mode=mode,
            notifier=notifier,
            now=now,
        )
        self._device_seen(now)
        self.last_heartbeat = now
        log.info("agent %s started (notifier %s, db %s)", self.owner, notifier, self.db.location)

    def heartbeat_due(self, now: datetime) -> datetime | None:
        if self.last_heartbeat is None:
            return None
        return self.last_heartbeat + timedelta(seconds=HEARTBEAT_S)

    def heartbeat(self, notifier: str, now: datetime) -> None:
        due = self.heartbeat_due(now)
        if due is not None and now >= due:
            agents.heartbeat(self.db, self.owner, notifier, now)
            self._device_seen(now)
            self.last_heartbeat = now

    def _device_seen(self, now: datetime) -> None:
        if self.device:
            devices.register(self.db, self.device, self.device_name, now)

    def record_error(self, error: str, now: datetime) -> None:
        agents.record_error(self.db, self.owner, error, now)

    def stop(self, now: datetime) -> None:
        """Return unshown leases (no attempt counted) and mark this agent stopped."""
        try:
            released = housekeeping.release_all(self.db, self.owner, now)
            agents.stopped(self.db, self.owner, now)
            log.info("agent %s stopped; %d unshown lease(s) returned", self.owner, released)
        except StoreError as err:
            log.error("could not record the shutdown: %s", err)
