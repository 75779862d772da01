"""The tray's state icons, drawn from the one source image."""

from __future__ import annotations

import pytest

from traycourier.agent import icons


def test_each_icon_state_is_drawn_differently_from_one_source() -> None:
    drawn = {s: icons.render(s, 32).tobytes() for s in icons.STATES}
    assert len(set(drawn.values())) == len(icons.STATES)
    assert all(icons.render(s, 32).size == (32, 32) for s in icons.STATES)
    with pytest.raises(ValueError):
        icons.render("sparkly")
