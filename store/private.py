"""Folders and small files only their owner may read or change, whatever the umask.

`Path.mkdir(parents=True, mode=…)` gives the mode to the last folder only: the parents it
makes get 0777 less the umask, which is 0777 under `umask 000` (anyone could then replace
`~/.config/autostart/traycourier.desktop`, whose Exec= line runs at login). Every folder
made here is 0700; every file is written 0600, never through a symlink someone planted.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def make_dirs(path: Path) -> None:
    """Make `path` and any missing parents, each 0700 (folders that exist stay as they are)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by someone else
            continue


def write_file(path: Path, data: bytes) -> None:
    """Write `path` whole (a reader sees the old file or the new one, never half of it), 0600,
    never through a symlink at `path` or at its temporary name. Raises OSError."""
    make_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)


def write_small(path: Path, text: str) -> None:
    """A file of ours that is a convenience, not the data (a pid beside a shared database,
    this machine's device): a failure is logged, not raised."""
    try:
        write_file(path, text.encode("utf-8"))
    except OSError as err:
        log.warning("cannot write %s: %s", path, err.strerror)
