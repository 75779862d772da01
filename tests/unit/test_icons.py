"""The tray's state icons, drawn from the one source image."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from traycourier.agent.system import icons


def test_each_icon_state_is_drawn_differently_from_one_source() -> None:
    drawn = {s: icons.render(s, 32).tobytes() for s in icons.STATES}
    assert len(set(drawn.values())) == len(icons.STATES)
    assert all(icons.render(s, 32).size == (32, 32) for s in icons.STATES)
    with pytest.raises(ValueError):
        icons.render("sparkly")


def test_the_windows_icon_is_an_ico_made_from_the_png(tmp_path: Path) -> None:
    from traycourier.agent.system import paths

    png = paths.asset_path("traycourier.png")
    ico = icons.windows_icon(png, tmp_path / "cache")
    with Image.open(ico) as img:
        assert img.format == "ICO"
        assert img.info["sizes"] == set(icons.ICO_SIZES)
    assert icons.windows_icon(png, tmp_path / "cache") == ico  # made once
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [ico.name]  # no leftovers


def test_a_new_picture_gets_a_new_ico_and_an_unreadable_one_raises(tmp_path: Path) -> None:
    first = tmp_path / "a.png"
    Image.new("RGBA", (64, 64), "red").save(first)
    second = tmp_path / "b.png"
    Image.new("RGBA", (64, 64), "blue").save(second)
    assert icons.windows_icon(first, tmp_path / "c") != icons.windows_icon(second, tmp_path / "c")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    with pytest.raises(OSError):
        icons.windows_icon(broken, tmp_path / "c")
