"""The delivery runtime: one tick routes, claims, shows and marks; the loop waits for the
next change. The clock and the random source are injected so tests can drive time.

One tick (`Runtime.tick`), each step a call downwards and never back up:
1. follow the sources: what other programs' databases hold, to import (`engine.following`);
2. read the user's choices: settings and mutes (another process may have changed them),
   in the same read as the sources and what is pending (`store.glance`);
3. housekeeping: fail rows another program broke, end dead agents' leases (an attempt, with
   backoff), and switched off, cancel what waits;
4. route every unrouted notification (and the imports) in batches (`policy.routing`);
5. unless switched off or paused: delivery rounds until nothing is due (`engine.rounds`:
   claim, plan, attempt, outcome, write back);
6. close the popups of what was dealt with elsewhere, and the heartbeat.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from traycourier.agent import APP_NAME
from traycourier.agent.engine.delivery import Attempts, Backoff
from traycourier.agent.engine.following import Follower
from traycourier.agent.engine.presence import Presence
from traycourier.agent.engine.rounds import Rounds
from traycourier.agent.notifiers.notifier import Notifier
from traycourier.agent.policy import quiet, routing, visibility
from traycourier.store import Database, Settings, devices, glance, timestamps
from traycourier.store.choices import Mute
from traycourier.store.imports import Imported
from traycourier.store.model import ANY_RANK, OutcomeKind, Pending, RouteDecision, Unrouted

log = logging.getLogger(__name__)

SAFETY_WAKE_S = 30.0
"""The longest the loop sleeps without an event (the next due time is usually sooner)."""


@dataclass(frozen=True)
class RuntimeConfig:
    owner: str = field(default_factory=lambda: default_owner())
    lease_ttl_s: float = 30.0
    notify_timeout_s: float = 10.0
    round_size: int = 100
    route_batch: int = 500
    yield_s: float = 0.002
    """A pause between two delivery rounds of a backlog, for producers to get the lock."""
    mode: str = "headless"
    icon: str = ""
    zone: tzinfo | None = None
    """Quiet hours are read in this zone; None: the system's local time (tests inject one)."""
    device: str = ""
    """This machine's device id on a server ("" on a SQLite file: its one device)."""
    device_name: str = ""

    def __post_init__(self) -> None:
        if self.lease_ttl_s <= self.notify_timeout_s + 1:
            raise ValueError(
                f"the lease ({self.lease_ttl_s:g} s) must outlast a notifier call "
                f"({self.notify_timeout_s:g} s) by more than a second"
            )


@dataclass(frozen=True)
class TickReport:
    routed: int = 0
    expired: int = 0
    cancelled: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    fenced_off: int = 0
    history_wanted: bool = False
    """`traycourier history --url/--open` asked for the history window (the tray or the
    headless process serves it)."""


class Runtime:
    def __init__(
        self,
        db: Database,
        notifier: Notifier,
        config: RuntimeConfig | None = None,
        *,
        clock: Callable[[], datetime] = timestamps.utcnow,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.config = config or RuntimeConfig()
        self.clock = clock
        self.rand = rand
        self.stop = threading.Event()
        self.presence = Presence(db, self.config.owner, self.config.device, self.config.device_name)
        self._settings: Settings | None = None
        self._quiet = quiet.QuietNow(False)
        self._mute_end: datetime | None = None
        self._mutes_seen: dict[str, Mute] = {}
        self.follower = Follower(db, clock)
        """Other programs' databases, followed read-only (`traycourier source add`)."""
        self.backoff = Backoff(rand)
        """The one backoff: a failed call, an expired lease and a stop all retry by it."""
        timeout_s = self.config.notify_timeout_s
        attempts = Attempts(notifier, self.config.icon, timeout_s, clock, self.backoff)
        self.rounds = Rounds(db, attempts, self.config, clock, self.stop)

    @property
    def owner(self) -> str:
        return self.config.owner

    @property
    def notifier_label(self) -> str:
        """What `status` shows: the notifier, and whether it can report failures at all."""
        if self.notifier.degraded:
            return f"{self.notifier.name} (degraded: cannot report failures)"
        return self.notifier.name

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.presence.start(
            self.config.mode, self.notifier_label, self.notifier.problem, self.clock()
        )

    def close(self) -> None:
        """End this agent's leases and mark it stopped (`Database.release_all`)."""
        self.presence.stop(self.clock(), self.backoff)
        self.follower.close()

    def next_wake_s(self) -> float:
        """Seconds until this agent has something to do without a database change: the next
        due row or lease expiry, the end of a pause, or the heartbeat."""
        now = self.clock()
        timeout = SAFETY_WAKE_S
        if (heartbeat_due := self.presence.heartbeat_due(now)) is not None:
            timeout = min(timeout, (heartbeat_due - now).total_seconds())
        # the tick's own snapshot: a later change is a commit, and a commit wakes the loop
        moment = visibility.Moment(self._settings or Settings(), now, quiet=self._quiet)
        # switched off or paused, nothing waiting is shown (a snooze kept while off stays
        # due): a commit that switches them on again wakes the loop, not the rows' times
        held = not moment.settings.enable_notifications or moment.settings.is_paused(now)
        next_event = self.db.next_event_at(
            waiting=not held,
            max_rank=self._max_rank(moment),
            device=self.config.device,
        )
        ends = [next_event, self._mute_end, self.follower.next_retry_at()]
        ends.append(visibility.holds_end(moment))
        for moment_at in ends:
            if moment_at is not None:
                timeout = min(timeout, (moment_at - now).total_seconds() + 0.001)
        return max(timeout, 0.0)

    @staticmethod
    def _max_rank(moment: visibility.Moment) -> int:
        """What the claim may take now (`visibility.claimable_rank`) in the store's terms."""
        rank = visibility.claimable_rank(moment)
        return ANY_RANK if rank is None else rank

    def record_error(self, error: str) -> None:
        """Keep the last internal error where `status` and `doctor` read it."""
        self.presence.record_error(error, self.clock())

    # -- one tick -------------------------------------------------------------------------

    def tick(self) -> TickReport:
        """The steps in the order the module's docstring gives them."""
        now = self.clock()
        seen = glance.take(self.db, now, self.config.device, self.config.owner)  # one read
        incoming = self.follower.step(now, seen.sources)  # routed and shown by this tick
        settings, muted = self._take_choices(seen, now)
        todo = seen.pending
        report = self._housekeep(todo, settings, now)
        if todo.unrouted or incoming:
            routed = self._route_all(settings, now, muted, incoming)
            report = replace(report, routed=routed)
        anything_due = todo.due or report.routed or report.expired
        if settings.enable_notifications and not settings.is_paused(now) and anything_due:
            report = self._deliver(settings, now, report)
        if self.rounds.popups is not None:
            self.rounds.popups.close_dealt_with()
        self._heartbeat()
        return replace(report, history_wanted=seen.history_wanted)

    def _take_choices(self, seen: glance.Glance, now: datetime) -> tuple[Settings, dict[str, Mute]]:
        """The user's settings and mutes as of now (another process may have changed them),
        kept for the next wake-up and the tray: whether quiet hours hold, when a mute ends."""
        settings = self._settings = seen.settings
        muted = seen.mutes
        for source, mute in muted.items():  # a new mute applies to what waits as well
            if self._mutes_seen.get(source) != mute:
                self.db.skip_muted(mute, now)
        self._mutes_seen = muted
        self._quiet = visibility.Moment.at(settings, now, muted, self.config.zone).quiet
        ends = [timestamps.parse(m.until) for m in muted.values() if m.until]
        self._mute_end = min(ends) if ends else None  # the tray's list changes then
        return settings, muted

    def _housekeep(self, todo: Pending, settings: Settings, now: datetime) -> TickReport:
        """Rows another program broke fail with the reason, leases of dead agents end (an
        attempt, with backoff), and switched off, what waits is cancelled."""
        expired = cancelled = 0
        if todo.malformed:
            self.db.fail_malformed(now)
        if todo.expired_leases:
            expired = self.db.expire_leases(now, self.backoff)
        if not settings.enable_notifications and todo.waiting:
            cancelled = self.db.cancel_pending(now)
        return TickReport(expired=expired, cancelled=cancelled)

    def _route_all(
        self,
        settings: Settings,
        now: datetime,
        muted: dict[str, Mute],
        incoming: Sequence[Imported],
    ) -> int:
        active = devices.active(self.db, now) if self.config.device else []

        def decide(item: Unrouted) -> RouteDecision | None:
            return routing.decide_desktop(item, settings, now, muted, active)

        total = 0
        while True:
            batch = self.config.route_batch
            result = self.db.route(decide, now, limit=batch, imports=incoming)
            if incoming:
                self.follower.landed()
                log.debug("%d new from followed sources", result.imported)
                incoming = ()
            total += result.routed
            if result.routed < self.config.route_batch:
                return total

    def _deliver(self, settings: Settings, now: datetime, report: TickReport) -> TickReport:
        moment = visibility.Moment(settings, now, quiet=self._quiet)
        delivered = self.rounds.deliver(self._max_rank(moment), settings)
        return _count(report, delivered.kinds, delivered.fenced)

    def _heartbeat(self) -> None:
        self.presence.heartbeat(self.notifier_label, self.notifier.problem, self.clock())


def _count(report: TickReport, kinds: list[OutcomeKind], fenced: int) -> TickReport:
    k = OutcomeKind
    return replace(
        report,
        sent=report.sent + kinds.count(k.SENT) + kinds.count(k.COALESCED),
        retried=report.retried + kinds.count(k.RETRY),
        failed=report.failed + kinds.count(k.FAILED),
        released=report.released + kinds.count(k.RELEASE),
        fenced_off=report.fenced_off + fenced,
    )


def default_owner() -> str:
    return f"{APP_NAME}-{socket.gethostname()}-{os.getpid()}"
