"""How the CLI says things: times in the user's zone, settings, skips, mutes, and why what
was just sent will not appear now. Plain functions over plain values (`agent/cli/commands.py`
prints what they return)."""

from __future__ import annotations

import json
from datetime import datetime

from traycourier.agent.policy.visibility import Visibility
from traycourier.store import timestamps
from traycourier.store.choices import Mute, Settings
from traycourier.store.model import Code


def send_notice(seen: Visibility, priority: str, source: str) -> str | None:
    """Why what was just sent will not appear now, and what to do about it."""
    until = local_time(timestamps.fmt(seen.until)) if seen.until is not None else "?"
    match seen.code:
        case Code.MIN_PRIORITY:
            return (
                f"not shown: {priority} is below the minimum priority; to see these: "
                f"traycourier settings set min_priority {priority}"
            )
        case Code.MUTED:
            return f"not shown: {source} is muted (traycourier unmute {source})"
        case Code.DISABLED:
            return (
                "not shown: notifications are switched off "
                "(traycourier settings set enable_notifications true)"
            )
        case Code.PAUSED:
            return f"held: notifications are paused until {until}"
        case Code.QUIET_HOURS:
            return f"held: quiet hours until {until}"
    return None


def local_time(stored: str) -> str:
    """A stored UTC time as the user reads it: local, with the zone (a value another
    program broke is shown as it is)."""
    try:
        return timestamps.parse(stored).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    except (ValueError, OverflowError):  # a year-9999 time east of UTC is past datetime's end
        return stored


SKIP_WORDS = {
    "min_priority": "below the minimum priority",
    "disabled": "while switched off",
    "stale": "too old when routed",
    "muted": "from a muted source",
    "replaced": "replaced by a newer one with the same tag",
}


def describe_skips(reasons: dict[str, int]) -> str:
    """Deliberate skips, counted by reason: "2 below the minimum priority · 1 too old"."""
    return " · ".join(
        f"{count} {SKIP_WORDS.get(code, code or 'for no recorded reason')}"
        for code, count in sorted(reasons.items(), key=lambda item: -item[1])
    )


def describe_settings(current: Settings, now: datetime) -> str:
    parts = ["enabled" if current.enable_notifications else "switched off"]
    parts.append(f"min priority {current.min_priority}")
    paused = current.is_paused(now) and current.paused_until
    parts.append(f"paused until {local_time(paused)}" if paused else "not paused")
    parts.append(f"max age {current.max_age_seconds} s")
    parts.append(f"burst limit {current.burst_limit}")
    return ", ".join(parts)


def shown_value(key: str, value: object) -> str:
    """A setting as JSON, except a pause's end (a local time with its zone; stored UTC) and
    a pause or quiet hours that are not set: `off`, the word `settings set` takes."""
    if key in ("paused_until", "quiet_hours") and value in (None, ""):
        return "off"
    if key == "paused_until" and isinstance(value, str):
        return json.dumps(local_time(value))
    return json.dumps(value)


def describe_mute(m: Mute) -> str:
    until = f"until {local_time(m.until)}" if m.until else "until unmuted"
    return f"muted {m.source} {until} ({'urgent ones too' if m.urgent_too else 'except urgent'})"
