"""Waking the agent when the database changes, without polling: what each backend's waker
(`Database.listen`) shares. `Wakeable` is the interface the agent's loop talks to: the wait
for a change, the poke (stop requested, a menu action done), the pause after a failed tick,
and the watch of followed files (sources), which re-checks a followed file as the file
waker does its own: a write to its -wal comes before its commit shows.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

log = logging.getLogger(__name__)

RECHECKS_S = (0.001, 0.001, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512)
"""The pauses after a write before asking again whether its commit shows (about 1 s in all).
A commit shows a moment after its last write, and nothing announces that moment: the writer
updates the -shm, which is mapped in memory and raises no event. With `synchronous = FULL`
(the sqlite3 shell's and most drivers' default) the writer first waits for its fsync, which
on a busy disk takes far longer than the few milliseconds the series once covered: such a
commit waited for the next unrelated event, up to the safety timer."""


class FileEvents(FileSystemEventHandler):
    def __init__(self, names: set[str], changed: Callable[[], None]) -> None:
        self._names = names
        self._changed = changed

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed", "closed_no_write"):
            return  # reading is not changing
        paths = (event.src_path, getattr(event, "dest_path", "") or "")
        if any(Path(str(path)).name in self._names for path in paths):
            self._changed()


class Wakeable(ABC):
    """What both wakers share, and what the loop may ask of either: an event their sources
    set, a poke (stop requested, a menu action done) that ends any wait, and the watch of
    followed files (`follow`)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._poked = False
        self._followed: tuple[Path, ...] = ()
        self._unwatched: set[Path] = set()
        self._source_observer: BaseObserver | None = None
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
                self._source_observer.schedule(FileEvents(found, self._source_change), str(folder))
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

    def _settle(self, changed: Callable[[], bool], stop: threading.Event, deadline: float) -> bool:
        """A write was seen: whether a commit (or a poke) shows within the re-checks. Each new
        write starts the series again, so a write that comes during the last pause gets its
        own series rather than being taken as looked at."""
        step = 0
        while step < len(RECHECKS_S) and not stop.is_set():
            if self._poked or changed():
                return True
            pause = min(RECHECKS_S[step], deadline - time.monotonic())
            if pause <= 0:
                return False  # the caller's timeout: the loop ticks anyway
            if self._event.wait(pause):
                self._event.clear()
                step = 0
            else:
                step += 1
        return not stop.is_set() and (self._poked or changed())

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

    @abstractmethod
    def mark(self) -> None:
        """Called before a tick reads: any change after this point wakes the next wait."""

    @abstractmethod
    def wait(self, timeout_s: float, stop: threading.Event) -> bool:
        """Block until a change, `stop`, a poke or the timeout; True when woken by a change
        or a poke."""

    @abstractmethod
    def suspend(self) -> None:
        """Let go of the database before it is opened again."""

    @abstractmethod
    def reopen(self) -> None:
        """The database was opened again (a replaced file): watch the new one."""

    @abstractmethod
    def close(self) -> None: ...
