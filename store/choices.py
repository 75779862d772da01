"""What the user chose: the settings snapshot with its defaults, quiet-hours windows, and
muted sources. Pure, like `store.model`, whose words it is built on: reading and writing them
is `store.settings` and `store.mutes`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, time

from traycourier.store import timestamps
from traycourier.store.model import RANKS, Code, Priority


@dataclass(frozen=True)
class Mute:
    """Notifications from `source` are skipped (`muted`) until `until` (UTC; None: until
    unmuted); urgent ones too unless `urgent_too` is False."""

    source: str
    until: str | None
    urgent_too: bool = True

    def applies(self, priority: object, now: datetime) -> bool:
        if self.until is not None and timestamps.parse(self.until) <= now:
            return False
        return self.urgent_too or priority != Priority.URGENT.value


TRAY_ICONS = ("color", "white", "black")


_WINDOW = re.compile(r"^\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)\s*$")


@dataclass(frozen=True)
class Window:
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_window(text: str) -> Window | None:
    """`22:00-07:00` (across midnight when the end is earlier), or "" / off for none.
    Raises ValueError for anything else, and for a window that starts where it ends."""
    if text.strip().lower() in ("", "off", "none"):
        return None
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"quiet hours are HH:MM-HH:MM (like 22:00-07:00) or off, not {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    window = Window(time(h1, m1), time(h2, m2))
    if window.start == window.end:
        raise ValueError("quiet hours must not start and end at the same time")
    return window


@dataclass(frozen=True)
class Settings:
    """The user's settings as one snapshot; the field defaults are the contract's defaults.

    Absent keys in the file mean "default", so a newer version can change a default without
    a migration.
    """

    enable_notifications: bool = True
    min_priority: str = Priority.INFO.value
    """Everything shows until the user says otherwise: a title-only INSERT gets `info`."""
    paused_until: str | None = None
    max_age_seconds: int = 86400
    burst_limit: int = 3
    """At most this many popups of one source within `burst_window_seconds`; the rest are
    folded into that source's summary (`agent.policy.burst`). 0: never fold."""
    burst_window_seconds: int = 10
    """The storm window; 0 counts only what is due at once (the contract's burst)."""
    quiet_hours: str = ""
    """A daily local window, `22:00-07:00`; "" for none."""
    quiet_weekdays_only: bool = False
    quiet_breakthrough: str = Priority.URGENT.value
    """During quiet hours this priority and above are shown as usual."""
    tray_icon: str = "color"
    """The tray icon's look: `color` (a coloured tile, for any panel), or a monochrome
    glyph, `white` for a dark panel or `black` for a light one (`TRAY_ICONS`)."""

    def is_paused(self, now: datetime) -> bool:
        return self.paused_until is not None and timestamps.parse(self.paused_until) > now

    def paused_until_time(self) -> datetime | None:
        return timestamps.parse(self.paused_until) if self.paused_until else None

    def quiet_window(self) -> Window | None:
        """The window, or None when unset or unreadable (validation keeps it readable)."""
        try:
            return parse_window(self.quiet_hours)
        except ValueError:
            return None

    def withheld(self, priority: str, now: datetime) -> Code | None:
        """Why a notification of `priority` arriving now would not be shown at once, in the
        order routing applies the rules: below the minimum and switched off drop it (code
        `min_priority`, `disabled`); a pause holds it until `paused_until` (`PAUSED`)."""
        if RANKS.get(priority, len(RANKS)) > RANKS.get(self.min_priority, 1):
            return Code.MIN_PRIORITY
        if not self.enable_notifications:
            return Code.DISABLED
        if self.is_paused(now):
            return Code.PAUSED
        return None


DEFAULTS: dict[str, object] = asdict(Settings())
"""Every settings key with its default, in the order the CLI lists them."""
