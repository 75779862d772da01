"""What a user can do. The tray menu and the CLI both call these, so each thing is done one
way: a setting changed from the menu and from `traycourier settings set` takes one path."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from traycourier.agent.policy import textfit
from traycourier.agent.system import autostart, ostype
from traycourier.store import Database, mutes, queries, settings, timestamps
from traycourier.store.actions import is_web_url
from traycourier.store.choices import Mute
from traycourier.store.model import Priority

log = logging.getLogger(__name__)


def set_setting(db: Database, key: str, value: Any, now: datetime) -> Any:
    """Validate and store one setting; returns the stored value (InvalidInput if bad)."""
    return settings.write_setting(db, key, value, now)


def set_burst(db: Database, limit: int, window_seconds: int, now: datetime) -> None:
    """Both of a storm's limits, or neither: each is checked before either is stored."""
    settings.validate("burst_limit", limit)
    settings.validate("burst_window_seconds", window_seconds)
    set_setting(db, "burst_limit", limit, now)
    set_setting(db, "burst_window_seconds", window_seconds, now)


def set_enabled(db: Database, enabled: bool, now: datetime) -> None:
    set_setting(db, "enable_notifications", enabled, now)


def set_min_priority(db: Database, priority: Priority, now: datetime) -> None:
    set_setting(db, "min_priority", priority.value, now)


def next_morning(now_local: datetime, hour: int = 8) -> datetime:
    """The next `hour` o'clock in the user's zone (pure): later today when it is still
    before that hour ("until 08:00" clicked at 01:24 means 6½ hours, not 31)."""
    today = datetime.combine(now_local.date(), time(hour), now_local.tzinfo)
    return today if now_local < today else today + timedelta(days=1)


def pause_for(db: Database, minutes: int, now: datetime) -> None:
    set_setting(db, "paused_until", timestamps.fmt(now + timedelta(minutes=minutes)), now)


def pause_until_morning(db: Database, now: datetime) -> None:
    set_setting(db, "paused_until", timestamps.fmt(next_morning(now.astimezone())), now)


def resume(db: Database, now: datetime) -> None:
    set_setting(db, "paused_until", None, now)


def retry_failed(db: Database, now: datetime, device: str = "") -> int:
    """Requeue this device's failed deliveries."""
    return db.retry_failed(now, device)


def mark_all_read(db: Database, now: datetime) -> int:
    return queries.mark_all_read(db, now)


def mute(
    db: Database, source: str, until: datetime | None, urgent_too: bool, now: datetime
) -> Mute:
    """New notifications from `source` are skipped (`muted`) until `until` (None: until
    unmuted)."""
    return mutes.mute(db, source, until, urgent_too, now)


def mute_for(db: Database, source: str, minutes: int, now: datetime) -> Mute:
    """The tray's "Mute <source> for 1 hour" (urgent ones too, as its label says)."""
    return mute(db, source, now + timedelta(minutes=minutes), True, now)


def mute_until_morning(db: Database, source: str, now: datetime) -> Mute:
    return mute(db, source, next_morning(now.astimezone()), True, now)


def unmute(db: Database, source: str) -> bool:
    return mutes.unmute(db, source)


def snooze(
    db: Database, notification_id: str, until: datetime, now: datetime, device: str = ""
) -> None:
    """Show a notification that was shown (on this device) once more at `until`
    (InvalidInput if it was not shown)."""
    db.snooze(notification_id, until, now, device)


def mark_read(db: Database, notification_id: str, now: datetime) -> None:
    queries.mark_read(db, notification_id, now)


def set_autostart(enabled: bool, db: Path | str | None = None) -> str:
    """Switch start at login on or off, for the agent on `db`; returns where the entry
    lives."""
    mechanism = autostart.for_platform(db=db)
    return mechanism.enable() if enabled else mechanism.disable()


def autostart_enabled() -> bool:
    return autostart.for_platform().is_enabled()


Complaint = Callable[[str], None]
"""Tells the user that something they asked for could not be done (the tray shows it)."""


def open_url(url: str, complain: Complaint) -> bool:
    """Open an http(s) address in the browser; anything else is refused, said and logged."""
    if not is_web_url(url):
        log.warning("refused to open %r: only http(s) addresses are opened", url)
        complain(f"Only web (http/https) links are opened, not {url[:80]}")
        return False
    return open_with_desktop(url, complain)


def opener_command(platform: ostype.Platform, target: str) -> list[str] | None:
    """The program that shows `target` (an address, or a path made absolute) with the
    desktop's default application (pure); None on Windows, where the shell API does it.
    An address stays text: `Path("https://a/b")` is `https:/a/b`."""
    if platform == "windows":
        return None
    return ["open" if platform == "darwin" else "xdg-open", target]


def open_path(path: Path, complain: Complaint) -> bool:
    """Show a folder or file with the desktop's default application."""
    return open_with_desktop(str(path.absolute()), complain)


def open_with_desktop(target: str, complain: Complaint) -> bool:
    """Hand `target` to the desktop's opener (xdg-open, open, the Windows shell). The child is
    waited for on a thread of its own, so none is left a zombie, and when it fails (no file
    manager or browser installed: xdg-open exits 3) the user is told and the log says why."""
    command = opener_command(ostype.current(), target)
    try:
        if command is None:
            os.startfile(target)  # type: ignore[attr-defined]
            return True
        child = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
    except OSError as err:
        log.warning("cannot open %s: %s", target, err)
        complain(f"Cannot open {target}: {err.strerror or err}")
        return False

    def reap() -> None:
        _out, err = child.communicate()
        if child.returncode != 0:
            why = " ".join(err.split()) or f"{command[0]} exited {child.returncode}"
            log.warning("cannot open %s: %s", target, why)  # the whole of it
            shown = textfit.cut(target, 60)
            complain(f"No application is set to open {shown}. Details are in the log.")

    threading.Thread(target=reap, name="opener", daemon=True).start()
    return True
