"""The tray's menu, tooltip and icon state, built from plain state without a display."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent import controls, icons
from agent.tray_model import (
    RecentItem,
    TrayState,
    as_plain,
    build_menu,
    first_url,
    icon_state,
    tooltip,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def state(**changes: object) -> TrayState:
    base = {
        "enabled": True,
        "paused_until": None,
        "min_priority": "action",
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
        "Notifications enabled",
        "Pause",
        "Minimum priority",
        "Recent notifications",
        "Retry failed (0)",
        "Open data folder",
        "Open log",
        "Start at login",
        "About traycourier 9.9",
        "Quit",
    ]


@pytest.mark.parametrize("enabled", [True, False])
def test_enabled_checkbox_follows_the_setting(enabled: bool) -> None:
    entry = find(build_menu(state(enabled=enabled), NOW), "Notifications enabled")
    assert entry.checked is enabled and entry.action == "toggle_enabled"


@pytest.mark.parametrize("minimum", ["urgent", "action", "warning", "info"])
def test_minimum_priority_is_a_radio_group_with_one_checked(minimum: str) -> None:
    group = find(build_menu(state(min_priority=minimum), NOW), "Minimum priority").children
    assert [e.text for e in group] == ["Urgent", "Action", "Warning", "Info"]
    assert all(e.radio for e in group)
    assert [e.text.lower() for e in group if e.checked] == [minimum]


def test_pause_submenu_and_resume_only_while_paused() -> None:
    menu = build_menu(state(), NOW)
    pause = find(menu, "Pause")
    assert [(e.text, e.action, e.enabled) for e in pause.children] == [
        ("For 30 minutes", "pause:30", True),
        ("For 1 hour", "pause:60", True),
        ("Until tomorrow 08:00", "pause:tomorrow", True),
        ("Resume", "resume", False),
    ]
    paused = build_menu(state(paused_until=NOW + timedelta(minutes=30)), NOW)
    assert find(paused, "Paused until").children[-1].enabled


def test_retry_failed_is_disabled_at_zero() -> None:
    assert not find(build_menu(state(failed=0), NOW), "Retry failed").enabled
    entry = find(build_menu(state(failed=3), NOW), "Retry failed (3)")
    assert entry.enabled and entry.action == "retry_failed"


def test_recent_notifications_link_only_web_addresses() -> None:
    recent = (
        RecentItem("ntf_1", "with link", "urgent", "https://x.example", read=False),
        RecentItem("ntf_2", "no link", "info", None, read=True),
    )
    items = find(build_menu(state(recent=recent), NOW), "Recent notifications").children
    assert [(e.text, e.action, e.enabled) for e in items if not e.separator] == [
        ("● with link", "open:ntf_1", True),
        ("no link", "open:ntf_2", False),
        ("Mark all read", "mark_all_read", True),
    ]


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


@pytest.mark.parametrize(
    ("actions_json", "url"),
    [
        ('[{"label": "Open", "url": "https://a"}]', "https://a"),
        ("[]", None),
        ("not json", None),
        ('[{"label": "x"}, "junk", {"url": 7}]', None),
    ],
)
def test_first_url(actions_json: str, url: str | None) -> None:
    assert first_url(actions_json) == url


@pytest.mark.parametrize(
    ("url", "opened"),
    [
        ("https://example.com/x", True),
        ("http://example.com", True),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
        ("mailto:a@b", False),
        ("https:///no-host", False),
    ],
)
def test_only_web_addresses_are_opened(url: str, opened: bool) -> None:
    assert controls.is_web_url(url) is opened


def test_tomorrow_at_eight_in_the_users_zone() -> None:
    local = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    assert controls.tomorrow_at(local) == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_each_icon_state_is_drawn_differently_from_one_source() -> None:
    drawn = {s: icons.render(s, 32).tobytes() for s in icons.STATES}
    assert len(set(drawn.values())) == len(icons.STATES)
    assert all(icons.render(s, 32).size == (32, 32) for s in icons.STATES)
    with pytest.raises(ValueError):
        icons.render("sparkly")
