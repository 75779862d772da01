"""Peak RSS: a bare interpreter and the bare imports next to the running agents, and what
the tray agent's memory is made of (`PARTS`, in the order the agent loads them).

Each `-c` case runs in a helper process that reports its only child's ru_maxrss; the agents
run for `settle_s` idle and are read from /proc (VmHWM) before they are stopped. The parts are
one process's VmRSS after each import, in the tray's desktop session; what the running tray
agent holds beyond them is its main loop, the rendered icons, the menu and the database.
"""

from __future__ import annotations

import itertools
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

# as the agent's entry point loads its command: OpenSSL left out (agent/system/loading.py)
ENTRY = (
    "from traycourier.agent.system.loading import lean_imports\n"
    "with lean_imports():\n"
    "    import sqlalchemy\n"
)
CASES = {
    "python -c pass": "pass",
    "import sqlalchemy": "import sqlalchemy",
    "imports of a headless agent": ENTRY + "import traycourier.agent.cli.main, "
    "traycourier.agent.cli.process, traycourier.agent.notifiers.freedesktop, traycourier.store, "
    "jeepney.io.blocking",
    "imports of a tray agent (+ pystray, GTK)": ENTRY
    + "import traycourier.agent.cli.main, traycourier.agent.engine.runtime, "
    "traycourier.agent.tray.app, traycourier.agent.system.icons, gi; "
    "gi.require_version('Gtk', '3.0'); from gi.repository import Gtk",
}
SNI_CASE = "tray agent (its own StatusNotifier item, gtk-sni-tray), idle"
PARTS = (
    ("the interpreter", "pass"),
    ("SQLAlchemy (Core, SQLite dialect; no OpenSSL)", ENTRY),
    ("traycourier's store and engine", "import traycourier.store, traycourier.agent.engine.loop"),
    ("the CLI", "import traycourier.agent.cli.main, traycourier.agent.cli.process"),
    ("jeepney and the freedesktop notifier",
     "import jeepney.io.blocking, traycourier.agent.notifiers.freedesktop, "
     "traycourier.agent.notifiers.backends"),
    ("watchdog (the file waker)", "import traycourier.store.sqlitewake"),
    ("PyGObject and GTK 3",
     "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk"),
    ("pystray and the tray app", "import pystray, traycourier.agent.tray.app"),
)  # fmt: skip
_PARTS = (
    "import sys\n"
    "def rss():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmRSS'):\n"
    "            return int(line.split()[1]) / 1024\n"
    "for code in sys.argv[1:]:\n"
    "    exec(code)\n"
    "    print(rss())\n"
)


def parts(env: dict[str, str]) -> list[float]:
    """MiB each of `PARTS` adds to one process (the first: the interpreter itself)."""
    out = subprocess.run(
        [sys.executable, "-c", _PARTS, *(code for _, code in PARTS)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    totals = [float(x) for x in out.stdout.split()]
    return [totals[0]] + [b - a for a, b in itertools.pairwise(totals)]


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
    from tests.desktop.hosts import gtk_sni_tray

    base_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    samples: dict[str, list[float]] = {}
    tray_cpu: list[float] = []
    sni_cpu: list[float] = []
    made_of: dict[str, list[float]] = {}
    work = Path(tempfile.mkdtemp(prefix="tc-mem-"))
    try:
        # trayer (XEmbed) and a StatusNotifier watcher and host in one session: pystray's GTK
        # icon where it is chosen (PYSTRAY_BACKEND=gtk), traycourier's own item otherwise
        with desktop_session(work / "desktop", tray=True) as desktop, gtk_sni_tray(desktop):
            # as the agent sets it before GTK loads (`agent.system.trayhost`): without it GDK's
            # OpenGL probe maps libLLVM, some 55 MiB the agent never holds
            gui_env = {**desktop.env, "PYSTRAY_BACKEND": "gtk", "GDK_GL": "disable"}
            sni_env = {k: v for k, v in desktop.env.items() if k != "PYSTRAY_BACKEND"}
            for _ in range(rounds):
                for name, code in CASES.items():
                    env = gui_env if "tray" in name else base_env
                    samples.setdefault(name, []).append(import_case(code, env))
                samples.setdefault("headless agent, idle", []).append(
                    agent_rss(base_env, ["--headless"], settle_s, work)[0]
                )
                gtk_rss, cpu = agent_rss(gui_env, [], settle_s, work, tray_idle_s)
                samples.setdefault("tray agent (GTK, trayer), idle", []).append(gtk_rss)
                tray_cpu.append(cpu or 0.0)
                sni_rss, cpu = agent_rss(sni_env, [], settle_s, work, tray_idle_s)
                samples.setdefault(SNI_CASE, []).append(sni_rss)
                sni_cpu.append(cpu or 0.0)
                found = parts(gui_env)
                for (name, _), mib in zip(PARTS, found, strict=True):
                    made_of.setdefault(name, []).append(mib)
                made_of.setdefault("the running tray: main loop, icons, menu, database", []).append(
                    gtk_rss - sum(found)  # the parts are the GTK tray's, in its order
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "settle_s": settle_s,
        "tray_idle_s": tray_idle_s,
        "tray_idle_cpu_pct": stats.summary(tray_cpu, 3),
        "sni_idle_cpu_pct": stats.summary(sni_cpu, 3),
        "rows": [{"case": k, "peak_rss_mib": stats.summary(v, 1)} for k, v in samples.items()],
        "tray_parts": [{"part": k, "mib": stats.summary(v, 1)} for k, v in made_of.items()],
    }
