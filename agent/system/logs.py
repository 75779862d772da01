"""Logging: a rotating file in the platform's log folder, and stderr when headless.

The folder is 0700 and the files 0600 (a log names titles and paths), opened without
following a symlink. Every message is written with control characters escaped: a title a
producer wrote can contain a newline and a fake "ERROR" line, which must stay one line.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import sys
from pathlib import Path

from traycourier.agent.system import paths
from traycourier.store import private

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    """Control characters (newlines, escape sequences, bidi overrides) as visible escapes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class EscapingFormatter(logging.Formatter):
    """Escapes the message; a traceback (added after it) keeps its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        return super().formatMessage(record)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.baseFilename, flags, 0o600)
        if os.chmod in os.supports_fd and os.stat(fd).st_mode & 0o077:  # an older 0644 file
            os.chmod(fd, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def private_dir(path: Path) -> None:
    private.make_dirs(path)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def setup(*, to_stderr: bool, debug: bool) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter = EscapingFormatter(FORMAT)
    try:
        private_dir(paths.log_dir())
        file_handler = PrivateRotatingFileHandler(
            paths.log_file(), maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
    except OSError as err:
        print(f"traycourier: cannot write the log file ({err}); logging to stderr", file=sys.stderr)
        to_stderr = True
    if to_stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        root.addHandler(stream)
    # dbus-python logs its own Introspect timeouts as ERROR; our notifier reports them.
    logging.getLogger("dbus.proxies").setLevel(logging.CRITICAL)
