"""Windows balloons' policy, on any OS: which popup the shell's messages are about, the
flags and the text of one balloon. (The balloons themselves: tests/packaging/test_windows.py,
under Wine.)"""

from __future__ import annotations

import pytest

from tests.conftest import wait_for
from traycourier.agent.notifiers import winballoon as wb
from traycourier.agent.notifiers.notifier import CLICK
from traycourier.agent.policy.textfit import FittedText
from traycourier.agent.system.windesktop import held_because


def test_the_shells_messages_are_about_the_newest_balloon() -> None:
    balloons = wb.Balloons()
    assert balloons.heard(wb.NIN_BALLOONUSERCLICK) is None  # nothing shown yet
    balloons.showing("balloon/1/1")
    balloons.showing("balloon/1/2")  # takes the first one's place
    assert balloons.heard(wb.NIN_BALLOONTIMEOUT) == wb.Heard("balloon/1/2", "closed", "undefined")
    # after its timeout it is still in the Action Center, where a click reaches it
    assert balloons.heard(wb.NIN_BALLOONUSERCLICK) == wb.Heard("balloon/1/2", "click")
    assert balloons.heard(wb.NIN_BALLOONSHOW) is None
    assert balloons.closing("balloon/1/2") and not balloons.closing("balloon/1/1")


@pytest.mark.parametrize(
    ("priority", "own_icon", "flags"),
    [
        ("urgent", False, 0),  # shown through quiet time, with a sound
        ("urgent", True, wb.NIIF_USER | wb.NIIF_LARGE_ICON),
        ("action", False, wb.NIIF_RESPECT_QUIET_TIME),
        ("warning", True, wb.NIIF_USER | wb.NIIF_LARGE_ICON | wb.NIIF_RESPECT_QUIET_TIME),
        ("info", False, wb.NIIF_RESPECT_QUIET_TIME | wb.NIIF_NOSOUND),
    ],
)
def test_a_balloons_flags(priority: str, own_icon: bool, flags: int) -> None:
    assert wb.info_flags(priority, own_icon) == flags


def test_a_notification_without_a_body_shows_its_title_as_the_text() -> None:
    """An empty szInfo would take the balloon away instead of showing it."""
    assert wb.balloon_text(FittedText("Build done", "")) == ("", "Build done")
    assert wb.balloon_text(FittedText("Build done", "in 42 s")) == ("Build done", "in 42 s")


def test_windows_holds_banners_in_every_state_but_accepts_notifications() -> None:
    assert held_because(5) is None and held_because(None) is None
    assert held_because(4) == "presentation mode is on"
    assert held_because(99) == "Windows reports notification state 99"


class _Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def action(self, popup: str, key: str) -> None:
        self.seen.append(("action", popup, key))

    def closed(self, popup: str, reason: str) -> None:
        self.seen.append(("closed", popup, reason))

    def server_returned(self) -> None:
        self.seen.append(("server", "", ""))


def test_a_click_reaches_the_listener_as_the_linux_click_does() -> None:
    """The shell's message arrives on the icon's thread; the listener hears it on its own,
    as `PopupEvents.action(popup, "default")`, the key a Linux popup's click has."""
    notifier, events = wb.BalloonNotifier(), _Events()
    notifier.listen(events)
    notifier._balloons.showing("balloon/9/1")
    notifier._heard(wb.NIN_BALLOONUSERCLICK)
    notifier._heard(wb.NIN_BALLOONTIMEOUT)
    wait_for(lambda: len(events.seen) == 2, "both messages told")
    assert events.seen == [("action", "balloon/9/1", CLICK), ("closed", "balloon/9/1", "undefined")]
    assert notifier.capabilities().click and not notifier.capabilities().actions
