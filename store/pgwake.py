"""Waking the agent on PostgreSQL (`ServerDatabase.listen`): the server says so itself.
`ServerWaker` LISTENs for what the migrations' triggers NOTIFY, reconnecting with backoff
while the server is away (ticks then run on a timer); anything missed meanwhile is caught
by one tick once it is back.
"""

from __future__ import annotations

import logging
import threading
import time

from traycourier.store import pg
from traycourier.store.errors import StoreError
from traycourier.store.wake import Wakeable

log = logging.getLogger(__name__)


RECONNECT_S = (0.5, 1, 2, 4, 8, 15, 30)
"""Backoff between attempts to LISTEN again after the server went away."""
UNLISTENED_POLL_S = 2.0
"""How often the agent looks without notifications (the server is away, or not yet back)."""


class ServerWaker(Wakeable):
    """A `Wakeable` fed by PostgreSQL's LISTEN/NOTIFY on a thread of its own. Anything
    missed while the connection was down is caught by one tick once it is back (a reconnect
    counts as a change)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._changed_flag = False
        self._listening = False
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="listen", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        failures = 0
        while not self._closing.is_set():
            try:
                listener = pg.Listener(self._url)
            except StoreError as err:
                delay = RECONNECT_S[min(failures, len(RECONNECT_S) - 1)]
                if failures == 0:
                    log.warning("cannot listen for changes (%s); retrying", err)
                failures += 1
                self._closing.wait(delay)
                continue
            if failures:
                log.info("listening for changes again")
            failures, self._listening = 0, True
            self._signal()  # what happened while nobody listened
            try:
                while not self._closing.is_set():
                    if listener.wait(1.0):
                        self._signal()
            except StoreError as err:
                log.warning("lost the change notifications (%s); reconnecting", err)
            finally:
                self._listening = False
                listener.close()

    def _signal(self) -> None:
        self._changed_flag = True
        self._event.set()

    def mark(self) -> None:
        self._changed_flag = False
        self._source_changed = False

    def suspend(self) -> None:
        """A server is never replaced: nothing to let go of."""

    def reopen(self) -> None:
        """A server is never replaced; a lost connection is re-made by the listener."""

    def poke(self) -> None:
        self._changed_flag = True
        super().poke()

    def _news(self) -> bool:
        """A notification from the server (or a poke), or a commit in a followed file."""
        return self._changed_flag or self._take_source_change()

    def wait(self, timeout_s: float, stop: threading.Event) -> bool:
        self._poked = False
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while not stop.is_set():
            if self._news():
                self._changed_flag = False
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not self._listening:
                remaining = min(remaining, UNLISTENED_POLL_S)
                if not self._event.wait(remaining):
                    return True  # a look while nothing tells us
            elif not self._event.wait(remaining):
                continue
            self._event.clear()
            if self._source_changed:  # a followed file was written: does its commit show?
                if self._settle(self._news, stop, deadline):
                    self._changed_flag = False
                    return True
                self._forget_source_writes()
        return False

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)
        self._stop_following()
