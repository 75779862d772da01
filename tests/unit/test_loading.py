"""The agent's process holds no OpenSSL and runs `importlib.metadata` only when used, and
loses nothing for it (`agent/system/loading.py`): its hashes and HMACs are the same bytes,
`ssl` is still there for whoever asks later, package metadata reads as before (from any
thread), and a producer that imports the store keeps its OpenSSL. Each case is a fresh
interpreter, since a module once loaded stays loaded."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys

import pytest

ENTRY = (  # what agent/__main__.py does
    "from traycourier.agent.system.loading import lean_imports\n"
    "with lean_imports():\n"
    "    import traycourier.agent.cli.main\n"
)
LOADED = (
    "import json, sys\n"
    "print(json.dumps(sorted(m for m in ('ssl', '_ssl', '_hashlib') "
    "if sys.modules.get(m) is not None)))\n"
)


def child(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.splitlines()


def test_the_agent_with_its_command_and_tray_modules_loads_no_openssl() -> None:
    imports = (
        "import traycourier.agent.cli.main, traycourier.agent.cli.process, "
        "traycourier.agent.tray.app, traycourier.agent.notifiers.freedesktop, filelock\n"
    )
    [loaded] = child(ENTRY + imports + LOADED)
    assert json.loads(loaded) == []


def test_hashes_and_hmacs_are_the_bytes_openssl_gives() -> None:
    code = (
        ENTRY
        + (
            "import hashlib, hmac, secrets\n"
            "print(hashlib.sha256(b'traycourier').hexdigest())\n"
            "print(hashlib.md5(b'traycourier', usedforsecurity=False).hexdigest())\n"
            "print(hmac.new(b'key', b'traycourier', 'sha256').hexdigest())\n"
            "print(secrets.compare_digest(b'a', b'a'), secrets.compare_digest(b'a', b'b'))\n"
        )
        + LOADED
    )
    sha, md5, mac, compared, loaded = child(code)
    assert sha == hashlib.sha256(b"traycourier").hexdigest()  # this process has OpenSSL
    assert md5 == hashlib.md5(b"traycourier", usedforsecurity=False).hexdigest()
    assert mac == hmac.new(b"key", b"traycourier", "sha256").hexdigest()
    assert compared == "True False"
    assert json.loads(loaded) == []


def test_ssl_is_still_there_for_whoever_asks_later() -> None:
    """psycopg's pure-Python libpq binding imports `ssl`; asyncio, loaded before, keeps its
    TLS off (the agent never runs an event loop)."""
    code = ENTRY + (
        "import asyncio.sslproto, ssl\n"
        "print(ssl.OPENSSL_VERSION.split()[0], asyncio.sslproto.ssl is None)\n"
    )
    [line] = child(code)
    assert line == "OpenSSL True"


@pytest.mark.parametrize(
    "first",
    ["import traycourier.store", "import ssl, hashlib", "import sqlalchemy"],
    ids=["a producer's program", "OpenSSL already loaded", "SQLAlchemy already loaded"],
)
def test_what_the_process_loaded_before_is_left_as_it_is(first: str) -> None:
    """A producer imports the store as a library, and never the entry point: its asyncio keeps
    TLS. Called late, the entry point takes nothing back."""
    late = ENTRY if first != "import traycourier.store" else ""
    then = "import asyncio.sslproto, hmac\nprint(asyncio.sslproto.ssl is not None)\n"
    [line, loaded] = child(f"{first}\n{late}{then}{LOADED}")
    assert line == "True"
    assert "_ssl" in json.loads(loaded)


def test_importlib_metadata_is_not_run_until_used() -> None:
    """SQLAlchemy imports it at start; with it comes `email`, `zipfile` and `csv`."""
    imports = "import traycourier.agent.cli.main, traycourier.agent.cli.process\n"
    report = (
        "import json, sys\n"
        "print(json.dumps([type(sys.modules['importlib.metadata']).__name__, "
        "sorted(m for m in ('email', 'zipfile', 'csv') if m in sys.modules)]))\n"
    )
    [line] = child(ENTRY + imports + report)
    assert json.loads(line) == ["_Deferred", []]


def test_package_metadata_reads_as_before_from_any_thread() -> None:
    from importlib.metadata import entry_points, version

    here = [version("sqlalchemy"), sorted(e.name for e in entry_points(group="console_scripts"))]
    code = ENTRY + (
        "import json, threading\n"
        "import importlib.metadata\n"
        "from sqlalchemy.util.compat import importlib_metadata_get\n"
        "got, ready = [], threading.Barrier(8)\n"
        "def ask():\n"
        "    ready.wait()\n"
        "    got.append(importlib.metadata.version('sqlalchemy'))\n"
        "threads = [threading.Thread(target=ask) for _ in range(8)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "from importlib.metadata import entry_points\n"
        "scripts = sorted(e.name for e in importlib_metadata_get('console_scripts'))\n"
        "print(json.dumps([sorted(set(got)), len(got), scripts]))\n"
    )
    [line] = child(code)
    assert json.loads(line) == [[here[0]], 8, here[1]]
