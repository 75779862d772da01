"""The user answers and the producer hears it, on real notification daemons: a click opens
the first link exactly as the producer wrote it (a stand-in browser records the address it
was handed) and marks the notification read; a button writes the answer back, once, and
`send --wait` prints it; two agents act once; an agent started after the popup was shown
still acts on it; a forged click opens nothing.

How each daemon is clicked: dunst through `dunstctl` (`action 0` is a click, `context` runs
the session's `dmenu` stand-in, which picks the label a test wrote); xfce4-notifyd and
notification-daemon with the X pointer (xdotool) on their popup windows, as a user would.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, wait_for
from tests.desktop.conftest import Desktop, desktop_session

pytestmark = pytest.mark.desktop

LINK = "https://ci.example/builds/7?a=1&b=%20x#log"
"""An address that `pathlib` and a careless quoting would both damage."""


def opened(tmp_path: Path) -> list[str]:
    record = tmp_path / "opened"
    return record.read_text().splitlines() if record.exists() else []


def start(session: Desktop, db: Path) -> subprocess.Popen[str]:
    assert session.cli("settings", "set", "min_priority", "info", db=db).returncode == 0
    # every popup on its own: a burst summary would stand in for the ones a test looks for
    assert session.cli("settings", "set", "burst_limit", "0", db=db).returncode == 0
    agent = session.start_agent(db, "--headless")
    wait_for(lambda: running_agents(db) >= 1, "the agent to start")
    return agent


def running_agents(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute("SELECT count(*) FROM agents WHERE stopped_at IS NULL").fetchone()[0]
        )


def row(db: Path, sql: str) -> tuple:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchone()  # type: ignore[no-any-return]


def stop(agent: subprocess.Popen[str]) -> None:
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=60)


def popup_window(session: Desktop) -> tuple[str, int, int]:
    """The daemon's popup window: its id, width and height."""
    daemon = session.env["TC_DAEMON"]

    def found() -> list[str]:
        return subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--classname", daemon],
            env=session.env, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip

    wait_for(lambda: bool(found()), "the popup window")
    window = found()[-1]
    shell = subprocess.run(
        ["xdotool", "getwindowgeometry", "--shell", window],
        env=session.env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    geometry = dict(line.split("=", 1) for line in shell.split())
    return window, int(geometry["WIDTH"]), int(geometry["HEIGHT"])


def click_at(session: Desktop, window: str, x: int, y: int) -> None:
    subprocess.run(
        ["xdotool", "mousemove", "--window", window, str(x), str(y), "click", "1"],
        env=session.env, check=True,
    )  # fmt: skip


def dunstctl(session: Desktop, *args: str) -> None:
    subprocess.run(["dunstctl", *args], env=session.env, check=True, timeout=30)


def click_popup(session: Desktop, *, buttons: int = 2) -> None:
    """A click on the popup itself: dunst's `action 0`; notification-daemon's body;
    xfce4-notifyd draws the click as the popup's first button (its buttons are aligned
    right: a sole one is at the right edge)."""
    daemon = session.env["TC_DAEMON"]
    if daemon == "dunst":
        wait_for(lambda: displayed(session) == 1, "the popup on screen")
        dunstctl(session, "action", "0")
        return
    window, width, height = popup_window(session)
    if daemon == "xfce4-notifyd":
        click_at(session, window, 55 if buttons > 1 else width - 55, height - 30)
    else:
        click_at(session, window, 40, 25)


def press_last_button(session: Desktop, label: str) -> None:
    """The popup's last button (`label`): dunst's context menu; on the others, the pointer
    on the button (positions measured on these daemons' default themes under Xvfb)."""
    daemon = session.env["TC_DAEMON"]
    if daemon == "dunst":
        wait_for(lambda: displayed(session) == 1, "the popup on screen")
        (session.logdir / "pick").write_text(label)
        dunstctl(session, "context")
        return
    window, width, height = popup_window(session)
    if daemon == "xfce4-notifyd":
        click_at(session, window, width - 55, height - 30)
    else:
        click_at(session, window, width - 90, 85)


def displayed(session: Desktop) -> int:
    out = subprocess.run(
        ["dunstctl", "count", "displayed"], env=session.env, capture_output=True, text=True
    ).stdout
    return int(out.strip() or 0)


def test_a_click_opens_the_first_link_as_written_and_marks_it_read(
    any_daemon: Desktop, tmp_path: Path
) -> None:
    session, db = any_daemon, tmp_path / "tc.db"
    agent = start(session, db)
    try:
        sent = session.cli(
            "send", "Build failed", "main is red", "--source", "ci", "--priority", "urgent",
            "--action", f"Open log={LINK}", "--action", "Retry", db=db,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        ntf = sent.stdout.strip()
        click_popup(session)
        wait_for(lambda: opened(tmp_path) == [LINK], "the browser to get the link")
        wait_for(
            lambda: (
                row(db, f"SELECT read_at IS NOT NULL FROM notifications WHERE id = '{ntf}'") == (1,)
            ),
            "the notification to be marked read",
        )
        closed = "SELECT closed_reason FROM notification_deliveries"
        wait_for(lambda: row(db, closed) == ("clicked",), "the click recorded")
    finally:
        stop(agent)
    assert opened(tmp_path) == [LINK]  # byte for byte, once


def test_a_button_writes_the_answer_back_and_send_wait_prints_it(
    any_daemon: Desktop, tmp_path: Path
) -> None:
    session, db = any_daemon, tmp_path / "tc.db"
    agent = start(session, db)
    try:
        asking = subprocess.Popen(
            [sys.executable, "-m", "traycourier.agent", "--db", str(db), "send",
             "Deploy to production?", "--source", "deploy", "--priority", "urgent",
             "--action", "Approve", "--wait", "--timeout", "2m"],
            cwd=ROOT, env=session.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        wait_for(lambda: row(db, "SELECT count(*) FROM notification_deliveries "
                                 "WHERE status = 'sent'") == (1,), "the popup")  # fmt: skip
        press_last_button(session, "Approve")
        out, err = asking.communicate(timeout=120)
    finally:
        stop(agent)
    assert asking.returncode == 0, err
    ntf, answer = out.splitlines()
    assert answer == "Approve"
    answered = row(
        db,
        "SELECT answer, answered_device, answered_at IS NOT NULL, read_at IS NOT NULL "
        f"FROM notifications WHERE id = '{ntf}'",
    )
    assert answered == ("Approve", "", 1, 1)
    assert opened(tmp_path) == []


def test_two_agents_on_one_bus_act_on_a_click_once(dunst: Desktop, tmp_path: Path) -> None:
    """Both hear the click (as bus monitors); the database names the one that acts."""
    db = tmp_path / "tc.db"
    first = start(dunst, db)
    second = dunst.start_agent(db, "--headless")
    try:
        wait_for(lambda: running_agents(db) == 2, "both agents")
        assert dunst.cli("send", "Open me", "--action", f"Log={LINK}", db=db).returncode == 0
        click_popup(dunst)
        wait_for(lambda: opened(tmp_path) == [LINK], "the browser")
        time.sleep(2.0)  # a second opener would have run meanwhile
    finally:
        stop(first)
        stop(second)
    assert opened(tmp_path) == [LINK]


def test_an_agent_started_after_the_popup_acts_on_its_click(dunst: Desktop, tmp_path: Path) -> None:
    """The agent that showed the popup was killed; the popup is still on screen (urgent),
    and a new agent finds it by the id the delivery recorded."""
    db = tmp_path / "tc.db"
    killed = start(dunst, db)
    assert dunst.cli("send", "Still here", "--priority", "urgent", "--action", f"Log={LINK}",
                     db=db).returncode == 0  # fmt: skip
    wait_for(lambda: displayed(dunst) == 1, "the popup")
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    later = dunst.start_agent(db, "--headless")
    try:
        wait_for(lambda: running_agents(db) == 2, "the new agent")  # the killed one's row stays
        click_popup(dunst)
        wait_for(lambda: opened(tmp_path) == [LINK], "the new agent to open the link")
    finally:
        stop(later)


def test_a_forged_click_opens_nothing(dunst: Desktop, tmp_path: Path) -> None:
    """Another program on the bus emits ActionInvoked for a real popup's id: it is not the
    notification server, so nothing is opened and the log says so."""
    db = tmp_path / "tc.db"
    agent = start(dunst, db)
    try:
        assert dunst.cli("send", "Open me", "--action", f"Log={LINK}", db=db).returncode == 0
        wait_for(lambda: displayed(dunst) == 1, "the popup")
        (popup,) = row(db, "SELECT external_id FROM notification_deliveries")
        number = popup.rsplit("/", 1)[1]
        subprocess.run(
            ["dbus-send", "--session", "--type=signal", "/org/freedesktop/Notifications",
             "org.freedesktop.Notifications.ActionInvoked", f"uint32:{number}", "string:default"],
            env=dunst.env, check=True,
        )  # fmt: skip
        time.sleep(2.0)  # an opener would have run meanwhile
        assert opened(tmp_path) == []
        assert row(db, "SELECT read_at FROM notifications") == (None,)
    finally:
        stop(agent)
    assert agent.stderr is not None
    assert "ignored a popup signal from" in agent.stderr.read()


def test_a_popup_is_updated_in_place_and_a_waiting_one_replaced(
    dunst: Desktop, tmp_path: Path
) -> None:
    db = tmp_path / "tc.db"
    agent = start(dunst, db)
    try:
        for progress in ("40", "100"):
            sent = dunst.cli(
                "send", "Build #7", f"{progress} %", "--source", "ci", "--tag", "build-7",
                "--progress", progress, "--priority", "urgent", db=db,
            )  # fmt: skip
            assert sent.returncode == 0, sent.stderr
            wait_for(lambda p=progress: any(r.get("progress") == p for r in dunst.received()),
                     f"the popup at {progress} %")  # fmt: skip
        first, second = [r for r in dunst.received() if r["summary"] == "ci: Build #7"]
        assert first["id"] == second["id"]  # the same popup, redrawn
        assert (first["progress"], second["progress"]) == ("40", "100")
        assert second["stack_tag"] == "ci/build-7"
        assert displayed(dunst) == 1
        # paused: two with one tag wait; only the newer is ever shown
        assert dunst.cli("settings", "set", "paused_until", "1h", db=db).returncode == 0
        for body in ("old news", "news"):
            dunst.cli("send", "Deploy", body, "--source", "cd", "--tag", "d", db=db)
        replaced = "SELECT count(*) FROM notification_deliveries WHERE last_error_code = 'replaced'"
        wait_for(lambda: row(db, replaced) == (1,), "the older one replaced")
        assert dunst.cli("settings", "set", "paused_until", "off", db=db).returncode == 0
        wait_for(lambda: any(r["body"] == "news" for r in dunst.received()), "the newer one")
        assert not any(r["body"] == "old news" for r in dunst.received())
    finally:
        stop(agent)


def test_a_dismissed_popup_is_recorded_and_wait_says_so(dunst: Desktop, tmp_path: Path) -> None:
    db = tmp_path / "tc.db"
    agent = start(dunst, db)
    try:
        sent = dunst.cli("send", "Approve?", "--action", "Yes", "--priority", "urgent", db=db)
        ntf = sent.stdout.strip()
        wait_for(lambda: displayed(dunst) == 1, "the popup")
        dunstctl(dunst, "close")
        waited = dunst.cli("wait", ntf, "--timeout", "1m", db=db)
        listed = dunst.cli("deliveries", db=db).stdout
    finally:
        stop(agent)
    assert waited.returncode == 3
    assert waited.stderr == f"traycourier: {ntf} was dismissed without an answer\n"
    assert ", then dismissed" in listed


def test_the_readme_script_asks_and_hears_the_answer(dunst: Desktop, tmp_path: Path) -> None:
    """The shell producer of the README's "Answering notifications", run as written (with
    the test's database): the user picks Approve in the popup, the script prints it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("Any language reads the answer with plain SQL", 1)[1]
    script = section.split("```sh\n", 1)[1].split("```", 1)[0]
    db = tmp_path / "tc.db"
    script = script.replace("~/.local/share/traycourier/traycourier.db", str(db))
    agent = start(dunst, db)
    try:
        producer = subprocess.Popen(
            ["bash", "-c", script], env=dunst.env, stdout=subprocess.PIPE, text=True
        )
        wait_for(lambda: row(db, "SELECT count(*) FROM notification_deliveries "
                                 "WHERE status = 'sent'") == (1,), "the popup")  # fmt: skip
        press_last_button(dunst, "Approve")
        out, _ = producer.communicate(timeout=120)
    finally:
        stop(agent)
    assert out == "the user chose: approve\n"


def test_hostile_actions_are_shown_safely_and_stop_nothing(dunst: Desktop, tmp_path: Path) -> None:
    """Fifty actions with markup, control characters and 1 000-character labels; a list of
    half a megabyte (more than the agent reads: it offers nothing); and one whose entries are
    no actions at all. Each popup shows, with at most the click and three buttons, labels cut
    to one short line, and the next notification is shown as usual."""
    db = tmp_path / "tc.db"
    agent = start(dunst, db)

    def hostile(length: int) -> str:
        label = "<b>{}</b>\x1b[31m\n" + "x" * length
        return json.dumps([{"label": label.format(n), "id": f"a{n}"} for n in range(50)])

    try:
        with sqlite3.connect(db) as conn:
            conn.execute(
                "INSERT INTO notifications (title, priority, actions_json) VALUES "
                "('many', 'urgent', ?), ('huge', 'urgent', ?), "
                "('odd', 'urgent', '[1, \"x\", {\"label\": 2}]')",
                (hostile(1000), hostile(10_000)),
            )
        assert dunst.cli("send", "after", "--priority", "urgent", db=db).returncode == 0
        wait_for(
            lambda: {"many", "huge", "odd", "after"} <= {r["summary"] for r in dunst.received()},
            "all four shown",
        )
        (dunst.logdir / "pick").write_text("nothing")  # pick none: only list them
        dunstctl(dunst, "context")  # the menu lists what each popup offers
        menu = dunst.logdir / "menu-offered.log"
        wait_for(lambda: menu.exists() and "(after)" in menu.read_text(), "the menu's lines")
        offered = menu.read_text()
    finally:
        stop(agent)
    many = [line for line in offered.splitlines() if "(many)" in line]
    assert len(many) == 4  # the click and three buttons
    assert all(len(line) < 120 and "\x1b" not in line for line in many)
    assert [line.split(" (")[0] for line in offered.splitlines() if "(huge)" in line] == [
        "#Mark read"
    ]
    assert row(db, "SELECT count(*) FROM notification_deliveries WHERE status = 'sent'") == (4,)


def test_on_a_server_an_answer_on_one_device_closes_the_popup_on_the_other(
    tmp_path: Path, pg_url: str
) -> None:
    """Two devices, each its own desktop (dunst) and agent, share a PostgreSQL server: the
    user approves on the laptop; the desktop's popup of the same notification closes, and an
    answer given there afterwards (from its Recent menu, the same function) is refused."""
    import psycopg

    from traycourier.agent.engine import popups
    from traycourier.store import Database, timestamps

    with (
        desktop_session(tmp_path / "laptop-desktop") as laptop,
        desktop_session(tmp_path / "desktop-desktop") as desktop,
    ):
        agents = []
        for name, session in (("laptop", laptop), ("desktop", desktop)):
            config = tmp_path / f"{name}-config"
            (config / "traycourier").mkdir(parents=True)
            device = {"id": f"dev_{name}", "name": name}
            (config / "traycourier" / "device.json").write_text(json.dumps(device))
            session.env["XDG_CONFIG_HOME"] = str(config)
            session.env["TC_DAEMON"] = "dunst"
            agents.append(session.start_agent(pg_url, "--headless"))
        try:
            with psycopg.connect(pg_url, autocommit=True) as conn:

                def devices() -> int:
                    try:  # the agents create the schema as they start
                        return int(conn.execute("SELECT count(*) FROM devices").fetchone()[0])
                    except psycopg.errors.UndefinedTable:
                        return 0

                wait_for(lambda: devices() == 2, "both devices")
                conn.execute(
                    "INSERT INTO notifications (id, title, priority, actions_json) VALUES "
                    "('ntf_deploy', 'Deploy?', 'urgent', "
                    '\'[{"label": "Approve", "id": "approve"}]\')'
                )
                wait_for(lambda: displayed(laptop) == 1 and displayed(desktop) == 1, "both popups")
                press_last_button(laptop, "Approve")
                wait_for(lambda: displayed(desktop) == 0, "the desktop's popup to close")

                def closed_reasons() -> list[tuple[str, str | None]]:
                    # the daemon's NotificationClosed signal comes after the popup is gone
                    return conn.execute(
                        "SELECT destination_key, closed_reason FROM notification_deliveries "
                        "ORDER BY destination_key"
                    ).fetchall()

                wait_for(lambda: None not in dict(closed_reasons()).values(), "both recorded")
                closed = closed_reasons()
                answer = conn.execute(
                    "SELECT answer, answered_device FROM notifications"
                ).fetchone()
        finally:
            for agent in agents:
                stop(agent)
    assert answer == ("approve", "laptop")
    assert closed == [("dev_desktop", "closed"), ("dev_laptop", "clicked")]
    told: list[tuple[str, str]] = []
    db = Database.open(pg_url)
    try:  # the desktop's Recent menu, afterwards
        refused = popups.answer(
            db, "ntf_deploy", "approve", "desktop", timestamps.utcnow(), lambda *s: told.append(s)
        )
    finally:
        db.close()
    assert not refused
    assert told == [("Already answered", "ntf_deploy was answered on laptop: approve")]
