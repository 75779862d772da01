"""What the agent's process does not load: OpenSSL at all, and `importlib.metadata` until
something uses it. Together about 6 MiB of a headless agent's 45.

**OpenSSL.** Nothing in the agent speaks TLS or needs OpenSSL's hashes: it talks to a file,
a local bus and a loopback page, and to a server through libpq, which brings its own TLS.
Yet three imports it cannot avoid would set OpenSSL up: SQLAlchemy imports `asyncio` (which
imports `ssl`) and `hashlib` unconditionally, and filelock imports `secrets` (which imports
`hmac`, which imports `_hashlib`). Marking a module absent in `sys.modules` is the standard
library's documented way to refuse an import, and every one of these falls back as on a
Python built without OpenSSL: asyncio without TLS, hashlib and hmac with Python's built-in
md5, sha1, sha2, sha3 and blake2. `_hashlib` stays absent for the life of the process. `ssl`
is absent only while the command's modules load (asyncio keeps its TLS off; the agent never
runs an event loop): anything that needs `ssl` later, such as psycopg's pure-Python libpq
binding, imports it as usual.

**importlib.metadata** (1.4 MiB with the `email`, `zipfile` and `csv` it brings): SQLAlchemy
imports it at start and reads it only to look up plugins by entry point, which the agent
never does. It is put in `sys.modules` unexecuted, and runs on its first use of a name, as
`importlib.util.LazyLoader` would do, except that the import system's own look at
`__spec__` does not count as a use (with LazyLoader it does, so nothing is saved).

Only the agent's entry point does this (`agent/__main__.py`), never `traycourier.store`: a
producer's program imports the store as a library and keeps its OpenSSL.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

ABSENT_FOR_GOOD = ("_hashlib",)
ABSENT_WHILE_LOADING = ("ssl",)
DEFERRED = ("importlib.metadata",)


class _Deferred(types.ModuleType):
    """A module whose code runs on the first name asked of it that it does not have yet
    (its `__spec__`, `__name__` and `__path__` it has from the start)."""

    _lock: ClassVar[threading.RLock] = threading.RLock()
    _running: ClassVar[set[str]] = set()
    """Modules whose code is running: a name they ask of themselves meanwhile is missing, as
    in any module still loading."""

    def __getattr__(self, name: str) -> object:
        with _Deferred._lock:
            spec = self.__spec__
            assert spec is not None and spec.loader is not None
            if isinstance(self, _Deferred) and spec.name not in _Deferred._running:
                _Deferred._running.add(spec.name)
                try:
                    spec.loader.exec_module(self)
                    self.__class__ = types.ModuleType  # type: ignore[assignment]
                finally:
                    _Deferred._running.discard(spec.name)
        return object.__getattribute__(self, name)


def defer(name: str) -> None:
    """Put `name` in `sys.modules`, to run when first used; nothing if it is loaded already
    or cannot be found."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _Deferred
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:  # as the import system does when it loads a submodule
        setattr(sys.modules[parent], child, module)


@contextmanager
def lean_imports() -> Iterator[None]:
    """Around the import of the command. A module already loaded is left as it is: there is
    nothing left to save there."""
    for name in ABSENT_FOR_GOOD:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    marked = [name for name in ABSENT_WHILE_LOADING if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    for name in DEFERRED:
        defer(name)
    try:
        yield
    finally:
        for name in marked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
