"""What `doctor` can see of the audit's findings: another program's triggers on our tables, a
password in the database URL, this machine's clock against the server's, and a notification
daemon the bus starts on demand."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import execute, run_in_process
from traycourier.agent.cli import doctor
from traycourier.store import Database, timestamps


def checks_of(target: Path | str) -> dict[str, dict[str, str]]:
    result = run_in_process("doctor", "--json", db=target)
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_a_trigger_another_program_put_on_our_tables_is_named(any_db: Database) -> None:
    if any_db.url is None:
        execute(
            any_db,
            "CREATE TRIGGER picky BEFORE UPDATE ON notification_deliveries "
            "BEGIN SELECT RAISE(ABORT, 'no'); END",
        )
    else:
        execute(
            any_db,
            "CREATE FUNCTION no() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'no'; END $$",
        )
        execute(
            any_db,
            "CREATE TRIGGER picky BEFORE UPDATE ON notification_deliveries FOR EACH ROW "
            "EXECUTE FUNCTION no()",
        )
    found = checks_of(any_db.path or any_db.url)  # type: ignore[arg-type]
    assert found["triggers"]["level"] == "warn"
    assert "picky on notification_deliveries" in found["triggers"]["detail"]
    assert "traycourier_wake" not in found["triggers"]["detail"]  # our own are not listed


def test_a_database_without_foreign_triggers_has_no_trigger_line(any_db: Database) -> None:
    assert "triggers" not in checks_of(any_db.path or any_db.url)  # type: ignore[arg-type]


def test_a_password_in_the_url_is_named_and_never_shown(pg_url: str) -> None:
    assert ":" in pg_url.split("@")[0].split("//")[1]  # the test cluster's URL has one
    found = checks_of(pg_url)
    assert found["credentials"]["level"] == "warn"
    assert "~/.pgpass" in found["credentials"]["fix"]
    password = pg_url.split("@")[0].rsplit(":", 1)[1]
    assert password not in json.dumps(found)


def test_a_clock_off_the_servers_is_named(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = timestamps.utcnow
    monkeypatch.setattr(timestamps, "utcnow", lambda: real() + timedelta(days=2))
    found = checks_of(pg_url)
    assert found["clock"]["level"] == "warn"
    seconds = int(found["clock"]["detail"].split("clock is ")[1].split(" s off")[0])
    assert abs(seconds - 2 * 86400) < 60


def test_a_daemon_the_bus_starts_on_demand_is_not_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """dunst and xfce4-notifyd ship DBus service files: until the first notification
    nothing owns the name, and that is fine (it was reported as a failure)."""

    class Bus:
        def name_has_owner(self, _name: str) -> bool:
            return False

        def list_activatable_names(self) -> list[str]:
            return ["org.freedesktop.Notifications"]

    import dbus

    monkeypatch.setattr(dbus, "SessionBus", Bus)
    daemon = {c.name: c for c in doctor.check_dbus_daemon()}["notification daemon"]
    assert daemon.level == "ok" and "on the first notification" in daemon.detail
