"""One agent's history window: made when first opened (from the tray's menu, or asked for by
`traycourier history --url/--open` through the database), told of every change the agent
wakes for, stopped with the agent. Importing this module loads no server: an agent whose
window is never opened pays nothing for it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from traycourier.agent.engine import controls, doing
from traycourier.agent.engine.runtime import RuntimeConfig, TickReport
from traycourier.agent.policy.menu_actions import MenuAction
from traycourier.agent.system import paths
from traycourier.agent.web import page
from traycourier.store import (
    Database,
    InvalidInput,
    StoreError,
    agents,
    mutes,
    private,
    read_settings,
    timestamps,
)
from traycourier.store.history import history
from traycourier.store.rows import NotificationRow

if TYPE_CHECKING:
    from traycourier.agent.web.server import HistoryServer

log = logging.getLogger(__name__)


def address_file(address: str) -> Path:
    """The private file holding the whole address (with the secret) of the window listening
    at `address`: the CLI reads it; the database holds only `address`."""
    port = address.rsplit(":", 1)[-1]
    return paths.cache_dir() / f"history-{port if port.isdigit() else 'unknown'}.url"


class Window:
    def __init__(
        self,
        db: Database,
        config: RuntimeConfig,
        poke: Callable[[], None],
        tell: doing.Tell,
        complain: controls.Complaint,
    ) -> None:
        self._db, self._config, self._poke = db, config, poke
        self._tell, self._complain = tell, complain
        self._server: HistoryServer | None = None
        self._opening = threading.Lock()

    def open(self) -> str:
        """Serve (once), say where in the database and the private file; the address to open."""
        with self._opening:  # the menu's thread and the delivery thread may both ask
            if self._server is None:
                from traycourier.agent.web.server import HistoryServer

                self._server = HistoryServer(self._read, self.act, self._choices)
            url = self._server.start()
        private.write_file(address_file(self._server.origin), url.encode("ascii"))
        agents.history_at(self._db, self._config.owner, self._server.origin)
        return url

    def act(self, action: MenuAction) -> None:
        """A button of the page: what the same menu item does."""
        now = timestamps.utcnow()
        if not doing.do(self._db, self._config, action, now, self._tell, self._complain):
            raise InvalidInput(f"{type(action).__name__} is not offered by the history window")
        self._poke()

    def ticked(self, report: TickReport) -> None:
        """After each tick: serve when asked to; open pages fetch their list again."""
        if report.history_wanted:
            try:
                self.open()
            except (OSError, StoreError) as err:
                log.error("cannot serve the history window: %s", err)
        if self._server is not None:
            self._server.changed()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        address_file(self._server.origin).unlink(missing_ok=True)
        try:
            agents.history_at(self._db, self._config.owner, None)
        except StoreError as err:  # the agent is stopping: its row says stopped anyway
            log.warning("cannot record that the history window stopped: %s", err)

    @property
    def server(self) -> HistoryServer | None:
        return self._server

    def _read(self, query: page.Query) -> Sequence[NotificationRow]:
        return history(
            self._db, source=query.source or None, search=query.search or None,
            priority=query.priority or None, unread=query.unread, before=query.before,
            since=_local_day(query.since), until=_local_day(query.until, after=True),
            outcome=query.status or None,
            limit=page.PAGE_SIZE, device=self._config.device,
        )  # fmt: skip

    def _choices(self) -> page.Choices:
        now = timestamps.utcnow()
        found = mutes.active(self._db, now)
        return page.Choices(read_settings(self._db), tuple(found.values()))


def _local_day(text: str, after: bool = False) -> datetime | None:
    """The start of a local date (of the next one: `after`), for the page's date range."""
    if not text:
        return None
    day = date.fromisoformat(text) + timedelta(days=1 if after else 0)
    return datetime.combine(day, time()).astimezone()
