"""Every OS's icon files from the one source in assets/, with Pillow, at build time.

    python packaging/make_icons.py build/icons
-> traycourier.ico (16-256), traycourier.icns, hicolor/<size>x<size>/apps/traycourier.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

from traycourier.agent.system.icons import ICO_SIZES

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "assets" / "traycourier.png"
HICOLOR = [16, 24, 32, 48, 64, 128, 256]


def make(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    with Image.open(SOURCE) as src:
        image = src.convert("RGBA")
    written = []
    ico = out / "traycourier.ico"
    image.save(ico, sizes=ICO_SIZES)
    icns = out / "traycourier.icns"
    image.resize((512, 512), Image.Resampling.LANCZOS).save(icns)
    written += [ico, icns]
    for size in HICOLOR:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / "traycourier.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        image.resize((size, size), Image.Resampling.LANCZOS).save(target)
        written.append(target)
    return written


if __name__ == "__main__":
    for path in make(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build" / "icons")):
        print(path)
