"""What the tray shows, computed from plain state: the icon state, the tooltip and the menu.

Pure, so the whole menu can be tested without a display. Each clickable entry carries its
action as a value (`agent.policy.menu_actions`); `agent.tray.app` turns entries into pystray objects
and runs the actions through `agent.engine.controls`, the functions the CLI uses too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from traycourier.agent import APP_NAME
from traycourier.agent.policy import visibility
from traycourier.agent.policy.menu_actions import (
    About,
    AnswerRecent,
    MarkAllRead,
    MenuAction,
    MuteFor,
    MuteUntilMorning,
    OpenDataFolder,
    OpenLog,
    OpenRecent,
    PauseFor,
    PauseUntilMorning,
    Quit,
    Resume,
    RetryFailed,
    SetAutostart,
    SetEnabled,
    SetMinPriority,
    SetQuietHours,
    SetTrayIcon,
    ShowHistory,
    ShowStatus,
    Snooze,
    Unmute,
)
from traycourier.agent.policy.quiet import QuietNow
from traycourier.agent.policy.recent import RecentItem, clock, recent_label, shorten
from traycourier.store import timestamps
from traycourier.store.choices import Mute, Settings
from traycourier.store.model import Priority

RECENT = 10


# -- state and entries ----------------------------------------------------------------------


@dataclass(frozen=True)
class TrayState:
    settings: Settings
    pending: int
    failed: int
    last_delivered: datetime | None
    recent: tuple[RecentItem, ...]
    autostart: bool
    notifier_broken: bool
    version: str
    db_path: str
    agent_failing: bool = False
    """Ticks are failing (database locked or broken, an internal error): see the log."""
    quiet_until: datetime | None = None
    """Inside quiet hours: when they end (UTC)."""
    mutes: tuple[Mute, ...] = ()
    sources: tuple[str, ...] = ()
    """One line per followed database: its name and whether it is followed now."""


@dataclass(frozen=True)
class Entry:
    text: str
    action: MenuAction | None = None
    checked: bool | None = None
    radio: bool = False
    enabled: bool = True
    children: tuple[Entry, ...] = ()
    separator: bool = False
    default: bool = False
    """Run by a left click on the icon (XEmbed hosts; StatusNotifier hosts open the menu)."""


SEPARATOR = Entry("", separator=True)


QUIET_PRESETS = ("22:00-07:00", "23:00-08:00", "21:00-06:00")


def quiet_entries(current: Settings) -> tuple[Entry, ...]:
    """Off, a few nightly windows, and the window in force when it is none of them."""
    windows = list(QUIET_PRESETS)
    if current.quiet_hours and current.quiet_hours not in windows:
        windows.append(current.quiet_hours)
    through = current.quiet_breakthrough
    return (
        Entry("Off", action=SetQuietHours(""), checked=not current.quiet_hours, radio=True),
        *(
            Entry(
                window.replace("-", "–"),
                action=SetQuietHours(window),
                checked=window == current.quiet_hours,
                radio=True,
            )
            for window in windows
        ),
        SEPARATOR,
        Entry(f"{through.capitalize()} ones still shown", enabled=False),
    )


def muted_entries(state: TrayState, now: datetime) -> tuple[Entry, ...]:
    """One "Unmute" per muted source, saying until when and whether urgent ones come."""
    entries = tuple(
        Entry(
            f"Unmute {shorten(m.source, 30)} ("
            + (f"until {clock(timestamps.parse(m.until), now)}" if m.until else "until unmuted")
            + ("" if m.urgent_too else ", urgent ones shown")
            + ")",
            action=Unmute(m.source),
        )
        for m in state.mutes
    )
    return entries or (Entry("None (traycourier mute SOURCE)", enabled=False),)


SNOOZES = ((10, "Show again in 10 minutes"), (60, "Show again in 1 hour"))


def morning(now: datetime) -> str:
    """When "until the morning" ends, in words: 08:00, or tomorrow 08:00."""
    return "08:00" if now.astimezone().hour < 8 else "tomorrow 08:00"


def recent_entry(item: RecentItem, state: TrayState, now: datetime) -> Entry:
    """One Recent notification: open or mark read, show again later, mute its source. A
    waiting one says "held" when `agent.policy.visibility` holds it (a pause, quiet hours)."""
    hold = QuietNow(state.quiet_until is not None, state.quiet_until)
    moment = visibility.Moment(state.settings, now, {m.source: m for m in state.mutes}, hold)
    held = visibility.judge(item.priority, item.source, None, moment).fate == visibility.Fate.HELD
    children = list(action_entries(item))
    if item.shown:
        children += [Entry(text, action=Snooze(item.id, minutes)) for minutes, text in SNOOZES]
    if item.source:
        name = shorten(item.source, 30)
        if any(m.source == item.source for m in state.mutes):
            children += [SEPARATOR, Entry(f"Unmute {name}", action=Unmute(item.source))]
        else:
            children += [
                SEPARATOR,
                Entry(f"Mute {name} for 1 hour (urgent ones too)", action=MuteFor(item.source, 60)),
                Entry(
                    f"Mute {name} until {morning(now)} (urgent ones too)",
                    action=MuteUntilMorning(item.source),
                ),
            ]
    return Entry(recent_label(item, held, now), children=tuple(children))


def action_entries(item: RecentItem) -> tuple[Entry, ...]:
    """Each of its links and answers with the producer's own label (a popup shows three
    at most, and timed out; here every one stays), or Mark read when it has none."""
    entries = []
    for action in item.actions:
        label = shorten(action.label, 40)
        if action.url is not None:
            entries.append(Entry(label, action=OpenRecent(item.id, action.url, item.title)))
        elif item.answer is None:
            entries.append(Entry(label, action=AnswerRecent(item.id, action.answer or label)))
        else:
            entries.append(Entry(label, enabled=False))  # answered: the entry's label says
    if not any(a.url is not None for a in item.actions):
        entries.insert(0, Entry("Mark read", action=OpenRecent(item.id, None, item.title)))
    return tuple(entries)


def icon_state(state: TrayState, now: datetime) -> str:
    """on, off, paused, quiet or attention (a delivery failed or the notifier is broken)."""
    if state.notifier_broken or state.failed or state.agent_failing:
        return "attention"
    if not state.settings.enable_notifications:
        return "off"
    if state.settings.is_paused(now):
        return "paused"
    if state.quiet_until is not None:
        return "quiet"
    return "on"


def held_words(state: TrayState, now: datetime) -> str | None:
    """What keeps notifications from showing now, in the tooltip's and the header's words;
    None when they show."""
    resume = state.settings.paused_until_time()
    if not state.settings.enable_notifications:
        return "notifications off"
    if resume is not None and state.settings.is_paused(now):
        return f"paused until {clock(resume, now)}"
    if state.quiet_until is not None:
        return f"quiet until {clock(state.quiet_until, now)}"
    return None


def tooltip(state: TrayState, now: datetime) -> str:
    words = held_words(state, now) or "on"
    if state.agent_failing:
        words += " — not delivering, see the log"
    elif state.notifier_broken:
        words += " — the notifier is not working"
    elif state.failed:
        words += f" — {state.failed} failed"
    return f"{APP_NAME} — {words}"


def status_line(state: TrayState, now: datetime) -> str:
    """The menu's first line: what holds them (off, paused, quiet), what waits and failed,
    and the last one shown ("Paused until 14:00 · 2 pending · 1 failed · last shown 13:47")."""
    last = clock(state.last_delivered, now) if state.last_delivered else "never"
    held = held_words(state, now)
    parts = [held[0].upper() + held[1:]] if held else []
    parts.append(f"{state.pending} pending")
    if state.failed:
        parts.append(f"{state.failed} failed")
    return " · ".join([*parts, f"last shown {last}"])


def source_entries(state: TrayState) -> tuple[Entry, ...]:
    """Followed databases (`traycourier source add`), only once there is one."""
    if not state.sources:
        return ()
    return (Entry("Followed sources", children=tuple(Entry(line) for line in state.sources)),)


def build_menu(state: TrayState, now: datetime) -> tuple[Entry, ...]:
    current = state.settings
    resume = current.paused_until_time()
    paused = current.is_paused(now)
    pause_label = f"Paused until {clock(resume, now)}" if paused and resume else "Pause"
    recent = tuple(recent_entry(item, state, now) for item in state.recent) or (
        Entry("No notifications yet", enabled=False),
    )
    return (
        Entry(status_line(state, now), action=ShowStatus(), default=True),
        Entry("Show all notifications…", action=ShowHistory()),
        SEPARATOR,
        Entry(
            "Notifications enabled",
            action=SetEnabled(not current.enable_notifications),
            checked=current.enable_notifications,
        ),
        Entry(
            pause_label,
            children=(
                Entry("For 30 minutes", action=PauseFor(30)),
                Entry("For 1 hour", action=PauseFor(60)),
                Entry(f"Until {morning(now)}", action=PauseUntilMorning()),
                Entry("Resume", action=Resume(), enabled=paused),
            ),
        ),
        Entry("Quiet hours", children=quiet_entries(current)),
        Entry(
            "Minimum priority",
            children=tuple(
                Entry(
                    p.value.capitalize(),
                    action=SetMinPriority(p),
                    checked=p == current.min_priority,
                    radio=True,
                )
                for p in Priority
            ),
        ),
        Entry(
            "Recent notifications",
            children=(*recent, SEPARATOR, Entry("Mark all read", action=MarkAllRead())),
        ),
        Entry("Muted sources", children=muted_entries(state, now)),
        *source_entries(state),
        Entry(f"Retry failed ({state.failed})", action=RetryFailed(), enabled=state.failed > 0),
        SEPARATOR,
        Entry("Open data folder", action=OpenDataFolder()),
        Entry("Open log", action=OpenLog()),
        Entry("Start at login", action=SetAutostart(not state.autostart), checked=state.autostart),
        Entry("Tray icon", children=tray_icon_entries(current)),
        Entry(f"About {APP_NAME} {state.version}", action=About()),
        SEPARATOR,
        Entry("Quit", action=Quit()),
    )


TRAY_ICON_LOOKS = (
    ("color", "Coloured (any panel)"),
    ("white", "White (a dark panel)"),
    ("black", "Black (a light panel)"),
)


def tray_icon_entries(current: Settings) -> tuple[Entry, ...]:
    """The icon's look: the coloured tile, or a monochrome glyph for panels whose own icons
    are monochrome."""
    return tuple(
        Entry(text, action=SetTrayIcon(look), checked=current.tray_icon == look, radio=True)
        for look, text in TRAY_ICON_LOOKS
    )


def leaves(entries: tuple[Entry, ...]) -> list[Entry]:
    """The clickable entries, depth-first: the order a menu's slots are made in."""
    out: list[Entry] = []
    for e in entries:
        if e.children:
            out += leaves(e.children)
        elif not e.separator:
            out.append(e)
    return out


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
