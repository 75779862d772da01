"""The shared database on a PostgreSQL server: its engine (`store.pg`: psycopg 3, so libpq's
environment and password file apply), another program's tables refused, its schema steps
(`store.migrations_pg`, one migrating agent at a time), and the server's clock. Its wake-up
is `store.pgwake`, imported when an agent first listens (a producer needs none).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import Connection

from traycourier.store import pg
from traycourier.store.db import Database
from traycourier.store.errors import CorruptDatabase, StoreError
from traycourier.store.migrations import LATEST_VERSION
from traycourier.store.migrations_pg import PG_MIGRATIONS

if TYPE_CHECKING:
    from traycourier.store.pgwake import ServerWaker

log = logging.getLogger(__name__)


class ServerDatabase(Database):
    dialect = "postgresql"
    is_server = True
    read_options: ClassVar[dict[str, object]] = {"isolation_level": "REPEATABLE READ"}
    """PostgreSQL's default, READ COMMITTED, gives each statement its own snapshot: an agent
    starting while another migrated saw no schema version, then the other's tables, and took
    them for another program's. REPEATABLE READ makes a read one snapshot; a read-only
    transaction at that level never fails to serialize."""

    def __init__(self, url: str) -> None:
        super().__init__(pg.engine_for(url), pg.shown(url))
        self.url: str = url

    @staticmethod
    def takes(target: str | os.PathLike[str]) -> bool:
        return pg.is_url(target)

    @classmethod
    def connect(cls, target: str | os.PathLike[str]) -> ServerDatabase:
        return cls(str(target))

    def translate(self, err: BaseException) -> StoreError:
        return pg.translate(err, self.location)

    def schema_version(self) -> int:
        with self.read() as conn:
            return pg.schema_version(conn) or 0

    def _refuse_foreign(self) -> None:
        with self.read() as conn:
            if pg.schema_version(conn) is None and (foreign := pg.foreign_tables(conn)):
                raise CorruptDatabase(
                    f"{self.location} holds another program's tables ({foreign}), not "
                    "traycourier's; it was left untouched — pass another --db"
                )

    def _migrate_in(self, conn: Connection) -> int:
        return pg.migrate(conn, PG_MIGRATIONS, LATEST_VERSION)

    def listen(self) -> ServerWaker:
        from traycourier.store.pgwake import ServerWaker

        return ServerWaker(self.url)

    def server_time(self) -> datetime:
        """On a server every agent reads times the others wrote: by its clock."""
        with self.read() as conn:
            value = conn.exec_driver_sql("SELECT now()").scalar_one()
        return value.astimezone(UTC)

    def listen_problem(self) -> str | None:
        return pg.check_channel(self.engine, self.url)
