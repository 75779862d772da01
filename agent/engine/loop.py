"""The agent's life between ticks: wait for a change, tick, and survive whatever a tick does.

Nothing a tick raises ends the process or leaves it deaf. A database error (locked, busy,
gone) is one line in the log; anything else is logged with its traceback, recorded in the
`agents` table for `status` and `doctor`, and shows in the tray as the attention state. Both
are retried after a growing pause that only a stop or a poke (a menu action) cuts short. A
database file (or its -wal, or its folder) replaced or deleted under the agent is noticed
before the next tick and opened again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from traycourier.agent.engine.runtime import Runtime, TickReport
from traycourier.store import StoreError, Wakeable

log = logging.getLogger(__name__)

MAX_RETRY_S = 60.0


def retry_in_s(failures: int) -> float:
    """The pause after `failures` failed ticks in a row: 2, 4, 8 … up to a minute."""
    return min(2.0 ** min(failures, 16), MAX_RETRY_S)


class AgentLoop:
    def __init__(
        self,
        runtime: Runtime,
        waker: Wakeable,
        on_tick: Callable[[TickReport], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.waker = waker
        self.on_tick = on_tick
        self.failures = 0
        """Failed ticks in a row; 0 while ticks succeed."""
        self.internal_errors = 0
        self.last_error: str | None = None
        self._leave = threading.Event()

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def leave(self) -> None:
        """Make `run` return after the current tick without stopping the runtime (another
        loop takes over: the tray's, once a tray host appeared)."""
        self._leave.set()
        self.waker.poke()

    def run(self) -> None:
        """Tick until `runtime.stop` is set (or `leave` is called)."""
        stop = self.runtime.stop
        while not stop.is_set() and not self._leave.is_set():
            try:
                self.waker.mark()
                self._reopen_if_replaced()
                report = self.runtime.tick()
                self.failures = 0
                follower = self.runtime.follower
                self.waker.follow(follower.watched(), follower.changed)
                if self.on_tick is not None:
                    self.on_tick(report)
                timeout = self.runtime.next_wake_s()
            except StoreError as err:
                self.failures += 1
                timeout = retry_in_s(self.failures)
                self.last_error = str(err)
                log.error("tick failed (%s); retrying in %.0f s", err, timeout)
            except Exception as err:  # a bug or a value no check foresaw: never fatal
                self.failures += 1
                self.internal_errors += 1
                timeout = retry_in_s(self.failures)
                self.last_error = f"{type(err).__name__}: {err}"
                log.exception("internal error in a tick; retrying in %.0f s", timeout)
                self._record(self.last_error)
            if self.failures:
                # The whole pause: a commit must not cut it short -- the error just recorded
                # is one, and a file that keeps failing would otherwise spin the loop.
                self.waker.pause(timeout, stop)
            else:
                self.waker.wait(timeout, stop)

    def _reopen_if_replaced(self) -> None:
        db = self.runtime.db
        if db.replaced():
            log.warning(
                "the database file %s was replaced or deleted; opening it again", db.location
            )
            self.waker.suspend()
            try:
                db.reopen()
            finally:
                self.waker.reopen()
            log.info("%s is open again", db.location)

    def _record(self, error: str) -> None:
        try:
            self.runtime.record_error(error)
        except Exception as err:  # the database may be what is broken
            log.warning("could not record the error in the database: %s", err)
