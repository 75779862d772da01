"""The user's settings: validating and parsing values, and reading/writing them.

The keys and defaults are `store.choices.Settings`. Values are JSON text, so a producer or a
shell script can read them with json_extract.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from traycourier.store import dialects, schema, timestamps
from traycourier.store.choices import DEFAULTS, TRAY_ICONS, Settings, parse_window
from traycourier.store.db import Database
from traycourier.store.errors import InvalidInput
from traycourier.store.model import PRIORITIES

log = logging.getLogger(__name__)


def validate(key: str, value: Any) -> Any:
    """Check a typed value for a key; return it normalised or raise InvalidInput."""
    if key not in DEFAULTS:
        raise InvalidInput(f"unknown setting {key!r}; known: {', '.join(DEFAULTS)}")
    if key in ("enable_notifications", "quiet_weekdays_only"):
        if not isinstance(value, bool):
            raise InvalidInput(f"{key} must be true or false")
        return value
    if key in ("min_priority", "quiet_breakthrough"):
        if value not in PRIORITIES:
            raise InvalidInput(f"{key} must be one of {', '.join(PRIORITIES)}")
        return value
    if key == "tray_icon":
        if value not in TRAY_ICONS:
            raise InvalidInput(f"tray_icon must be one of {', '.join(TRAY_ICONS)}")
        return value
    if key == "quiet_hours":
        try:
            window = parse_window(value) if isinstance(value, str) else None
        except ValueError as err:
            raise InvalidInput(str(err)) from None
        if window is None and value not in ("", "off", None):
            raise InvalidInput("quiet_hours must be text like 22:00-07:00, or empty for none")
        return str(window) if window else ""
    if key == "paused_until":
        if value is None:
            return None
        try:
            moment = timestamps.parse(value)
        except ValueError as err:
            raise InvalidInput(f"paused_until must be a UTC timestamp or null: {err}") from None
        return _in_range(moment)
    # the integer keys
    highest = INTEGER_LIMITS[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
        raise InvalidInput(f"{key} must be a whole number from 0 to {highest}")
    return value


INTEGER_LIMITS = {
    "max_age_seconds": 100 * 365 * 86400,
    "burst_limit": 10_000,
    "burst_window_seconds": 86400,
}
"""Past these a value means nothing more (a century; more summaries than a screen holds),
and every value up to them is one the agent can compute with."""


def _in_range(moment: datetime) -> str:
    if not timestamps.in_range(moment):
        raise InvalidInput(
            f"paused_until must be between {timestamps.EARLIEST:%Y-%m-%d} and "
            f"{timestamps.LATEST:%Y-%m-%d} (UTC)"
        )
    return timestamps.fmt(moment)


_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_text(key: str, text: str, now: datetime) -> Any:
    """Turn what a user typed (CLI) into the typed value for `key`.

    `paused_until` takes `30m`, `2h`, `1d`, `08:00` (the next one), an ISO time (local
    time if it has no zone), or `off`; a time already past is refused; booleans take
    true/false/on/off/yes/no/1/0.
    """
    raw = text.strip()
    lowered = raw.lower()
    if key not in DEFAULTS:
        raise InvalidInput(f"unknown setting {key!r}; known: {', '.join(DEFAULTS)}")
    if key in ("enable_notifications", "quiet_weekdays_only"):
        if lowered in ("true", "on", "yes", "1"):
            return True
        if lowered in ("false", "off", "no", "0"):
            return False
        raise InvalidInput(f"{key} takes true or false, not {raw!r}")
    if key in ("min_priority", "quiet_breakthrough", "quiet_hours", "tray_icon"):
        return validate(key, lowered)
    if key == "paused_until":
        if lowered in ("off", "none", "null", "resume", ""):
            return None
        end = _pause_end(raw, lowered, now)
        stamp = _in_range(end)
        _not_past(raw, end, now)
        return stamp
    try:
        number = int(raw)
    except ValueError:
        raise InvalidInput(f"{key} takes a whole number, not {raw!r}") from None
    return validate(key, number)


def parse_until(text: str, now: datetime) -> datetime:
    """An end time a user typed: `30m`, `2h`, `1d`, `08:00` (the next 08:00, as the tray
    offers and quiet hours read), or an ISO time (local if it has no zone); InvalidInput
    otherwise, and for a time already past."""
    raw = text.strip()
    try:
        end = _pause_end(raw, raw.lower(), now)
    except InvalidInput:
        raise InvalidInput(f"expected 30m, 2h, 1d, 08:00 or an ISO time, not {raw!r}") from None
    _not_past(raw, end, now)
    return end


def _not_past(raw: str, end: datetime, now: datetime) -> None:
    if end <= now:
        raise InvalidInput(f"{raw} is already past; give a later time, or 30m, 2h, 08:00")


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _next_clock(hour: int, minute: int, now: datetime) -> datetime:
    """The next local HH:MM after `now`: today's if it is still ahead, else tomorrow's."""
    day = now.astimezone().date()
    moment = datetime.combine(day, time(hour, minute)).astimezone()  # local wall clock
    if moment <= now:
        moment = datetime.combine(day + timedelta(days=1), time(hour, minute)).astimezone()
    return moment.astimezone(UTC)


def _pause_end(raw: str, lowered: str, now: datetime) -> datetime:
    match = _DURATION.match(lowered)
    clock = _CLOCK.match(lowered)
    try:
        if clock:
            return _next_clock(int(clock.group(1)), int(clock.group(2)), now)
        if match:
            seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
            return now + timedelta(seconds=seconds)
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            moment = moment.astimezone()  # a user's wall-clock time means local time
        return moment.astimezone(UTC)
    except ValueError:
        raise InvalidInput(
            f"paused_until takes 30m, 2h, 08:00, an ISO time or off, not {raw!r}"
        ) from None
    except OverflowError:
        raise InvalidInput(f"paused_until {raw!r} is too far away") from None


_warned: set[tuple[str, str]] = set()
MAX_VALUE_CHARS = 1000
"""Longer than any value a setting can hold: a longer one is broken, and is not carried into
the agent (a 50 MB value parsed on every tick took most of a core and 390 MB)."""
_S = schema.settings
_READ = select(_S.c.key, case((func.length(_S.c.value) <= MAX_VALUE_CHARS, _S.c.value)))


def read_settings(db: Database) -> Settings:
    """All settings, defaults filled in. A value a foreign writer broke falls back to its
    default rather than stopping the agent."""
    with db.read() as conn:
        return settings_in(conn)


def settings_in(conn: Connection) -> Settings:
    """`read_settings`, inside a read the caller holds (`store.glance`)."""
    rows = conn.execute(_READ).all()
    values: dict[str, Any] = dict(DEFAULTS)
    for key, text in rows:
        if not isinstance(key, str) or key not in DEFAULTS:
            continue
        if text is None:  # the column is NOT NULL: it was longer than any setting
            _warn_once(key, "...", ValueError(f"longer than {MAX_VALUE_CHARS} characters"))
            continue
        try:
            values[key] = validate(key, json.loads(text))
        except (InvalidInput, ValueError, TypeError, RecursionError) as err:
            _warn_once(key, text, err)
    return Settings(**values)


def _warn_once(key: str, text: object, err: Exception) -> None:
    """A broken value is logged once per process, not on every tick that reads it."""
    shown = repr(text)[:80]
    if (key, shown) in _warned:
        return
    _warned.add((key, shown))
    log.warning("setting %s = %s cannot be used (%s); its default applies", key, shown, err)


def write_setting(db: Database, key: str, value: Any, now: datetime) -> Any:
    """Validate and store one setting; returns the stored value."""
    clean = validate(key, value)
    with db.write() as conn:
        stmt = dialects.insert(conn, schema.settings).values(
            key=key, value=json.dumps(clean), updated_at=timestamps.fmt(now)
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[schema.settings.c.key],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        conn.execute(stmt)
    return clean
