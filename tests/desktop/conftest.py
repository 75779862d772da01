"""A real desktop per test: Xvfb, a private DBus session bus, dunst, optionally trayer,
started by the project's scripts/desktop-session.sh. Logs and a screenshot of each test are
copied to $TC_ARTIFACTS when it is set (CI prints where)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool

SCRIPT = ROOT / "scripts" / "desktop-session.sh"


@dataclass
class Desktop:
    env: dict[str, str]
    logdir: Path
    notify_log: Path
    dunst_pid: int | None

    def cli(
        self, *args: str, db: Path | str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "traycourier.agent", "--db", str(db), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start_agent(self, db: Path | str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "traycourier.agent", "--db", str(db), "run", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def screenshot(self, path: Path) -> None:
        on_wayland = "DISPLAY" not in self.env and "WAYLAND_DISPLAY" in self.env
        subprocess.run(
            ["grim", str(path)] if on_wayland else ["import", "-window", "root", str(path)],
            env=self.env,
            check=False,
            timeout=30,
            capture_output=True,
        )

    def notify_calls(self) -> list[NotifyCall]:
        """Every Notify call on the bus, as dbus-monitor logged it: what the daemon received."""
        log = (self.logdir / "dbus-monitor.log").read_text(errors="replace")
        calls = []
        for block in log.split("member=Notify\n")[1:]:
            match = _NOTIFY_ARGS.match(block)
            if match is None:
                continue
            urgency = re.search(r'string "urgency"\n\s+variant\s+byte (\d+)', block)
            timeout = re.search(r"\n   int32 (-?\d+)", block)
            calls.append(
                NotifyCall(
                    app=match["app"],
                    icon=match["icon"],
                    summary=match["summary"],
                    body=match["body"],
                    urgency=int(urgency[1]) if urgency else None,
                    timeout_ms=int(timeout[1]) if timeout else None,
                    replaces=int(match["replaces"]),
                )
            )
        return calls

    def received(self) -> list[dict[str, str]]:
        import json

        return [json.loads(line) for line in self.notify_log.read_text().splitlines() if line]


@dataclass(frozen=True)
class NotifyCall:
    app: str
    icon: str
    summary: str
    body: str
    urgency: int | None
    timeout_ms: int | None
    replaces: int = 0
    """The popup this call updates in place (0: a new popup)."""


_NOTIFY_ARGS = re.compile(
    r'   string "(?P<app>.*?)"\n   uint32 (?P<replaces>\d+)\n   string "(?P<icon>.*?)"\n'
    r'   string "(?P<summary>.*?)"\n   string "(?P<body>.*?)"\n   array \[',
    re.DOTALL,
)


@contextmanager
def desktop_session(
    logdir: Path,
    *,
    notifyd: bool | str = True,
    tray: bool = False,
    notify_hook: bool = True,
    knobs: dict[str, str] | None = None,
) -> Iterator[Desktop]:
    """`notifyd`: True for dunst, False for none, or a daemon's name; `knobs`: more of
    desktop-session.sh's environment knobs (the panel's height and colour)."""
    for tool in ("Xvfb", "dbus-daemon", "dunst", "xdpyinfo", "import"):
        require_tool(tool)
    if tray:
        require_tool("trayer")
    env = {
        **os.environ,
        "TC_LOGDIR": str(logdir),
        "TC_NOTIFYD": notifyd if isinstance(notifyd, str) else ("1" if notifyd else "0"),
        "TC_TRAY": "1" if tray else "0",
        "TC_NOTIFY_HOOK": "1" if notify_hook else "0",
        "PYTHONPATH": str(ROOT),
        **(knobs or {}),
    }
    env.pop("TRAYCOURIER_DB", None)
    proc = subprocess.Popen(
        [str(SCRIPT), "sleep", "infinity"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    session_env = logdir / "session.env"
    deadline = time.monotonic() + 60
    while not session_env.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(
                f"the desktop session did not start: {proc.stderr.read() if proc.stderr else ''}"
            )
        time.sleep(0.05)
    values = dict(line.split("=", 1) for line in session_env.read_text().splitlines())
    env.update(values)
    env["XDG_DATA_HOME"] = str(logdir / "data")  # logs and data of the agent stay in the test
    env["XDG_STATE_HOME"] = str(logdir / "state")
    env["XDG_CONFIG_HOME"] = str(logdir / "config")
    env["PYSTRAY_BACKEND"] = env.get("PYSTRAY_BACKEND", "gtk")
    dunst_pid = int(values["TC_DUNST_PID"]) if values.get("TC_DUNST_PID") else None
    try:
        yield Desktop(env, logdir, Path(values["TC_NOTIFY_LOG"]), dunst_pid)
    except BaseException:
        _print_agent_logs(logdir)
        raise
    finally:
        if dunst_pid:
            os.kill(dunst_pid, signal.SIGCONT) if _alive(dunst_pid) else None
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _print_agent_logs(logdir: Path) -> None:
    """When a test fails inside a desktop, the last lines each agent logged there (pytest
    shows them with the failure): what a CI run's flake needs to be understood."""
    for log in sorted((logdir / "state").rglob("*.log")):
        lines = log.read_text(errors="replace").splitlines()[-40:]
        print(f"--- the last lines of {log}:", *lines, sep="\n", file=sys.stderr)


def assert_left_cleanly(db: Path) -> None:
    """After Quit: no lease left behind, and the tray agent recorded as stopped."""
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM notification_deliveries WHERE status = 'leased'"
        ).fetchone() == (0,)
        assert conn.execute("SELECT mode, stopped_at IS NOT NULL FROM agents").fetchall() == [
            ("tray", 1)
        ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _artifacts(request: pytest.FixtureRequest, logdir: Path) -> None:
    target = os.environ.get("TC_ARTIFACTS")
    if target:
        dest = Path(target) / request.node.name.replace("/", "_")
        shutil.copytree(logdir, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("data"))


@pytest.fixture
def desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    logdir = tmp_path / "desktop"
    with desktop_session(logdir) as session:
        yield session
        session.screenshot(logdir / "screen.png")
    _artifacts(request, logdir)


@pytest.fixture
def desktop_without_daemon(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    logdir = tmp_path / "desktop"
    with desktop_session(logdir, notifyd=False) as session:
        yield session
    _artifacts(request, logdir)


@pytest.fixture
def tray_desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    """A desktop with trayer (XEmbed), the GTK backend, and the menu dumped as JSON."""
    require_tool("xdotool")
    logdir = tmp_path / "desktop"
    with desktop_session(logdir, tray=True) as session:
        session.env["PYSTRAY_BACKEND"] = "gtk"
        session.env["TRAYCOURIER_MENU_DUMP"] = str(logdir / "menu.json")
        yield session
    _artifacts(request, logdir)


@pytest.fixture(params=["dunst", "xfce4-notifyd", "notification-daemon"])
def any_daemon(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    with desktop_session(tmp_path / "desktop", notifyd=request.param) as session:
        session.env["TC_DAEMON"] = request.param
        yield browsing(session, tmp_path)
        session.screenshot(session.logdir / "screen.png")


@pytest.fixture
def dunst(tmp_path: Path) -> Iterator[Desktop]:
    with desktop_session(tmp_path / "desktop") as session:
        session.env["TC_DAEMON"] = "dunst"
        yield browsing(session, tmp_path)


def browsing(session: Desktop, tmp_path: Path) -> Desktop:
    """A stand-in browser, the session's default, records what it gets."""
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {tmp_path / "opened"}\n')
    browser.chmod(0o755)
    default_browser(session.env, browser)
    return session


def default_browser(env: dict[str, str], browser: Path) -> None:
    """Make `browser` the user's web browser, as a desktop's settings do. xdg-open asks the
    freedesktop defaults first (with a display), where a browser installed on the machine
    (Debian's chromium, which the history window's test needs) would otherwise answer;
    `BROWSER` where it does not. The entry's Exec takes no %u, so xdg-open passes the link
    as one argument, untouched."""
    env["BROWSER"] = str(browser)
    apps = Path(env["XDG_DATA_HOME"]) / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    (apps / "tc-test-browser.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Test browser\n"
        f"Exec={browser}\nMimeType=x-scheme-handler/http;x-scheme-handler/https;\n"
    )
    config = Path(env["XDG_CONFIG_HOME"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "mimeapps.list").write_text(
        "[Default Applications]\nx-scheme-handler/http=tc-test-browser.desktop\n"
        "x-scheme-handler/https=tc-test-browser.desktop\n"
    )
