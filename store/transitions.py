"""The delivery state machine as methods of the database object: one named method per
transition, the interface the agent's engine calls (`db.route(...)`, `db.claim(...)`).

Each method is the whole transition in one transaction; its SQL, written once for both
backends (`store.dialects` where they differ), is in the module it names. The modules are
imported when first called: they need `Database` for their own signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from traycourier.store.model import ANY_RANK

if TYPE_CHECKING:
    from traycourier.store.choices import Mute
    from traycourier.store.db import Database
    from traycourier.store.housekeeping import RetryPlan
    from traycourier.store.imports import Imported
    from traycourier.store.model import (
        Claimed,
        MarkReport,
        Outcome,
        Pending,
        RouteDecision,
        RouteReport,
        Unrouted,
    )
    from traycourier.store.rows import Answer


class Transitions:
    """Mixed into `Database`."""

    @property
    def _db(self) -> Database:
        return cast("Database", self)

    def pending(self, now: datetime, device: str = "") -> Pending:
        """What a tick has to do, in one read (`store.deliveries`)."""
        from traycourier.store import deliveries

        return deliveries.pending(self._db, now, device)

    def route(
        self,
        decide: Callable[[Unrouted], RouteDecision | None],
        now: datetime,
        *,
        limit: int = 500,
        imports: Sequence[Imported] = (),
    ) -> RouteReport:
        """unrouted -> queued / skipped / failed, `imports` added first; in the same
        transaction an older waiting notification of the same source and tag is superseded
        (skipped, `replaced`): supersede is part of routing, not a step of its own
        (`store.deliveries`)."""
        from traycourier.store import deliveries

        return deliveries.route_batch(self._db, decide, now, limit=limit, imports=imports)

    def claim(
        self,
        owner: str,
        now: datetime,
        lease_ttl: timedelta,
        limit: int,
        *,
        started: bool = False,
        max_rank: int = ANY_RANK,
        device: str = "",
    ) -> list[Claimed]:
        """queued / retry_wait -> leased, in claim order (`store.leases`)."""
        from traycourier.store import leases

        return leases.claim(
            self._db, owner, now, lease_ttl, limit, started=started, max_rank=max_rank,
            device=device,
        )  # fmt: skip

    def mark_started(self, owner: str, ids: Sequence[int], now: datetime) -> None:
        """The notifier call is about to start: an expiry now counts an attempt."""
        from traycourier.store import marks

        marks.mark_started(self._db, owner, ids, now)

    def mark(self, owner: str, outcomes: Iterable[Outcome], now: datetime) -> MarkReport:
        """leased -> sent / retry_wait / failed / queued, fenced by the lease (`store.marks`)."""
        from traycourier.store import marks

        return marks.mark(self._db, owner, outcomes, now)

    def expire_leases(self, now: datetime, plan: RetryPlan) -> int:
        """leased past its lease -> retry_wait / failed / queued (`store.housekeeping`)."""
        from traycourier.store import housekeeping

        return housekeeping.expire_leases(self._db, now, plan)

    def fail_malformed(self, now: datetime) -> int:
        """A delivery another program broke -> failed, with the reason."""
        from traycourier.store import housekeeping

        return housekeeping.fail_malformed(self._db, now)

    def release_all(self, owner: str, now: datetime, plan: RetryPlan) -> int:
        """This agent's leases at a clean shutdown -> queued (or retry_wait if started)."""
        from traycourier.store import housekeeping

        return housekeeping.release_all(self._db, owner, now, plan)

    def skip_muted(self, muted: Mute, now: datetime) -> int:
        """queued / retry_wait -> skipped (`muted`) for a source just muted (`store.mutes`)."""
        from traycourier.store import mutes

        return mutes.skip_waiting(self._db, muted, now)

    def retry_unreachable(
        self, now: datetime, fresh_since: datetime | None, device: str = ""
    ) -> int:
        """failed (daemon unreachable) -> queued once, the daemon being back (`store.recovery`)."""
        from traycourier.store import recovery

        return recovery.retry_unreachable(self._db, now, fresh_since, device)

    def cancel_pending(self, now: datetime) -> int:
        """Notifications switched off: what waits -> cancelled."""
        from traycourier.store import housekeeping

        return housekeeping.cancel_pending(self._db, now)

    def retry_failed(self, now: datetime, device: str = "") -> int:
        """failed -> queued, with a fresh budget ("Retry failed")."""
        from traycourier.store import housekeeping

        return housekeeping.retry_failed(self._db, now, device)

    def snooze(
        self, notification_id: str, until: datetime, now: datetime, device: str = ""
    ) -> None:
        """sent -> queued, due at `until` ("Show again in 10 minutes")."""
        from traycourier.store import housekeeping

        housekeeping.snooze(self._db, notification_id, until, now, device)

    def answer(self, notification_id: str, choice: str, device: str, now: datetime) -> Answer:
        """The user's answer, the first one winning (`store.answers`)."""
        from traycourier.store import answers

        return answers.answer(self._db, notification_id, choice, device, now)

    def next_event_at(
        self, *, waiting: bool = True, max_rank: int = ANY_RANK, device: str = ""
    ) -> datetime | None:
        """When the agent has something to do without a database change."""
        from traycourier.store import housekeeping

        return housekeeping.next_event_at(
            self._db, waiting=waiting, max_rank=max_rank, device=device
        )
