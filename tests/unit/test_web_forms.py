"""What each form of the history window asks for: the menu's own action, or nothing."""

from __future__ import annotations

import pytest

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
    SetBurst,
    SetEnabled,
    SetMinPriority,
    SetQuietHours,
    Snooze,
    Unmute,
)
from traycourier.agent.web.forms import action_for
from traycourier.store import Priority


@pytest.mark.parametrize(
    ("form", "action"),
    [
        ({"kind": "read", "id": "n1"}, OpenRecent("n1", None, "")),
        ({"kind": "answer", "id": "n1", "choice": "yes"}, AnswerRecent("n1", "yes")),
        ({"kind": "snooze", "id": "n1"}, Snooze("n1", 60)),
        ({"kind": "mute", "source": "ci"}, MuteFor("ci", 60)),
        ({"kind": "mute", "source": "ci", "minutes": "480"}, MuteFor("ci", 480)),
        ({"kind": "mute", "source": "ci", "minutes": "morning"}, MuteUntilMorning("ci")),
        ({"kind": "unmute", "source": "ci"}, Unmute("ci")),
        ({"kind": "read-all"}, MarkAllRead()),
        ({"kind": "enabled", "value": "0"}, SetEnabled(False)),
        ({"kind": "enabled", "value": "1"}, SetEnabled(True)),
        ({"kind": "pause", "minutes": "30"}, PauseFor(30)),
        ({"kind": "pause-morning"}, PauseUntilMorning()),
        ({"kind": "resume"}, Resume()),
        ({"kind": "min-priority", "priority": "urgent"}, SetMinPriority(Priority.URGENT)),
        ({"kind": "quiet", "window": " 22:30-06:15 "}, SetQuietHours("22:30-06:15")),
        ({"kind": "quiet", "window": ""}, SetQuietHours("")),
        ({"kind": "burst", "limit": "5", "seconds": "30"}, SetBurst(5, 30)),
    ],
)
def test_each_form_is_the_menus_action(form: dict[str, str], action: MenuAction) -> None:
    assert action_for(form) == action


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"kind": "drop-table"},
        {"kind": "read"},  # no id
        {"kind": "answer", "id": "n1"},  # no choice
        {"kind": "enabled", "value": "yes"},
        {"kind": "pause", "minutes": "-5"},
        {"kind": "pause", "minutes": "9" * 12},
        {"kind": "min-priority", "priority": "critical"},
        {"kind": "burst", "limit": "x", "seconds": "30"},
        {"kind": "mute"},
    ],
)
def test_anything_else_asks_for_nothing(form: dict[str, str]) -> None:
    assert action_for(form) is None
