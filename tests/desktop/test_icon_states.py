"""The tray icon as panels really draw it: trayer at 16, 22, 24 and 32 px, dark and light,
with the agent driven through its five states by the CLI and another program's row. Each
state's tile colour must be what the panel shows; the crops, magnified, go to the CI
artefacts (`icon-<state>-<size>px-<panel>.png`) for a person to look at."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import mapped_libraries, require_tool, wait_for
from tests.desktop.conftest import Desktop, _artifacts, desktop_session
from tests.desktop.test_quiet_hours import window_around_now
from tests.desktop.test_tray_e2e import app_windows, menu, open_menu, setting, xdo
from traycourier.agent.system import icons

pytestmark = pytest.mark.desktop

PANELS = {"dark": "0x2b2b2b", "light": "0xf0f0f0"}


def into(db: Path, state: str) -> None:
    """Bring the agent into `state` the way another program does: settings and a delivery
    written straight into the shared file (the agent wakes on the change)."""
    soon = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    settings = {
        "paused": [("paused_until", f'"{soon}"')],
        "quiet": [("paused_until", "null"), ("quiet_hours", f'"{window_around_now()}"')],
        "off": [("enable_notifications", "false")],
    }
    conn = sqlite3.connect(db, isolation_level=None)
    for key, value in settings.get(state, []):
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value, soon),
        )
    if state == "attention":  # a delivery that failed
        conn.execute("INSERT INTO notifications (title) VALUES ('broken')")
        wait_for(
            lambda: conn.execute("SELECT count(*) FROM notification_deliveries").fetchone()[0],
            "the row routed",
        )
        conn.execute(
            "UPDATE notification_deliveries SET status = 'failed', "
            "last_error_code = 'daemon_unreachable', last_error = 'gone'"
        )
    conn.close()


def drawn(session: Desktop) -> Image.Image:
    """The icon's window as the X server shows it."""
    (x, y, w, h) = min(
        (g for g in app_windows(session) if g[2] <= 64 and g[3] <= 64), key=lambda g: g[2] * g[3]
    )
    shot = session.logdir / "panel.png"
    subprocess.run(
        ["import", "-window", "root", "-crop", f"{w}x{h}+{x}+{y}", str(shot)],
        env=session.env, check=True, timeout=30, capture_output=True,
    )  # fmt: skip
    with Image.open(shot) as img:
        return img.convert("RGB")


def share(img: Image.Image, colour: tuple[int, ...]) -> float:
    """The share of the icon's pixels in that colour."""
    tile = colour[:3]
    raw = img.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    near = [p for p in pixels if sum(abs(a - b) for a, b in zip(p, tile, strict=True)) < 60]
    return len(near) / len(pixels)


def panel_session(logdir: Path, size: int, panel: str):  # type: ignore[no-untyped-def]
    knobs = {"TC_TRAY_HEIGHT": str(size), "TC_TRAY_TINT": PANELS[panel]}
    return desktop_session(logdir, tray=True, knobs=knobs)


def save(img: Image.Image, path: Path) -> None:
    img.resize((img.width * 8, img.height * 8), Image.Resampling.NEAREST).save(path)


@pytest.mark.parametrize("size", [16, 22, 24, 32])
@pytest.mark.parametrize("panel", list(PANELS))
def test_each_state_reads_on_a_real_panel(
    request: pytest.FixtureRequest, tmp_path: Path, panel: str, size: int
) -> None:
    require_tool("xdotool")
    logdir, db = tmp_path / "desktop", tmp_path / "tc.db"
    with panel_session(logdir, size, panel) as session:
        session.env["PYSTRAY_BACKEND"] = "gtk"
        session.env["TRAYCOURIER_MENU_DUMP"] = str(logdir / "menu.json")
        agent = session.start_agent(db)
        try:
            wait_for(lambda: (logdir / "menu.json").exists(), "the tray", 60)
            for state in ("on", "paused", "quiet", "off", "attention"):
                into(db, state)
                wait_for(lambda state=state: menu(session)["icon"] == state, f"the {state} icon")
                # the panel redraws the icon just after the agent sets it
                wait_for(lambda state=state: share(drawn(session), icons.TILES[state]) > 0.3, state)
                img = drawn(session)
                assert max(img.size) <= size + 2  # drawn at the panel's size
                save(img, logdir / f"icon-{state}-{size}px-{panel}.png")
                time.sleep(0.1)
            # the pictures drawn ahead (icons.tray_png): GTK's icon never loads Pillow
            assert not [n for n in mapped_libraries(agent.pid) if n.startswith("_imaging")]
        finally:
            agent.terminate()
            _out, err = agent.communicate(timeout=60)
        assert agent.returncode == 0, err
    _artifacts(request, logdir)


@pytest.mark.parametrize(
    ("panel", "look", "position"), [("dark", "white", 2), ("light", "black", 3)]
)
def test_a_monochrome_look_chosen_in_the_menu_reads_on_its_panel(
    request: pytest.FixtureRequest, tmp_path: Path, panel: str, look: str, position: int
) -> None:
    """Tray icon → White (a dark panel) or Black (a light panel), picked with the pointer
    and keys as a user does; then every state in that ink on that panel, at 22 px."""
    require_tool("xdotool")
    logdir, db = tmp_path / "desktop", tmp_path / "tc.db"
    with panel_session(logdir, 22, panel) as session:
        session.env["PYSTRAY_BACKEND"] = "gtk"
        session.env["TRAYCOURIER_MENU_DUMP"] = str(logdir / "menu.json")
        agent = session.start_agent(db)
        try:
            wait_for(lambda: (logdir / "menu.json").exists(), "the tray", 60)
            open_menu(session)  # Tray icon is the third item from the end
            xdo(session, "key", "Up", "Up", "Up", "Right", *["Down"] * (position - 1), "Return")
            wait_for(lambda: setting(db, "tray_icon") == f'"{look}"', f"the {look} look chosen")
            ink, before = icons.GLYPHS[look], b""
            for state in ("on", "paused", "quiet", "off", "attention"):
                into(db, state)
                wait_for(lambda state=state: menu(session)["icon"] == state, f"the {state} icon")

                def redrawn(before: bytes = before) -> bool:  # in the ink, and a new shape
                    img = drawn(session)
                    return share(img, ink) > 0.05 and img.tobytes() != before

                wait_for(redrawn, f"{state} in {look}")
                img = drawn(session)
                before = img.tobytes()
                save(img, logdir / f"icon-{state}-22px-{panel}-{look}.png")
        finally:
            agent.terminate()
            _out, err = agent.communicate(timeout=60)
        assert agent.returncode == 0, err
    _artifacts(request, logdir)
