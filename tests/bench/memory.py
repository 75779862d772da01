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
    "imports of a headless agent": "import traycourier.agent.cli.main, "
    "traycourier.agent.cli.process, traycourier.agent.notifiers.backends, traycourier.store, dbus, "
    "plyer.platforms.linux.notification",
    "imports of a tray agent (+ pystray, Pillow, GTK)": "import traycourier.agent.cli.main, "
    "traycourier.agent.engine.runtime, traycourier.agent.tray.app, "
    "traycourier.agent.system.icons, gi; "
    "gi.require_version('Gtk', '3.0'); from gi.repository import Gtk",
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


def agent_rss(
    env: dict[str, str], args: list[str], settle_s: float, work: Path, idle_s: float = 0.0
) -> tuple[float, float | None]:
    """Peak RSS after `settle_s`, and CPU % over a further `idle_s` (None when 0)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "traycourier.agent", "--db", str(work / "m.db"), "run", *args],
        cwd=ROOT,
        env={**env, "XDG_STATE_HOME": str(work / "state")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(settle_s)
        rss = stats.peak_rss_mib(proc.pid)
        if not idle_s:
            return rss, None
        cpu0, t0 = stats.cpu_seconds(proc.pid), time.monotonic()
        time.sleep(idle_s)
        return rss, 100 * (stats.cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def measure(rounds: int, settle_s: float, tray_idle_s: float) -> dict[str, object]:
    from tests.desktop.conftest import desktop_session

    base_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    samples: dict[str, list[float]] = {}
    tray_cpu: list[float] = []
    work = Path(tempfile.mkdtemp(prefix="tc-mem-"))
    try:
        with desktop_session(work / "desktop", tray=True) as desktop:
            gui_env = {**desktop.env, "PYSTRAY_BACKEND": "gtk"}
            for _ in range(rounds):
                for name, code in CASES.items():
                    env = gui_env if "tray" in name else base_env
                    samples.setdefault(name, []).append(import_case(code, env))
                samples.setdefault("headless agent, idle", []).append(
                    agent_rss(base_env, ["--headless"], settle_s, work)[0]
                )
                rss, cpu = agent_rss(gui_env, [], settle_s, work, tray_idle_s)
                samples.setdefault("tray agent (GTK, trayer), idle", []).append(rss)
                tray_cpu.append(cpu or 0.0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "settle_s": settle_s,
        "tray_idle_s": tray_idle_s,
        "tray_idle_cpu_pct": stats.summary(tray_cpu, 3),
        "rows": [{"case": k, "peak_rss_mib": stats.summary(v, 1)} for k, v in samples.items()],
    }
