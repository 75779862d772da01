"""What the tray shows, computed from plain state: the icon state, the tooltip and the menu.

Pure, so the whole menu can be tested without a display; `agent.tray` turns the entries into
pystray objects and actions into calls of `agent.controls`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from agent import APP_NAME
from store import schema

RECENT = 10


@dataclass(frozen=True)
class RecentItem:
    id: str
    title: str
    priority: str
    url: str | None
    read: bool


@dataclass(frozen=True)
class TrayState:
    enabled: bool
    paused_until: datetime | None
    min_priority: str
    pending: int
    failed: int
    last_delivered: datetime | None
    recent: tuple[RecentItem, ...]
    autostart: bool
    notifier_broken: bool
    version: str
    db_path: str


@dataclass(frozen=True)
class Entry:
    text: str
    action: str | None = None
    checked: bool | None = None
    radio: bool = False
    enabled: bool = True
    children: tuple[Entry, ...] = ()
    separator: bool = False


SEPARATOR = Entry("", separator=True)


def first_url(actions_json: str) -> str | None:
    """The first action's URL, whatever a producer wrote (a bad value means no link)."""
    try:
        actions = json.loads(actions_json)
    except (ValueError, TypeError):
        return None
    if isinstance(actions, list):
        for action in actions:
            if isinstance(action, dict) and isinstance(action.get("url"), str):
                return action["url"]
    return None


def is_paused(state: TrayState, now: datetime) -> bool:
    return state.paused_until is not None and state.paused_until > now


def icon_state(state: TrayState, now: datetime) -> str:
    """on, off, paused or attention (a delivery failed or the notifier is broken)."""
    if state.notifier_broken or state.failed:
        return "attention"
    if not state.enabled:
        return "off"
    if is_paused(state, now):
        return "paused"
    return "on"


def _clock(moment: datetime) -> str:
    local = moment.astimezone()
    if local.date() == datetime.now(local.tzinfo).date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


def tooltip(state: TrayState, now: datetime) -> str:
    if not state.enabled:
        words = "notifications off"
    elif is_paused(state, now):
        assert state.paused_until is not None
        words = f"paused until {_clock(state.paused_until)}"
    else:
        words = "on"
    if state.notifier_broken:
        words += " — the notifier is not working"
    elif state.failed:
        words += f" — {state.failed} failed"
    return f"{APP_NAME} — {words}"


def status_line(state: TrayState) -> str:
    last = _clock(state.last_delivered) if state.last_delivered else "never"
    return f"{state.pending} pending · last shown {last}"


def _shorten(text: str, limit: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_menu(state: TrayState, now: datetime) -> tuple[Entry, ...]:
    paused = is_paused(state, now)
    pause_label = (
        f"Paused until {_clock(state.paused_until)}" if paused and state.paused_until else "Pause"
    )
    recent = tuple(
        Entry(
            ("" if item.read else "● ") + _shorten(item.title),
            action=f"open:{item.id}",
            enabled=item.url is not None,
        )
        for item in state.recent
    ) or (Entry("No notifications yet", enabled=False),)
    return (
        Entry(status_line(state), enabled=False),
        SEPARATOR,
        Entry("Notifications enabled", action="toggle_enabled", checked=state.enabled),
        Entry(
            pause_label,
            children=(
                Entry("For 30 minutes", action="pause:30"),
                Entry("For 1 hour", action="pause:60"),
                Entry("Until tomorrow 08:00", action="pause:tomorrow"),
                Entry("Resume", action="resume", enabled=paused),
            ),
        ),
        Entry(
            "Minimum priority",
            children=tuple(
                Entry(
                    p.capitalize(), action=f"min:{p}", checked=p == state.min_priority, radio=True
                )
                for p in schema.PRIORITIES
            ),
        ),
        Entry(
            "Recent notifications",
            children=(*recent, SEPARATOR, Entry("Mark all read", action="mark_all_read")),
        ),
        Entry(f"Retry failed ({state.failed})", action="retry_failed", enabled=state.failed > 0),
        SEPARATOR,
        Entry("Open data folder", action="open_data"),
        Entry("Open log", action="open_log"),
        Entry("Start at login", action="toggle_autostart", checked=state.autostart),
        Entry(f"About {APP_NAME} {state.version}", action="about"),
        SEPARATOR,
        Entry("Quit", action="quit"),
    )


def as_plain(entries: tuple[Entry, ...]) -> list[dict[str, object]]:
    """The menu as JSON-able data (written for tests and support when asked to)."""
    out: list[dict[str, object]] = []
    for e in entries:
        if e.separator:
            out.append({"separator": True})
            continue
        item: dict[str, object] = {"text": e.text, "enabled": e.enabled}
        if e.checked is not None:
            item["checked"] = e.checked
        if e.children:
            item["children"] = as_plain(e.children)
        out.append(item)
    return out
