"""What the user does with a popup: a click on it, a button, closing it. Heard by the
notifier's listener (`agent.notifiers.freedesktop`), acted on here, written to the shared database.

Every agent on the session bus hears every popup's signals; exactly one acts on each, the
one the database names (`answers.candidates`): the agent that showed it while it runs,
else the longest-running agent on this host that still runs. An answer is written at most
once on any device (the first wins); a click opens the notification's first http(s) link as
the producer wrote it and marks it read. A popup that did its job is closed.
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from traycourier.agent.engine import controls
from traycourier.agent.engine.presence import STALE_AFTER
from traycourier.agent.notifiers.notifier import CLICK, Notifier
from traycourier.agent.system import device
from traycourier.store import Database, StoreError, answers, read_settings
from traycourier.store.actions import first_link, parse

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=256)
def buttons(actions_json: object) -> tuple[tuple[str, str], ...]:
    """(key, label) for a popup (pure): the click first, then one button per action, keyed
    by its place in the producer's list (read again from the database when it comes back).
    The click opens the first link, so that link has no button of its own: the click takes
    its label (daemons that draw the click as a button, xfce4-notifyd, show it once)."""
    actions = parse(actions_json).actions
    link = next((n for n, a in enumerate(actions) if a.url is not None), None)
    click = actions[link].label if link is not None else "Mark read"
    return ((CLICK, click), *((str(n), a.label) for n, a in enumerate(actions) if n != link))


class PopupActions:
    """The `PopupEvents` an agent gives its notifier."""

    def __init__(
        self,
        db: Database,
        notifier: Notifier,
        owner: str,
        device: tuple[str, str],
        clock: Callable[[], datetime],
        tell: Callable[[str, str], None],
    ) -> None:
        """`device`: this machine's id and name ("", "" on a file)."""
        self.db, self.notifier, self.owner = db, notifier, owner
        (self.device, self.device_name), self.clock, self.tell = device, clock, tell
        self.host = socket.gethostname()
        self.open_popups: set[str] = set()
        """Popups this agent showed that are still on screen (closed when dealt with)."""
        self._lock = threading.Lock()

    def shown(self, popup: str) -> None:
        with self._lock:
            self.open_popups.add(popup)

    def _mine(self, popup: str) -> answers.Popup | None:
        """The popup, when this agent is the one to act on it."""
        found = answers.popup(self.db, popup, self.device)
        if found is None:  # another program's notification, or long gone
            return None
        now = self.clock()
        listed = answers.candidates(self.db, found.shown_by, self.host, now, STALE_AFTER)
        acting = next((owner for owner, pid in listed if device.process_alive(pid)), None)
        return found if acting == self.owner else None

    def action(self, popup: str, key: str) -> None:
        try:
            found = self._mine(popup)
            if found is None:
                return
            if key == CLICK or found.summary:
                self._click(found)
            else:
                self._button(found, key)
            answers.record_closed(self.db, popup, self.device, "clicked", self.clock())
        except StoreError as err:
            log.error("could not act on a click on popup %s: %s", popup, err)
            return
        self.notifier.close(popup)  # it did its job

    def _click(self, found: answers.Popup) -> None:
        link = None if found.summary else first_link(parse(found.actions_json).actions)
        log.info("popup of %s clicked", ", ".join(found.notification_ids))
        if link is not None:  # first: the user waits for the browser, not for the write
            controls.open_url(link, lambda why: self.tell("Cannot open the link", why))
        answers.mark_read(self.db, found.notification_ids, self.clock())

    def _button(self, found: answers.Popup, key: str) -> None:
        actions = parse(found.actions_json).actions
        if not key.isdigit() or int(key) >= len(actions):
            log.warning("popup of %s: no action %r", found.notification_ids[0], key[:40])
            return
        chosen = actions[int(key)]
        (notification_id,) = found.notification_ids
        if chosen.url is not None:
            controls.open_url(chosen.url, lambda why: self.tell("Cannot open the link", why))
            answers.mark_read(self.db, found.notification_ids, self.clock())
            return
        answer(self.db, notification_id, chosen.answer or chosen.label, self.device_name,
               self.clock(), self.tell)  # fmt: skip

    def closed(self, popup: str, reason: str) -> None:
        with self._lock:
            self.open_popups.discard(popup)
        try:
            if self._mine(popup) is not None:
                answers.record_closed(self.db, popup, self.device, reason, self.clock())
        except StoreError as err:
            log.error("could not record that popup %s was %s: %s", popup, reason, err)

    def server_returned(self) -> None:
        """The notification daemon is back (its bus name has an owner again): what failed
        only because it was unreachable, unread and younger than `max_age_seconds`, gets one
        more attempt; the commit wakes the agents."""
        now = self.clock()
        try:
            age = read_settings(self.db).max_age_seconds
            since = now - timedelta(seconds=age) if age else None
            count = self.db.retry_unreachable(now, since, self.device)
        except StoreError as err:
            log.error("the notification daemon is back, but retrying failed: %s", err)
            return
        log.info("the notification daemon is back: %d failed notification(s) retried", count)

    def close_dealt_with(self) -> None:
        """Close the popups whose notification was answered or read elsewhere (another
        device, the tray's menu): asked after every tick while any is open."""
        with self._lock:
            open_now = sorted(self.open_popups)
        if not open_now:
            return
        for popup in answers.dealt_with(self.db, open_now, self.device):
            self.notifier.close(popup)


def answer(
    db: Database,
    notification_id: str,
    choice: str,
    device_name: str,
    now: datetime,
    tell: Callable[[str, str], None],
) -> bool:
    """Write the user's answer, from a popup or the menu alike; when another answer was
    first (another device, another popup), say so instead. True when this one stands."""
    result = db.answer(notification_id, choice, device_name, now)
    if result.won:
        log.info("%s answered %r", notification_id, choice)
        return True
    where = f" on {result.device}" if result.device else ""
    tell("Already answered", f"{notification_id} was answered{where}: {result.answer}")
    log.info("%s: %r refused, already answered%s: %r", notification_id, choice, where,
             result.answer)  # fmt: skip
    return False
