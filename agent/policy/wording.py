"""How the CLI says things: times in the user's zone, settings, skips, mutes, and why what
was just sent will not appear now. Plain functions over plain values (`agent/cli/commands.py`
prints what they return)."""

from __future__ import annotations

import json
from datetime import datetime

from traycourier.agent.policy import textfit
from traycourier.agent.policy.visibility import Visibility
from traycourier.store import timestamps
from traycourier.store.choices import Mute, Settings
from traycourier.store.model import Code
from traycourier.store.rows import DeliveryRow, Story


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
    if current.quiet_hours:
        days = " on weeknights" if current.quiet_weekdays_only else ""
        parts.append(
            f"quiet hours {current.quiet_hours}{days} ({current.quiet_breakthrough} and above "
            "still shown)"
        )
    else:
        parts.append("no quiet hours")
    parts.append(f"max age {current.max_age_seconds} s")
    parts.append(
        f"at most {current.burst_limit} popups per source in {current.burst_window_seconds} s"
        if current.burst_limit
        else "no storm control"
    )
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


def short_time(stored: str | None) -> str:
    """A stored UTC time in a table: local, to the minute ("2026-12-07 09:41")."""
    if not stored:
        return "-"
    try:
        return timestamps.parse(stored).astimezone().strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError):
        return stored[:16]


def _attempts(row: DeliveryRow) -> str:
    if row.attempts is None or row.max_attempts is None:
        return "attempts unknown"
    return f"attempt {row.attempts} of {row.max_attempts}"


SHOWN_HOW: dict[str, str] = {
    Code.COALESCED: "in its source's summary ",
    Code.ACTION_CENTER: "to the Action Center only (Windows held its banner) ",
}


def what_became(row: DeliveryRow) -> str:
    """A delivery's state as the user says it, with its attempts explained: "shown",
    "retrying at 09:42 (attempt 2 of 5 failed: [daemon_unreachable] …)", "not shown: muted"."""
    error = f"[{row.last_error_code}] {row.last_error}" if row.last_error_code else ""
    match row.status:
        case "sent":
            again = " (shown again after a snooze)" if row.snoozed_until else ""
            closed = f", then {row.closed_reason}" if row.closed_reason else ""
            how = SHOWN_HOW.get(row.last_error_code or "", "")
            return f"shown {how}{short_time(row.delivered_at)}{again}{closed}"
        case "queued" if row.last_error_code == Code.SNOOZED:
            return f"snoozed until {short_time(row.next_attempt_at)}"
        case "queued":
            return "waiting to be shown"
        case "leased":
            return f"being shown now by {row.lease_owner or '?'}"
        case "retry_wait":
            return (
                f"retrying at {short_time(row.next_attempt_at)} ({_attempts(row)} failed: {error})"
            )
        case "failed":
            return f"failed ({_attempts(row)}): {error or 'no reason recorded'}"
        case "skipped":
            return f"not shown: {SKIP_WORDS.get(row.last_error_code or '', error or 'skipped')}"
        case "cancelled":
            return "not shown: notifications were switched off while it waited"
    return f"{row.status} {error}".strip()


def deliveries_table(rows: list[DeliveryRow]) -> list[str]:
    """`traycourier deliveries`: a header, then one aligned line per delivery, newest first."""
    header = f"{'ID':>6}  {'CREATED':<16}  {'PRIORITY':<8}  {'SOURCE':<12}  {'TITLE':<36}"
    lines = [f"{header}  WHAT BECAME OF IT"]
    for row in rows:
        title = textfit_line(row.title, 36)
        device = f" (on {row.device})" if row.device else ""
        lines.append(
            f"{row.id:>6}  {short_time(row.created_at):<16}  {row.priority[:8]:<8}  "
            f"{textfit_line(row.source or '-', 12):<12}  {title:<36}  {what_became(row)}{device}"
        )
    return lines


def textfit_line(text: str, width: int) -> str:
    """One line of at most `width` characters (an ellipsis where it was cut)."""
    return textfit.cut(" ".join(text.split()), width)


def story_lines(found: Story) -> list[str]:
    """`traycourier show ID`: everything about one notification, as a user reads it."""
    lines = [
        f"id          {found.id}",
        f"title       {found.title or ''}",
    ]
    if found.message:
        lines += [f"message     {line}" for line in found.message.splitlines()[:20]]
    lines.append(f"priority    {found.priority or '?'}")
    lines.append(f"source      {found.source or '-'}" + (f" ({found.kind})" if found.kind else ""))
    lines.append(f"created     {local_time(found.created_at or '')}")
    lines.append(f"read        {local_time(found.read_at) if found.read_at else 'not yet'}")
    try:
        actions = json.loads(found.actions_json or "[]")
    except ValueError:
        actions = []
    for action in actions if isinstance(actions, list) else []:
        if isinstance(action, dict) and "url" in action:
            lines.append(f"link        {action.get('label', '')}: {action['url']}")
        elif isinstance(action, dict):
            lines.append(f"answer      button {action.get('label', action.get('id', ''))!r}")
    if found.answer is not None:
        where = f" on {found.answered_device}" if found.answered_device else ""
        when = local_time(found.answered_at) if found.answered_at else "?"
        lines.append(f"answered    {found.answer!r} at {when}{where}")
    if not found.deliveries:
        lines.append("delivery    none yet: no agent has routed it (is one running?)")
    for row in found.deliveries:
        device = f" on {row.device}" if row.device else ""
        lines.append(f"delivery    {row.id}{device}: {what_became(row)}")
        for step in (a for a in found.attempts if a.delivery_id == row.id):
            error = f" [{step.error_code}] {step.error}" if step.error_code else ""
            lines.append(
                f"  attempt {step.attempt_no}  {short_time(step.started_at)}  "
                f"{step.outcome}{error}  ({step.owner})"
            )
    return lines
