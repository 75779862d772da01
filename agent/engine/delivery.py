"""Showing one claimed round: compose each notification for this OS, call the notifier, and
turn what happened into an `Outcome` (sent, retry with backoff, failed, or released), written
back in small batches.

The clock and the backoff (with its random source) come in from the runtime, so tests can
drive time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from traycourier.agent.engine import popups
from traycourier.agent.notifiers.notifier import (
    InvalidNotification,
    Notifier,
    NotifyError,
    OsNotification,
    show_within,
)
from traycourier.agent.policy import backoff, burst, errors, textfit
from traycourier.store import Database, timestamps
from traycourier.store.model import Claimed, Code, Outcome, OutcomeKind, Priority

log = logging.getLogger(__name__)


def compose(item: Claimed, notifier: Notifier, icon: str) -> OsNotification | InvalidNotification:
    """The notification as this notifier can show it, or why the row cannot be shown. The
    source leads the title ("backup: Disk almost full"): most Linux daemons never draw the
    application's name, and the user must see who is asking."""
    if not isinstance(item.title, str) or not isinstance(item.message, str):
        return InvalidNotification("title and message must be text")
    title = textfit.strip_controls(item.title, single_line=True)
    if not title:
        return InvalidNotification("the title is empty once control characters are removed")
    if item.source:
        source = textfit.strip_controls(item.source, single_line=True)[:SOURCE_CHARS]
        title = f"{source}: {title}" if source else title
    fitted = textfit.fit(title, item.message, platform=notifier.platform)
    return OsNotification(
        title=fitted.title,
        body=fitted.body,
        priority=item.priority,
        icon=icon,
        display_s=None if item.priority == Priority.URGENT else 10,
        buttons=popups.buttons(item.actions_json),
        replaces=item.replaces,
        progress=item.progress,
        tag=None if item.tag is None else f"{item.source}/{item.tag}",
    )


SOURCE_CHARS = 24
"""How much of a source leads a title: a name, not a sentence."""


@dataclass(frozen=True)
class Backoff:
    """The backoff with its random source (`policy.backoff`): seconds until attempt N+1 of
    at most M, or None: no more. Passed down to whatever retries, never called back up."""

    rand: Callable[[], float]

    def __call__(self, attempt_no: int, max_attempts: int) -> float | None:
        return backoff.next_attempt_in(attempt_no, max_attempts, self.rand())


@dataclass(frozen=True)
class Attempts:
    """What a round needs to make attempts: the notifier, its limits, and the backoff."""

    notifier: Notifier
    icon: str
    timeout_s: float
    clock: Callable[[], datetime]
    retry_in: Backoff

    def attempt(self, item: Claimed) -> Outcome:
        """Show one notification and turn what happened into an outcome for `item`."""
        message = compose(item, self.notifier, self.icon)
        try:
            if isinstance(message, InvalidNotification):
                raise NotifyError(errors.INVALID, str(message))
            shown = show_within(self.notifier, message, self.timeout_s)
        except NotifyError as err:
            return self.failure(item, err)
        code = Code.ACTION_CENTER if shown.quietly else None
        return Outcome(item, OutcomeKind.SENT, error_code=code, external_id=shown.popup)

    def attempt_summary(self, summary: burst.Summary[Claimed]) -> list[Outcome]:
        """One notification standing for all of `summary`'s members ("27 more from ci"),
        shown in place of the popup it replaces; a quiet one is recorded as folded into the
        summary already on screen, with no call."""
        members = summary.members
        if summary.quiet:
            return [
                Outcome(m, OutcomeKind.COALESCED, external_id=summary.replaces) for m in members
            ]
        title, body = summary.text()
        top = min(members, key=lambda m: m.rank)
        shown = replace(
            top, title=title, message=body, source="", actions_json="[]", tag=None,
            progress=None, replaces=summary.replaces,
        )  # fmt: skip
        outcome = self.attempt(shown)
        if outcome.kind == OutcomeKind.SENT:
            return [
                Outcome(m, OutcomeKind.COALESCED, external_id=outcome.external_id) for m in members
            ]
        error = NotifyError(
            errors.ErrorClass(outcome.error_code or "error", outcome.kind == OutcomeKind.RETRY),
            f"summary notification: {outcome.error}",
        )
        return [self.failure(m, error) for m in members]

    def failure(self, item: Claimed, err: NotifyError) -> Outcome:
        code, message = err.error_class.code, str(err)
        delay = None
        if err.error_class.transient:
            delay = self.retry_in(item.attempt_no, item.max_attempts)
        if delay is None:
            log.warning(
                "notification %s failed for good after attempt %d: [%s] %s",
                item.notification_id,
                item.attempt_no,
                code,
                message,
            )
            return Outcome(item, OutcomeKind.FAILED, error_code=code, error=message)
        next_at = timestamps.fmt(self.clock() + timedelta(seconds=delay))
        log.warning(
            "notification %s attempt %d failed: [%s] %s; retrying in %.1f s",
            item.notification_id,
            item.attempt_no,
            code,
            message,
            delay,
        )
        return Outcome(
            item, OutcomeKind.RETRY, error_code=code, error=message, next_attempt_at=next_at
        )


class Marker:
    """Collects a round's outcomes and writes them in batches: every `FLUSH_S` of wall time,
    so a slow real notifier has each result written right after its call (a crash repeats
    at most the one in flight), while a fast one still gets large transactions."""

    FLUSH_S = 0.05

    def __init__(self, db: Database, owner: str, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._owner = owner
        self._clock = clock
        self._pending: list[Outcome] = []
        self._last = time.monotonic()
        self.kinds: list[OutcomeKind] = []
        self.fenced = 0
        self.hold_until: str | None = None
        """Set by the first transient failure: the rest of the round waits until then."""

    def add(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        self.kinds.append(outcome.kind)
        if outcome.kind == OutcomeKind.RETRY and self.hold_until is None:
            self.hold_until = outcome.next_attempt_at
        if time.monotonic() - self._last >= self.FLUSH_S:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            report = self._db.mark(self._owner, self._pending, self._clock())
            self.fenced += len(report.fenced_off)
            self._pending = []
        self._last = time.monotonic()
