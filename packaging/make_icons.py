"""Every OS's icon files, and the application's picture in assets/, drawn by the agent's
own `render` (each size drawn at that size, so 16 px is as sharp as 256), with Pillow.

    python packaging/make_icons.py build/icons
-> traycourier.ico (16-256), traycourier.icns, hicolor/<size>x<size>/apps/traycourier.png
    python packaging/make_icons.py --asset
-> assets/traycourier.png (the picture popups show) and assets/tray-<look>-<state>.png (the
   tray's pictures drawn ahead, for the backends that take a PNG); kept in git, checked by
   tests
"""

from __future__ import annotations

import sys
from pathlib import Path

from traycourier.agent.system.icons import GLYPHS, ICO_SIZES, STATES, TRAY_SIZE, render, tray_asset

ROOT = Path(__file__).resolve().parent.parent
ASSET = ROOT / "assets" / "traycourier.png"
HICOLOR = [16, 22, 24, 32, 48, 64, 128, 256]


def make(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    ico = out / "traycourier.ico"
    biggest = render("on", 256)
    smaller = [render("on", w) for w, _h in ICO_SIZES if w < 256]
    biggest.save(ico, sizes=ICO_SIZES, append_images=smaller)
    icns = out / "traycourier.icns"
    render("on", 512).save(icns)
    written += [ico, icns]
    for size in HICOLOR:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / "traycourier.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        render("on", size).save(target)
        written.append(target)
    return written


def assets() -> list[Path]:
    render("on", 256).save(ASSET, optimize=True)
    written = [ASSET]
    for look in ("color", *GLYPHS):
        for state in STATES:
            target = ASSET.parent / tray_asset(state, look)
            render(state, TRAY_SIZE, look).save(target, optimize=True)
            written.append(target)
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["--asset"]:
        for path in assets():
            print(path)
    else:
        for path in make(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build" / "icons")):
            print(path)
