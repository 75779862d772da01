"""A throw-away PostgreSQL cluster for the tests and benchmarks: Debian's `initdb` and
`pg_ctl` in a temporary folder, run as an unprivileged user (the server refuses root), on a
free port of 127.0.0.1 with password (scram) logins, so the tests exercise the URL, the
password file and a server that stops and starts again."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

psycopg: ModuleType | None
try:
    import psycopg
except ImportError:  # without the `postgresql` extra: the tests that need it skip at `pg_server`
    psycopg = None

USER = "traycourier"
PASSWORD = "tc-test-secret"


def find_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    root: Path
    bin: Path
    port: int = 0
    databases: int = 0

    def _as_owner(self) -> list[str]:
        """The server refuses to run as root: run it as `nobody` then."""
        if os.geteuid() != 0:
            return []
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as_owner(), *args], check=True, capture_output=True, text=True, timeout=120
        )

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, "nobody", "nogroup")
            shutil.chown(pwfile, "nobody", "nogroup")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.root / "data"), "-U", USER,
            "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
            "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self.port = _free_port()

    def start(self) -> None:
        options = (
            f"-k {self.root} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", mode, "stop")

    def url(self, database: str, *, password: bool = True) -> str:
        secret = f":{PASSWORD}" if password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database; returns its URL (with the password)."""
        assert psycopg is not None
        self.databases += 1
        name = f"tc{self.databases}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)
