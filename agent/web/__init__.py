"""The history window (issue 27): every notification in a local web page the agent serves.

`page` draws it (pure), `server` serves it (security lives there), `assets` holds its script
and style. `for_database` ties it to the store and to the menu's own actions.
"""

from __future__ import annotations

from collections.abc import Sequence

from traycourier.agent.web import page
from traycourier.agent.web.server import Actor, HistoryServer
from traycourier.store import Database
from traycourier.store.history import history
from traycourier.store.rows import NotificationRow


def for_database(db: Database, device: str, act: Actor) -> HistoryServer:
    """A (not yet started) history window over `db`, doing what it is asked through `act`."""

    def read(query: page.Query) -> Sequence[NotificationRow]:
        return history(
            db,
            source=query.source or None,
            search=query.search or None,
            priority=query.priority or None,
            unread=query.unread,
            before=query.before,
            limit=page.PAGE_SIZE,
            device=device,
        )

    return HistoryServer(read, act)
