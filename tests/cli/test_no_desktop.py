"""A machine without a desktop session (a server, a container, ssh): the agent runs, and
`send` and `status` say in one line what happens to what is sent. The agent's own
environment decides, as it recorded it, not the environment of the command that asks."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import agent_command, run_in_process, wait_for

NO_DAEMON = (
    "no notification daemon reachable (no desktop session: no DBus session bus); each "
    "notification is tried 5 times (about 15 s), then recorded failed (traycourier "
    "retry-failed sends them again once a desktop session is there)"
)


def without_a_desktop(tmp_path: Path) -> dict[str, str]:
    gone = {"DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in gone and k != "TRAYCOURIER_DB"}
    return {**env, "XDG_STATE_HOME": str(tmp_path / "state")}


def live_agents(db: Path) -> list[dict[str, object]]:
    agents: list[dict[str, object]] = json.loads(run_in_process("status", "--json", db=db).stdout)[
        "agents"
    ]
    return agents


@pytest.fixture
def agent(request: pytest.FixtureRequest, db_path: Path, tmp_path: Path) -> Iterator[Path]:
    """A headless agent started the way the README's tour starts it, with the notifier named
    by the test's parameter; yields the file its stderr goes to."""
    db_path.parent.mkdir()  # `status` is asked before the agent made the file
    log = tmp_path / "agent.err"
    with log.open("w") as err:
        child = subprocess.Popen(
            agent_command(db_path, "--headless", "--notifier", request.param),
            env=without_a_desktop(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        wait_for(lambda: bool(live_agents(db_path)), "the agent to register")
        yield log
    finally:
        child.terminate()
        assert child.wait(timeout=60) == 0


@pytest.mark.parametrize("agent", ["plyer"], indirect=True)
def test_without_a_desktop_send_and_status_say_what_will_happen(agent: Path, db_path: Path) -> None:
    [me] = live_agents(db_path)
    assert me["notifier_problem"] == NO_DAEMON.split(";")[0]

    sent = run_in_process("send", "Hello", "from traycourier", "--priority", "action", db=db_path)
    assert sent.code == 0 and sent.stdout.startswith("ntf_")
    assert sent.stderr == f"traycourier: not shown now: {NO_DAEMON}\n"

    def attempted() -> bool:
        [row] = json.loads(run_in_process("deliveries", "--json", db=db_path).stdout)
        return row["attempts"] >= 1

    wait_for(attempted, "the agent to try the notification")
    [row] = json.loads(run_in_process("deliveries", "--json", db=db_path).stdout)
    assert row["status"] in ("retry_wait", "failed")
    assert row["last_error_code"] == "daemon_unreachable"  # the reason, recorded
    status = run_in_process("status", db=db_path).stdout.splitlines()
    assert f"notifier    {me['owner']}: {NO_DAEMON}" in status
    logged = agent.read_text()
    assert logged.count("no notification daemon reachable") == 1, logged  # said once


@pytest.mark.parametrize("agent", ["null"], indirect=True)
def test_an_agent_that_can_show_makes_send_say_nothing(agent: Path, db_path: Path) -> None:
    """The command's own environment has no session bus either: it does not matter."""
    [me] = live_agents(db_path)
    assert me["notifier_problem"] is None
    sent = run_in_process(
        "send", "x", "--priority", "urgent", db=db_path, env={"DBUS_SESSION_BUS_ADDRESS": ""}
    )
    assert (sent.code, sent.stderr) == (0, "")
    assert "notifier    " not in run_in_process("status", db=db_path).stdout
