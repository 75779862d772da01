"""What a user's action does to the database, whichever window it came from: the tray menu,
the history page (in the tray or headless). The tray adds what only it can do (its icon,
folders, About, Quit); the CLI calls the same `controls` functions directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from traycourier.agent.engine import controls, popups
from traycourier.agent.engine.runtime import RuntimeConfig
from traycourier.agent.policy.menu_actions import (
    AnswerRecent,
    MarkAllRead,
    MenuAction,
    MuteFor,
    MuteUntilMorning,
    OpenRecent,
    PauseFor,
    PauseUntilMorning,
    Resume,
    RetryFailed,
    SetBurst,
    SetEnabled,
    SetMinPriority,
    SetQuietHours,
    SetTrayIcon,
    Snooze,
    Unmute,
)
from traycourier.store import Database

Tell = Callable[[str, str], None]
"""Tells the user something as a notification (title, body): an answer that came second."""


def do(
    db: Database,
    config: RuntimeConfig,
    action: MenuAction,
    now: datetime,
    tell: Tell,
    complain: controls.Complaint,
) -> bool:
    """Carry out a user's action on the data; False when it is not one (a window's own)."""
    match action:
        case SetEnabled(enabled):
            controls.set_enabled(db, enabled, now)
        case PauseFor(minutes):
            controls.pause_for(db, minutes, now)
        case PauseUntilMorning():
            controls.pause_until_morning(db, now)
        case Resume():
            controls.resume(db, now)
        case SetMinPriority(priority):
            controls.set_min_priority(db, priority, now)
        case SetTrayIcon(look):
            controls.set_setting(db, "tray_icon", look, now)
        case OpenRecent(notification_id, url, _title):
            controls.mark_read(db, notification_id, now)
            if url:
                controls.open_url(url, complain)
        case AnswerRecent(notification_id, choice):
            device = config.device_name if db.is_server else ""
            popups.answer(db, notification_id, choice, device, now, tell)
        case Snooze(notification_id, minutes):
            until = now + timedelta(minutes=minutes)
            controls.snooze(db, notification_id, until, now, config.device)
        case MuteFor(source, minutes):
            controls.mute_for(db, source, minutes, now)
        case MuteUntilMorning(source):
            controls.mute_until_morning(db, source, now)
        case Unmute(source):
            controls.unmute(db, source)
        case SetQuietHours(window):
            controls.set_setting(db, "quiet_hours", window, now)
        case SetBurst(limit, window_seconds):
            controls.set_burst(db, limit, window_seconds, now)
        case MarkAllRead():
            controls.mark_all_read(db, now)
        case RetryFailed():
            controls.retry_failed(db, now, config.device)
        case _:
            return False
    return True
