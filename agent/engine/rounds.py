"""Delivery rounds: claim what is due a round at a time, show it (a burst as a few plus one
summary), and write every outcome back fenced by the lease, until nothing is due.

After a transient notifier failure the rest of the round is released, unshown and uncounted,
to the failed row's retry time: the head of the queue probes the notifier while the others
wait, so a missing daemon costs attempts for one notification, not for all of them.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from traycourier.agent.engine.delivery import Attempts, Marker
from traycourier.agent.engine.popups import PopupActions
from traycourier.agent.policy import burst
from traycourier.store import Database, timestamps
from traycourier.store.choices import Settings
from traycourier.store.model import Claimed, Outcome, OutcomeKind

if TYPE_CHECKING:
    from traycourier.agent.engine.runtime import RuntimeConfig

CLAIM_MORE = 1000
"""Batch size when a burst claims everything else that is due, for the summary."""


class Rounds:
    def __init__(
        self,
        db: Database,
        attempts: Attempts,
        config: RuntimeConfig,
        clock: Callable[[], datetime],
        stop: threading.Event,
    ) -> None:
        self.db, self.attempts, self.config, self.clock, self.stop = (
            db, attempts, config, clock, stop,
        )  # fmt: skip
        self.owner = config.owner
        self.popups: PopupActions | None = None
        """What the user does with the popups, when the notifier tells (`agent.engine.popups`)."""
        self._call_s = 1.0 if attempts.notifier.may_block else 0.0
        """How long a notifier call takes (moving average): decides whether a round's calls
        are marked started all at once (fast) or one by one just before each (slow)."""

    def deliver(self, max_rank: int, settings: Settings) -> tuple[list[OutcomeKind], int]:
        """Rounds until nothing is due; what became of each row, and how many a later
        writer had taken over (fenced off)."""
        kinds: list[OutcomeKind] = []
        fenced = 0
        ttl = timedelta(seconds=self.config.lease_ttl_s)
        while not self.stop.is_set():
            # a fast notifier gets rounds five times larger: fewer claim transactions, and a
            # whole round of its calls still takes less than one flush interval
            bulk = self._call_s * self.config.round_size * 5 <= Marker.FLUSH_S
            size = self.config.round_size * (5 if bulk else 1)
            claimed = self.db.claim(
                self.owner,
                self.clock(),
                ttl,
                size,
                started=bulk,
                max_rank=max_rank,
                device=self.config.device,
            )
            if not claimed:
                break
            limit = settings.burst_limit
            if limit and len(claimed) > limit:
                claimed += self._claim_rest(ttl, max_rank)
            marker = Marker(self.db, self.owner, self.clock)
            self._show_round(burst.plan(claimed, limit), marker)
            marker.flush()
            kinds += marker.kinds
            fenced += marker.fenced
            if marker.hold_until is not None:
                break  # the notifier is failing: the others wait for the retry time
            if all(kind == OutcomeKind.RELEASE for kind in marker.kinds):
                break  # nothing could be attempted (stopping): do not spin
            # SQLite has no queue for its write lock: a producer waiting in its busy handler
            # only gets the lock while nobody holds it, so between rounds the agent lets go
            self.stop.wait(self.config.yield_s)
        return kinds, fenced

    def _claim_rest(self, ttl: timedelta, max_rank: int) -> list[Claimed]:
        rest: list[Claimed] = []
        while True:
            more = self.db.claim(
                self.owner,
                self.clock(),
                ttl,
                CLAIM_MORE,
                max_rank=max_rank,
                device=self.config.device,
            )
            rest += more
            if len(more) < CLAIM_MORE:
                return rest

    def _show_round(self, plan: burst.BurstPlan[Claimed], marker: Marker) -> None:
        """Each call is marked started just before it is made, unless the claim did."""
        spent, calls = 0.0, 0
        for item in plan.individual:
            if self._must_hold(item, marker.hold_until):
                marker.add(self._release(item, marker.hold_until))
                continue
            if not item.started:
                self._mark_started([item])
            began = time.monotonic()
            outcome = self.attempts.attempt(item)
            spent, calls = spent + time.monotonic() - began, calls + 1
            self._on_screen(outcome)
            marker.add(outcome)
        if plan.coalesced:
            if self._must_hold(plan.coalesced[0], marker.hold_until):
                for item in plan.coalesced:
                    marker.add(self._release(item, marker.hold_until))
            else:
                self._mark_started([i for i in plan.coalesced if not i.started])
                began = time.monotonic()
                outcomes = self.attempts.attempt_summary(plan.coalesced)
                spent, calls = spent + time.monotonic() - began, calls + 1
                for outcome in outcomes:
                    marker.add(outcome)
                self._on_screen(outcomes[0])
        if calls:  # what one notifier call costs decides the next round's mode
            self._call_s = 0.5 * self._call_s + 0.5 * spent / calls

    def _on_screen(self, outcome: Outcome) -> None:
        if self.popups is not None and outcome.external_id is not None:
            self.popups.shown(outcome.external_id)

    def _mark_started(self, items: Sequence[Claimed]) -> None:
        if items:
            self.db.mark_started(self.owner, [i.delivery_id for i in items], self.clock())

    def _must_hold(self, item: Claimed, hold_until: str | None) -> bool:
        """Do not start a call that could outlive the lease, or after a transient failure,
        or once a stop was requested."""
        if self.stop.is_set() or hold_until is not None:
            return True
        lease_end = _parse_stamp(item.claimed_at) + timedelta(seconds=self.config.lease_ttl_s)
        latest_start = lease_end - timedelta(seconds=self.config.notify_timeout_s + 1.0)
        return self.clock() > latest_start

    def _release(self, item: Claimed, until: str | None) -> Outcome:
        next_at = until or timestamps.fmt(self.clock())
        return Outcome(item, OutcomeKind.RELEASE, next_attempt_at=next_at)


_parse_stamp = functools.lru_cache(maxsize=64)(timestamps.parse)
"""A round's rows share their claim time: parse it once, not once per row."""
