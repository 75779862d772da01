"""Quiet hours: a daily window of local time in which only notifications at or above a
breakthrough priority are shown; the others are held and come when the window ends. Pure:
`now` and the zone come in as values (`zone=None` is the system's own local time).

A window belongs to the day it starts on (22:00-07:00 on Friday ends Saturday morning;
"weekdays only" means windows that start Monday to Friday). Boundaries are wall-clock
times resolved in the zone on their own date, so a daylight-saving change makes a night an
hour shorter or longer, never skipped or doubled: a start that falls in the spring gap is
read with the offset before the change (PEP 495's fold=0), one that falls twice in autumn
as its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from traycourier.store.choices import Window, parse_window
from traycourier.store.model import RANKS

__all__ = ["QuietNow", "Window", "breaks_through", "parse_window", "quiet_now"]


@dataclass(frozen=True)
class QuietNow:
    active: bool
    ends_at: datetime | None = None
    """UTC; set while active: when held notifications come (the agent wakes then)."""


def _at(day: date, moment: time, zone: tzinfo | None) -> datetime:
    """A wall-clock time on a day, in `zone` (None: the system's local time), as UTC."""
    naive = datetime.combine(day, moment)
    local = naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
    return local.astimezone(UTC)


def quiet_now(
    window: Window | None, weekdays_only: bool, now: datetime, zone: tzinfo | None = None
) -> QuietNow:
    """Is `now` (aware) inside a quiet window, and until when?"""
    if window is None:
        return QuietNow(False)
    today = (now.astimezone(zone) if zone is not None else now.astimezone()).date()
    crosses_midnight = window.end <= window.start
    for start_day in (today - timedelta(days=1), today):
        if weekdays_only and start_day.weekday() >= 5:
            continue
        start = _at(start_day, window.start, zone)
        end_day = start_day + timedelta(days=1) if crosses_midnight else start_day
        end = _at(end_day, window.end, zone)
        if start <= now < end:
            return QuietNow(True, end)
    return QuietNow(False)


def breaks_through(priority: str, breakthrough: str) -> bool:
    """Shown during quiet hours: at or above the breakthrough level."""
    return RANKS.get(priority, len(RANKS)) <= RANKS.get(breakthrough, 0)
