"""Signal handlers that hand their work to a thread at once.

Python runs a handler on the main thread between two bytecodes, possibly while that thread
holds a lock: the waker's `threading.Event` right after its `wait` took its lock back (in a
storm the loop wakes hundreds of times a second). A handler that sets the same event then
waits for a lock its own thread holds, and the agent never stops (seen in CI: SIGTERM after
a storm, no exit in 60 s). A new thread takes the locks as any other thread does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

STOPPING = tuple(
    s for s in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)) if s is not None
)
"""Logout, Ctrl-C, a closed terminal: each ends the agent cleanly."""


def handing_over(act: Callable[[int], None]) -> Callable[[int, object], None]:
    """A handler that runs `act(signum)` in a new thread and returns at once."""

    def handler(signum: int, _frame: object) -> None:
        threading.Thread(target=act, args=(signum,), name=f"signal-{signum}", daemon=True).start()

    return handler


def on_stopping_signals(act: Callable[[int], None]) -> None:
    for sig in STOPPING:
        signal.signal(sig, handing_over(act))
