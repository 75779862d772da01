"""The shared-database contract: schema, migrations, and every SQL statement traycourier runs.

Producers in Python use `Database.open(path)` and `enqueue(...)`; everything else here is
what the agent, the CLI and the tray call. Nothing outside this package writes SQL, and
`store.model` (the vocabulary and records) is the only module here that runs none.
"""

from typing import TYPE_CHECKING

from traycourier.store.actions import Action
from traycourier.store.answers import wait_for_answer
from traycourier.store.choices import DEFAULTS, Settings
from traycourier.store.db import Database
from traycourier.store.errors import (
    CorruptDatabase,
    DatabaseBusy,
    DatabaseUnavailable,
    InvalidInput,
    SchemaTooNew,
    StoreError,
)
from traycourier.store.migrations import LATEST_VERSION
from traycourier.store.model import Enqueued, Priority
from traycourier.store.pg import has_password as url_has_password
from traycourier.store.pg import is_url as is_server_url
from traycourier.store.pg import shown as shown_target
from traycourier.store.pgdb import ServerDatabase
from traycourier.store.producer import enqueue
from traycourier.store.settings import read_settings, write_setting
from traycourier.store.sqlitedb import SqliteDatabase

__all__ = [
    "DEFAULTS",
    "LATEST_VERSION",
    "Action",
    "CorruptDatabase",
    "Database",
    "DatabaseBusy",
    "DatabaseUnavailable",
    "Enqueued",
    "InvalidInput",
    "Priority",
    "SchemaTooNew",
    "ServerDatabase",
    "Settings",
    "SqliteDatabase",
    "StoreError",
    "Wakeable",
    "enqueue",
    "is_server_url",
    "read_settings",
    "shown_target",
    "url_has_password",
    "wait_for_answer",
    "write_setting",
]


if TYPE_CHECKING:
    from traycourier.store.wake import Wakeable


def __getattr__(name: str) -> object:
    """`Wakeable` (what the agent's loop waits on) is loaded when first asked for: it brings
    the file watcher and its threads, which a producer that only writes never needs."""
    if name == "Wakeable":
        from traycourier.store.wake import Wakeable

        return Wakeable
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
