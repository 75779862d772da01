"""A stopping signal never waits on a lock the interrupted thread holds: its handler hands
the work to a new thread and returns (CI once saw an agent that never stopped after a storm:
the handler set the waker's event while the main thread held that event's lock)."""

from __future__ import annotations

import os
import signal
import threading

from tests.conftest import wait_for
from traycourier.agent.system import signals


def test_the_handler_returns_while_the_interrupted_thread_holds_the_lock() -> None:
    held = threading.Event()  # the waker's event: its lock is a plain, non-reentrant Lock
    done: list[int] = []

    def stop(signum: int) -> None:
        held.set()  # blocks while the main thread holds the event's lock
        done.append(signum)

    handler = signals.handing_over(stop)
    returned: list[bool] = []

    def interrupted() -> None:
        with held._cond:  # what `Event.wait` holds for a moment after it wakes
            handler(signal.SIGTERM, None)  # a direct held.set() here would never return
            returned.append(done == [])

    thread = threading.Thread(target=interrupted, daemon=True)
    thread.start()
    thread.join(timeout=30)  # a guard: a handler that waits for the lock hangs here
    assert returned == [True]
    wait_for(lambda: done == [signal.SIGTERM], "the stop, once the lock is free")
    assert held.is_set()


def test_a_real_signal_reaches_the_act() -> None:
    got: list[int] = []
    previous = signal.getsignal(signal.SIGHUP)
    signal.signal(signal.SIGHUP, signals.handing_over(got.append))
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        wait_for(lambda: got == [signal.SIGHUP], "the act, in its thread")
    finally:
        signal.signal(signal.SIGHUP, previous)
