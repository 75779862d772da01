"""The tray's state icons and the application's picture, drawn by one piece of code."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from traycourier.agent.system import icons


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG's contrast ratio of two sRGB colours."""

    def luminance(rgb: tuple[int, int, int]) -> float:
        linear = [(c / 255 / 12.92) if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def pixels(img: Image.Image) -> list[tuple[int, ...]]:
    raw = img.tobytes()
    return [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError):
        icons.render("sparkly")


@pytest.mark.parametrize("state", icons.STATES)
def test_each_state_reads_at_16_px(state: str) -> None:
    """A white glyph on a full-colour tile: enough contrast for small text (4.5:1), enough
    glyph pixels to be seen, and no faded (see-through) tile, which is what went muddy on
    a dark panel."""
    assert contrast(icons.TILES[state], (255, 255, 255)) >= 4.5
    img = icons.render(state, 16)
    assert img.size == (16, 16)
    drawn = pixels(img)
    white = [p for p in drawn if min(p[:3]) > 200 and p[3] == 255]
    assert len(white) >= 20, f"{len(white)} glyph pixels"
    centre = img.crop((3, 3, 13, 13))
    assert all(p[3] == 255 for p in pixels(centre))


@pytest.mark.parametrize("size", [16, 22, 24, 32])
def test_the_states_differ_at_every_panel_size(size: int) -> None:
    drawn = {s: pixels(icons.render(s, size)) for s in icons.STATES}
    for a in icons.STATES:
        for b in icons.STATES:
            if a < b:
                differing = sum(
                    sum((x - y) ** 2 for x, y in zip(p, q, strict=True)) > 60**2
                    for p, q in zip(drawn[a], drawn[b], strict=True)
                )
                assert differing >= size * size // 4, (a, b, differing)


@pytest.mark.parametrize("look", list(icons.GLYPHS))
def test_a_monochrome_look_is_the_glyph_alone_in_its_ink(look: str) -> None:
    """For panels whose own icons are monochrome: no tile, see-through around and inside
    the glyph, every drawn pixel in the one ink, and the five states still told apart."""
    ink = icons.GLYPHS[look]
    drawn = {s: icons.render(s, 22, look) for s in icons.STATES}
    for state, img in drawn.items():
        solid = [p for p in pixels(img) if p[3] == 255]
        assert len(solid) >= 30, state
        assert all(p[:3] == ink[:3] for p in solid), state
        assert img.getpixel((0, 0))[3] == img.getpixel((21, 21))[3] == 0  # no tile
    masks = {s: bytes(img.getchannel("A").tobytes()) for s, img in drawn.items()}
    assert len(set(masks.values())) == len(icons.STATES)
    with pytest.raises(ValueError):
        icons.render("on", 22, "green")


def test_the_application_picture_is_the_on_icon() -> None:
    """assets/traycourier.png (popups, menus, installers) is drawn by the same code:
    `python packaging/make_icons.py --asset` after a change to the drawing."""
    from traycourier.agent.system import paths

    with Image.open(paths.asset_path(icons.SOURCE)) as img:
        assert img.convert("RGBA").tobytes() == icons.render("on", 256).tobytes()


@pytest.mark.parametrize("look", ["color", *icons.GLYPHS])
@pytest.mark.parametrize("state", icons.STATES)
def test_the_tray_pictures_drawn_ahead_are_what_render_draws(state: str, look: str) -> None:
    """What pystray's GTK and AppIndicator backends are handed (`tray_png`) is, pixel for
    pixel, `render`'s picture; each is written out only as a PNG, the one format they ask."""
    png = icons.tray_png(state, look)
    with Image.open(io.BytesIO(png.data)) as img:
        assert img.format == "PNG"
        assert img.convert("RGBA").tobytes() == icons.render(state, look=look).tobytes()
    written = io.BytesIO()
    png.save(written, "PNG")
    assert written.getvalue() == png.data
    with pytest.raises(ValueError):
        png.save(io.BytesIO(), "ICO")


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
