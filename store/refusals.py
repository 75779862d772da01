"""Writes the database refuses for one row: a producer's trigger that raises, a constraint
this code does not know. A batch is never all-or-nothing over one such row.

Every agent write that carries many rows runs in a savepoint; when the database refuses it,
it runs again one row at a time, each in a savepoint of its own, so a refused row is undone
alone and the transaction goes on (PostgreSQL aborts a whole transaction on an error, SQLite
a statement: a savepoint makes both undo exactly the one row). What was refused is returned
with the database's reason, for the caller to record where it still can.

A row the database will not let the agent touch at all is remembered for the life of this
`Refused` (the open database): claims, routing and the wake-up pass it over, so it can
neither stop the others nor wake the agent again and again.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc

from traycourier.store.errors import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Refused:
    """Rows this database would not let the agent write, by table: delivery ids and
    notification seqs. They are logged once, when first refused."""

    deliveries: set[int] = field(default_factory=set)
    notifications: set[int] = field(default_factory=set)

    def params(self) -> dict[str, str]:
        """The two sets as the JSON parameters the statements that pass them over take."""
        return {
            "refused_deliveries": json.dumps(sorted(self.deliveries)),
            "refused_notifications": json.dumps(sorted(self.notifications)),
        }


@dataclass(frozen=True)
class Done(Generic[T, R]):
    results: list[R]
    refused: list[tuple[T, str]]
    """Each refused item with the database's reason."""


def one_by_one_if_refused(
    conn: Connection,
    run: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    translate: Callable[[BaseException], StoreError],
) -> Done[T, R]:
    """`run(items)` in a savepoint; if the database refuses it, `run([item])` for each item
    in a savepoint of its own. Errors that are not about a row (locked, gone, corrupt)
    propagate: the whole transaction is then retried later, as any database error is."""
    if not items:
        return Done([], [])
    try:
        with savepoint(conn):
            return Done(run(items), [])
    except (sa_exc.DBAPIError, sqlite3.Error) as err:
        if not _about_a_row(err, translate):
            raise
        if len(items) == 1:
            return Done([], [(items[0], reason(err))])
    results: list[R] = []
    refused: list[tuple[T, str]] = []
    for item in items:
        try:
            with savepoint(conn):
                results.extend(run([item]))
        except (sa_exc.DBAPIError, sqlite3.Error) as err:
            if not _about_a_row(err, translate):
                raise
            refused.append((item, reason(err)))
    return Done(results, refused)


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """A savepoint as two plain statements. SQLAlchemy's `begin_nested` costs about 0.1 ms
    in its own bookkeeping, and a delivered notification passes five of these: that was a
    third of the commit-to-popup time. The driver's statements cost a fifth of it."""
    conn.exec_driver_sql("SAVEPOINT tc_refusal")
    try:
        yield
    except BaseException:
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT tc_refusal")
        conn.exec_driver_sql("RELEASE SAVEPOINT tc_refusal")
        raise
    conn.exec_driver_sql("RELEASE SAVEPOINT tc_refusal")


def _about_a_row(err: BaseException, translate: Callable[[BaseException], StoreError]) -> bool:
    """A plain refusal (a trigger's RAISE, a constraint), not the database being locked,
    unreachable, read-only or damaged (those are subclasses of StoreError)."""
    return type(translate(err)) is StoreError


def reason(err: BaseException) -> str:
    """The database's own words, one line."""
    orig = getattr(err, "orig", err)
    text = (str(orig) or type(orig).__name__).strip().splitlines()
    return text[0][:300] if text else type(orig).__name__
