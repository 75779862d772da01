"""`traycourier history --url / --open` and `doctor` against a real headless agent process,
on a SQLite file and on a PostgreSQL server: the window is served only when asked for, its
address reaches the browser whole, and it ends with the agent."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT, agent_command, fetch_window, run_cli, wait_for
from tests.pgserver import PASSWORD
from traycourier.store import Database, enqueue
from traycourier.store.queries import live_agents
from traycourier.store.timestamps import utcnow


def test_without_an_agent_it_says_so_in_one_line(db_path: Path) -> None:
    Database.open(db_path).close()
    done = run_cli("history", "--url", db=db_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "traycourier: no agent runs on this database here: start one (`traycourier run`)"
    ]


def test_a_headless_agent_serves_its_window_when_asked_and_stops_it_with_itself(
    any_target: Path | str, tmp_path: Path
) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_STATE_HOME": str(tmp_path / "state")}
    db = Database.open(any_target)
    enqueue(db, "Nightly backup done", "3 volumes", source="backup")
    agent = subprocess.Popen(
        agent_command(any_target, "--headless", "--notifier", f"record:{tmp_path / 'r.jsonl'}"),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: live_agents(db, utcnow(), timedelta(days=1)), "the agent registered", 60)
        doctor = run_cli("doctor", db=any_target, env=env)
        (line,) = [line for line in doctor.stdout.splitlines() if "history window" in line]
        assert "not open" in line and line.isascii()  # a Windows console's code page
        done = run_cli("history", "--url", db=any_target, env=env)
        assert done.returncode == 0, done.stderr
        url = done.stdout.strip()
        assert url.startswith("http://127.0.0.1:") and "?key=" in url
        status, page = fetch_window(url)
        assert status == 200 and "Nightly backup done" in page
        assert PASSWORD not in page and PASSWORD not in url  # a server's password: never
        again = run_cli("history", "--url", db=any_target, env=env)
        assert again.stdout.strip() == url  # one window per agent run
        for kept in (tmp_path / "cache").rglob("history-*.url"):
            kept.unlink()  # a cleaned cache: asked again, the agent writes it again
        assert run_cli("history", "--url", db=any_target, env=env).stdout.strip() == url
        doctor = run_cli("doctor", db=any_target, env=env)
        origin = url.split("/?")[0]
        assert f"served at {origin}" in doctor.stdout and PASSWORD not in doctor.stdout
        opened = tmp_path / "opened"  # a stand-in browser: what it is handed, byte for byte
        shim = tmp_path / "bin" / "xdg-open"
        shim.parent.mkdir()
        shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" > {opened}\n')
        shim.chmod(0o755)
        path = f"{shim.parent}:{os.environ['PATH']}"
        assert (
            run_cli("history", "--open", db=any_target, env={**env, "PATH": path}).returncode == 0
        )
        wait_for(opened.exists, "the browser handed the address", 30)
        assert opened.read_text() == url + "\n"
    finally:
        agent.send_signal(signal.SIGTERM)
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    gone = run_cli("history", "--url", db=any_target, env=env)
    assert gone.returncode == 1
    port = urlsplit(url).port
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=5).request("GET", "/")
    assert not list((tmp_path / "cache").rglob("history-*.url"))
    db.close()
