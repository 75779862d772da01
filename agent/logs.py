"""Logging: a rotating file in the platform's log folder, and stderr when headless."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from traycourier.agent import paths

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup(*, to_stderr: bool, debug: bool) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter = logging.Formatter(FORMAT)
    try:
        paths.log_dir().mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
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
