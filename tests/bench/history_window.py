"""The history window at volume: its first page with 100, 100 k and 1 M notifications of
history, in the same run, rounds interleaved; and what serving it costs the agent's memory.

One headless agent per history size (its rows were routed long ago, so it has nothing to
do), asked for its window as a user does (`traycourier history --url`). Per round and size:
- time to first byte of `/` (the page is drawn whole, then sent: this is the server's time);
- in Debian's chromium (headless, through selenium): the navigation's time to the list on
  screen (`domContentLoadedEventEnd`, the list being in the HTML itself).
Memory: the agent's VmRSS before the window was ever asked for, with the page open in the
browser (its live stream connected), and 3 s after the browser closed it.
"""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.bench import stats
from tests.conftest import agent_command, run_cli, wait_for
from traycourier.store import Database

ROOT = Path(__file__).resolve().parents[2]


def fill(db_path: Path, count: int) -> None:
    """`count` notifications, routed long ago, as a year of history holds them."""
    Database.open(db_path).close()
    rows = (
        (f"Build {i} finished", f"job {i}: all {i % 97} steps passed", f"source-{i % 7}",
         ("info", "action", "warning", "urgent")[i % 4],
         f"2026-{1 + i % 12:02d}-{1 + i % 28:02d} 12:00:00.000000")
        for i in range(count)
    )  # fmt: skip
    with sqlite3.connect(db_path) as conn:
        conn.executemany(
            "INSERT INTO notifications (title, message, source, priority, created_at, "
            "routed_at) VALUES (?, ?, ?, ?, ?, '2026-01-01 00:00:00.000000')",
            rows,
        )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def first_byte_ms(url: str, cookie: str) -> float:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)
    began = time.perf_counter()
    conn.request("GET", "/", headers={"Cookie": cookie})
    answer = conn.getresponse()
    first = time.perf_counter()
    answer.read()
    assert answer.status == 200
    return 1000 * (first - began)


def login(url: str) -> str:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    conn.request("GET", f"/?{parts.query}")
    answer = conn.getresponse()
    answer.read()
    return (answer.getheader("Set-Cookie") or "").split(";")[0]


def browser(profile: Path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


RENDERED = (
    "const n = performance.getEntriesByType('navigation')[0];"
    "return [n.domContentLoadedEventEnd - n.startTime,"
    " document.querySelectorAll('li.item').length];"
)


def measure(sizes: list[int], rounds: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="tc-history-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(work / "cache"),
           "XDG_STATE_HOME": str(work / "state")}  # fmt: skip
    agents: dict[int, subprocess.Popen[bytes]] = {}
    urls: dict[int, str] = {}
    idle: dict[int, float] = {}
    ttfb: dict[int, list[float]] = {n: [] for n in sizes}
    shown: dict[int, list[float]] = {n: [] for n in sizes}
    open_rss: dict[int, float] = {}
    closed_rss: dict[int, float] = {}
    driver = browser(work / "profile")
    try:
        for n in sizes:
            db = work / f"h{n}.db"
            fill(db, n)
            agents[n] = subprocess.Popen(
                agent_command(db, "--headless", "--notifier", f"record:{work / f'r{n}.jsonl'}"),
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        for n in sizes:
            db = work / f"h{n}.db"
            wait_for(lambda db=db: run_cli("status", db=db, env=env).stdout.count("agent") > 0,
                     "the agent", 120)  # fmt: skip
            time.sleep(2)
            idle[n] = rss_mib(agents[n].pid)
            done = run_cli("history", "--url", db=db, env=env, timeout=120)
            assert done.returncode == 0, done.stderr
            urls[n] = done.stdout.strip()
        cookies = {n: login(urls[n]) for n in sizes}
        for _ in range(rounds):
            for n in sizes:
                ttfb[n].append(first_byte_ms(urls[n], cookies[n]))
                driver.get(urls[n])  # the secret traded for the cookie, then the list
                rendered_ms, items = driver.execute_script(RENDERED)
                assert items == min(n, 50), items
                shown[n].append(float(rendered_ms))
        for n in sizes:
            driver.get(urls[n])
            time.sleep(1)
            open_rss[n] = rss_mib(agents[n].pid)
        driver.get("about:blank")  # the last page closed: its live stream ends
        time.sleep(3)
        closed_rss = {n: rss_mib(agents[n].pid) for n in sizes}
    finally:
        driver.quit()
        for agent in agents.values():
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=60)
    return {
        "rounds": rounds,
        "rows": [
            {
                "history": n,
                "first_byte_ms": stats.summary(ttfb[n], 1),
                "rendered_ms": stats.summary(shown[n], 1),
                "rss_idle_mib": round(idle[n], 1),
                "rss_open_mib": round(open_rss[n], 1),
                "rss_closed_mib": round(closed_rss[n], 1),
            }
            for n in sizes
        ],
    }
