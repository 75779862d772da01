"""Storm control per source and over time (`agent.policy.burst`): who is shown on their
own, what each summary stands for and says, and what the agent remembers for the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from traycourier.agent.policy import burst
from traycourier.agent.policy.burst import Shown, Storm

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    title: str
    source: str = "ci"


def rows(count: int, source: str = "ci") -> list[Row]:
    return [Row(f"{source} {i}", source) for i in range(count)]


def seen(count: int, at: datetime = NOW) -> Storm:
    """A storm of `count` popups shown on their own, ids p0, p1, ..."""
    return Storm(tuple(Shown(at, f"p{i}", f"old {i}") for i in range(count)))


@pytest.mark.parametrize(
    ("due", "limit", "individual", "coalesced"),
    [
        (3, 3, 3, 0),
        (4, 3, 2, 2),  # due at once: the contract's burst, a few and one summary
        (10, 3, 2, 8),
        (10, 0, 10, 0),  # 0 = never coalesce
        (2, 1, 0, 2),  # 1 = only a summary
        (0, 3, 0, 0),
    ],
)
def test_what_is_due_at_once_with_no_storm_yet(
    due: int, limit: int, individual: int, coalesced: int
) -> None:
    items = rows(due)
    plan = burst.plan(items, limit)
    assert (len(plan.individual), len(plan.coalesced)) == (individual, coalesced)
    assert list(plan.individual) + list(plan.coalesced) == items  # every row accounted for


def test_each_source_has_its_own_limit() -> None:
    """A storm from ci does not hold back another source's urgent one."""
    due = [*rows(5, "ci"), Row("Build failed", "deploy")]
    plan = burst.plan(due, 3, {"ci": seen(3)})
    assert plan.individual == (Row("Build failed", "deploy"),)
    (summary,) = plan.summaries
    assert (summary.source, len(summary.members)) == ("ci", 5)


def test_a_source_with_no_popup_left_gets_a_summary_in_place_of_its_latest() -> None:
    """Three separate sends were shown; the fourth must not make a fourth popup: the
    summary takes the place of the third and stands for it too."""
    plan = burst.plan(rows(1), 3, {"ci": seen(3)})
    assert plan.individual == ()
    (summary,) = plan.summaries
    assert (summary.replaces, summary.folded, summary.replaces_shown) == ("p2", 2, True)
    assert summary.text() == ("2 more from ci", "• ci 0\n• old 2")


def test_a_notifier_that_cannot_replace_gets_a_new_summary_instead() -> None:
    plan = burst.plan(rows(1), 3, {"ci": seen(3)}, can_replace=False)
    (summary,) = plan.summaries
    assert (summary.replaces, summary.folded, summary.quiet) == (None, 1, False)


def test_a_summary_on_screen_grows_in_place() -> None:
    storm = Storm(seen(2).shown, "s1", 7, ("ci 6", "ci 5", "ci 4"), NOW)
    plan = burst.plan(rows(2, "ci")[::-1], 3, {"ci": storm})
    (summary,) = plan.summaries
    assert (summary.replaces, summary.folded, summary.quiet) == ("s1", 9, False)
    assert summary.text() == ("9 more from ci", "• ci 0\n• ci 1\n• ci 6\nand 6 more")


def test_a_notifier_that_cannot_replace_folds_quietly_into_the_summary_on_screen() -> None:
    storm = Storm(seen(2).shown, "s1", 7, ("ci 6",), NOW)
    (summary,) = burst.plan(rows(4), 3, {"ci": storm}, can_replace=False).summaries
    assert (summary.replaces, summary.quiet, summary.folded) == ("s1", True, 11)


def test_room_left_in_the_window_is_used_before_folding() -> None:
    plan = burst.plan(rows(4), 3, {"ci": seen(1)})
    assert [r.title for r in plan.individual] == ["ci 0"]
    assert [len(s.members) for s in plan.summaries] == [3]


@pytest.mark.parametrize(
    ("age_s", "left"),
    [(0, 3), (9, 3), (10, 0), (60, 0)],
)
def test_popups_older_than_the_window_no_longer_count(age_s: int, left: int) -> None:
    storm = seen(3, at=NOW - timedelta(seconds=age_s))
    assert storm.within(NOW, 10).used == left


def test_a_summary_not_updated_within_the_window_ends_its_storm() -> None:
    storm = Storm((), "s1", 7, ("x",), NOW - timedelta(seconds=11))
    assert storm.within(NOW, 10) == Storm()
    assert Storm((), "s1", 7, ("x",), NOW - timedelta(seconds=3)).within(NOW, 10).summary == "s1"


def test_what_a_round_showed_is_remembered_for_the_window() -> None:
    storms = burst.remember({}, NOW, 10, shown=[("ci", "p0", "a"), ("ci", "p1", "b")])
    assert [s.popup for s in storms["ci"].shown] == ["p0", "p1"]
    (summary,) = burst.plan(rows(1), 2, storms).summaries
    after = burst.remember(storms, NOW + timedelta(seconds=1), 10, summaries=[(summary, "p1")])
    assert after["ci"] == Storm(
        (Shown(NOW, "p0", "a"),), "p1", 2, ("ci 0", "b"), NOW + timedelta(seconds=1)
    )
    assert after["ci"].used == 2  # the summary took the place of the latest popup
    assert burst.remember(after, NOW + timedelta(seconds=30), 10) == {}


def test_a_quiet_fold_does_not_make_the_storm_last_longer() -> None:
    storm = Storm((), "s1", 3, ("x",), NOW)
    (summary,) = burst.plan(rows(1), 1, {"ci": storm}, can_replace=False).summaries
    later = NOW + timedelta(seconds=5)
    after = burst.remember({"ci": storm}, later, 10, summaries=[(summary, "s1")])
    assert (after["ci"].folded, after["ci"].summary_at) == (4, NOW)


def test_a_window_of_zero_remembers_nothing() -> None:
    assert burst.remember({}, NOW, 0, shown=[("ci", "p0", "a")]) == {}


@pytest.mark.parametrize(
    ("source", "count", "titles", "expected"),
    [
        ("ci", 1, ["a"], ("1 more from ci", "• a")),
        ("ci", 5, ["e", "d", "c"], ("5 more from ci", "• e\n• d\n• c\nand 2 more")),
        ("", 1, ["a"], ("1 more notification", "• a")),
        ("", 4, ["a", "b"], ("4 more notifications", "• a\n• b\nand 2 more")),
    ],
)
def test_a_summary_names_its_source_and_newest_titles(
    source: str, count: int, titles: list[str], expected: tuple[str, str]
) -> None:
    assert burst.summary_text(source, count, titles) == expected
