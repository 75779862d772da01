"""The real Linux installer: built, checked, frozen self-test, and installed on a fresh Debian.

Slow (several minutes: PyInstaller, xz, lintian, debootstrap); timings and the size go to
$TC_ARTIFACTS/packaging.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, require, require_tool

pytestmark = pytest.mark.packaging


def run(*cmd: str, timeout: float = 1800, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, (
        f"{cmd[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def test_the_deb_is_built_checked_and_installed_on_a_fresh_debian(pg_url: str) -> None:
    for tool in ("dpkg-deb", "lintian", "debootstrap", "patchelf", "desktop-file-validate"):
        require_tool(tool)
    require(os.geteuid() == 0, "the fresh-system test needs root (chroot)")
    timings: dict[str, float] = {}

    start = time.monotonic()
    deb = Path(run("packaging/linux/build-deb.sh").strip().splitlines()[-1])
    timings["build_s"] = time.monotonic() - start
    assert deb.is_file()

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    start = time.monotonic()
    report = json.loads(run(str(ROOT / "build/dist/traycourier/traycourier"), "self-test", env=env))
    timings["frozen_self_test_s"] = time.monotonic() - start
    assert report["ok"] and report["frozen"], report
    assert report["history_window_ok"] is True  # the bundle serves the history window
    assert report["notifier"] == "freedesktop"  # the DBus server spoken to directly
    assert report["tray"].startswith("unavailable: no display")
    # the bundle serves a PostgreSQL server too: psycopg, its libpq and SQLAlchemy's dialect
    frozen = str(ROOT / "build/dist/traycourier/traycourier")
    run(frozen, "--db", pg_url, "send", "from the bundle", "--priority", "urgent", env=env)
    run(frozen, "--db", pg_url, "run", "--headless", "--once", "--notifier", "null", env=env)
    assert "sent 1" in run(frozen, "--db", pg_url, "status", env=env)

    start = time.monotonic()
    run("packaging/linux/check-deb.sh", str(deb))
    timings["check_s"] = time.monotonic() - start

    start = time.monotonic()
    run("packaging/linux/fresh-system-test.sh", str(deb))
    timings["fresh_system_s"] = time.monotonic() - start

    facts = {"deb": deb.name, "deb_mib": round(deb.stat().st_size / 2**20, 1)}
    facts.update({k: round(v, 1) for k, v in timings.items()})
    artefacts = os.environ.get("TC_ARTIFACTS")
    if artefacts:
        Path(artefacts, "packaging.json").write_text(json.dumps(facts, indent=1))
    print(facts)
