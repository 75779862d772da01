"""ReverbCode's notifications on real daemons: a true `ao.db` (tests/aodb.py) followed by a
real agent process. A new row pops up; a click opens its `pr_url` byte for byte (a stand-in
browser records the address) and marks the row read in `ao.db`; a row read there first is
never shown; two agents and a restart show each row once; a locked, then renamed file stops
nothing; and the schema of `ao.db` is the same afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests import aodb
from tests.conftest import ROOT, wait_for
from tests.desktop.conftest import Desktop
from tests.desktop.test_answers import (
    click_popup,
    displayed,
    opened,
    row,
    running_agents,
    start,
    stop,
)

PR = "https://github.com/acme/app/pull/7?tab=checks&x=%20y#partial"
"""An address a careless quoting would damage."""


def follow(session: Desktop, db: Path, ao: Path) -> None:
    added = session.cli("source", "add", "reverbcode", str(ao), db=db)
    assert added.returncode == 0, added.stderr


def summaries(session: Desktop) -> list[str]:
    """What the daemon was asked to show (every Notify call on the bus)."""
    return [call.summary for call in session.notify_calls()]


def test_a_row_pops_up_and_a_click_opens_its_pr_and_marks_it_read_there(
    any_daemon: Desktop, tmp_path: Path
) -> None:
    session, db = any_daemon, tmp_path / "tc.db"
    ao = aodb.build(tmp_path / "ao" / "ao.db")
    before = aodb.schema_of(ao)
    seen_first = aodb.create(ao, "pr_merged", title="acme/app#6 was merged",
                             pr_url="https://github.com/acme/app/pull/6")  # fmt: skip
    aodb.mark_read(ao, seen_first)  # read in ReverbCode's dashboard before any agent ran
    follow(session, db, ao)
    agent = start(session, db)
    try:
        row_id = aodb.create(ao, pr_url=PR)
        wait_for(lambda: "acme-app: acme/app#7 is ready to merge" in summaries(session),
                 "the popup")  # fmt: skip
        click_popup(session, buttons=1)  # the PR's link: the click, and the one button
        wait_for(lambda: opened(tmp_path) == [PR], "the browser to get the PR's address")
        wait_for(lambda: aodb.status(ao, row_id) == "read", "the row read in ao.db")
    finally:
        stop(agent)
    assert opened(tmp_path) == [PR]
    assert summaries(session) == ["acme-app: acme/app#7 is ready to merge"]
    assert aodb.schema_of(ao) == before


def test_two_agents_and_a_restart_show_each_row_once(dunst: Desktop, tmp_path: Path) -> None:
    db = tmp_path / "tc.db"
    ao = aodb.build(tmp_path / "ao" / "ao.db")
    follow(dunst, db, ao)
    first = start(dunst, db)
    second = dunst.start_agent(db, "--headless")
    try:
        wait_for(lambda: running_agents(db) == 2, "both agents")
        for i in range(3):
            aodb.create(ao, title=f"acme/app#{i} is ready to merge", pr_url=f"{PR}{i}")
        wait_for(lambda: len(summaries(dunst)) >= 3, "three popups")
        stop(second)
        stop(first)
        again = start(dunst, db)  # a restart: nothing is imported or shown twice
        aodb.create(ao, title="acme/app#9 is ready to merge", pr_url=f"{PR}9")
        wait_for(lambda: len(summaries(dunst)) >= 4, "the fourth popup")
        rows = row(db, "SELECT count(*) FROM notifications")
    finally:
        stop(again)
    counts = Counter(summaries(dunst))
    assert sorted(counts.values()) == [1, 1, 1, 1], counts
    assert rows == (4,)


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE projects SET name = name")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def test_a_locked_then_renamed_ao_db_stops_nothing(dunst: Desktop, tmp_path: Path) -> None:
    """ReverbCode's file locked for 30 s (its write lock held, as by a long transaction of
    its own: in WAL mode nothing stops a reader, so only the write-back waits), then renamed
    away: our
    own notifications are shown all along, a read made meanwhile reaches ao.db once the lock
    is gone, the agent lives, and `doctor` names the source and the fix."""
    db = tmp_path / "tc.db"
    ao = aodb.build(tmp_path / "ao" / "ao.db")
    follow(dunst, db, ao)
    agent = start(dunst, db)
    try:
        row_id = aodb.create(ao)
        wait_for(lambda: len(summaries(dunst)) == 1, "the ReverbCode popup")
        locker = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(ao), "30"],
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        (ntf,) = row(db, "SELECT id FROM notifications")
        mark = [sys.executable, "-c", "import sys; from traycourier.store import Database, "
                "timestamps; from traycourier.store.answers import mark_read; "
                "mark_read(Database.open(sys.argv[1]), (sys.argv[2],), timestamps.utcnow())",
                str(db), ntf]  # fmt: skip
        subprocess.run(mark, check=True)  # read here while ao.db is locked
        assert dunst.cli("send", "own while locked", "--priority", "urgent", db=db).returncode == 0
        wait_for(lambda: "own while locked" in summaries(dunst), "our own popup")
        wait_for(lambda: problem(db) is not None, "the lock recorded as the source's problem")
        assert locker.wait(timeout=120) == 0
        wait_for(lambda: aodb.status(ao, row_id) == "read", "the read written back")
        ao.rename(ao.with_name("ao.db.moved"))
        assert dunst.cli("send", "own after", "--priority", "urgent", db=db).returncode == 0
        wait_for(lambda: "own after" in summaries(dunst), "our own popup after the rename")
        wait_for(lambda: "does not exist" in (problem(db) or ""), "the rename recorded")
        doctor = dunst.cli("doctor", "--json", db=db)
        assert agent.poll() is None, "the agent died"
    finally:
        stop(agent)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["source reverbcode"]["level"] == "warn"
    assert f"{ao}: {ao} does not exist" in checks["source reverbcode"]["detail"]
    assert "source add" in checks["source reverbcode"]["fix"]
    assert agent.stderr is not None
    warnings = [line for line in agent.stderr.read().splitlines() if "WARNING" in line]
    assert [w.split(": ", 2)[-1].split(";")[0] for w in warnings] == [
        f"{ao} is locked by another process",
        f"{ao} does not exist",
    ]


def problem(db: Path) -> str | None:
    found = row(db, "SELECT problem FROM sources")
    return None if found is None else found[0]


def readme_commands() -> list[str]:
    """The first shell block of the README's "With ReverbCode", comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## With ReverbCode", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_commands_bring_reverbcode_rows_to_the_desktop(
    dunst: Desktop, tmp_path: Path
) -> None:
    """The two commands as the README writes them, with ReverbCode's data folder in
    `$AO_DATA_DIR`; then a row ReverbCode writes pops up, and one read in its dashboard
    while on screen has its popup closed."""
    ao = aodb.build(tmp_path / "ao-data" / "ao.db")
    env = {**dunst.env, "AO_DATA_DIR": str(ao.parent), "TRAYCOURIER_DB": str(tmp_path / "tc.db")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    add, run = readme_commands()
    assert (add, run) == ("traycourier source add reverbcode", "traycourier run")
    done = subprocess.run(add, shell=True, env=env, capture_output=True, text=True, check=True)
    assert done.stdout == f"following reverbcode: {ao}\n"
    agent = subprocess.Popen(run, shell=True, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        wait_for(lambda: running_agents(tmp_path / "tc.db") == 1, "the agent")
        asking = aodb.create(ao, "needs_input", title="fix-login needs input", pr_url=None)
        wait_for(lambda: displayed(dunst) == 1, "the urgent popup on screen")
        assert summaries(dunst) == ["acme-app: fix-login needs input"]
        aodb.mark_read(ao, asking)  # answered in ReverbCode's dashboard
        wait_for(lambda: displayed(dunst) == 0, "its popup closed")
        closed = "SELECT closed_reason FROM notification_deliveries"
        wait_for(lambda: row(tmp_path / "tc.db", closed) == ("closed",), "the close recorded")
    finally:
        os.killpg(agent.pid, signal.SIGTERM)
        agent.wait(timeout=60)
