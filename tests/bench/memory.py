"""Peak RSS: a bare interpreter and the bare imports next to the running agents.

Each `-c` case runs in a helper process that reports its only child's ru_maxrss; the agents
run for `settle_s` idle and are read from /proc (VmHWM) before they are stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import stats

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "python -c pass": "pass",
    "import sqlalchemy": "import sqlalchemy",
    "imports of a headless agent": "import agent.cli, agent.runtime, agent.notifier, "
    "agent.wakeup, store, dbus, plyer.platforms.linux.notification",
    "imports of a tray agent (+ pystray, Pillow, GTK)": "import agent.cli, agent.runtime, "
    "agent.tray, agent.icons, gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk",
}
_CHILD_RSS = (
    "import resource, subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1]], "
    "check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def import_case(code: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD_RSS, code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return int(out.stdout.split()[-1]) / 1024


def agent_rss(env: dict[str, str], args: list[str], settle_s: float, work: Path) -> float:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "--db", str(work / "m.db"), "run", *args],
        cwd=ROOT,
        env={**env, "XDG_STATE_HOME": str(work / "state")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(settle_s)
        return stats.peak_rss_mib(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def measure(rounds: int, settle_s: float) -> dict[str, object]:
    from tests.desktop.conftest import desktop_session

    base_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    samples: dict[str, list[float]] = {}
    work = Path(tempfile.mkdtemp(prefix="tc-mem-"))
    try:
        with desktop_session(work / "desktop", tray=True) as desktop:
            gui_env = {**desktop.env, "PYSTRAY_BACKEND": "gtk"}
            for _ in range(rounds):
                for name, code in CASES.items():
                    env = gui_env if "tray" in name else base_env
                    samples.setdefault(name, []).append(import_case(code, env))
                samples.setdefault("headless agent, idle", []).append(
                    agent_rss(base_env, ["--headless"], settle_s, work)
                )
                samples.setdefault("tray agent (GTK, trayer), idle", []).append(
                    agent_rss(gui_env, [], settle_s, work)
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "settle_s": settle_s,
        "rows": [{"case": k, "peak_rss_mib": stats.summary(v, 1)} for k, v in samples.items()],
    }
