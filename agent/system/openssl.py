"""The agent's process runs without OpenSSL: about 4.5 MiB of a headless agent's 45.

Nothing in the agent speaks TLS or needs OpenSSL's hashes: it talks to a file, a local bus and
a loopback page, and to a server through libpq, which brings its own TLS. Yet three imports it
cannot avoid would set OpenSSL up: SQLAlchemy imports `asyncio` (which imports `ssl`) and
`hashlib` unconditionally, and filelock imports `secrets` (which imports `hmac`, which imports
`_hashlib`). Marking a module absent in `sys.modules` is the standard library's documented way
to refuse an import, and every one of these falls back as on a Python built without OpenSSL:
asyncio without TLS, hashlib and hmac with Python's built-in md5, sha1, sha2, sha3 and blake2.

`_hashlib` stays absent for the life of the process. `ssl` is absent only while the command's
modules load (asyncio keeps its TLS off; the agent never runs an event loop): anything that
needs `ssl` later, such as psycopg's pure-Python libpq binding, imports it as usual.

Only the agent's entry point does this (`agent/__main__.py`), never `traycourier.store`: a
producer's program imports the store as a library and keeps its OpenSSL.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

ABSENT_FOR_GOOD = ("_hashlib",)
ABSENT_WHILE_LOADING = ("ssl",)


@contextmanager
def openssl_left_out() -> Iterator[None]:
    """Around the import of the command. A module already loaded is left as it is: there is
    nothing left to save there."""
    for name in ABSENT_FOR_GOOD:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    marked = [name for name in ABSENT_WHILE_LOADING if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in marked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
