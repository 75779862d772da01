"""Delivery rounds. One `Round` is one pass of the state machine's delivery half, in the
order it happens: claim what is due, plan it (a burst as a few plus one summary), attempt
each call, turn what happened into an outcome, and write every outcome back fenced by the
lease. `Rounds` runs rounds until nothing is due.

After a transient notifier failure the rest of the round is released, unshown and uncounted,
to the failed row's retry time: the head of the queue probes the notifier while the others
wait, so a missing daemon costs attempts for one notification, not for all of them.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Delivered:
    """What became of each row of the rounds, and how many a later writer had taken over."""

    kinds: list[OutcomeKind] = field(default_factory=list)
    fenced: int = 0


@dataclass(frozen=True)
class Ran:
    """What one round did."""

    kinds: list[OutcomeKind]
    fenced: int
    hold_until: str | None
    """Set by a transient failure: the rest waits until then."""
    call_s: float | None
    """What one notifier call took on average (None: no call was made)."""


@dataclass(frozen=True)
class Round:
    """One claimed round: `run` attempts its plan and writes the outcomes back."""

    plan: burst.BurstPlan[Claimed]
    db: Database
    attempts: Attempts
    config: RuntimeConfig
    clock: Callable[[], datetime]
    stop: threading.Event
    popups: PopupActions | None
    shown: list[Outcome] = field(default_factory=list)
    """What reached the screen in this round: each one shown on its own, and the first
    member of each summary (`Rounds` remembers them for the storm window)."""

    def run(self) -> Ran:
        """Each call is marked started just before it is made (unless the claim did), and
        each outcome is written back as `Marker` batches them."""
        marker = Marker(self.db, self.config.owner, self.clock)
        spent, calls = 0.0, 0
        for item in self.plan.individual:
            if self._must_hold(item, marker.hold_until):
                marker.add(self._release(item, marker.hold_until))
                continue
            self._mark_started([item])
            began = time.monotonic()
            outcome = self.attempts.attempt(item)
            spent, calls = spent + time.monotonic() - began, calls + 1
            self._on_screen(outcome)
            marker.add(outcome)
        for summary in self.plan.summaries:
            if self._must_hold(summary.members[0], marker.hold_until):
                for item in summary.members:
                    marker.add(self._release(item, marker.hold_until))
                continue
            self._mark_started(summary.members)
            began = time.monotonic()
            outcomes = self.attempts.attempt_summary(summary)
            if not summary.quiet:
                spent, calls = spent + time.monotonic() - began, calls + 1
            for outcome in outcomes:
                marker.add(outcome)
            self._on_screen(outcomes[0])
        marker.flush()
        return Ran(marker.kinds, marker.fenced, marker.hold_until, spent / calls if calls else None)

    def _on_screen(self, outcome: Outcome) -> None:
        if outcome.kind in (OutcomeKind.SENT, OutcomeKind.COALESCED):
            self.shown.append(outcome)
        if self.popups is not None and outcome.external_id is not None:
            self.popups.shown(outcome.external_id)

    def _mark_started(self, items: Sequence[Claimed]) -> None:
        waiting = [i.delivery_id for i in items if not i.started]
        if waiting:
            self.db.mark_started(self.config.owner, waiting, self.clock())

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


class Rounds:
    """Claims round after round until nothing is due (or the notifier fails, or a stop)."""

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
        self.storms: dict[str, burst.Storm] = {}
        """Each source's popups within the storm window (`agent.policy.burst`)."""
        self.popups: PopupActions | None = None
        """What the user does with the popups, when the notifier tells (`agent.engine.popups`)."""
        self._call_s = 1.0 if attempts.notifier.may_block else 0.0
        """How long a notifier call takes (moving average): decides whether a round's calls
        are marked started all at once (fast) or one by one just before each (slow)."""

    def deliver(self, max_rank: int, settings: Settings) -> Delivered:
        """Rounds until nothing is due: claim, run, and let producers have the lock."""
        kinds: list[OutcomeKind] = []
        fenced = 0
        while not self.stop.is_set():
            round_ = self.claim(max_rank, settings)
            if round_ is None:
                break
            ran = round_.run()
            self._remember(round_, settings.burst_window_seconds)
            if ran.call_s is not None:  # the cost of one call decides the next round's mode
                self._call_s = 0.5 * self._call_s + 0.5 * ran.call_s
            kinds += ran.kinds
            fenced += ran.fenced
            if ran.hold_until is not None:
                break  # the notifier is failing: the others wait for the retry time
            if all(kind == OutcomeKind.RELEASE for kind in ran.kinds):
                break  # nothing could be attempted (stopping): do not spin
            # SQLite has no queue for its write lock: a producer waiting in its busy handler
            # only gets the lock while nobody holds it, so between rounds the agent lets go
            self.stop.wait(self.config.yield_s)
        return Delivered(kinds, fenced)

    def claim(self, max_rank: int, settings: Settings) -> Round | None:
        """The next round, planned; None when nothing is due. A fast notifier gets rounds
        five times larger, their calls marked started by the claim: fewer transactions, and
        a whole round of its calls still takes less than one flush interval."""
        bulk = self._call_s * self.config.round_size * 5 <= Marker.FLUSH_S
        size = self.config.round_size * (5 if bulk else 1)
        claimed = self._claim(size, started=bulk, max_rank=max_rank)
        if not claimed:
            return None
        limit = settings.burst_limit
        storms = {
            source: storm.within(self.clock(), settings.burst_window_seconds)
            for source, storm in self.storms.items()
        }
        can_replace = not storms or self.attempts.notifier.capabilities().replace
        plan = burst.plan(claimed, limit, storms, can_replace)
        if plan.summaries and len(claimed) == size:  # a summary stands for all that is due
            while len(more := self._claim(CLAIM_MORE, started=False, max_rank=max_rank)):
                claimed += more
                if len(more) < CLAIM_MORE:
                    break
            plan = burst.plan(claimed, limit, storms, can_replace)
        return Round(plan, self.db, self.attempts, self.config, self.clock, self.stop, self.popups)

    def _remember(self, round_: Round, window_s: int) -> None:
        """Each source's popups of this round, for the next rounds' storm control."""
        summaries = {id(s.members[0]): s for s in round_.plan.summaries}
        shown, summarised = [], []
        for outcome in round_.shown:
            item = outcome.claimed
            if id(item) in summaries:
                summarised.append((summaries[id(item)], outcome.external_id))
            elif outcome.kind == OutcomeKind.SENT:
                shown.append((item.source, outcome.external_id, item.title or "(no title)"))
        self.storms = burst.remember(self.storms, self.clock(), window_s, shown, summarised)

    def _claim(self, size: int, *, started: bool, max_rank: int) -> list[Claimed]:
        return self.db.claim(
            self.config.owner,
            self.clock(),
            timedelta(seconds=self.config.lease_ttl_s),
            size,
            started=started,
            max_rank=max_rank,
            device=self.config.device,
        )


_parse_stamp = functools.lru_cache(maxsize=64)(timestamps.parse)
"""A round's rows share their claim time: parse it once, not once per row."""
