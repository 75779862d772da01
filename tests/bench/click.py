"""Click to browser: from the moment the bus routes dunst's `ActionInvoked` (a click on the
popup, made with `dunstctl action 0`) to the moment the browser is started with the link.

A private desktop session (Xvfb, DBus, dunst), the headless agent with its real notifier, and
a stand-in browser (the session's default browser, which xdg-open starts) that
records when it ran. The signal's time is dbus-monitor's, the browser's its own clock.
Baseline, same session: `xdg-open` run straight with the same link, from its start to the
browser's; what is left over is the agent's own share.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

from tests.bench import stats
from tests.conftest import agent_command, wait_for

ROOT = Path(__file__).resolve().parents[2]
_SIGNAL = re.compile(r"^signal time=(?P<t>[\d.]+) .*member=ActionInvoked$")


def measure(count: int) -> dict[str, object]:
    from tests.desktop.conftest import default_browser, desktop_session

    work = Path(tempfile.mkdtemp(prefix="tc-click-"))
    opened = work / "opened"
    browser = work / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s %s\\n" "$(date +%s.%N)" "$1" >> {opened}\n')
    browser.chmod(0o755)
    db = work / "bench.db"
    latencies: list[float] = []
    with desktop_session(work / "desktop", notify_hook=False) as session:
        env = {**session.env, "XDG_STATE_HOME": str(work / "state")}
        default_browser(env, browser)
        signals = work / "signals.log"
        monitor = subprocess.Popen(
            ["dbus-monitor", "--session", "type='signal',member='ActionInvoked'"],
            env=env, stdout=signals.open("w"), stderr=subprocess.DEVNULL,
        )  # fmt: skip
        agent = subprocess.Popen(
            agent_command(db, "--headless"), cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(db.exists, "the agent")
            for i in range(count):
                link = f"https://example.com/build/{i}"
                subprocess.run(
                    [*agent_command(db)[:-1], "send", f"build {i}", "--priority", "urgent",
                     "--action", f"Log={link}"],
                    cwd=ROOT, env=env, check=True, capture_output=True,
                )  # fmt: skip
                wait_for(lambda: _displayed(env) == 1, "the popup")
                subprocess.run(["dunstctl", "action", "0"], env=env, check=True)
                wait_for(lambda i=i: _lines(opened) > i, "the browser")
                wait_for(lambda: _displayed(env) == 0, "the popup closed")
            time.sleep(0.5)
        finally:
            agent.terminate()
            agent.wait(timeout=30)
            monitor.terminate()
        clicks = [float(m["t"]) for m in map(_SIGNAL.match, signals.read_text().splitlines()) if m]
        browsed = [float(line.split()[0]) for line in opened.read_text().splitlines()]
        latencies = [1000 * (b - c) for c, b in zip(clicks, browsed, strict=False)]
        baseline = []
        for i in range(count):
            began = time.time()
            subprocess.run(["xdg-open", f"https://example.com/direct/{i}"], env=env, check=True)
            wait_for(lambda i=i: _lines(opened) > count + i, "the browser")
            baseline.append(1000 * (float(opened.read_text().splitlines()[-1].split()[0]) - began))
    return {
        "samples": len(latencies),
        "p50_ms": _ms(latencies, 0.5),
        "p99_ms": _ms(latencies, 0.99),
        "xdg_open_p50_ms": _ms(baseline, 0.5),
        "xdg_open_p99_ms": _ms(baseline, 0.99),
    }


def _ms(values: list[float], q: float) -> float | None:
    return round(stats.percentile(values, q), 1) if values else None


def _displayed(env: dict[str, str]) -> int:
    out = subprocess.run(
        ["dunstctl", "count", "displayed"], env=env, capture_output=True, text=True
    )
    return int(out.stdout.strip() or 0)


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0
