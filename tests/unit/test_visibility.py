"""The one visibility rule (`agent.policy.visibility`), table-driven: each rule alone, the
order when several apply, and what the claim and the wake-up take from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from traycourier.agent.policy.quiet import QuietNow
from traycourier.agent.policy.visibility import (
    Fate,
    Moment,
    claimable_rank,
    holding,
    holds_end,
    judge,
)
from traycourier.store import Settings, timestamps
from traycourier.store.choices import Mute
from traycourier.store.model import RANKS, Code

NOW = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
QUIET = QuietNow(True, NOW + timedelta(hours=8))
MUTED = {"backup": Mute("backup", None, urgent_too=False)}


def moment(quiet: QuietNow | None = None, **settings: object) -> Moment:
    return Moment(Settings(**settings), NOW, MUTED, quiet or QuietNow(False))  # type: ignore[arg-type]


PAUSED = {"paused_until": timestamps.fmt(LATER)}
OFF = {"enable_notifications": False}
SHOWN = (Fate.SHOWN, None, None)
SKIPPED, HELD = Fate.SKIPPED, Fate.HELD


@pytest.mark.parametrize(
    ("priority", "source", "age_s", "at", "expected"),
    [
        ("action", "ci", 0, moment(), SHOWN),
        ("info", "ci", 0, moment(), SHOWN),  # the default minimum: everything shows
        ("info", "ci", 0, moment(min_priority="action"), (SKIPPED, Code.MIN_PRIORITY, None)),
        ("action", "backup", 0, moment(), (SKIPPED, Code.MUTED, None)),
        ("urgent", "backup", 0, moment(), SHOWN),  # the mute lets urgent ones by
        ("urgent", "ci", 0, moment(**OFF), (SKIPPED, Code.DISABLED, None)),
        ("urgent", "ci", 90_000, moment(), (SKIPPED, Code.STALE, None)),
        ("urgent", "ci", 90_000, moment(max_age_seconds=0), SHOWN),
        ("action", "ci", 0, moment(**PAUSED), (HELD, Code.PAUSED, LATER)),
        ("action", "ci", 0, moment(QUIET), (HELD, Code.QUIET_HOURS, QUIET.ends_at)),
        ("urgent", "ci", 0, moment(QUIET), SHOWN),  # it breaks through
        # several at once: the first rule in the documented order names the reason
        (
            "info",
            "backup",
            0,
            moment(min_priority="action", **OFF),
            (SKIPPED, Code.MIN_PRIORITY, None),
        ),
        ("action", "backup", 0, moment(**OFF), (SKIPPED, Code.MUTED, None)),
        ("action", "ci", 90_000, moment(QUIET, **PAUSED), (SKIPPED, Code.STALE, None)),
        ("action", "ci", 0, moment(QUIET, **PAUSED), (HELD, Code.PAUSED, LATER)),
    ],
)
def test_shown_held_or_skipped(
    priority: str,
    source: str,
    age_s: int,
    at: Moment,
    expected: tuple[Fate, Code | None, datetime | None],
) -> None:
    seen = judge(priority, source, NOW - timedelta(seconds=age_s), at)
    assert (seen.fate, seen.code, seen.until) == expected
    assert bool(seen.reason) == (seen.fate == Fate.SKIPPED)


def test_an_unknown_creation_time_is_not_judged_by_age() -> None:
    assert judge("action", "ci", None, moment(max_age_seconds=1)).fate == Fate.SHOWN


def test_the_claim_takes_any_rank_but_in_quiet_hours() -> None:
    assert claimable_rank(moment()) is None
    assert claimable_rank(moment(QUIET)) == RANKS["urgent"]
    assert claimable_rank(moment(QUIET, quiet_breakthrough="action")) == RANKS["action"]


def test_the_agent_wakes_when_the_first_hold_ends() -> None:
    assert holds_end(moment()) is None
    assert holds_end(moment(**PAUSED)) == LATER
    assert holds_end(moment(QUIET)) == QUIET.ends_at
    assert holds_end(moment(QUIET, **PAUSED)) == LATER


def test_what_holds_the_waiting_ones_now() -> None:
    assert holding(moment()) is None
    paused = holding(moment(QUIET, **PAUSED))  # a pause holds all: it is named first
    assert paused is not None and (paused.code, paused.until) == (Code.PAUSED, LATER)
    quiet = holding(moment(QUIET))
    assert quiet is not None and (quiet.code, quiet.until) == (Code.QUIET_HOURS, QUIET.ends_at)
