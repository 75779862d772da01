"""What a user can do: the tray menu and the CLI both call these, so each thing is done one way."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import webbrowser
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from store import Database, deliveries, settings, timestamps

log = logging.getLogger(__name__)


def set_enabled(db: Database, enabled: bool, now: datetime) -> None:
    settings.write_setting(db, "enable_notifications", enabled, now)


def set_min_priority(db: Database, priority: str, now: datetime) -> None:
    settings.write_setting(db, "min_priority", priority, now)


def tomorrow_at(now_local: datetime, hour: int = 8) -> datetime:
    """The next day's `hour` o'clock in the user's zone (pure)."""
    return datetime.combine(now_local.date() + timedelta(days=1), time(hour), now_local.tzinfo)


def pause_for(db: Database, minutes: int, now: datetime) -> None:
    until = now + timedelta(minutes=minutes)
    settings.write_setting(db, "paused_until", timestamps.fmt(until), now)


def pause_until_tomorrow(db: Database, now: datetime) -> None:
    until = tomorrow_at(now.astimezone())
    settings.write_setting(db, "paused_until", timestamps.fmt(until), now)


def resume(db: Database, now: datetime) -> None:
    settings.write_setting(db, "paused_until", None, now)


def retry_failed(db: Database, now: datetime) -> int:
    return deliveries.retry_failed(db, now)


def mark_all_read(db: Database, now: datetime) -> int:
    return deliveries.mark_all_read(db, now)


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def open_url(url: str) -> bool:
    """Open an http(s) address in the browser; anything else is refused and logged."""
    if not is_web_url(url):
        log.warning("refused to open %r: only http(s) addresses are opened", url)
        return False
    return webbrowser.open(url)


def open_path(path: Path) -> None:
    """Show a folder or file with the desktop's default application."""
    if sys.platform.startswith("win"):
        os.startfile(path)  # type: ignore[attr-defined]
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    try:
        subprocess.Popen([opener, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as err:
        log.warning("cannot open %s: %s", path, err)
