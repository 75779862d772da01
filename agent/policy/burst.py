"""Storm control, per source and over time. Pure: the time comes in as a value.

A source gets at most `burst_limit` popups within any `burst_window_seconds`. What comes
beyond that is folded into one summary for that source ("27 more from ci"), which is updated
in place while the storm lasts. The limit counts the summary: once a source's popups are
used up, its summary takes the place of its latest popup (folding that one in) rather than
adding one more. So a storm of any length, whether its rows came in one transaction or in
thirty, puts at most `burst_limit` popups of one source on the screen, and another source's
notifications are not held back by it.

`Storm` is what the agent remembers of one source's recent popups on this screen. It lives
in memory: a restarted agent forgets at most one window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

SHOWN_TITLES = 3
"""Titles a summary's body lists, newest first."""


class Due(Protocol):
    """What the plan reads of a due row (a `Claimed`)."""

    @property
    def source(self) -> str: ...

    @property
    def title(self) -> str | None: ...


T = TypeVar("T", bound=Due)


@dataclass(frozen=True)
class Shown:
    """One popup of a source, shown on its own."""

    at: datetime
    popup: str | None
    """The notifier's id for it (None: the notifier gives none, so it cannot be replaced)."""
    title: str


@dataclass(frozen=True)
class Storm:
    """One source's popups within the window: those shown on their own, and its summary."""

    shown: tuple[Shown, ...] = ()
    summary: str | None = None
    """The summary popup's id while it stands for this source's storm."""
    folded: int = 0
    """How many notifications the summary stands for."""
    titles: tuple[str, ...] = ()
    """The newest titles it lists."""
    summary_at: datetime | None = None

    @property
    def used(self) -> int:
        """Popups of this source within the window, the summary included."""
        return len(self.shown) + (1 if self.summary_at is not None else 0)

    def within(self, now: datetime, window_s: float) -> Storm:
        """What is left of it `window_s` before `now`: a summary not updated within the
        window ends with its storm (the next one starts a new summary)."""
        since = now - timedelta(seconds=window_s)
        shown = tuple(s for s in self.shown if s.at > since)
        if self.summary_at is not None and self.summary_at > since:
            return replace(self, shown=shown)
        return Storm(shown=shown)


@dataclass(frozen=True)
class Summary(Generic[T]):
    """One summary popup to show: it stands for `members` and, when it takes the place of an
    earlier popup (`replaces`), for the `earlier` notifications that popup stood for."""

    source: str
    members: tuple[T, ...]
    replaces: str | None = None
    earlier: int = 0
    earlier_titles: tuple[str, ...] = ()
    replaces_shown: bool = False
    """It takes the place of the source's latest popup shown on its own."""
    quiet: bool = False
    """The summary on screen cannot be updated by this notifier: the members are recorded
    as folded into it, and no new popup is made (the next window starts a new summary)."""

    @property
    def folded(self) -> int:
        return self.earlier + len(self.members)

    @property
    def titles(self) -> tuple[str, ...]:
        newest = tuple(m.title or "(no title)" for m in reversed(self.members))
        return (newest + self.earlier_titles)[:SHOWN_TITLES]

    def text(self) -> tuple[str, str]:
        return summary_text(self.source, self.folded, self.titles)


@dataclass(frozen=True)
class BurstPlan(Generic[T]):
    individual: tuple[T, ...]
    summaries: tuple[Summary[T], ...] = field(default=())

    @property
    def coalesced(self) -> tuple[T, ...]:
        return tuple(m for s in self.summaries for m in s.members)


def plan(
    due: Sequence[T],
    burst_limit: int,
    storms: Mapping[str, Storm] | None = None,
    can_replace: bool = True,
) -> BurstPlan[T]:
    """`due` is in claim order (most important first); `storms` holds each source's popups
    within the window (already trimmed with `Storm.within`). For each source, as many are
    shown on their own as its limit leaves; the rest go into its summary: the one already
    on screen, or a new one (which, when the source has no popup left, takes the place of
    its latest). `burst_limit` 0 switches storm control off; 1 shows only summaries once
    more than one is due."""
    if burst_limit <= 0:
        return BurstPlan(tuple(due))
    storms = storms or {}
    by_source: dict[str, list[int]] = {}
    for index, item in enumerate(due):
        by_source.setdefault(item.source, []).append(index)
    individual: list[int] = []
    summaries: list[Summary[T]] = []
    for source, indices in by_source.items():
        items = [due[i] for i in indices]
        storm = storms.get(source, Storm())
        room = burst_limit - storm.used
        if len(items) <= room:
            individual += indices
            continue
        if storm.summary_at is not None:  # the storm's summary is on screen: it grows
            keep = max(room, 0)
            summary = Summary(source, tuple(items[keep:]), storm.summary, storm.folded,
                              storm.titles, quiet=not can_replace)  # fmt: skip
        elif room >= 1:  # room for a few on their own and one summary
            keep = room - 1
            summary = Summary(source, tuple(items[keep:]))
        else:  # no room left: the summary takes the place of the latest popup
            keep = 0
            latest = storm.shown[-1] if storm.shown else None
            if can_replace and latest is not None and latest.popup is not None:
                summary = Summary(source, tuple(items), latest.popup, 1, (latest.title,),
                                  replaces_shown=True)  # fmt: skip
            else:
                summary = Summary(source, tuple(items))
        individual += indices[:keep]
        summaries.append(summary)
    return BurstPlan(tuple(due[i] for i in sorted(individual)), tuple(summaries))


def remember(
    storms: Mapping[str, Storm],
    now: datetime,
    window_s: float,
    shown: Sequence[tuple[str, str | None, str]] = (),
    summaries: Sequence[tuple[Summary[T], str | None]] = (),
) -> dict[str, Storm]:
    """The storms after a round: `shown` is (source, popup id, title) of each one shown on
    its own, `summaries` each summary shown with its popup id. Only what is within the
    window is kept, and no source without a popup in it."""
    after = {source: storm.within(now, window_s) for source, storm in storms.items()}
    for source, popup, title in shown:
        storm = after.get(source, Storm())
        after[source] = replace(storm, shown=(*storm.shown, Shown(now, popup, title)))
    for summary, popup in summaries:
        storm = after.get(summary.source, Storm())
        kept = storm.shown[:-1] if summary.replaces_shown else storm.shown
        at = storm.summary_at if summary.quiet else now  # unseen: the storm does not last on
        after[summary.source] = Storm(kept, popup, summary.folded, summary.titles, at)
    if window_s <= 0:
        return {}
    return {source: storm for source, storm in after.items() if storm.used}


def summary_text(source: str, count: int, titles: Sequence[str]) -> tuple[str, str]:
    """Title and body of a source's summary: how many it stands for, whose, and the newest
    titles."""
    noun = "" if source else (" notification" if count == 1 else " notifications")
    title = f"{count} more{noun}" + (f" from {source}" if source else "")
    lines = [f"• {t}" for t in titles[:SHOWN_TITLES]]
    if count > len(lines):
        lines.append(f"and {count - len(lines)} more")
    return title, "\n".join(lines)
