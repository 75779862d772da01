"""Waking the agent when the database changes, without polling.

On PostgreSQL the server says so itself: `ServerWaker` LISTENs for what the migrations'
triggers NOTIFY, reconnecting with backoff while the server is away (ticks then run on the
safety timer). On a SQLite file:

A file watcher (inotify on Linux, via watchdog) sees the write to the database's -wal file;
`PRAGMA data_version` then tells whether another connection really committed. The WAL write
can become visible a moment after its event (the commit lands in the mmapped -shm, which
raises no event), so an unchanged version is re-checked a few times over ~60 ms, waiting on
the event so a newer write still wakes at once. A timeout (the next due time, or the
heartbeat) covers everything else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import DirDeletedEvent, DirMovedEvent, FileSystemEventHandler
from watchdog.observers import Observer

from traycourier.store import Database, StoreError, pg
from traycourier.store.sqlitefile import DataVersionProbe, FileSet

log = logging.getLogger(__name__)

RECHECKS_S = (0.002, 0.004, 0.008, 0.016, 0.032)
FALLBACK_POLL_S = 0.25


class _Handler(FileSystemEventHandler):
    def __init__(self, names: set[str], changed: Callable[[], None]) -> None:
        self._names = names
        self._changed = changed

    def on_any_event(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.event_type in ("opened", "closed", "closed_no_write"):
            return  # reading is not changing
        paths = (event.src_path, getattr(event, "dest_path", "") or "")
        if any(Path(str(path)).name in self._names for path in paths):
            self._changed()


class _Wakeable:
    """What both wakers share: an event their sources set, a poke (stop requested, a menu
    action done) that ends any wait, and the watch of followed files (`follow`)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._poked = False
        self._followed: tuple[Path, ...] = ()
        self._unwatched: set[Path] = set()
        self._source_observer: Observer | None = None
        self._source_changed = False
        self._source_probe: Callable[[], bool] | None = None
        self._source_lock = threading.Lock()
        self._source_events = 0
        self._probed = 0

    def follow(self, paths: tuple[Path, ...], probe: Callable[[], bool] | None = None) -> None:
        """Wake on changes of these files (followed sources) and their -wal, as for our own
        file: a commit there is a write to the -wal, or to the file itself. As for our own
        file the -wal is written before the commit can be seen, so `probe` (is there a
        commit not looked at yet?) is asked again over a few milliseconds. A folder that
        cannot be watched now (gone with the file) is tried again at the next call."""
        self._source_probe = probe
        if paths == self._followed and not self._unwatched:
            return
        self._followed = paths
        if self._source_observer is None:
            if not paths:
                return
            self._source_observer = Observer()
            self._source_observer.daemon = True
            self._source_observer.start()
        names: dict[Path, set[str]] = {}
        for path in paths:
            names.setdefault(path.parent, set()).update({path.name, path.name + "-wal"})
        self._source_observer.unschedule_all()
        unwatched = set()
        for folder, found in names.items():
            try:
                self._source_observer.schedule(_Handler(found, self._source_change), str(folder))
            except OSError as err:
                if folder not in self._unwatched:
                    log.warning("cannot watch %s (%s); looking there on a timer", folder, err)
                unwatched.add(folder)
        self._unwatched = unwatched

    def _source_change(self) -> None:
        with self._source_lock:
            self._source_events += 1
            self._source_changed = True
        self._event.set()

    def _take_source_change(self) -> bool:
        """Whether a followed file holds a commit the last tick did not see; asked at every
        look: a commit's events come before it shows, and a tick may start between the two."""
        if self._source_probe is None or not self._followed:
            return False
        with self._source_lock:
            self._probed = self._source_events
        if not self._source_probe():
            return False  # written, not yet committed: the re-checks ask again
        self._source_changed = False
        return True

    def _forget_source_writes(self) -> None:
        """The re-checks found no commit behind the writes probed: those were no commits (a
        checkpoint, a reader's). A write seen since the last probe is kept for the next."""
        with self._source_lock:
            if self._source_events == self._probed:
                self._source_changed = False

    def _settle_source(self, stop: threading.Event) -> bool:
        """A followed file was written: whether its commit shows within the re-checks."""
        for pause in RECHECKS_S:
            if stop.is_set():
                break
            if self._take_source_change():
                return True
            if self._event.wait(pause):
                self._event.clear()
        self._forget_source_writes()
        return False

    def _stop_following(self) -> None:
        if self._source_observer is not None:
            self._source_observer.stop()
            self._source_observer.join(timeout=2)

    def poke(self) -> None:
        """Wake the waiting loop now, whether or not the database changed."""
        self._poked = True
        self._event.set()

    def pause(self, timeout_s: float, stop: threading.Event) -> None:
        """Block until `stop` is set, a poke, or the timeout passes; changes do not count
        (the loop backs off after a failed tick)."""
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while not stop.is_set() and not self._poked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._event.wait(remaining)  # a change: look again, and wait on
            self._event.clear()
        self._poked = False


class Waker(_Wakeable):
    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self._path = db_path
        self._files = FileSet(db_path)
        self._probe = DataVersionProbe(db_path)
        self._seen = self._probe.value()
        self._observer: Observer | None = Observer()
        self._observer.daemon = True
        try:
            self._watch()
            self._observer.start()
        except OSError as err:
            log.warning(
                "cannot watch %s (%s); checking every %.2f s", db_path, err, FALLBACK_POLL_S
            )
            self._observer = None

    def _watch(self) -> None:
        """Watch the folder the database is in now: a watch follows the folder it was
        given, so after that folder was renamed or replaced the new one needs its own.
        The folder's own rename or removal shows only in the folder above it (inotify
        tells a watched folder it moved, but watchdog passes that on to nobody): that one
        is watched for moves and removals of this folder's name alone."""
        assert self._observer is not None
        folder = self._path.parent
        names = {self._path.name, self._path.name + "-wal", folder.name}
        self._observer.unschedule_all()
        self._observer.schedule(_Handler(names, self._event.set), str(folder))
        if folder.parent != folder:
            try:
                self._observer.schedule(
                    _Handler({folder.name}, self._event.set),
                    str(folder.parent),
                    event_filter=[DirMovedEvent, DirDeletedEvent],
                )
            except OSError as err:  # an unreadable folder above: its rename goes unseen
                log.warning("cannot watch %s (%s)", folder.parent, err)

    def mark(self) -> None:
        """Called before a tick reads: any commit after this point wakes the next wait."""
        self._seen = self._probe.value()
        self._source_changed = False

    def suspend(self) -> None:
        """Close this waker's connection before the database is opened again: while any
        connection to the old file is open, its -wal is not written back (`FileSet`)."""
        self._probe.close()

    def reopen(self) -> None:
        """The database file (or its folder) was replaced: watch the new one's commits."""
        self._probe.close()
        self._files = FileSet(self._path)
        self._probe = DataVersionProbe(self._path)
        self._seen = self._probe.value()
        if self._observer is not None:
            try:
                self._watch()
            except OSError as err:
                log.warning("cannot watch %s (%s)", self._path, err)

    def wait(self, timeout_s: float, stop: threading.Event) -> bool:
        """Block until another connection commits, `stop` is set, or the timeout passes.
        Returns True when woken by a commit or a poke."""
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while not stop.is_set():
            if self._poked:
                self._poked = False
                return True
            if self._changed():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._observer is None:
                remaining = min(remaining, FALLBACK_POLL_S)
            if not self._event.wait(remaining):
                continue
            self._event.clear()
            for pause in RECHECKS_S:
                if stop.is_set():
                    break
                if self._changed():
                    return True
                if self._event.wait(pause):
                    self._event.clear()
            self._forget_source_writes()
        return False

    def _changed(self) -> bool:
        """Another connection committed, or the file or its -wal was deleted or replaced
        (the old connection would never see a commit again)."""
        return (
            self._take_source_change() or self._probe.value() != self._seen or self._files.changed()
        )

    def close(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
        self._stop_following()
        self._probe.close()


RECONNECT_S = (0.5, 1, 2, 4, 8, 15, 30)
"""Backoff between attempts to LISTEN again after the server went away."""
UNLISTENED_POLL_S = 2.0
"""How often the agent looks without notifications (the server is away, or not yet back)."""


class ServerWaker(_Wakeable):
    """The same interface as `Waker`, fed by PostgreSQL's LISTEN/NOTIFY on a thread of its
    own. Anything missed while the connection was down is caught by one tick once it is back
    (a reconnect counts as a change)."""

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

    def reopen(self) -> None:
        """A server is never replaced; a lost connection is re-made by the listener."""

    def poke(self) -> None:
        self._changed_flag = True
        super().poke()

    def wait(self, timeout_s: float, stop: threading.Event) -> bool:
        self._poked = False
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while not stop.is_set():
            if self._changed_flag or self._take_source_change():
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
            if self._source_changed and self._settle_source(stop):
                return True
        return False

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)
        self._stop_following()


def waker_for(db: Database) -> Waker | ServerWaker:
    if db.url is not None:
        return ServerWaker(db.url)
    assert db.path is not None
    return Waker(db.path)
