"""The README's 60-second tour, run as written on a fresh database in a desktop session
(trayer and dunst): the notification it sends must reach the daemon, the icon must dock."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, wait_for
from tests.desktop.conftest import Desktop, browsing
from tests.desktop.test_tray_e2e import xdo

pytestmark = pytest.mark.desktop


def tour_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A 60-second tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the tour has no shell block"
    joined = block[1].replace("\\\n", " ")  # a command continued on the next line
    return [line.split("  #", 1)[0].strip() for line in joined.splitlines() if line.strip()]


def test_the_readme_tour_works_as_written(tray_desktop: Desktop, tmp_path: Path) -> None:
    session = tray_desktop
    session.env["TRAYCOURIER_DB"] = str(tmp_path / "tour.db")  # a fresh database
    browsing(session, tmp_path)  # a stand-in default browser writes to tmp_path / "opened"
    script = "set -e\n" + "\n".join(tour_commands()) + "\necho agent=$!\n"
    out_file, err_file = tmp_path / "tour.out", tmp_path / "tour.err"
    with out_file.open("w") as out, err_file.open("w") as errors:  # the agent keeps them open
        tour = subprocess.run(
            ["bash", "-c", script], cwd=ROOT, env=session.env, stdout=out, stderr=errors,
            timeout=600,
        )  # fmt: skip
    err = err_file.read_text()
    assert tour.returncode == 0, err
    agent = int(out_file.read_text().split("agent=")[1].split()[0])
    try:
        wait_for(lambda: "Hello" in {r["summary"] for r in session.received()}, "the tour's hello")
        wait_for(
            lambda: bool(
                xdo(session, "search", "--onlyvisible", "--classname", "traycourier").split()
            ),
            "the bell in the tray",
            60,
        )
        session.screenshot(session.logdir / "tour.png")
        assert "not shown" not in err and "held" not in err  # `action` appears at once
        subprocess.run(["dunstctl", "action", "0"], env=session.env, check=True)  # the click
        opened = tmp_path / "opened"
        wait_for(opened.exists, "the browser")
        assert opened.read_text() == "https://github.com/traycourier/traycourier#readme\n"
    finally:
        os.kill(agent, signal.SIGTERM)
    wait_for(lambda: not Path(f"/proc/{agent}").exists(), "the agent to stop", 60)
