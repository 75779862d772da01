"""Ctrl-C (SIGINT), logout (SIGHUP) and a service manager's SIGTERM end a running agent
cleanly, docked in a real tray (trayer, pystray's GTK backend) or headless: exit status 0,
its leases returned, "stopped" said on stderr, and the agent recorded as stopped, so
`status` lists no agent that is gone."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_in_process, wait_for
from tests.desktop.conftest import Desktop

pytestmark = pytest.mark.desktop


def registered(db: Path) -> bool:
    if not db.exists():
        return False
    with sqlite3.connect(db) as conn:
        try:
            return bool(conn.execute("SELECT count(*) FROM agents").fetchone()[0])
        except sqlite3.OperationalError:  # the schema is still being made
            return False


def signalled(agent: subprocess.Popen[str], ready: Callable[[], bool], signum: int) -> str:
    """Once `ready`, send `signum` and wait for the agent to end (killed if it does not);
    what it printed on stderr."""
    try:
        wait_for(ready, "the agent to be ready", 60)
        agent.send_signal(signum)
        agent.wait(timeout=60)
    finally:
        if agent.poll() is None:
            agent.kill()
        out, err = agent.communicate(timeout=30)
    assert out == ""
    return err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP, signal.SIGTERM])
@pytest.mark.parametrize("mode", ["tray", "headless"])
def test_a_signal_stops_the_agent_cleanly(
    tray_desktop: Desktop, tmp_path: Path, signum: signal.Signals, mode: str
) -> None:
    db = tmp_path / "tc.db"
    args = () if mode == "tray" else ("--headless",)
    agent = tray_desktop.start_agent(db, *args)
    try:
        wait_for(lambda: registered(db), "the agent to register", 60)
        if mode == "tray":
            wait_for(lambda: (tray_desktop.logdir / "menu.json").exists(), "the tray", 60)
        run_in_process("send", "in flight", "--priority", "urgent", db=db)
        agent.send_signal(signum)
        agent.wait(timeout=60)
    finally:
        if agent.poll() is None:
            agent.kill()
        _out, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err
    assert "stopped" in err, err
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM notification_deliveries WHERE status = 'leased'"
        ).fetchone() == (0,)
        assert conn.execute("SELECT mode, stopped_at IS NOT NULL FROM agents").fetchall() == [
            (mode, 1)
        ]
    status = json.loads(run_in_process("status", "--json", db=db).stdout)
    assert status["agents"] == [], status["agents"]


def test_make_run_says_where_the_agent_is_and_how_to_stop_it(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    db = tmp_path / "tc.db"
    agent = tray_desktop.start_agent(db)
    err = signalled(agent, (tray_desktop.logdir / "menu.json").exists, signal.SIGINT)
    lines = err.splitlines()
    assert any(
        line.startswith("traycourier: running in your tray (") and "Ctrl-C to quit" in line
        for line in lines
    ), err
    assert lines[-1] == "traycourier: stopped", err
    assert "Gdk-CRITICAL" not in err and "Traceback" not in err, err


def test_sigterm_ends_the_xorg_icon_while_another_thread_redraws_it(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    """pystray's xorg backend with each request to its loop held 0-50 ms (`slow_x`, a busy
    machine): another program flips a setting as fast as it can, so the icon is being
    redrawn when SIGTERM comes. Round after round the agent ends: exit 0, "stopped". (Seen
    in CI before the icon took one caller at a time: the Stop went unsent, no exit.)"""
    session = tray_desktop
    session.env["PYSTRAY_BACKEND"] = "xorg"
    session.env["PYTHONPATH"] = str(Path(__file__).parent / "slow_x")
    for round_ in range(6):
        db = tmp_path / f"tc{round_}.db"
        (session.logdir / "menu.json").unlink(missing_ok=True)
        agent, done = session.start_agent(db), threading.Event()

        def flip(db: Path = db, done: threading.Event = done) -> None:
            on = False
            while not done.is_set():
                run_in_process("settings", "set", "enable_notifications", str(on).lower(), db=db)
                on = not on

        flipper = threading.Thread(target=flip)
        try:
            wait_for((session.logdir / "menu.json").exists, "the tray", 60)
            flipper.start()
            time.sleep(0.2 + 0.05 * round_)  # a few redraws in, at a different point each round
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=60)
        finally:
            done.set()
            if flipper.is_alive():
                flipper.join()
            if agent.poll() is None:
                agent.kill()
            _out, err = agent.communicate(timeout=30)
        assert (round_, agent.returncode) == (round_, 0), err
        assert err.splitlines()[-1] == "traycourier: stopped", err
    log = (session.logdir / "state" / "traycourier" / "log" / "traycourier.log").read_text()
    assert log.count("tray icon up (pystray._xorg)") == 6, log
    assert "did not stop" not in log, log  # no thread left waiting for the icon's answer


@pytest.mark.parametrize("host", ["xfce4-panel", "gtk-sni-tray"])
def test_ctrl_c_on_a_statusnotifier_host_stops_it_cleanly(tmp_path: Path, host: str) -> None:
    """The same Ctrl-C where the agent chooses its own StatusNotifier item by itself (a
    watcher runs): xfce4-panel, and a StatusNotifier-only host."""
    from tests.desktop.conftest import desktop_session
    from tests.desktop.hosts import SNI_HOSTS

    db, logdir = tmp_path / "tc.db", tmp_path / "desktop"
    log = logdir / "state" / "traycourier" / "log" / "traycourier.log"
    with desktop_session(logdir, tray=False) as session, SNI_HOSTS[host](session):
        session.env.pop("PYSTRAY_BACKEND", None)  # the agent chooses, as on a user's desktop
        agent = session.start_agent(db)
        err = signalled(
            agent, lambda: log.exists() and "tray icon up" in log.read_text(), signal.SIGINT
        )
    assert "tray icon up (traycourier.agent.tray.snitem)" in log.read_text()
    running = f"traycourier: running in your tray (database {db}, log {log}); Ctrl-C to quit"
    assert (agent.returncode, err.splitlines()) == (0, [running, "traycourier: stopped"])
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT stopped_at IS NOT NULL FROM agents").fetchall() == [(1,)]
