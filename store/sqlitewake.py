"""Waking the agent on a SQLite file (`SqliteDatabase.listen`). A file watcher (inotify on
Linux, via watchdog) sees the write to the database's -wal file; `PRAGMA data_version` then
tells whether another connection really committed. The WAL write can become visible a
moment after its event (the commit lands in the mmapped -shm, which raises no event), so an
unchanged version is re-checked over about a second (`wake.RECHECKS_S`), waiting on the
event so a newer write still wakes at once. A timeout (the next due time, or the heartbeat)
covers the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from watchdog.events import DirDeletedEvent, DirMovedEvent
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from traycourier.store.sqlitefile import DataVersionProbe, FileSet
from traycourier.store.wake import FileEvents, Wakeable

log = logging.getLogger(__name__)

FALLBACK_POLL_S = 0.25


class FileWaker(Wakeable):
    """Wakes on another connection's commit to the file: see the module's docstring."""

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self._path = db_path
        self._files = FileSet(db_path)
        self._probe = DataVersionProbe(db_path)
        self._seen = self._probe.value()
        self._observer: BaseObserver | None = Observer()
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
        self._observer.schedule(FileEvents(names, self._event.set), str(folder))
        if folder.parent != folder:
            try:
                self._observer.schedule(
                    FileEvents({folder.name}, self._event.set),
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
            if self._settle(self._changed, stop, deadline):
                self._poked = False
                return True
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
