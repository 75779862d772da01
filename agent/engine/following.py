"""Following other programs' databases (sources), in the agent's tick, before routing.

One step, for each source in the list (`traycourier source add`):
1. open the file read-only if it is not open (again, when it was replaced or renamed);
2. when it changed since the last look (`version`), read what is unread there, hand what
   was not seen before to the tick to import, and mark read here what is no longer unread
   there (`read_elsewhere`: still waiting, it is never shown; on screen, its popup closes);
3. write back what was read here (a click, the menu, an answer) in that program's own way.

The tick adds the rows handed over in its routing transaction (`store.imports`) and then
says so (`landed`): rows of a tick that failed are handed over again by the next one.

A source never stops our own delivery: whatever it does (missing, locked, replaced, another
program's file, a newer release's table) is one warning line when it starts, the reason in
`sources.problem` for `status` and `doctor`, and a retry with backoff; a change of the file
wakes the agent for it (`Waker.follow`). A kind of source is a `Kind`: ReverbCode's is the
first, and an HTTP endpoint or another orchestrator would be the next beside it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from traycourier.agent.engine import reverbcode
from traycourier.agent.policy import backoff
from traycourier.store import Database, StoreError, sources
from traycourier.store.imports import Imported
from traycourier.store.reverbcode import (
    MAX_UNREAD,
    ForeignRow,
    ReverbCodeFile,
    SourceUnavailable,
    Unread,
)
from traycourier.store.sources import Source

log = logging.getLogger(__name__)


class Reader(Protocol):
    """An open source: what `Kind.open` returns."""

    path: Path

    def replaced(self) -> bool: ...
    def version(self) -> int: ...
    def unread(self, after: int) -> Unread: ...
    def rows(self, ids: list[str]) -> list[ForeignRow]: ...
    def mark_read(self, ids: list[str]) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Kind:
    """What one kind of source brings: how to open it, and how its rows become ours."""

    name: str
    open: Callable[[str], Reader]
    key_of: Callable[[object, str], str | None]
    """A row's `dedupe_key` (None: it cannot be imported once only), without mapping it."""
    to_notification: Callable[[ForeignRow, str, Mapping[str, Any]], Imported | None]
    limit: int
    """The most unread rows one look reads: at the limit, absence proves nothing."""


def _reverbcode_row(row: ForeignRow, name: str, stored: Mapping[str, Any]) -> Imported | None:
    return reverbcode.to_notification(row, name, reverbcode.options_from(stored))


KINDS: Mapping[str, Kind] = {
    reverbcode.KIND: Kind(
        reverbcode.KIND,
        lambda location: ReverbCodeFile(Path(location)),
        lambda row_id, name: reverbcode.key_of(name, row_id),
        _reverbcode_row,
        limit=MAX_UNREAD,
    ),
}


@dataclass
class _Followed:
    """What the agent knows of one source between ticks."""

    source: Source
    reader: Reader | None = None
    version: int | None = None
    unread: dict[str, str] = field(default_factory=dict)
    """Keys of rows unread there (and imported here) -> their ids there."""
    keys: dict[object, str | None] = field(default_factory=dict)
    """Ids there -> keys here (None: not usable) of the last look: a look reads every
    unread id, and only a new one costs a `key_of`."""
    looked: bool = False
    """`unread` is what the last look found (not only what this agent imported)."""
    after: int = 0
    """The highest rowid a look read: the next reads whole only the rows above it."""
    unusable: int = 0
    failures: int = 0
    retry_at: datetime | None = None
    problem: str | None = None


class Follower:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self._followed: dict[str, _Followed] = {}
        self._incoming: dict[str, Imported] = {}
        """Rows read from sources and not yet added here, by key."""

    def step(self, now: datetime, listed_now: list[Source]) -> list[Imported]:
        """Follow every source once (the list as the tick read it); the rows to import (new
        there, or not landed yet)."""
        listed = {s.name: s for s in listed_now}
        for name in list(self._followed):
            if name not in listed or listed[name].location != self._followed[name].source.location:
                self._forget(name)
        for name, source in listed.items():
            state = self._followed.setdefault(name, _Followed(source))
            if source.problem is None and state.problem is not None:
                state.retry_at = None  # `source add` again: the user says it is fixed
            state.source = source
            if state.retry_at is not None and now < state.retry_at:
                continue
            try:
                self._follow(state, now)
            except SourceUnavailable as err:
                self._failed(state, err, now)
                continue
            except StoreError:
                raise  # our own database: the tick fails, and the loop backs off
            except Exception as err:  # a bug or a value no check foresaw: this source waits
                log.exception("source %s: internal error", name)
                why = f"internal error: {type(err).__name__}: {err}"
                self._failed(state, SourceUnavailable(why, "see the agent's log"), now)
                continue
            if state.problem is not None or source.problem is not None:
                if state.problem is not None:
                    log.info("source %s: following %s again", name, source.location)
                sources.record_problem(self.db, name, None, now)
            state.failures, state.retry_at, state.problem = 0, None, None
        return list(self._incoming.values())

    def landed(self) -> None:
        """The rows `step` handed over are in the database (added now, or before)."""
        self._incoming.clear()

    def _follow(self, state: _Followed, now: datetime) -> None:
        kind = KINDS.get(state.source.kind)
        if kind is None:
            raise SourceUnavailable(
                f"unknown kind of source {state.source.kind!r}",
                f"remove it (`traycourier source remove {state.source.name}`)",
            )
        if state.reader is not None and state.reader.replaced():
            log.info("source %s: %s was replaced or moved", state.source.name, state.reader.path)
            self._close(state)
        if state.reader is None:
            state.reader = kind.open(state.source.location)
        version = state.reader.version()
        fresh = 0
        if version != state.version:
            fresh = self._look(state, kind, now)
            state.version = version
        if not fresh:  # an import is a commit here, which wakes the next tick for this
            self._write_back_read_here(state)

    def _look(self, state: _Followed, kind: Kind, now: datetime) -> int:
        """What is unread there: rows not seen unread at the last look are handed over (how
        many); a duplicate import is a no-op (`dedupe_key`)."""
        if state.reader is None:
            return 0
        found = state.reader.unread(state.after)
        name = state.source.name
        there: dict[str, str] = {}
        keys: dict[object, str | None] = {}
        fresh: list[ForeignRow] = []
        behind: list[str] = []  # unread again below the last look's rowid: read by id
        unusable = 0
        seen, imported = state.keys, state.unread
        for row_id in found.ids:
            key = seen[row_id] if row_id in seen else kind.key_of(row_id, name)
            keys[row_id] = key
            if key is None:
                unusable += 1
                continue
            there[key] = str(row_id)
            if key in imported:
                continue
            row = found.rows.get(row_id)
            if row is not None:
                fresh.append(row)
            else:
                behind.append(str(row_id))
        if unusable != state.unusable:
            log.warning("source %s: %d unread rows have an id that is not text; left out",
                        name, unusable)  # fmt: skip
            state.unusable = unusable
        if behind:
            fresh += state.reader.rows(behind)
        for row in fresh:
            item = kind.to_notification(row, name, state.source.options)
            if item is not None:
                self._incoming[item.key] = item
        if len(found.ids) < kind.limit:  # every unread row was read: the others were read there
            before = set(state.unread) if state.looked else sources.unread_here(
                self.db, state.source.key_prefix
            )  # fmt: skip
            gone = sorted(before - there.keys())
            sources.read_elsewhere(self.db, gone, f"read in {state.source.kind} first", now)
        state.unread, state.keys, state.looked = there, keys, True
        state.after = max(state.after, found.top)
        log.debug("source %s: %d new", name, len(fresh))
        return len(fresh)

    def _write_back_read_here(self, state: _Followed) -> None:
        """Unread there and read here (a click, the menu, an answer): written back. Counting
        what is unread here finds out cheaply whether anything was read at all."""
        if not state.unread:
            return
        if sources.unread_here_count(self.db, state.source.key_prefix) == len(state.unread):
            return
        known = sources.known(self.db, list(state.unread))
        self._write_back(state, [key for key, read in known.items() if read])

    def _write_back(self, state: _Followed, keys: list[str]) -> None:
        if not keys or state.reader is None:
            return
        state.reader.mark_read([state.unread[k] for k in keys if k in state.unread])
        for key in keys:
            state.unread.pop(key, None)

    def _failed(self, state: _Followed, err: SourceUnavailable, now: datetime) -> None:
        state.failures += 1
        delay = backoff.source_retry_in(state.failures)
        state.retry_at = now + timedelta(seconds=delay)
        self._close(state)
        problem = f"{err} — {err.fix}"
        if problem != state.problem:
            log.warning(
                "source %s: %s; retrying with backoff (%s)", state.source.name, err, err.fix
            )
            sources.record_problem(self.db, state.source.name, problem, now)
        state.problem = problem

    def changed(self) -> bool:
        """Whether a followed file holds a commit not looked at yet: the wake-up asks after
        each write it sees (a write to the -wal comes before its commit shows). A source
        waiting out its backoff is not asked: `next_retry_at` wakes the agent for it."""
        for state in self._followed.values():
            if state.reader is None:
                if state.failures == 0:
                    return True  # not opened yet
                continue
            try:
                if state.reader.version() != state.version:
                    return True
            except SourceUnavailable:
                return True  # the tick finds out what, and records it
        return False

    def next_retry_at(self) -> datetime | None:
        """When a failing source is looked at again: the loop wakes for it."""
        times = [s.retry_at for s in self._followed.values() if s.retry_at is not None]
        return min(times) if times else None

    def watched(self) -> tuple[Path, ...]:
        """The files whose changes wake the agent: every source's, open or not (so the
        file's return is noticed as soon as it happens)."""
        return tuple(
            sorted(
                Path(s.source.location) for s in self._followed.values() if s.source.kind in KINDS
            )
        )

    def _close(self, state: _Followed) -> None:
        if state.reader is not None:
            try:
                state.reader.close()
            except Exception as err:  # closing a broken file: nothing more to lose
                log.debug("closing %s: %s", state.source.name, err)
        state.reader, state.version, state.looked, state.after = None, None, False, 0

    def _forget(self, name: str) -> None:
        state = self._followed.pop(name)
        self._close(state)
        for key in [k for k in self._incoming if k.startswith(state.source.key_prefix)]:
            del self._incoming[key]  # no longer followed: not imported either

    def close(self) -> None:
        for name in list(self._followed):
            self._forget(name)
