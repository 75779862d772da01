"""Menu clicks run on a thread of their own, one after another in the order they came.

The icon's loop calls the menu's callbacks on its own thread. An action reads and writes the
database (which another program may hold for seconds) and then redraws the icon under the
tray's icon lock; on pystray's xorg backend the thread holding that lock can be waiting for
the loop itself to answer a change, so a loop that waited for the lock would wait forever.
Handed over, no action ever holds up the icon's loop, on any backend, and the menu stays
responsive while the database is busy."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from traycourier.agent.policy.menu_actions import MenuAction


class Clicks:
    def __init__(self, perform: Callable[[MenuAction], None]) -> None:
        self._perform = perform
        self._queue: queue.SimpleQueue[MenuAction | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def fire(self, action: MenuAction) -> None:
        """What the menu calls: returns at once."""
        with self._lock:
            if self._thread is None:  # the first click starts the thread
                self._thread = threading.Thread(target=self._serve, name="clicks", daemon=True)
                self._thread.start()
        self._queue.put(action)

    def stop(self) -> None:
        """Clicks already made still run; the thread ends after them."""
        self._queue.put(None)

    def _serve(self) -> None:
        while (action := self._queue.get()) is not None:
            self._perform(action)
