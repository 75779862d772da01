"""The "Recent notifications" entries: what each was, where from, when, and what became of
it (shown, held, below the minimum, ...). Pure: `now` comes in as a value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from traycourier.agent.policy import textfit
from traycourier.store import timestamps
from traycourier.store.actions import Action, first_link, parse
from traycourier.store.rows import NotificationRow


@dataclass(frozen=True)
class RecentItem:
    id: str
    title: str
    priority: str
    url: str | None
    read: bool
    source: str = ""
    created: datetime | None = None
    delivery_status: str | None = None
    delivery_code: str | None = None
    snoozed_until: datetime | None = None
    actions: tuple[Action, ...] = ()
    """Its links and answers, each with the producer's label."""
    answer: str | None = None
    answered_device: str | None = None
    closed_reason: str | None = None
    """How its popup went: clicked, expired, dismissed, closed (by an agent)."""

    @property
    def shown(self) -> bool:
        """Shown, so it can be shown again (snoozed)."""
        return self.delivery_status == "sent"


def must_stay(item: RecentItem) -> bool:
    """Urgent and unread, or failed: kept in Recent through a storm
    (`store.history.pushed_out` finds them by the same rule)."""
    return (item.priority == "urgent" and not item.read) or item.delivery_status == "failed"


def in_view(
    newest: Sequence[NotificationRow], pushed: Sequence[NotificationRow], limit: int
) -> tuple[RecentItem, ...]:
    """Recent's entries, newest first: the newest ones, except that the urgent and failed
    ones a burst pushed out (`pushed`, older) take the places of the oldest entries that
    may go."""
    kept = [from_row(row) for row in newest[:limit]]
    back: list[RecentItem] = []
    for item in map(from_row, pushed):
        may_go = [i for i, entry in enumerate(kept) if not must_stay(entry)]
        if len(kept) + len(back) < limit:
            back.append(item)
        elif may_go:
            del kept[may_go[-1]]
            back.append(item)
    return (*kept, *back)


def clock(moment: datetime, now: datetime) -> str:
    """A time of today as 14:30; of another day with its weekday (both local). A time the
    local zone cannot hold (a stored year 9999 east of UTC) is shown in UTC."""
    try:
        local = moment.astimezone()
    except OverflowError:
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    if local.date() == now.astimezone(local.tzinfo).date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


OUTCOMES = {
    "sent": "shown",
    "failed": "failed",
    "cancelled": "dropped: switched off",
}
SKIPS = {
    "min_priority": "below minimum",
    "disabled": "while off",
    "stale": "too old",
    "muted": "muted",
    "replaced": "replaced by a newer one",
}


def outcome(item: RecentItem, paused: bool, now: datetime) -> str:
    """What became of it, in a word or three: shown, waiting, held, below minimum, ..."""
    status = item.delivery_status
    if item.answer is not None:
        return f"answered {shorten(item.answer, 20)}" + (
            f" on {shorten(item.answered_device, 20)}" if item.answered_device else ""
        )
    if status is None:
        return "new"
    if status == "skipped":
        return SKIPS.get(item.delivery_code or "", "skipped")
    if status in ("queued", "retry_wait") and item.delivery_code == "snoozed":
        until = item.snoozed_until
        return f"snoozed until {clock(until, now)}" if until else "snoozed"
    if status in ("queued", "retry_wait", "leased"):
        return "held" if paused else "waiting"
    if status == "sent" and item.snoozed_until is not None:
        return "shown again"
    if status == "sent" and item.closed_reason in CLOSED:
        return CLOSED[item.closed_reason]
    if status == "sent" and item.delivery_code == "coalesced":
        return "in a summary"
    if status == "sent" and item.delivery_code == "action_center":
        return "in the Action Center"
    return OUTCOMES.get(status, status)


CLOSED = {"clicked": "clicked", "dismissed": "shown, dismissed", "expired": "shown, expired"}
"""How a shown one's popup went (closed by an agent: it says nothing new)."""


def created_time(text: str | None) -> datetime | None:
    """A producer's created_at as the store reads it (text, or digits of epoch seconds);
    None when it is neither."""
    if text is None:
        return None
    try:
        return timestamps.from_stored(text)  # what routing reads, so the two agree
    except ValueError:
        return None


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "at an unknown time"
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return clock(moment, now)


def recent_label(item: RecentItem, paused: bool, now: datetime) -> str:
    """ "● Disk almost full — backup · 5 min ago · shown": unread mark, title, source, age,
    what became of it."""
    source = f" — {shorten(item.source, 20)}" if item.source else ""
    mark = "" if item.read else "● "
    return f"{mark}{shorten(item.title, 40)}{source} · {ago(item.created, now)} · " + outcome(
        item, paused, now
    )


def shorten(text: str, limit: int = 48) -> str:
    return textfit.cut(textfit.strip_controls(text, single_line=True), limit)


def from_row(row: NotificationRow) -> RecentItem:
    actions = parse(row.actions_json).actions  # whatever a producer wrote: no bad link
    return RecentItem(
        row.id,
        row.title,
        row.priority,
        first_link(actions),
        row.read_at is not None,
        row.source,
        created_time(row.created_at),
        row.delivery_status,
        row.delivery_code,
        created_time(row.snoozed_until),
        actions,
        row.answer,
        row.answered_device,
        row.closed_reason,
    )
