"""The agent loop survives every error a tick can raise, says so, and recovers."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import run_in_process, wait_for
from traycourier.agent.engine import loop as loop_module
from traycourier.agent.engine.loop import AgentLoop, retry_in_s
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig, TickReport
from traycourier.agent.notifiers.backends import NullNotifier
from traycourier.store import Database, DatabaseUnavailable, enqueue


class Waker:
    """Records the pauses the loop asks for; stops the runtime after `rounds` waits."""

    def __init__(self, runtime: Runtime, rounds: int) -> None:
        self.runtime = runtime
        self.rounds = rounds
        self.pauses: list[float] = []
        self.reopened = 0

    def mark(self) -> None:
        pass

    def suspend(self) -> None:
        pass

    def follow(self, paths: tuple[Path, ...], probe: object = None) -> None:
        self.followed = paths

    def reopen(self) -> None:
        self.reopened += 1

    def wait(self, timeout_s: float, stop: threading.Event) -> bool:
        self.pauses.append(timeout_s)
        if len(self.pauses) >= self.rounds:
            stop.set()
        return False

    def pause(self, timeout_s: float, stop: threading.Event) -> None:
        self.wait(timeout_s, stop)


class FlakyRuntime(Runtime):
    """Fails its first ticks with the given errors, then ticks normally."""

    def __init__(self, db: Database, errors: list[BaseException]) -> None:
        super().__init__(db, NullNotifier(), RuntimeConfig(owner="flaky"))
        self.errors = errors

    def tick(self) -> TickReport:
        if self.errors:
            raise self.errors.pop(0)
        return super().tick()


@pytest.mark.parametrize(("failures", "pause"), [(1, 2.0), (2, 4.0), (5, 32.0), (9, 60.0)])
def test_the_pause_after_failures_grows_to_a_minute(failures: int, pause: float) -> None:
    assert retry_in_s(failures) == pause


def test_an_unexpected_error_is_logged_recorded_and_retried(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = FlakyRuntime(db, [KeyError("ntf_x"), OverflowError("date value out of range")])
    runtime.start()
    waker = Waker(runtime, rounds=3)
    seen: list[bool] = []
    loop = AgentLoop(runtime, waker, on_tick=lambda _r: seen.append(loop.failing))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        loop.run()
    assert waker.pauses[:2] == [2.0, 4.0]  # backed off after each failure
    assert loop.internal_errors == 2 and not loop.failing and seen == [False]
    assert sum("Traceback" in (r.exc_text or "") for r in caplog.records) == 2
    (error,) = sqlite3.connect(db.path).execute("SELECT last_error FROM agents").fetchone()
    assert error == "OverflowError: date value out of range"


def test_a_database_error_is_one_line_and_not_counted_as_a_bug(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = FlakyRuntime(db, [DatabaseUnavailable("tc.db stayed locked for more than 10 s")])
    runtime.start()
    loop = AgentLoop(runtime, Waker(runtime, rounds=2))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        loop.run()
    assert loop.internal_errors == 0
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "tick failed (tc.db stayed locked for more than 10 s); retrying in 2 s"
    ]


def test_status_and_doctor_show_the_last_internal_error(db: Database) -> None:
    runtime = FlakyRuntime(db, [ValueError("a value no check foresaw")])
    runtime.start()
    AgentLoop(runtime, Waker(runtime, rounds=1)).run()  # type: ignore[arg-type]
    status = run_in_process("status", db=db.path)
    assert "internal    flaky at " in status.stdout
    assert "ValueError: a value no check foresaw" in status.stdout
    doctor = run_in_process("doctor", db=db.path)
    assert "agent errors" in doctor.stdout and "a value no check foresaw" in doctor.stdout


def test_a_replaced_database_file_is_opened_again(db: Database) -> None:
    runtime = Runtime(db, NullNotifier(), RuntimeConfig(owner="r"))
    runtime.start()
    waker = Waker(runtime, rounds=1)
    for suffix in ("", "-wal", "-shm"):
        db.path.with_name(db.path.name + suffix).unlink(missing_ok=True)
    AgentLoop(runtime, waker).run()  # type: ignore[arg-type]
    assert waker.reopened == 1
    assert db.path.exists() and not db.replaced()
    assert db.schema_version() > 0  # a fresh file, migrated


def test_leave_ends_a_loop_waiting_on_the_real_waker(db: Database) -> None:
    """Seen on a panel that started after the agent: the headless loop slept out its whole
    wait (≈30 s) before the tray took over, because a poke without a commit was ignored."""
    runtime = Runtime(db, NullNotifier(), RuntimeConfig(owner="leaving"))
    waker = db.listen()
    loop = AgentLoop(runtime, waker)
    ticked = threading.Event()
    loop.on_tick = lambda _report: ticked.set()
    runtime.next_wake_s = lambda: 3600.0  # type: ignore[method-assign]
    worker = threading.Thread(target=loop.run, daemon=True)
    worker.start()
    try:
        assert ticked.wait(60)
        threading.Event().wait(0.2)  # the loop is in its hour-long wait now
        loop.leave()
        worker.join(timeout=60)  # a guard against a hang, not a speed check
        assert not worker.is_alive(), "the loop kept waiting after leave()"
        assert not runtime.stop.is_set(), "leaving must not stop the runtime"
    finally:
        runtime.stop.set()
        waker.poke()
        waker.close()


@pytest.mark.parametrize(
    "failure", [KeyError("ntf_x"), DatabaseUnavailable("tc.db stayed locked")], ids=type
)
def test_a_failed_tick_waits_its_whole_pause_though_its_own_record_is_a_commit(
    db: Database, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    """Recording the error commits, and a real waker sees every commit: the pause must not
    end there (it did: ~870 failed ticks a second). Only a stop or a poke ends it."""
    monkeypatch.setattr(loop_module, "retry_in_s", lambda _failures: 60.0)
    assert db.path is not None
    runtime = FlakyRuntime(db, [failure] * 1000)
    runtime.start()
    waker = db.listen()
    loop = AgentLoop(runtime, waker)
    worker = threading.Thread(target=loop.run)
    worker.start()
    try:
        wait_for(lambda: loop.failures == 1, "the first failed tick")
        for title in ("a producer", "commits", "meanwhile"):
            enqueue(db, title)  # other commits do not end the pause either
        time.sleep(1.0)  # ample time for a spinning loop to fail again
        assert loop.failures == 1
    finally:
        runtime.stop.set()
        waker.poke()  # ... and a stop ends it at once
        worker.join(timeout=30)
        waker.close()
    assert not worker.is_alive()
