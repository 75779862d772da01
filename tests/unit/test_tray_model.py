"""The tray's menu, tooltip and icon state, built from plain state without a display."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from traycourier.agent.policy.menu_actions import (
    AnswerRecent,
    MarkAllRead,
    MuteFor,
    MuteUntilMorning,
    OpenRecent,
    PauseFor,
    PauseUntilMorning,
    Resume,
    RetryFailed,
    SetEnabled,
    SetMinPriority,
    SetQuietHours,
    SetTrayIcon,
    ShowStatus,
    Snooze,
    Unmute,
)
from traycourier.agent.policy.recent import RecentItem, clock, outcome
from traycourier.agent.policy.tray_model import (
    Entry,
    TrayState,
    as_plain,
    build_menu,
    icon_state,
    morning,
    recent_entry,
    tooltip,
)
from traycourier.store import Priority, Settings, timestamps
from traycourier.store.actions import Action, first_link, parse

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def state(
    *,
    enabled: bool = True,
    paused_until: datetime | None = None,
    min_priority: str = "action",
    **changes: object,
) -> TrayState:
    settings = Settings(
        enable_notifications=enabled,
        min_priority=min_priority,
        paused_until=timestamps.fmt(paused_until) if paused_until else None,
    )
    base = {
        "settings": settings,
        "pending": 2,
        "failed": 0,
        "last_delivered": None,
        "recent": (),
        "autostart": False,
        "notifier_broken": False,
        "version": "9.9",
        "db_path": "/tmp/x.db",
    }
    base.update(changes)
    return TrayState(**base)  # type: ignore[arg-type]


def find(entries, text):  # type: ignore[no-untyped-def]
    for e in entries:
        if e.text.startswith(text):
            return e
    raise AssertionError(f"no menu entry {text!r} in {[e.text for e in entries]}")


def test_the_menu_lists_what_the_contract_names() -> None:
    texts = [e["text"] for e in as_plain(build_menu(state(), NOW)) if "text" in e]
    assert texts == [
        "2 pending · last shown never",
        "Show all notifications…",
        "Notifications enabled",
        "Pause",
        "Quiet hours",
        "Minimum priority",
        "Recent notifications",
        "Muted sources",
        "Retry failed (0)",
        "Open data folder",
        "Open log",
        "Start at login",
        "Tray icon",
        "About traycourier 9.9",
        "Quit",
    ]


@pytest.mark.parametrize("enabled", [True, False])
def test_enabled_checkbox_follows_the_setting(enabled: bool) -> None:
    entry = find(build_menu(state(enabled=enabled), NOW), "Notifications enabled")
    # the click sets what the checkbox did not show: it acts on what the user saw
    assert entry.checked is enabled and entry.action == SetEnabled(not enabled)


@pytest.mark.parametrize("minimum", ["urgent", "action", "warning", "info"])
def test_minimum_priority_is_a_radio_group_with_one_checked(minimum: str) -> None:
    group = find(build_menu(state(min_priority=minimum), NOW), "Minimum priority").children
    assert [e.text for e in group] == ["Urgent", "Action", "Warning", "Info"]
    assert all(e.radio for e in group)
    assert [e.text.lower() for e in group if e.checked] == [minimum]
    assert [e.action for e in group] == [SetMinPriority(p) for p in Priority]


@pytest.mark.parametrize("look", ["color", "white", "black"])
def test_the_tray_icon_look_is_a_radio_group_with_one_checked(look: str) -> None:
    current = state(settings=Settings(tray_icon=look))
    group = find(build_menu(current, NOW), "Tray icon").children
    assert [e.text for e in group] == [
        "Coloured (any panel)",
        "White (a dark panel)",
        "Black (a light panel)",
    ]
    assert all(e.radio for e in group)
    assert [e.action for e in group if e.checked] == [SetTrayIcon(look)]


def test_pause_submenu_and_resume_only_while_paused() -> None:
    menu = build_menu(state(), NOW)
    pause = find(menu, "Pause")
    assert [(e.text, e.action, e.enabled) for e in pause.children] == [
        ("For 30 minutes", PauseFor(30), True),
        ("For 1 hour", PauseFor(60), True),
        ("Until tomorrow 08:00", PauseUntilMorning(), True),
        ("Resume", Resume(), False),
    ]
    paused = build_menu(state(paused_until=NOW + timedelta(minutes=30)), NOW)
    assert find(paused[1:], "Paused until").children[-1].enabled  # [0]: the header


def test_retry_failed_is_disabled_at_zero() -> None:
    assert not find(build_menu(state(failed=0), NOW), "Retry failed").enabled
    entry = find(build_menu(state(failed=3), NOW), "Retry failed (3)")
    assert entry.enabled and entry.action == RetryFailed()


def test_recent_entries_say_what_where_when_and_what_became_of_them() -> None:
    recent = (
        RecentItem(
            "ntf_1", "Disk full", "urgent", "https://x.example", read=False, source="backup",
            created=NOW - timedelta(minutes=5), delivery_status="sent",
            actions=(Action("Open log", url="https://x.example"), Action("Clean up")),
        ),
        RecentItem(
            "ntf_2", "Build done", "info", None, read=True, source="ci",
            created=NOW - timedelta(hours=3), delivery_status="skipped",
            delivery_code="min_priority",
        ),
        RecentItem("ntf_3", "Fresh", "action", None, read=False, created=NOW),
    )  # fmt: skip
    items = find(build_menu(state(recent=recent), NOW), "Recent notifications").children
    assert [e.text for e in items if not e.separator] == [
        "● Disk full — backup · 5 min ago · shown",
        "Build done — ci · 3 h ago · below minimum",
        "● Fresh · just now · new",
        "Mark all read",
    ]
    assert items[-1].action == MarkAllRead()
    shown, skipped, fresh = (actions(entry) for entry in items[:3])
    assert shown == [  # each action with the producer's label; an answer writes its id
        ("Open log", OpenRecent("ntf_1", "https://x.example", "Disk full")),
        ("Clean up", AnswerRecent("ntf_1", "Clean up")),
        ("Show again in 10 minutes", Snooze("ntf_1", 10)),
        ("Show again in 1 hour", Snooze("ntf_1", 60)),
        ("Mute backup for 1 hour (urgent ones too)", MuteFor("backup", 60)),
        (f"Mute backup until {morning(NOW)} (urgent ones too)", MuteUntilMorning("backup")),
    ]
    # not shown: nothing to show again; no source: nothing to mute
    assert skipped == [
        ("Mark read", OpenRecent("ntf_2", None, "Build done")),
        ("Mute ci for 1 hour (urgent ones too)", MuteFor("ci", 60)),
        (f"Mute ci until {morning(NOW)} (urgent ones too)", MuteUntilMorning("ci")),
    ]
    assert fresh == [("Mark read", OpenRecent("ntf_3", None, "Fresh"))]


def actions(entry: Entry) -> list[tuple[str, object]]:
    return [(e.text, e.action) for e in entry.children if not e.separator]


def test_a_recent_entry_of_a_muted_source_offers_to_unmute_it() -> None:
    from traycourier.store.choices import Mute

    item = RecentItem("n", "t", "info", None, read=True, source="backup", delivery_status="sent")
    muted = state(recent=(item,), mutes=(Mute("backup", None, urgent_too=True),))
    (entry, *_rest) = find(build_menu(muted, NOW), "Recent notifications").children
    assert actions(entry)[-1] == ("Unmute backup", Unmute("backup"))
    assert not any(isinstance(action, MuteFor) for _text, action in actions(entry))


def test_the_morning_is_today_before_eight_and_tomorrow_after() -> None:
    early = datetime(2026, 11, 28, 5, 0).astimezone()
    assert morning(early) == "08:00"
    assert morning(early.replace(hour=9)) == "tomorrow 08:00"


@pytest.mark.parametrize(
    ("status", "code", "paused", "word"),
    [
        ("sent", None, False, "shown"),
        ("queued", None, False, "waiting"),
        ("retry_wait", "daemon_unreachable", True, "held"),
        ("skipped", "min_priority", False, "below minimum"),
        ("skipped", "disabled", False, "while off"),
        ("skipped", "stale", False, "too old"),
        ("cancelled", "disabled", False, "dropped: switched off"),
        ("failed", "invalid_row", False, "failed"),
        ("skipped", "muted", False, "muted"),
        ("queued", "snoozed", True, "snoozed until 13:00"),
        (None, None, False, "new"),
    ],
)
def test_what_became_of_a_notification_in_words(
    status: str | None, code: str | None, paused: bool, word: str
) -> None:
    item = RecentItem(
        "n", "t", "info", None, read=True, delivery_status=status, delivery_code=code,
        snoozed_until=NOW + timedelta(hours=1) if code == "snoozed" else None,
    )  # fmt: skip
    assert outcome(item, paused, NOW).replace(clock(NOW + timedelta(hours=1), NOW), "13:00") == word


def test_a_snoozed_one_shown_again_says_so() -> None:
    item = RecentItem("n", "t", "info", None, read=True, delivery_status="sent", snoozed_until=NOW)
    assert outcome(item, False, NOW) == "shown again"


def test_a_left_click_runs_the_status_line() -> None:
    (default,) = [e for e in build_menu(state(), NOW) if e.default]
    assert default.text.startswith("2 pending") and default.action == ShowStatus()


def test_an_empty_history_says_so() -> None:
    items = find(build_menu(state(), NOW), "Recent notifications").children
    assert items[0].text == "No notifications yet" and not items[0].enabled


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "on"),
        ({"enabled": False}, "off"),
        ({"paused_until": NOW + timedelta(hours=1)}, "paused"),
        ({"paused_until": NOW - timedelta(hours=1)}, "on"),
        ({"failed": 1}, "attention"),
        ({"notifier_broken": True, "enabled": False}, "attention"),
        ({"agent_failing": True}, "attention"),
    ],
)
def test_icon_state(changes: dict, expected: str) -> None:
    assert icon_state(state(**changes), NOW) == expected


def test_tooltip_says_the_state_in_words() -> None:
    assert tooltip(state(), NOW) == "traycourier — on"
    assert tooltip(state(enabled=False), NOW) == "traycourier — notifications off"
    until = NOW + timedelta(hours=2)
    assert tooltip(state(paused_until=until), NOW).startswith("traycourier — paused until ")
    assert tooltip(state(failed=2), NOW) == "traycourier — on — 2 failed"
    assert (
        tooltip(state(agent_failing=True), NOW) == "traycourier — on — not delivering, see the log"
    )


@pytest.mark.parametrize(
    ("actions_json", "url"),
    [
        ('[{"label": "Open", "url": "https://a"}]', "https://a"),
        ("[]", None),
        ("not json", None),
        ('[{"label": "x"}, "junk", {"url": 7}]', None),
        (
            '[{"label": "Run", "url": "javascript:alert(1)"}, {"label": "Log", "url": "http://b"}]',
            "http://b",
        ),
    ],
)
def test_the_first_link_is_the_first_http_address(actions_json: str, url: str | None) -> None:
    assert first_link(parse(actions_json).actions) == url


def test_long_or_hostile_titles_are_cut_to_one_line() -> None:
    recent = (RecentItem("ntf_1", "a\x1b[31m\nb " + "x" * 80, "info", None, read=True),)
    text = find(build_menu(state(recent=recent), NOW), "Recent notifications").children[0].text
    title = text.split(" · ")[0]
    assert title.startswith("a[31m b x") and title.endswith("…") and len(title) == 40


def test_times_of_today_show_the_clock_and_later_days_the_weekday() -> None:
    today = tooltip(state(paused_until=NOW + timedelta(minutes=5)), NOW)
    later = tooltip(state(paused_until=NOW + timedelta(days=3)), NOW)
    assert today.removeprefix("traycourier — paused until ").count(" ") == 0
    assert later.removeprefix("traycourier — paused until ").split()[0] in {
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat",
        "Sun",
    }


def test_quiet_hours_in_the_menu_icon_and_tooltip() -> None:
    quiet_state = state(quiet_until=NOW + timedelta(hours=3))
    assert icon_state(quiet_state, NOW) == "quiet"
    assert tooltip(quiet_state, NOW).startswith("traycourier — quiet until ")
    entries = find(build_menu(state(), NOW), "Quiet hours").children
    assert [(e.text, e.checked) for e in entries if e.action is not None][:2] == [
        ("Off", True),
        ("22:00–07:00", False),
    ]
    custom = Settings(quiet_hours="01:00-05:30")
    chosen = find(build_menu(state(settings=custom), NOW), "Quiet hours").children
    assert [e.text for e in chosen if e.checked] == ["01:00–05:30"]
    assert [e.action for e in chosen if e.checked] == [SetQuietHours("01:00-05:30")]
    assert "Urgent ones still shown" in [e.text for e in chosen]


def test_muted_sources_are_listed_with_until_when_and_unmuted_from_the_menu() -> None:
    from traycourier.store.choices import Mute

    mutes = (
        Mute("backup", timestamps.fmt(NOW + timedelta(hours=1)), urgent_too=True),
        Mute("ci", None, urgent_too=False),
    )
    entries = find(build_menu(state(mutes=mutes), NOW), "Muted sources").children
    assert [e.action for e in entries] == [Unmute("backup"), Unmute("ci")]
    assert entries[0].text.startswith("Unmute backup (until ")
    assert entries[1].text == "Unmute ci (until unmuted, urgent ones shown)"
    empty = find(build_menu(state(), NOW), "Muted sources").children
    assert [(e.text, e.enabled) for e in empty] == [("None (traycourier mute SOURCE)", False)]


@pytest.mark.parametrize(
    ("closed", "said"),
    [("clicked", "clicked"), ("dismissed", "shown, dismissed"), ("expired", "shown, expired"),
     ("closed", "shown"), (None, "shown")],
)  # fmt: skip
def test_recent_says_how_a_popup_went(closed: str | None, said: str) -> None:
    item = RecentItem("n", "t", "info", None, read=True, delivery_status="sent",
                      closed_reason=closed)  # fmt: skip
    assert outcome(item, False, NOW) == said


def test_followed_sources_show_in_the_menu_once_there_is_one() -> None:
    """`traycourier source add`: the menu lists each followed database and how it goes."""
    assert "Followed sources" not in [e.text for e in build_menu(state(), NOW)]
    lines = ("reverbcode: following", "other: not followed now (see doctor)")
    entry = find(build_menu(state(sources=lines), NOW), "Followed sources")
    assert [c.text for c in entry.children] == list(lines)
    assert all(c.action is None for c in entry.children)


def test_in_quiet_hours_only_what_they_hold_is_held_in_recent() -> None:
    """The label asks `agent.policy.visibility`, as the claim does: during quiet hours an urgent one
    (it breaks through) is waiting to be shown; an info one is held until they end."""
    quiet_state = state(quiet_until=NOW + timedelta(hours=3), min_priority="info")

    def label(priority: str) -> str:
        item = RecentItem("n", "t", priority, None, read=False, delivery_status="queued")
        return recent_entry(item, quiet_state, NOW).text

    assert label("urgent").endswith("· waiting")
    assert label("info").endswith("· held")
    assert recent_entry(
        RecentItem("n", "t", "urgent", None, read=False, delivery_status="queued"),
        state(paused_until=NOW + timedelta(hours=1)),
        NOW,
    ).text.endswith("· held")


@pytest.mark.parametrize(
    ("changes", "header"),
    [
        ({}, "2 pending · last shown never"),
        ({"enabled": False}, "Notifications off · 2 pending · last shown never"),
        (
            {"paused_until": NOW + timedelta(hours=2), "failed": 1},
            f"Paused until {clock(NOW + timedelta(hours=2), NOW)} · 2 pending · 1 failed · "
            "last shown never",
        ),
        (
            {"quiet_until": NOW + timedelta(hours=8)},
            f"Quiet until {clock(NOW + timedelta(hours=8), NOW)} · 2 pending · last shown never",
        ),
    ],
)
def test_the_menu_header_names_what_holds_them_and_what_failed(
    changes: dict[str, object], header: str
) -> None:
    """Issue 26: "0 pending · last shown 23:47" while off, failed or in quiet hours said
    nothing of it."""
    assert build_menu(state(**changes), NOW)[0].text == header  # type: ignore[arg-type]
