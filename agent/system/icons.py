"""Tray icons for each state, drawn with Pillow from the one source image in assets/."""

from __future__ import annotations

import hashlib
import io
import os
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from traycourier.agent.system import paths
from traycourier.store import private

SOURCE = "traycourier.png"
STATES = ("on", "off", "paused", "quiet", "attention")
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


@cache
def source(size: int) -> Image.Image:
    with Image.open(paths.asset_path(SOURCE)) as img:
        return img.convert("RGBA").resize((size, size), Image.Resampling.LANCZOS)


def render(state: str, size: int = 64) -> Image.Image:
    """on: the source; off: grey with a slash; paused: dimmed with pause bars; quiet:
    dimmed with a crescent moon; attention: the source with a red dot."""
    if state not in STATES:
        raise ValueError(f"unknown icon state {state!r}")
    img = source(size).copy()
    draw = ImageDraw.Draw(img)
    s = size
    if state == "off":
        grey = ImageOps.grayscale(img.convert("RGB")).convert("RGBA")
        grey.putalpha(img.getchannel("A"))
        img = grey
        draw = ImageDraw.Draw(img)
        draw.line(
            (s * 0.15, s * 0.85, s * 0.85, s * 0.15), fill=(200, 30, 30, 255), width=max(s // 10, 2)
        )
    elif state in ("paused", "quiet"):  # faded, with a badge: pause bars or a crescent moon
        faded = img.copy()
        faded.putalpha(img.getchannel("A").point(lambda a: a * 6 // 10))
        img = faded
        draw = ImageDraw.Draw(img)
        r = s * 0.28
        cx, cy = s * 0.72, s * 0.72
        badge = (245, 158, 11, 255) if state == "paused" else (49, 46, 129, 255)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=badge)
        if state == "paused":
            w = r * 0.28
            for dx in (-r * 0.35, r * 0.35):
                draw.rectangle(
                    (cx + dx - w / 2, cy - r * 0.5, cx + dx + w / 2, cy + r * 0.5), fill="white"
                )
        else:
            m, dx = r * 0.62, r * 0.3
            draw.ellipse((cx - m, cy - m, cx + m, cy + m), fill=(253, 224, 71, 255))
            draw.ellipse((cx - m + dx, cy - m - dx / 2, cx + m + dx, cy + m - dx / 2), fill=badge)
    elif state == "attention":
        r = s * 0.2
        cx, cy = s * 0.78, s * 0.22
        draw.ellipse(
            (cx - r, cy - r, cx + r, cy + r),
            fill=(220, 38, 38, 255),
            outline="white",
            width=max(s // 32, 1),
        )
    return img


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
