"""The shared-database contract: schema, migrations, and every SQL statement traycourier runs.

Producers in Python use `Database.open(path)` and `enqueue(...)`; everything else here is
what the agent, the CLI and the tray call. Nothing outside this package writes SQL.
"""

from store.db import Database
from store.errors import (
    CorruptDatabase,
    DatabaseUnavailable,
    InvalidInput,
    SchemaTooNew,
    StoreError,
)
from store.migrations import LATEST_VERSION
from store.producer import Action, Enqueued, enqueue
from store.settings import DEFAULTS, Settings, read_settings, write_setting

__all__ = [
    "DEFAULTS",
    "LATEST_VERSION",
    "Action",
    "CorruptDatabase",
    "Database",
    "DatabaseUnavailable",
    "Enqueued",
    "InvalidInput",
    "SchemaTooNew",
    "Settings",
    "StoreError",
    "enqueue",
    "read_settings",
    "write_setting",
]
