"""The agent's presence in the shared database: its `agents` row (who runs, with which
notifier, the last heartbeat and error) and, on a server, its device's row, which keeps the
device active for routing. `status`, `doctor` and other agents read them."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from traycourier.agent import __version__
from traycourier.store import Database, StoreError, agents, devices, housekeeping

log = logging.getLogger(__name__)

HEARTBEAT_S = 30.0
"""How often a running agent refreshes its heartbeat. Every heartbeat wakes the agent (and
redraws the tray), so it is the idle cost's main term."""
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_S)
"""An agent that missed three heartbeats is gone (`status` no longer lists it)."""
NO_DAEMON_CONSEQUENCE = (
    "each notification is tried 5 times (about 15 s), then recorded failed "
    "(traycourier retry-failed sends them again once a desktop session is there)"
)
"""What happens to notifications while no notification daemon is reachable: said in the
agent's log, by `send` and by `status`."""


class Presence:
    def __init__(self, db: Database, owner: str, device: str = "", device_name: str = "") -> None:
        self.db, self.owner = db, owner
        self.device, self.device_name = device, device_name or socket.gethostname()
        self.last_heartbeat: datetime | None = None
        self.notifier_problem: str | None = None

    def start(
        self, mode: str, notifier: str, problem: Callable[[], str | None], now: datetime
    ) -> None:
        self._notice(problem())
        agents.register(
            self.db,
            owner=self.owner,
            pid=os.getpid(),
            host=socket.gethostname(),
            version=__version__,
            mode=mode,
            notifier=notifier,
            notifier_problem=self.notifier_problem,
            now=now,
        )
        self._device_seen(now)
        self.last_heartbeat = now
        log.info("agent %s started (notifier %s, db %s)", self.owner, notifier, self.db.location)

    def heartbeat_due(self, now: datetime) -> datetime | None:
        if self.last_heartbeat is None:
            return None
        return self.last_heartbeat + timedelta(seconds=HEARTBEAT_S)

    def heartbeat(self, notifier: str, problem: Callable[[], str | None], now: datetime) -> None:
        """Every HEARTBEAT_S: say this agent lives, and whether its notifier can show
        anything (asked only then: a DBus round trip)."""
        due = self.heartbeat_due(now)
        if due is not None and now >= due:
            self._notice(problem())
            agents.heartbeat(self.db, self.owner, notifier, self.notifier_problem, now)
            self._device_seen(now)
            self.last_heartbeat = now

    def _notice(self, problem: str | None) -> None:
        """One log line when the notifier stops or starts being able to show anything."""
        if problem == self.notifier_problem:
            return
        if problem is not None:
            log.warning("%s: %s", problem, NO_DAEMON_CONSEQUENCE)
        elif self.last_heartbeat is not None:
            log.warning("a notification daemon is reachable again")
        self.notifier_problem = problem

    def _device_seen(self, now: datetime) -> None:
        if self.device:
            devices.register(self.db, self.device, self.device_name, now)

    def record_error(self, error: str, now: datetime) -> None:
        agents.record_error(self.db, self.owner, error, now)

    def stop(self, now: datetime, plan: housekeeping.RetryPlan) -> None:
        """End this agent's leases (`Database.release_all`) and mark it stopped."""
        try:
            released = self.db.release_all(self.owner, now, plan)
            agents.stopped(self.db, self.owner, now)
            log.info("agent %s stopped; %d lease(s) returned", self.owner, released)
        except StoreError as err:
            log.error("could not record the shutdown: %s", err)
