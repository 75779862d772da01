"""The tray's icon for each state and the application's picture, drawn with Pillow (no
source image to drift from), and the .ico Windows needs for a notification.

Pillow is imported only where a picture is drawn or converted: the tray on pystray's GTK and
AppIndicator backends shows the same pictures drawn ahead as PNG files (`tray_png`), and so
never loads it (3.3 MiB of the XEmbed tray's memory, with its image plugins and FreeType)."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING

from traycourier.agent.system import paths
from traycourier.store import private

if TYPE_CHECKING:
    from PIL import Image

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


TRAY_SIZE = 64
"""The size the tray's pictures are drawn at; every panel scales them to its own."""


def render(state: str, size: int = TRAY_SIZE, look: str = "color") -> Image.Image:
    """A rounded tile in the state's colour with a white glyph: an inbox tray, and above it
    what the state is: a letter dropping into the tray (on), pause bars (paused), a crescent moon
    (quiet), an exclamation mark (attention), or the tray struck through (off). No bell,
    so it is not mistaken for a desktop's own notification icon; whole shapes a few pixels
    thick, so each state reads at 16 px on a light or a dark panel."""
    _check(state, look)
    return _draw(state, size, look)


def _check(state: str, look: str) -> None:
    if state not in STATES:
        raise ValueError(f"unknown icon state {state!r}")
    if look != "color" and look not in GLYPHS:
        raise ValueError(f"unknown icon look {look!r}")


def tray_asset(state: str, look: str) -> str:
    """The name of `render(state, TRAY_SIZE, look)` drawn ahead, in assets/ (made by
    `packaging/make_icons.py --asset`; a test keeps each the same as `render`)."""
    return f"tray-{look}-{state}.png"


@dataclass(frozen=True)
class TrayPng:
    """A tray picture as PNG bytes, for the backends that only ever write it out as a PNG
    file (pystray's GTK and AppIndicator call `save(file, "PNG")`, nothing else)."""

    data: bytes

    def save(self, fp: IO[bytes], format: str | None = None) -> None:
        if format not in (None, "PNG", "png"):
            raise ValueError(f"a tray picture is a PNG, not {format}")
        fp.write(self.data)


@cache
def tray_png(state: str, look: str = "color") -> TrayPng:
    _check(state, look)
    return TrayPng(paths.asset_path(tray_asset(state, look)).read_bytes())


@cache
def _draw(state: str, size: int, look: str) -> Image.Image:
    from PIL import Image, ImageDraw

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
    from PIL import Image

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
