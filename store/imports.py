"""Rows of followed sources becoming notifications, as any producer's INSERT would make them.

They are added inside the routing transaction (`deliveries.route_batch`), not in one of their
own: a source's new row then costs no commit of its own between its commit there and its
popup here, and it is routed in the same transaction that adds it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from traycourier.store.errors import StoreError
from traycourier.store.refusals import one_by_one_if_refused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Imported:
    """A followed row as a notification."""

    key: str
    """Its `dedupe_key`: `<source>:<its id there>`, so that two agents, two devices or a
    restart add it once."""
    title: str
    message: str
    priority: str
    source: str
    kind: str
    actions_json: str
    payload_json: str
    created_at: str


_IMPORT = text(
    "INSERT INTO notifications (title, message, priority, source, kind, payload_json, "
    "actions_json, dedupe_key, created_at) VALUES (:title, :message, :priority, :source, "
    ":kind, :payload_json, :actions_json, :key, :created_at) ON CONFLICT DO NOTHING"
)
"""The same words on both backends; one prepared statement for every row."""


def add_imported(
    conn: Connection,
    rows: Sequence[Imported],
    translate: Callable[[BaseException], StoreError],
) -> int:
    """Add the rows not imported before (by any agent); how many were new. A row the database
    refuses (a producer's trigger) is logged and left out; the others are added."""

    def insert(some: Sequence[Imported]) -> list[int]:
        return [conn.execute(_IMPORT, vars(row)).rowcount or 0 for row in some]

    done = one_by_one_if_refused(conn, insert, rows, translate)
    for row, why in done.refused:
        log.error("%s cannot be imported: %s", row.key, why)
    return sum(done.results)
