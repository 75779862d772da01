"""Where traycourier keeps things: the default database, logs, and its bundled assets."""

from __future__ import annotations

import logging
import os
from importlib import resources
from pathlib import Path

import platformdirs

from traycourier.agent import APP_NAME
from traycourier.store import is_server_url, shown_target

log = logging.getLogger(__name__)

DB_ENV = "TRAYCOURIER_DB"


Target = Path | str
"""A database: a SQLite file's path, or a PostgreSQL server's `postgresql://` URL."""


def default_db_path() -> Target:
    """`TRAYCOURIER_DB` if set (a path or a URL), else `traycourier.db` in the platform's
    user data folder."""
    env = os.environ.get(DB_ENV)
    if env:
        return env if is_server_url(env) else Path(env).expanduser()
    return standard_db_path()


def standard_db_path() -> Path:
    """Where the database lives when nothing says otherwise (what a login session gets)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / f"{APP_NAME}.db"


def database(given: str | Path | None) -> Target:
    """The database every command uses: `--db` if given, else the default. A file's path is
    made absolute, so the lock, the log and the autostart entry all name the same file."""
    target = given or default_db_path()
    if is_server_url(target):
        return str(target)
    return Path(target).expanduser().absolute()


def lock_base(target: Target) -> Path:
    """Where the one-tray-per-database lock lives: beside a file; for a server, in the
    user's cache folder, named by the server and database (never by the password)."""
    if isinstance(target, Path):
        return target
    import hashlib

    key = shown_target(target)  # user, host, port and database: never the password
    return cache_dir() / f"server-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def cache_dir() -> Path:
    """Files made from others and safe to delete (the Windows .ico)."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def log_file() -> Path:
    return log_dir() / f"{APP_NAME}.log"


def asset_path(name: str) -> Path:
    """The path of a file in `assets/`, the same way from a checkout, a wheel or a bundle.

    `assets` is a package, so importlib.resources finds it wherever the code was loaded
    from; PyInstaller collects it as package data.
    """
    path = Path(str(resources.files("traycourier.assets").joinpath(name)))
    if not path.is_file():
        raise FileNotFoundError(f"asset {name!r} is missing from {path.parent}")
    return path
