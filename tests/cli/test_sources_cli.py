"""`traycourier source add|list|remove`, and the source in `status` and `doctor`: what a user
types and reads."""

from __future__ import annotations

import json
from pathlib import Path

from tests import aodb
from tests.conftest import run_in_process


def test_add_with_the_default_path_list_and_remove(tmp_path: Path) -> None:
    db = tmp_path / "tc.db"
    ao = aodb.build(tmp_path / "data" / "ao.db")
    added = run_in_process(
        "source", "add", "reverbcode", db=db, env={"AO_DATA_DIR": str(ao.parent)}
    )
    assert (added.code, added.stdout, added.stderr) == (0, f"following reverbcode: {ao}\n", "")
    again = run_in_process(
        "source", "add", "reverbcode", str(ao), "--priority", "pr_merged=urgent", db=db
    )
    assert again.stdout == f"updated reverbcode: {ao}\n"
    listed = run_in_process("source", "list", db=db)
    assert listed.stdout == f"reverbcode  {ao}  following\n"
    (found,) = json.loads(run_in_process("source", "list", "--json", db=db).stdout)
    assert (found["name"], found["kind"], found["location"], found["problem"]) == (
        "reverbcode", "reverbcode", str(ao), None,
    )  # fmt: skip
    assert found["options"]["priorities"]["pr_merged"] == "urgent"
    status = run_in_process("status", db=db)
    assert f"source      reverbcode  {ao}  following" in status.stdout
    assert json.loads(run_in_process("status", "--json", db=db).stdout)["sources"][0][
        "location"
    ] == str(ao)
    removed = run_in_process("source", "remove", "reverbcode", db=db)
    assert removed.code == 0 and "no longer following reverbcode" in removed.stdout
    assert run_in_process("source", "list", db=db).stdout.startswith("no sources")


def test_a_refused_source_is_one_line_exit_2_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "tc.db"
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    cases = [
        (["source", "add", "reverbcode", str(tmp_path / "nowhere" / "ao.db")], "does not exist"),
        (["source", "add", "reverbcode", str(not_sqlite)], "is not a SQLite database"),
        (["source", "add", "ntfy"], "unknown kind of source 'ntfy'"),
        (["source", "remove"], "usage: traycourier source remove NAME"),
    ]
    for argv, said in cases:
        result = run_in_process(*argv, db=db)
        assert result.code == 2, (argv, result)
        assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr
        assert result.stderr.startswith("traycourier: error: ")
    assert not db.exists()
    assert not (tmp_path / "nowhere").exists()
    ao = aodb.build(tmp_path / "ao.db")
    bad = run_in_process(
        "source", "add", "reverbcode", str(ao), "--session-url", "file:///x", db=db
    )
    assert bad.code == 2 and "{session_id}" in bad.stderr
    unknown = run_in_process("source", "remove", "nothing", db=db)
    assert unknown.code == 2 and "no source named 'nothing'" in unknown.stderr


def test_doctor_names_a_followed_file_that_went_away(tmp_path: Path) -> None:
    db = tmp_path / "tc.db"
    ao = aodb.build(tmp_path / "ao.db")
    assert run_in_process("source", "add", "reverbcode", str(ao), db=db).code == 0
    ao.rename(tmp_path / "gone.db")
    report = json.loads(run_in_process("doctor", "--json", db=db).stdout)
    (check,) = [c for c in report["checks"] if c["name"] == "source reverbcode"]
    assert (check["level"], check["detail"]) == ("warn", f"{ao} does not exist")
    assert check["fix"] == "start ReverbCode, or `source add` its ao.db again"
