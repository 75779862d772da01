"""The agent's process holds no OpenSSL, and loses nothing for it (`agent/system/openssl.py`):
its hashes and HMACs are the same bytes, `ssl` is still there for whoever asks later, and a
producer that imports the store keeps its OpenSSL. Each case is a fresh interpreter, since a
module once loaded stays loaded."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys

import pytest

ENTRY = (  # what agent/__main__.py does
    "from traycourier.agent.system.openssl import openssl_left_out\n"
    "with openssl_left_out():\n"
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
