"""Shared fixtures, and the rule that under CI=true a desktop, packaging or PostgreSQL test may
not skip. A PostgreSQL test is marked `postgresql` by the fixture it uses (`pg_server` and
what depends on it), so `pytest -m "not postgresql"` runs the rest from `pip install -e
'.[dev]'`, and without psycopg or a server those tests skip, saying why."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.pgserver import PgServer, find_bin
from traycourier.agent.cli import main as cli
from traycourier.store import Database

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, why: str) -> None:
    """Skip on a developer machine without the capability; fail in CI, where it must exist."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and a required capability is missing: {why}")
    pytest.skip(why)


def wait_for(predicate, what: str, limit_s: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    """Poll until a state is reached: a guard against hangs, never a speed assertion."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed")
    assert path is not None
    return path


MUST_RUN_IN_CI = ("desktop", "packaging", "postgresql")


def _uses_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    fixtures = getattr(item, "fixturenames", ())
    return (
        "pg_server" in fixtures
        or "pg_url" in fixtures
        or any(params.get(name) == "postgresql" for name in ("any_db", "any_target"))
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _uses_postgresql(item):
            item.add_marker(pytest.mark.postgresql)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and any(m.name in MUST_RUN_IN_CI for m in item.iter_markers()):
        report.outcome = "failed"
        report.longrepr = f"CI=true: desktop/packaging/PostgreSQL test skipped ({report.longrepr})"


@pytest.fixture
def session_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private DBus session bus of its own, as `DBUS_SESSION_BUS_ADDRESS`; its address."""
    require_tool("dbus-daemon")
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "traycourier.db"


@pytest.fixture
def db(db_path: Path):  # type: ignore[no-untyped-def]
    database = Database.open(db_path)
    yield database
    database.close()


def mapped_libraries(pid: int) -> set[str]:
    """The file names of the shared libraries a running process has mapped (`libssl.so.3`):
    names only, so a test's own folder (which carries the test's name) never matches."""
    names = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)  # address, mode, offset, device, inode[, path]
        if len(fields) == 6 and ".so" in Path(fields[5]).name:
            names.add(Path(fields[5]).name)
    return names


def agent_command(db: Path | str, *run_args: str) -> list[str]:
    """The argv of `traycourier --db DB run RUN_ARGS...` as a separate Python process."""
    return [sys.executable, "-m", "traycourier.agent", "--db", str(db), "run", *run_args]


def run_cli(
    *args: str, db: Path | str | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `python -m traycourier.agent ...` as a user would, in a fresh process."""
    full_env = dict(os.environ)
    full_env.pop("TRAYCOURIER_DB", None)
    if env:
        full_env.update(env)
    cmd = [sys.executable, "-m", "traycourier.agent"]
    if db is not None:
        cmd += ["--db", str(db)]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=timeout
    )


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(changes: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.pop("TRAYCOURIER_DB", None)
    os.environ.update(changes)
    time.tzset()  # a TZ given takes effect in this process too
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        time.tzset()


def run_in_process(
    *args: str, db: Path | str | None = None, env: dict[str, str] | None = None
) -> CliResult:
    """`traycourier [--db DB] ARGS...` through `cli.main(argv)` in this process: what a user
    sees (exit status, stdout, stderr) without the cost of starting Python."""
    argv = (["--db", str(db)] if db is not None else []) + list(args)
    out, err = io.StringIO(), io.StringIO()
    with _environment(env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return CliResult(code, out.getvalue(), err.getvalue())


def fetch_window(url: str) -> tuple[int, str]:
    """What a browser gets from the address: the secret traded for the cookie, then the page."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    first = conn.getresponse()
    first.read()
    cookie = (first.getheader("Set-Cookie") or "").split(";")[0]
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    conn.request("GET", "/", headers={"Cookie": cookie})
    page = conn.getresponse()
    return page.status, page.read().decode()


# -- PostgreSQL --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throw-away cluster for the whole run (tests/pgserver.py), in a folder of /tmp
    the unprivileged server user can reach (pytest's own are private to root)."""
    require(
        importlib.util.find_spec("psycopg") is not None,
        "psycopg is not installed (pip install -e '.[postgresql]')",
    )
    found = find_bin()
    require(found is not None, "PostgreSQL's initdb is not installed (apt install postgresql)")
    assert found is not None
    server = PgServer(Path(tempfile.mkdtemp(prefix="traycourier-pg-")), found)
    server.init()
    server.start()
    yield server
    with contextlib.suppress(subprocess.SubprocessError):
        server.stop("immediate")
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh empty database on the test cluster."""
    return pg_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_target(request: pytest.FixtureRequest, db_path: Path) -> Path | str:
    """A SQLite file's path, or a fresh PostgreSQL database's URL: for tests that start
    real processes on either."""
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else db_path


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Database]:
    """The same test on a SQLite file and on a PostgreSQL server. A module whose tests run on
    both takes this fixture instead of `db`."""
    target = request.getfixturevalue("pg_url") if request.param == "postgresql" else db_path
    database = Database.open(target)
    yield database
    database.close()


def refuse_insert(db: Database, name: str, table: str, when: str, why: str) -> None:
    """A producer's trigger, on either backend, that refuses an INSERT into `table` when
    `when` (about `NEW`) holds, with `why` as the database's message."""
    if db.url is None:
        execute(db, f"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {when} "
                    f"BEGIN SELECT RAISE(ABORT, '{why}'); END")  # fmt: skip
        return
    execute(db, f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{why}'; END $$")  # fmt: skip
    execute(db, f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW "
                f"WHEN ({when}) EXECUTE FUNCTION {name}()")  # fmt: skip


def query(db: Database, sql: str, **params: object) -> list[tuple]:
    """Raw rows through the database's own engine, whichever backend it is."""
    from sqlalchemy import text

    with db.read() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def execute(db: Database, sql: str, **params: object) -> None:
    """A raw write (what another program would do), whichever backend it is."""
    from sqlalchemy import text

    with db.write() as conn:
        conn.execute(text(sql), params)
