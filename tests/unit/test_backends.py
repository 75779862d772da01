"""The notifier backends: one interface, one chooser, and the `--notifier` spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from traycourier.agent.notifiers.backends import (
    NotifySendNotifier,
    NullNotifier,
    OsascriptNotifier,
    PlyerNotifier,
    RecordingNotifier,
    choose_backend,
    from_spec,
)
from traycourier.agent.notifiers.freedesktop import FreedesktopNotifier
from traycourier.agent.notifiers.notifier import Notifier, OsNotification
from traycourier.agent.notifiers.winballoon import BalloonNotifier

INTERFACE = (
    "name",
    "available",
    "degraded",
    "needs_session_bus",
    "platform",
    "may_block",
)


@pytest.mark.parametrize(
    "notifier",
    [
        FreedesktopNotifier(),
        NotifySendNotifier(),
        BalloonNotifier(),
        PlyerNotifier(),
        OsascriptNotifier(),
        RecordingNotifier(Path("/dev/null")),
        NullNotifier(),
    ],
    ids=lambda n: type(n).__name__,
)
def test_every_backend_answers_the_whole_interface(notifier: Notifier) -> None:
    """Callers never ask which class they have: everything they need is on the interface."""
    for attribute in INTERFACE:
        assert hasattr(notifier, attribute), attribute
    assert isinstance(notifier.describe(), str) and notifier.describe()
    problem = notifier.problem()
    assert problem is None or isinstance(problem, str)


@pytest.mark.parametrize(
    ("platform", "available", "shows", "expected"),
    [
        ("linux", True, False, "plyer"),
        ("windows", True, False, "plyer"),
        ("darwin", True, True, "plyer"),
        ("darwin", True, False, "osascript"),  # frozen/unsigned: NSUserNotificationCenter is None
        ("darwin", False, False, "osascript"),
    ],
)
def test_the_notifier_is_chosen_by_capability(
    platform: str, available: bool, shows: bool, expected: str
) -> None:
    assert choose_backend(platform, available, shows) == expected


def test_osascript_gets_the_text_as_arguments_never_as_script() -> None:
    command = OsascriptNotifier().command(OsNotification('say "hi" & quit', 'x" end run', "info"))
    assert command[0] == "osascript"
    assert command[-2:] == ['say "hi" & quit', 'x" end run']
    script = " ".join(command[1:-2])
    assert "quit" not in script and "hi" not in script


def test_notifier_specs(tmp_path: Path) -> None:
    assert isinstance(from_spec("null"), NullNotifier)
    recorder = from_spec(f"record:{tmp_path / 'r.jsonl'},delay=0.5")
    assert isinstance(recorder, RecordingNotifier) and recorder.delay_s == 0.5
    for bad in ("record:", "carrier-pigeon", "record:x,delay=soon"):
        with pytest.raises(ValueError, match="--notifier takes"):
            from_spec(bad)
