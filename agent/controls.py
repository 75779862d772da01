"""What a user can do. The tray menu and the CLI both call these, so each thing is done one
way: a setting changed from the menu and from `traycourier settings set` takes one path."""

from __future__ import annotations

import logging
import os
import subprocess
import webbrowser
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from traycourier.agent import autostart, ostype
from traycourier.store import Database, housekeeping, queries, settings, timestamps
from traycourier.store.model import Priority, is_web_url

log = logging.getLogger(__name__)


def set_setting(db: Database, key: str, value: Any, now: datetime) -> Any:
    """Validate and store one setting; returns the stored value (InvalidInput if bad)."""
    return settings.write_setting(db, key, value, now)


def set_enabled(db: Database, enabled: bool, now: datetime) -> None:
    set_setting(db, "enable_notifications", enabled, now)


def set_min_priority(db: Database, priority: Priority, now: datetime) -> None:
    set_setting(db, "min_priority", priority.value, now)


def tomorrow_at(now_local: datetime, hour: int = 8) -> datetime:
    """The next day's `hour` o'clock in the user's zone (pure)."""
    return datetime.combine(now_local.date() + timedelta(days=1), time(hour), now_local.tzinfo)


def pause_for(db: Database, minutes: int, now: datetime) -> None:
    set_setting(db, "paused_until", timestamps.fmt(now + timedelta(minutes=minutes)), now)


def pause_until_tomorrow(db: Database, now: datetime) -> None:
    set_setting(db, "paused_until", timestamps.fmt(tomorrow_at(now.astimezone())), now)


def resume(db: Database, now: datetime) -> None:
    set_setting(db, "paused_until", None, now)


def retry_failed(db: Database, now: datetime) -> int:
    return housekeeping.retry_failed(db, now)


def mark_all_read(db: Database, now: datetime) -> int:
    return queries.mark_all_read(db, now)


def set_autostart(enabled: bool) -> str:
    """Switch start at login on or off; returns where the entry lives."""
    mechanism = autostart.for_platform()
    return mechanism.enable() if enabled else mechanism.disable()


def autostart_enabled() -> bool:
    return autostart.for_platform().is_enabled()


def open_url(url: str) -> bool:
    """Open an http(s) address in the browser; anything else is refused and logged."""
    if not is_web_url(url):
        log.warning("refused to open %r: only http(s) addresses are opened", url)
        return False
    return webbrowser.open(url)


def opener_command(platform: ostype.Platform, path: Path) -> list[str] | None:
    """The program that shows `path` with the desktop's default application (pure);
    None on Windows, where the shell API does it."""
    if platform == "windows":
        return None
    return ["open" if platform == "darwin" else "xdg-open", str(path)]


def open_path(path: Path) -> None:
    """Show a folder or file with the desktop's default application."""
    command = opener_command(ostype.current(), path)
    try:
        if command is None:
            os.startfile(path)  # type: ignore[attr-defined]
        else:
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as err:
        log.warning("cannot open %s: %s", path, err)
