"""`traycourier doctor`: is every part the agent needs there? One line per check, with the fix."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

from traycourier.agent.engine import sources
from traycourier.agent.engine.presence import STALE_AFTER
from traycourier.agent.notifiers.backends import default_notifier
from traycourier.agent.notifiers.notifier import Notifier
from traycourier.agent.system import ostype, trayhost
from traycourier.store import (
    LATEST_VERSION,
    Database,
    StoreError,
    agents,
    queries,
    timestamps,
    url_has_password,
)
from traycourier.store.rows import AgentRow

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str
    fix: str = ""


def check_database(path: Path | str) -> list[Check]:
    """Open and writable; not damaged (`quick_check`, bounded in time); and the last
    internal error an agent on this file recorded, if any."""
    try:
        db = Database.open(path)
    except StoreError as err:
        return [Check("database", "fail", str(err), "pass another --db or move the file aside")]
    try:
        version = db.schema_version()
        with db.write():
            pass  # proves we can take the write lock
        integrity = db.quick_check()
        last = agents.last_error(db)
        channel = db.listen_problem()
        triggers = queries.foreign_triggers(db)
        server_now, local_now = db.server_time(), timestamps.utcnow()
        followed = sources.doctor_lines(db)
        live = queries.live_agents(db, local_now, STALE_AFTER)
    except StoreError as err:
        return [Check("database", "fail", str(err), "close the process that holds the lock")]
    finally:
        db.close()
    where = db.location  # a server's URL without its password
    checks = [Check("database", "ok", f"{where} (schema {version} of {LATEST_VERSION}), writable")]
    if db.is_server:
        detail = channel or "LISTEN/NOTIFY works"
        fix = "" if channel is None else "run a traycourier agent once to migrate the database"
        checks.append(
            Check("notification channel", "ok" if channel is None else "warn", detail, fix)
        )
    if db.is_server:
        pass  # a server keeps its own integrity; `quick_check` is SQLite's
    elif integrity == "ok":
        checks.append(Check("integrity", "ok", "quick_check: ok"))
    elif integrity.startswith("not finished"):
        checks.append(Check("integrity", "warn", f"quick_check {integrity}", ""))
    else:
        fix = "stop the agents, keep a copy, and recover with: sqlite3 FILE .recover"
        checks.append(Check("integrity", "fail", f"quick_check: {integrity}", fix))
    if last is not None:
        owner, error, when = last
        detail = f"{owner} at {when}: {error}"
        checks.append(Check("agent errors", "warn", detail, "see the log (traycourier status)"))
    if triggers:
        named = ", ".join(f"{name} on {table}" for name, table in triggers)
        detail = f"another program's triggers: {named}; a write they refuse fails that row alone"
        checks.append(Check("triggers", "warn", detail, "see `traycourier deliveries`"))
    if isinstance(path, str) and url_has_password(path):
        detail = "the URL holds a password, which every user of this machine sees in ps"
        checks.append(Check("credentials", "warn", detail, "put it in ~/.pgpass instead"))
    checks += [Check(*line) for line in followed]
    checks.append(history_window(live))
    if server_now is not None and abs(server_now - local_now) > CLOCK_OFF:
        off = abs(server_now - local_now).total_seconds()
        detail = f"this machine's clock is {off:.0f} s off the server's; agents use the server's"
        checks.append(Check("clock", "warn", detail, "set up time synchronisation (NTP)"))
    return checks


CLOCK_OFF = timedelta(seconds=2)


def history_window(live: list[AgentRow]) -> Check:
    """Whether a history window is served, and where (its secret is not in the database)."""
    served = [f"{a.history_address} ({a.owner} on {a.host})" for a in live if a.history_address]
    if served:
        return Check("history window", "ok", "served at " + ", ".join(served))
    # plain ASCII: a Windows console's code page has no "…"
    how = "`traycourier history --open` opens it (or Show all notifications in the menu)"
    return Check("history window", "ok", f"not open; {how}")


def check_notifier(notifier: Notifier) -> Check:
    if not notifier.available:
        return Check(
            "notifier",
            "fail",
            notifier.describe(),
            "on Linux install dbus-python (pip) or libnotify-bin (apt)",
        )
    if notifier.degraded:
        return Check(
            "notifier",
            "warn",
            notifier.describe(),
            "pip install dbus-python (needs libdbus-1-dev) so failures are reported",
        )
    return Check("notifier", "ok", notifier.describe())


def check_capabilities(notifier: Notifier) -> Check:
    """What popups can do here: buttons and clicks come back, updates in place, a bar."""
    can = notifier.capabilities()
    if can.actions:
        return Check("interaction", "ok", can.describe())
    fix = "links and answers are in the tray's Recent menu"
    if notifier.needs_session_bus:
        fix += "; a daemon with actions (dunst, xfce4-notifyd, your desktop's own) shows buttons"
    elif can.click:
        fix += "; a click on a popup opens its first link and marks it read"
    return Check(
        "interaction",
        "warn" if notifier.needs_session_bus else "ok",
        f"popups here have no buttons ({can.describe()})",
        fix,
    )


def check_dbus_daemon() -> list[Check]:
    """The session bus, and a notification daemon owning org.freedesktop.Notifications."""
    try:
        import dbus
    except ImportError:
        return [
            Check("dbus session", "warn", "dbus-python is not installed", "pip install dbus-python")
        ]
    try:
        bus = dbus.SessionBus()
    except dbus.exceptions.DBusException as err:
        return [
            Check(
                "dbus session",
                "fail",
                f"no DBus session bus ({err.get_dbus_name()})",
                "run traycourier inside your desktop session (DBUS_SESSION_BUS_ADDRESS unset?)",
            )
        ]
    checks = [Check("dbus session", "ok", os.environ.get("DBUS_SESSION_BUS_ADDRESS", "default"))]
    name = "org.freedesktop.Notifications"
    try:
        owned = bool(bus.name_has_owner(name))
        activatable = name in bus.list_activatable_names()
    except dbus.exceptions.DBusException as err:
        checks.append(Check("notification daemon", "fail", str(err), ""))
        return checks
    if not owned and activatable:  # dunst, xfce4-notifyd: started by the first notification
        detail = f"none running; the bus starts one for {name} on the first notification"
        checks.append(Check("notification daemon", "ok", detail))
        return checks
    if not owned:
        checks.append(
            Check(
                "notification daemon",
                "fail",
                f"nothing owns {name} on the session bus",
                "start a notification daemon (dunst, your desktop's notifications service)",
            )
        )
        return checks
    try:
        proxy = bus.get_object(name, "/org/freedesktop/Notifications")
        info = proxy.GetServerInformation(dbus_interface=name, timeout=3)
        checks.append(Check("notification daemon", "ok", f"{info[0]} {info[2]} ({info[1]})"))
    except dbus.exceptions.DBusException as err:
        checks.append(
            Check(
                "notification daemon",
                "fail",
                f"{name} does not answer ({err.get_dbus_name()})",
                "restart the notification daemon",
            )
        )
    return checks


OWN_ITEM = "StatusNotifier item (traycourier's own; the panel draws the icon and the menu)"


def check_tray() -> Check:
    backend = os.environ.get("PYSTRAY_BACKEND", "auto")
    platform = ostype.current()
    if platform == "linux":
        missing = trayhost.no_display_reason(platform)
        if missing:
            return Check(
                "tray",
                "warn",
                f"{missing}: the agent will run headless",
                "run inside a desktop session",
            )
        if trayhost.own_item():
            return Check("tray", "ok", OWN_ITEM)
        try:
            import gi  # noqa: F401
        except ImportError:
            return Check(
                "tray",
                "fail",
                f"backend {backend}: PyGObject is missing, there is no tray menu",
                "apt install gir1.2-gtk-3.0 and reinstall traycourier",
            )
        reason = trayhost.unavailable_reason()
        if reason == trayhost.NO_INDICATOR:
            return Check("tray", "fail", reason, "apt install gir1.2-ayatanaappindicator3-0.1")
        if reason == trayhost.NO_HOST:
            return Check("tray", "warn", reason, "start your desktop's panel; the icon follows")
        if reason:
            return Check("tray", "fail", reason, "")
    return Check("tray", "ok", f"backend {os.environ.get('PYSTRAY_BACKEND', backend)}")


def run_checks(db_path: Path | str) -> list[Check]:
    """The notifier checked is the one `run` would use (`backends.default_notifier`)."""
    notifier = default_notifier()
    checks = [*check_database(db_path), check_notifier(notifier), check_capabilities(notifier)]
    if notifier.needs_session_bus:
        checks += check_dbus_daemon()
    checks.append(check_tray())
    if ostype.current() == "windows":
        from traycourier.agent.cli import windoctor

        checks += windoctor.checks()
    return checks


def self_test() -> dict[str, object]:
    """What an installed or frozen build proves about itself: the plyer implementation it
    really loaded (not plyer's facade stub), the tray backend, the bundled icon, and a
    database round trip in a scratch file."""
    import tempfile

    from traycourier.agent import __version__
    from traycourier.agent.system import paths
    from traycourier.store import enqueue, history

    report: dict[str, object] = {
        "version": __version__,
        "frozen": ostype.is_frozen(),
        "platform": ostype.current(),
        "python": sys.version.split()[0],
    }
    chosen = default_notifier()
    report["notifier"] = chosen.name
    report["notifier_ok"] = chosen.available
    report["capabilities"] = chosen.capabilities().describe()
    try:
        report["icon"] = str(paths.asset_path("traycourier.png"))
        icon_ok = True
    except FileNotFoundError as err:
        report["icon"], icon_ok = str(err), False
    reason = trayhost.unavailable_reason()
    if reason is None and trayhost.own_item():
        report["tray"] = "traycourier.agent.tray.snitem"
    elif reason is None:
        import pystray

        report["tray"] = pystray.Icon.__module__
    else:
        report["tray"] = f"unavailable: {reason}"
    with tempfile.TemporaryDirectory() as scratch:
        try:
            db = Database.open(Path(scratch) / "self-test.db")
            sent = enqueue(db, "self-test")
            found = [n.id for n in history.recent_notifications(db, 1)]
            report["history_window_ok"] = window_serves(db, "self-test")
            db.close()
            report["database_ok"] = found == [sent.id]
        except StoreError as err:
            report["database_ok"] = False
            report["database_error"] = str(err)
    window_ok = report.get("history_window_ok", False)
    report["ok"] = bool(report["notifier_ok"] and report["database_ok"] and icon_ok and window_ok)
    return report


def window_serves(db: Database, title: str) -> bool:
    """This build's history window: served on loopback, its secret traded for the cookie,
    and a page listing `title` fetched with it (the frozen builds prove they carry it)."""
    import http.client
    from urllib.parse import urlsplit

    from traycourier.agent.web.server import HistoryServer
    from traycourier.store.history import history

    server = HistoryServer(lambda _query: history(db, limit=5), lambda _action: None)
    try:
        address = urlsplit(server.start())
        conn = http.client.HTTPConnection("127.0.0.1", address.port, timeout=10)
        conn.request("GET", f"/?{address.query}")
        cookie = (conn.getresponse().getheader("Set-Cookie") or "").split(";")[0]
        conn = http.client.HTTPConnection("127.0.0.1", address.port, timeout=10)
        conn.request("GET", "/", headers={"Cookie": cookie})
        answer = conn.getresponse()
        return answer.status == 200 and title in answer.read().decode("utf-8")
    except OSError:
        return False
    finally:
        server.stop()
