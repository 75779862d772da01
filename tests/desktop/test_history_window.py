"""The history window in a real browser (Debian's chromium, headless, driven by selenium and
chromedriver), served by a tray agent whose delivery loop runs on a real database file and
wakes on its real file watcher: what the user sees, searches, clicks and answers."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import require, require_tool, wait_for
from tests.fakes import Shown
from traycourier.agent.engine import controls
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.policy.menu_actions import ShowHistory
from traycourier.agent.tray.app import TrayApp
from traycourier.store import Database, enqueue, read_settings
from traycourier.store.actions import Action
from traycourier.store.answers import answer_of

pytestmark = pytest.mark.desktop

HOSTILE = '<img src=x onerror="window.pwned=1">'
LINK_PATH = "/run/42?tab=log&q=a%20b&x=<y>"


class Recorder(BaseHTTPRequestHandler):
    """The site a notification links to: it keeps the exact request target it was sent."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.seen.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None: ...


@pytest.fixture
def site() -> Iterator[str]:
    # threads: a connection the browser opens ahead and leaves idle must not hold the rest
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Recorder.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def agent(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[TrayApp, str]]:
    """A tray agent without its icon: the menu's Show all notifications… is performed as a
    click would, the address it hands the browser kept."""
    opened: list[str] = []
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the address file
    monkeypatch.setattr(controls, "open_with_desktop", lambda url, _c: opened.append(url) or True)
    runtime = Runtime(db, Shown(), RuntimeConfig(owner="history-test"))  # type: ignore[arg-type]
    loop = AgentLoop(runtime, db.listen())
    app = TrayApp(db, loop)
    loop.on_tick = app.ticked
    worker = threading.Thread(target=loop.run, daemon=True)
    worker.start()
    app.perform(ShowHistory())
    assert len(opened) == 1
    yield app, opened[0]
    runtime.stop.set()
    loop.waker.poke()
    worker.join(timeout=30)
    app.history.stop()


@pytest.fixture
def browser(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    chromium = shutil.which("chromium")
    driver_path = require_tool("chromedriver")
    require(chromium is not None, "chromium is not installed")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require(False, "selenium is not installed (the dev extra)")
        raise
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,900",
                 f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    yield driver
    artifacts = os.environ.get("TC_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(artifacts) / f"history-{request.node.name}.png"))
    driver.quit()


def titles(driver: object) -> list[str]:
    """The titles as drawn, read in one step (a live update may replace the list)."""
    script = "return [...document.querySelectorAll('li.item h2.title')].map(e => e.textContent)"
    return list(driver.execute_script(script))  # type: ignore[attr-defined]


def test_the_window_lists_searches_updates_live_and_answers(
    db: Database, db_path: Path, agent: tuple[TrayApp, str], browser: object, site: str
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    enqueue(db, "Backup finished", "all 3 volumes", source="backup")
    enqueue(db, HOSTILE, "a producer's markup", source="evil")
    deploy = enqueue(db, "Deploy to production?", "build 412 passed", priority="action",
                     source="ci", actions=[Action("Open log", url=site + LINK_PATH),
                                           Action("Approve", id="approve")]).id  # fmt: skip
    _app, address = agent
    driver.get(address)  # type: ignore[attr-defined]
    wait_for(lambda: len(titles(driver)) == 3, "the three notifications listed", 30)
    assert titles(driver) == ["Deploy to production?", HOSTILE, "Backup finished"]
    # the hostile title is text: no image element, its handler never ran
    assert driver.find_elements(By.CSS_SELECTOR, "main img") == []  # type: ignore[attr-defined]
    assert driver.execute_script("return window.pwned === undefined")  # type: ignore[attr-defined]
    # the address no longer shows the secret: it was traded for the cookie
    assert "key=" not in driver.current_url  # type: ignore[attr-defined]

    # live: a producer in another connection commits; the agent's watcher wakes its loop,
    # and the open page shows the row without a reload
    marker = driver.execute_script("window.noReload = 1; return 1")  # type: ignore[attr-defined]
    with sqlite3.connect(db_path) as producer:
        producer.execute("INSERT INTO notifications (title, message, source) "
                         "VALUES ('Disk almost full', '91% used', 'monitor')")  # fmt: skip
    wait_for(lambda: "Disk almost full" in titles(driver), "the new row shown live", 30)
    assert marker == driver.execute_script("return window.noReload")  # type: ignore[attr-defined]

    # a search narrows the list
    search = driver.find_element(By.NAME, "q")  # type: ignore[attr-defined]
    search.send_keys("deploy")
    search.submit()
    wait_for(lambda: titles(driver) == ["Deploy to production?"], "the search narrowed it", 30)

    # the link opens the exact address in the browser, and marks the notification read
    driver.find_element(By.LINK_TEXT, "Open log").click()  # type: ignore[attr-defined]
    wait_for(lambda: _visited(), "the linked site reached", 30)
    assert _visited() == [LINK_PATH.replace("<", "%3C").replace(">", "%3E")]
    wait_for(lambda: _read(db_path, deploy), "the link's notification marked read", 30)

    # an answer button writes the answer the producer reads back
    driver.switch_to.window(driver.window_handles[0])  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "button.answer").click()  # type: ignore[attr-defined]
    wait_for(lambda: _answer(db, deploy) == "approve", "the answer written back", 30)
    wait_for(lambda: "answered approve" in driver.page_source, "the answer shown", 30)  # type: ignore[attr-defined]

    # the settings: switched off from the page, as from the menu
    driver.find_element(By.CSS_SELECTOR, "details.settings summary").click()  # type: ignore[attr-defined]
    driver.find_element(By.XPATH, "//button[text()='Switch off']").click()  # type: ignore[attr-defined]
    wait_for(lambda: not read_settings(db).enable_notifications, "notifications off", 30)
    wait_for(lambda: "Notifications are off" in driver.page_source, "the page saying so", 30)  # type: ignore[attr-defined]


def _read(db_path: Path, notification_id: str) -> bool:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT read_at FROM notifications WHERE id = ?", (notification_id,))
        return row.fetchone()[0] is not None


def _answer(db: Database, notification_id: str) -> str | None:
    found = answer_of(db, notification_id)
    return found.answer if found is not None else None


def _visited() -> list[str]:
    """What the linked site was asked for, but the icon the browser asks every site for."""
    return [path for path in Recorder.seen if path != "/favicon.ico"]
