"""Windows notifications through plyer's own balloon code, called so that failures count.

plyer's `notification.notify` on Windows starts a thread that builds a `WindowsBalloonTip`
and returns at once: an icon Windows cannot load, or a shell that refuses the balloon,
raises inside that thread and the caller records `sent` for a notification nobody saw.
Here the same class runs on the agent's notifier thread, so its exceptions reach the
delivery as errors. Its constructor would also sleep for the display time before removing
the balloon's tray entry; instead it is built with no wait, kept, and removed by a later
call once its time is up (on the same thread, which owns its hidden window).
"""

from __future__ import annotations

import atexit
import time
from collections import deque
from typing import Any

URGENT_KEEP_S = 60.0
"""How long an urgent balloon's tray entry stays (Windows decides how long it shows)."""


class Balloons:
    def __init__(self) -> None:
        self._shown: deque[tuple[float, Any]] = deque()

    def show(self, title: str, message: str, app_name: str, ico: str, keep_s: float) -> None:
        """Raises whatever plyer raises: the icon not loadable, Shell_NotifyIconW refused."""
        from plyer.platforms.win.libs.balloontip import WindowsBalloonTip

        now = time.monotonic()
        self.close_expired(now)
        balloon = WindowsBalloonTip(
            title=title, message=message, app_name=app_name, app_icon=ico, timeout=0
        )
        self._shown.append((now + keep_s, balloon))

    def close_expired(self, now: float) -> None:
        while self._shown and self._shown[0][0] <= now:
            _close(self._shown.popleft()[1])

    def close_all(self) -> None:
        while self._shown:
            _close(self._shown.popleft()[1])


def _close(balloon: Any) -> None:
    """Remove the tray entry and free the window, once: plyer also registered this cleanup
    with atexit (which would keep every balloon alive until exit)."""
    atexit.unregister(balloon.__del__)
    balloon.__del__()
    balloon._hicon = balloon._wnd_class_ex = balloon._hwnd = None
