"""Which OS this is: the one place that reads `sys.platform`.

Everything that differs per OS is a class per mechanism (a notifier backend, an autostart
entry, a way to open files) plus a chooser that takes the value returned here, so the
differences can be tested on any machine by passing another value.
"""

from __future__ import annotations

import sys
from typing import Literal

Platform = Literal["linux", "windows", "darwin"]


def current() -> Platform:
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"


def is_frozen() -> bool:
    """True inside a PyInstaller bundle (the installed app), False from a venv or checkout."""
    return bool(getattr(sys, "frozen", False))
