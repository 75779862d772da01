"""The tray's icon for each state and the application's picture, drawn with Pillow (no
source image to drift from), and the .ico Windows needs for a notification."""

from __future__ import annotations

import hashlib
import io
import os
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw

from traycourier.store import private

SOURCE = "traycourier.png"
"""The application's picture (popups, menus, installers): `render("on", 256)`, saved by
`packaging/make_icons.py --asset`; a test keeps the two the same."""
STATES = ("on", "off", "paused", "quiet", "attention")
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]

TILES = {
    "on": (29, 78, 216),  # blue
    "off": (75, 85, 99),  # grey
    "paused": (180, 83, 9),  # amber
    "quiet": (91, 33, 182),  # violet
    "attention": (220, 38, 38),  # red
}
"""Each state's tile: full colour, never faded, and dark enough that the white glyph keeps
a contrast of at least 4.5 to 1 (a test measures it at 16 px)."""
SUPERSAMPLE = 4


GLYPHS = {"white": (255, 255, 255, 255), "black": (20, 20, 20, 255)}
"""The monochrome looks (`tray_icon` white or black): the glyph alone, no tile, for panels
whose own icons are monochrome."""


def render(state: str, size: int = 64, look: str = "color") -> Image.Image:
    """A rounded tile in the state's colour with a white glyph: an inbox tray, and above it
    what the state is: a letter dropping into the tray (on), pause bars (paused), a crescent moon
    (quiet), an exclamation mark (attention), or the tray struck through (off). No bell,
    so it is not mistaken for a desktop's own notification icon; whole shapes a few pixels
    thick, so each state reads at 16 px on a light or a dark panel."""
    if state not in STATES:
        raise ValueError(f"unknown icon state {state!r}")
    if look != "color" and look not in GLYPHS:
        raise ValueError(f"unknown icon look {look!r}")
    return _draw(state, size, look)


@cache
def _draw(state: str, size: int, look: str) -> Image.Image:
    big = size * SUPERSAMPLE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)

    def at(*xy: float) -> list[float]:
        return [v * big for v in xy]

    if look == "color":
        tile = (*TILES[state], 255)
        draw.rounded_rectangle(at(0.02, 0.02, 0.98, 0.98), radius=0.22 * big, fill=tile)
        ink = GLYPHS["white"]
    else:  # the glyph alone: what is cut out of it is see-through
        tile, ink = (0, 0, 0, 0), GLYPHS[look]
    stroke = round(0.11 * big)
    draw.line(at(0.22, 0.50, 0.22, 0.80, 0.78, 0.80, 0.78, 0.50), fill=ink, width=stroke,
              joint="curve")  # fmt: skip
    if state == "on":  # a letter dropping into the tray
        draw.rounded_rectangle(at(0.34, 0.12, 0.66, 0.56), radius=0.04 * big, fill=ink)
        draw.line(at(0.34, 0.18, 0.5, 0.32, 0.66, 0.18), fill=tile, width=round(0.07 * big),
                  joint="curve")  # fmt: skip
    elif state == "paused":
        for left in (0.33, 0.55):
            draw.rectangle(at(left, 0.14, left + 0.12, 0.62), fill=ink)
    elif state == "quiet":
        draw.ellipse(at(0.28, 0.10, 0.72, 0.54), fill=ink)
        draw.ellipse(at(0.42, 0.02, 0.84, 0.44), fill=tile)
    elif state == "attention":
        draw.rounded_rectangle(at(0.43, 0.10, 0.57, 0.48), radius=0.05 * big, fill=ink)
        draw.ellipse(at(0.42, 0.54, 0.58, 0.70), fill=ink)
    if state == "off":
        draw.line(at(0.14, 0.86, 0.86, 0.14), fill=tile, width=round(0.26 * big))
        draw.line(at(0.18, 0.82, 0.82, 0.18), fill=ink, width=round(0.12 * big))
    return img.resize((size, size), Image.Resampling.BOX)


def windows_icon(png: Path, cache_dir: Path) -> Path:
    """Windows loads a notification's icon only from an .ico file (a PNG fails inside
    LoadImageW): one is made from the PNG, named by the PNG's content, so a new picture gets
    a new file and a half-written one is never used. A PNG Pillow cannot read raises."""
    data = png.read_bytes()
    target = cache_dir / f"traycourier-{hashlib.sha256(data).hexdigest()[:16]}.ico"
    if not target.exists():
        private.make_dirs(cache_dir)
        try:
            img = Image.open(io.BytesIO(data))
        except OSError:  # Pillow's UnidentifiedImageError names a BytesIO object
            raise OSError(f"the icon {png} is not an image") from None
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        with img:
            img.convert("RGBA").save(partial, format="ICO", sizes=ICO_SIZES)
        os.replace(partial, target)
    return target
