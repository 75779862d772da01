"""The wake-up's promise at its edge: a commit that shows long after its last write.

A writer's commit shows when it updates the -shm, which raises no file event; with
`synchronous = FULL` (the sqlite3 shell's default) that comes only after its fsync. On a busy
disk the fsync outlasted the few milliseconds the waker asked again after a write, and the
commit waited for some unrelated event, up to the safety timer (measured: 66-150 ms late in
1 of 50 commits here, with a producer keeping a sqlite3 connection open). Each test waits
with a long timeout: `wait` returns True only when it found the commit, False at the timeout.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests import aodb
from traycourier.store import Database, Wakeable

LATE_S = 0.3
"""How long after its write the commit shows: well past the old series of re-checks."""
WAIT_S = 3600.0
FOUND_WITHIN_S = 15.0
"""Far longer than the re-checks take (about 1 s): a wait still blocked then missed it."""


class LateCommit:
    """A commit the probe sees only `LATE_S` after `written` (a slow fsync)."""

    def __init__(self) -> None:
        self.visible_at: float | None = None
        self.asked_after_visible = 0

    def written(self) -> None:
        self.visible_at = time.monotonic() + LATE_S

    def shows(self) -> bool:
        visible = self.visible_at is not None and time.monotonic() >= self.visible_at
        self.asked_after_visible += visible
        return visible


def wait_in_thread(
    waker: Wakeable, stop: threading.Event, server: bool = False
) -> tuple[threading.Thread, list[bool]]:
    """The waker's wait, begun in a thread once what it had to say at its start is said (a
    server's waker tells of a change as soon as it listens)."""
    waker.wait(5.0 if server else 0.2, stop)
    waker.mark()
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(waker.wait(WAIT_S, stop)))
    worker.start()
    time.sleep(0.2)  # in its wait now
    return worker, result


@pytest.fixture
def ao(tmp_path: Path) -> Path:
    path = tmp_path / "ao" / "ao.db"
    path.parent.mkdir()
    aodb.build(path)
    return path


def test_a_followed_commit_that_shows_late_still_wakes(any_db: Database, ao: Path) -> None:
    """On both backends' wakers: ReverbCode's write, its commit seen 0.3 s later."""
    waker = any_db.listen()
    late, stop = LateCommit(), threading.Event()
    try:
        waker.follow((ao,), late.shows)
        worker, result = wait_in_thread(waker, stop, any_db.is_server)
        aodb.create(ao, title="fsync was slow")
        late.written()
        worker.join(FOUND_WITHIN_S)
        assert result == [True]
        assert late.asked_after_visible == 1  # found by asking, once
    finally:
        stop.set()
        waker.poke()
        waker.close()


class LateProbe:
    """Our own file's `PRAGMA data_version`, as a slow fsync makes it look: unchanged until
    `LATE_S` after the write."""

    def __init__(self, late: LateCommit) -> None:
        self.late = late

    def value(self) -> int:
        return 2 if self.late.shows() else 1

    def close(self) -> None: ...


def test_a_commit_to_our_own_file_that_shows_late_still_wakes(db: Database) -> None:
    """A producer's INSERT on its own sqlite3 connection: the write raises the event, and its
    commit shows (to the waker's probe) 0.3 s later."""
    waker = db.listen()
    late, stop = LateCommit(), threading.Event()
    waker._probe.close()  # type: ignore[attr-defined]
    waker._probe = LateProbe(late)  # type: ignore[attr-defined]
    assert db.path is not None
    producer = sqlite3.connect(db.path, timeout=10.0, isolation_level=None)
    try:
        worker, result = wait_in_thread(waker, stop)
        producer.execute("INSERT INTO notifications (title) VALUES ('slow disk')")
        late.written()
        worker.join(FOUND_WITHIN_S)
        assert result == [True]
    finally:
        stop.set()
        waker.poke()
        producer.close()
        waker.close()


def test_a_write_without_a_commit_lets_the_wait_run_to_its_timeout(db: Database) -> None:
    """The re-checks end: a write that is no commit (a checkpoint) wakes nothing."""
    waker = db.listen()
    late, stop = LateCommit(), threading.Event()
    waker._probe.close()  # type: ignore[attr-defined]
    waker._probe = LateProbe(late)  # type: ignore[attr-defined]
    assert db.path is not None
    producer = sqlite3.connect(db.path, timeout=10.0, isolation_level=None)
    waker.mark()
    try:
        result: list[bool] = []
        worker = threading.Thread(target=lambda: result.append(waker.wait(2.0, stop)))
        worker.start()
        time.sleep(0.2)
        producer.execute("INSERT INTO notifications (title) VALUES ('never seen')")
        worker.join(10)
        assert result == [False]
    finally:
        stop.set()
        waker.poke()
        producer.close()
        waker.close()
