"""Tray hosts users run, each a real program from Debian started inside a test's desktop
session: trayer and tint2 (XEmbed; tint2 under openbox), xfce4-panel (XEmbed and
StatusNotifier at once, with xfconfd), gtk-sni-tray-standalone with status-notifier-watcher
(StatusNotifier only), and the same on a headless Wayland compositor (sway), where no XEmbed
tray can exist.
Each host is started, waited for until it really serves (the selection owned or the watcher
on the bus), and stopped in reverse order."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from tests.conftest import require, require_tool, wait_for
from tests.desktop.conftest import Desktop

XFCONFD = "/usr/lib/*/xfce4/xfconf/xfconfd"
XFCE_PANEL_DEFAULTS = Path("/etc/xdg/xfce4/panel/default.xml")


def bus_names(session: Desktop) -> str:
    return subprocess.run(
        [
            "gdbus", "call", "--session", "--dest", "org.freedesktop.DBus",
            "--object-path", "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.ListNames",
        ],
        env=session.env, capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip


def has_sni_host(session: Desktop) -> bool:
    """A StatusNotifier watcher is on the bus and a host (the visible tray) registered with it."""
    if "'org.kde.StatusNotifierWatcher'" not in bus_names(session):
        return False
    return "<true>" in subprocess.run(
        [
            "gdbus", "call", "--session", "--dest", "org.kde.StatusNotifierWatcher",
            "--object-path", "/StatusNotifierWatcher",
            "--method", "org.freedesktop.DBus.Properties.Get",
            "org.kde.StatusNotifierWatcher", "IsStatusNotifierHostRegistered",
        ],
        env=session.env, capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip


def has_xembed_tray(session: Desktop) -> bool:
    """Someone owns _NET_SYSTEM_TRAY_S0 on the session's display: an XEmbed tray serves."""
    from Xlib import display as xdisplay

    disp = xdisplay.Display(session.env["DISPLAY"])
    try:
        return bool(disp.get_selection_owner(disp.intern_atom("_NET_SYSTEM_TRAY_S0")) != 0)
    finally:
        disp.close()


@contextmanager
def _programs(
    session: Desktop, commands: list[list[str]], ready: Callable[[], bool], what: str
) -> Iterator[None]:
    procs: list[subprocess.Popen[bytes]] = []
    logs = session.logdir / "hosts.log"
    try:
        with logs.open("ab") as log:
            for command in commands:
                procs.append(subprocess.Popen(command, env=session.env, stdout=log, stderr=log))
                time.sleep(0.2)  # in order: a window manager before its panel
        wait_for(ready, what, 60)
        yield
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def trayer(session: Desktop) -> AbstractContextManager[None]:
    require_tool("trayer")
    command = [
        "trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
        "--height", "32", "--SetDockType", "true", "--transparent", "false",
    ]  # fmt: skip
    return _programs(session, [command], lambda: has_xembed_tray(session), "trayer")


def tint2(session: Desktop) -> AbstractContextManager[None]:
    for tool in ("openbox", "tint2"):
        require_tool(tool)
    return _programs(session, [["openbox"], ["tint2"]], lambda: has_xembed_tray(session), "tint2")


def xfce4_panel(session: Desktop) -> AbstractContextManager[None]:
    """Xfce's panel with its default layout, whose systray plugin is an XEmbed tray and a
    StatusNotifier watcher and host at once. Its settings come from xfconfd, which a desktop
    bus would start on demand; this bus starts nothing, so the test starts it."""
    require_tool("xfce4-panel")
    require_tool("openbox")
    xfconfd = sorted(Path("/").glob(XFCONFD.lstrip("/")))
    require(bool(xfconfd), "xfconf is not installed")
    require(XFCE_PANEL_DEFAULTS.exists(), "xfce4-panel's default layout is missing")
    channel = Path(session.env["XDG_CONFIG_HOME"]) / "xfce4/xfconf/xfce-perchannel-xml"
    channel.mkdir(parents=True, exist_ok=True)
    # with a configuration in place the panel skips its first-run "which layout?" dialog
    shutil.copyfile(XFCE_PANEL_DEFAULTS, channel / "xfce4-panel.xml")
    return _programs(
        session,
        [[str(xfconfd[0])], ["openbox"], ["xfce4-panel"]],
        lambda: has_xembed_tray(session) and has_sni_host(session),
        "xfce4-panel's tray (XEmbed selection and StatusNotifier watcher)",
    )


def gtk_sni_tray(session: Desktop, *, wayland: bool = False) -> AbstractContextManager[None]:
    """status-notifier-watcher and gtk-sni-tray-standalone (on Wayland it needs --no-strut;
    the caller is then inside `sway(session)`)."""
    for tool in ("status-notifier-watcher", "gtk-sni-tray-standalone"):
        require_tool(tool)
    host = ["gtk-sni-tray-standalone", "--top", "--no-strut" if wayland else "--end"]
    return _programs(
        session,
        [["status-notifier-watcher"], host],
        lambda: has_sni_host(session),
        "status-notifier-watcher with a host registered",
    )


@contextmanager
def sway(session: Desktop) -> Iterator[None]:
    """A headless Wayland session (GNOME's and KDE's default session type have no XEmbed):
    from here on the session's clients, the agent included, talk Wayland and see no X
    display. sway refuses to run as root, so as root it runs as nobody, in a runtime folder
    of its own; root's clients may still connect to its socket."""
    require_tool("sway")
    require_tool("grim")
    runtime = Path(tempfile.mkdtemp(prefix="tc-sway-"))
    config = runtime / "sway.conf"
    config.write_text("output HEADLESS-1 resolution 1024x768\nxwayland disable\n")
    command = ["sway", "-c", str(config)]
    if os.geteuid() == 0:
        os.chown(runtime, 65534, 65534)
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "XDG_RUNTIME_DIR": str(runtime),
        "WLR_BACKENDS": "headless",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_RENDERER": "pixman",
    }
    with (session.logdir / "sway.log").open("ab") as log:
        compositor = subprocess.Popen(command, env=env, stdout=log, stderr=log)

    def socket() -> Path | None:
        found = [p for p in runtime.glob("wayland-*") if not p.name.endswith(".lock")]
        return found[0] if found else None

    try:
        wait_for(lambda: socket() is not None or compositor.poll() is not None, "sway's socket")
        assert compositor.poll() is None, (session.logdir / "sway.log").read_text()
        session.env.pop("DISPLAY", None)
        session.env.update(
            WAYLAND_DISPLAY=str(socket()), GDK_BACKEND="wayland", XDG_SESSION_TYPE="wayland"
        )
        yield
    finally:
        compositor.terminate()
        compositor.wait(timeout=10)
        shutil.rmtree(runtime, ignore_errors=True)


def wayland_sni_tray(session: Desktop) -> AbstractContextManager[None]:
    return gtk_sni_tray(session, wayland=True)


@contextmanager
def sway_with_sni_tray(session: Desktop) -> Iterator[None]:
    with sway(session), wayland_sni_tray(session):
        yield


XEMBED_HOSTS = {"trayer": trayer, "tint2": tint2, "xfce4-panel": xfce4_panel}
SNI_HOSTS = {
    "gtk-sni-tray": gtk_sni_tray,
    "xfce4-panel": xfce4_panel,
    "sway-wayland": sway_with_sni_tray,
}
