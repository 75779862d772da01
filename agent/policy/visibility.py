"""Will a notification be shown now, held until when, or skipped why: one answer, taken by
routing, the claim, the agent's next wake-up, `send`'s notice and the tray's Recent. Pure:
the settings, the mutes, the quiet hours of the moment and the clock come in as values.

Skipped is for good: routing records a `skipped` delivery with the code, and it is never
shown later. Held is for a while: the delivery waits `queued`, and a pause or quiet hours
keep it from being claimed until they end (the agent wakes then).

The rules, in the order they apply:
- below `min_priority`: skipped, `min_priority`;
- from a muted source (urgent ones too, unless the mute lets them through): skipped, `muted`;
- notifications switched off: skipped, `disabled`;
- older than `max_age_seconds` (0 = no limit): skipped, `stale`;
- paused: held until the pause ends, `paused`;
- inside quiet hours, below the breakthrough priority: held until they end, `quiet_hours`;
- otherwise shown now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from traycourier.agent.policy.quiet import QuietNow, breaks_through, quiet_now
from traycourier.store.choices import Mute, Settings
from traycourier.store.model import RANKS, Code


class Fate(StrEnum):
    SHOWN = "shown"
    HELD = "held"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Moment:
    """What the moment says, read once per tick or command."""

    settings: Settings
    now: datetime
    mutes: Mapping[str, Mute] = field(default_factory=dict)
    quiet: QuietNow = field(default_factory=lambda: QuietNow(False))

    @classmethod
    def at(
        cls,
        settings: Settings,
        now: datetime,
        mutes: Mapping[str, Mute] | None = None,
        zone: tzinfo | None = None,
    ) -> Moment:
        """The moment with its quiet hours worked out (`zone` None: the system's own)."""
        window, weekdays = settings.quiet_window(), settings.quiet_weekdays_only
        return cls(settings, now, mutes or {}, quiet_now(window, weekdays, now, zone))


@dataclass(frozen=True)
class Visibility:
    fate: Fate
    code: Code | None = None
    """Why it is skipped or held; None when shown."""
    until: datetime | None = None
    """Held: when it comes (None: not known, a pause whose end another program broke)."""
    reason: str = ""
    """Skipped: the reason routing records, in words."""


SHOWN = Visibility(Fate.SHOWN)


def judge(priority: str, source: object, created: datetime | None, moment: Moment) -> Visibility:
    """The fate of a notification of `priority` from `source`, created at `created` (None:
    not known, and not judged by age), at this moment."""
    settings, now = moment.settings, moment.now
    withheld = settings.withheld(priority, now)  # the settings' own part: min, off, paused
    if withheld == Code.MIN_PRIORITY:
        why = f"{priority} is below the minimum priority ({settings.min_priority})"
        return Visibility(Fate.SKIPPED, Code.MIN_PRIORITY, reason=why)
    mute = moment.mutes.get(source) if isinstance(source, str) else None
    if mute is not None and mute.applies(priority, now):
        return Visibility(Fate.SKIPPED, Code.MUTED, reason=f"{source} is muted")
    if withheld == Code.DISABLED:
        return Visibility(Fate.SKIPPED, Code.DISABLED, reason="notifications were switched off")
    age_limit = settings.max_age_seconds
    if created is not None and age_limit and now - created > timedelta(seconds=age_limit):
        why = f"older than max_age_seconds ({age_limit} s)"
        return Visibility(Fate.SKIPPED, Code.STALE, reason=why)
    if withheld == Code.PAUSED:
        return Visibility(Fate.HELD, Code.PAUSED, settings.paused_until_time())
    if moment.quiet.active and not breaks_through(priority, settings.quiet_breakthrough):
        return Visibility(Fate.HELD, Code.QUIET_HOURS, moment.quiet.ends_at)
    return SHOWN


def holding(moment: Moment) -> Visibility | None:
    """What holds waiting notifications now, for `status` and the tray: a pause (all of
    them), else quiet hours (those below the breakthrough priority); None when nothing."""
    settings = moment.settings
    if settings.is_paused(moment.now):
        return Visibility(Fate.HELD, Code.PAUSED, settings.paused_until_time())
    if moment.quiet.active:
        return Visibility(Fate.HELD, Code.QUIET_HOURS, moment.quiet.ends_at)
    return None


def claimable_rank(moment: Moment) -> int | None:
    """The lowest priority rank the claim may take now (None: any). A pause is not a rank:
    nothing is claimed while paused."""
    if not moment.quiet.active:
        return None
    return RANKS.get(moment.settings.quiet_breakthrough, 0)


def holds_end(moment: Moment) -> datetime | None:
    """When the first hold of this moment ends (a pause, quiet hours): the agent wakes then
    for what they held."""
    ends = [moment.quiet.ends_at]
    if moment.settings.is_paused(moment.now):
        ends.append(moment.settings.paused_until_time())
    found = [end for end in ends if end is not None]
    return min(found) if found else None
