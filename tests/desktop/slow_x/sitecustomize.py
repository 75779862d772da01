"""Fault injection for one desktop test, loaded through PYTHONPATH: each request pystray's
xorg backend sends to its own loop is held for 0-50 ms, the way a busy machine holds it.

That widens the window in which two threads change the icon at once: python-xlib then can
leave one thread's message unsent, and pystray hands the one reply to the wrong waiter. The
agent must quit on SIGTERM all the same (`test_signals.py`)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import random
import sys
import time
from types import ModuleType
from typing import Any


def _held(send: Any) -> Any:
    def send_later(*args: Any, **kwargs: Any) -> Any:
        time.sleep(random.random() * 0.05)
        return send(*args, **kwargs)

    return send_later


class _SlowXorg(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "pystray._xorg":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.loader is not None
        run_module = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            module.Icon._send_message = _held(module.Icon._send_message)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _SlowXorg())
