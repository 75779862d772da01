"""The history window as the tray and a headless agent hold it: nothing of it is loaded (no
page, no server, about 0.6 MiB) until it is first opened from the menu or asked for by
`traycourier history --url/--open`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from traycourier.agent.engine.runtime import TickReport

if TYPE_CHECKING:
    from traycourier.agent.web.window import Window


class WindowOnDemand:
    def __init__(self, make: Callable[[], Window]) -> None:
        self._make = make
        self._window: Window | None = None

    @property
    def window(self) -> Window:
        if self._window is None:
            self._window = self._make()
        return self._window

    def open(self) -> str:
        """Serve it (once); the address to hand the browser."""
        return self.window.open()

    def ticked(self, report: TickReport) -> None:
        """After each tick: made when asked for; told of the change once made."""
        if self._window is not None or report.history_wanted:
            self.window.ticked(report)

    def stop(self) -> None:
        if self._window is not None:
            self._window.stop()
