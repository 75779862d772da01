"""What a form of the history window asks for, as the menu's own action (pure). Anything
else is None, and the server answers 400."""

from __future__ import annotations

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
    Snooze,
    Unmute,
)
from traycourier.store.model import Priority


def _count(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() and len(text) < 7 else None


def action_for(form: dict[str, str]) -> MenuAction | None:
    """What a posted form asks for, as the menu's own action; None for anything else (the
    settings' own checks then judge the values: a bad one is a 400 with their words)."""
    kind, ident, source = form.get("kind", ""), form.get("id", ""), form.get("source", "")
    minutes, priority = _count(form.get("minutes")), form.get("priority", "")
    simple: dict[str, MenuAction] = {
        "read-all": MarkAllRead(), "retry": RetryFailed(), "resume": Resume(),
        "pause-morning": PauseUntilMorning(),
    }  # fmt: skip
    if kind in simple:
        return simple[kind]
    if kind == "read" and ident:
        return OpenRecent(ident, None, "")
    if kind == "answer" and ident and form.get("choice"):
        return AnswerRecent(ident, form["choice"])
    if kind == "snooze" and ident:
        return Snooze(ident, 60)
    if kind == "mute" and source:
        if form.get("minutes") == "morning":
            return MuteUntilMorning(source)
        return MuteFor(source, minutes or 60)
    if kind == "unmute" and source:
        return Unmute(source)
    if kind == "enabled" and form.get("value") in ("0", "1"):
        return SetEnabled(form["value"] == "1")
    if kind == "pause" and minutes:
        return PauseFor(minutes)
    if kind == "min-priority" and priority in {p.value for p in Priority}:
        return SetMinPriority(Priority(priority))
    if kind == "quiet" and "window" in form:
        return SetQuietHours(form["window"].strip())
    limit, seconds = _count(form.get("limit")), _count(form.get("seconds"))
    if kind == "burst" and limit is not None and seconds is not None:
        return SetBurst(limit, seconds)
    return None
