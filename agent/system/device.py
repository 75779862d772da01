"""This machine as a device of the user's: an id and a name kept in the user's config folder
(`device.json`, made on first use: the host name by default, editable). Only a server
database has devices; a SQLite file serves the one machine it is on (device "")."""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from traycourier.agent import APP_NAME
from traycourier.agent.system import ostype
from traycourier.store import Database, private
from traycourier.store.rows import AgentRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThisDevice:
    id: str
    name: str


ONE_FILE = ThisDevice("", "")
"""The device of a SQLite file: every delivery's `destination_key` is ""."""


def process_gone(host: object, pid: object) -> bool:
    """An agent's process that ended without saying so (killed, crashed): only on this
    machine, where its pid can be asked; False when unsure (another machine, or a pid
    another user's process holds)."""
    if host != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    return not process_alive(pid)


def process_alive(pid: int) -> bool:
    """Whether a process of this machine still runs (True when it is another user's). On
    Windows it is asked with OpenProcess: `os.kill(pid, 0)` there ends the process."""
    if pid <= 0:  # no process has it (and 0 would ask our own group)
        return False
    if ostype.current() == "windows":
        return _windows_alive(pid)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # PermissionError: alive, and someone else's
        return True
    return True


def _windows_alive(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return ctypes.GetLastError() == ACCESS_DENIED  # type: ignore[attr-defined]
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True  # unsure: counted as running
        return code.value == STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


QUERY_LIMITED_INFORMATION, ACCESS_DENIED, STILL_ACTIVE = 0x1000, 5, 259


def still_running(agents: Iterable[AgentRow]) -> tuple[list[AgentRow], list[AgentRow]]:
    """The agents whose heartbeat is fresh, split into those still running and those whose
    process is gone (`process_gone`): what `status` lists and `send` counts on."""
    running: list[AgentRow] = []
    gone: list[AgentRow] = []
    for agent in agents:
        (gone if process_gone(agent.host, agent.pid) else running).append(agent)
    return running, gone


def device_file() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "device.json"


def this_device(db: Database) -> ThisDevice:
    return load() if db.is_server else ONE_FILE


def load(path: Path | None = None) -> ThisDevice:
    """Read this machine's device, making one the first time; a file that cannot be read
    (edited by hand into something else) is replaced, and the log says so: this machine is
    then a new device."""
    path = path or device_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = ThisDevice(str(data["id"]), str(data.get("name") or socket.gethostname()))
        if found.id:
            return found
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("%s cannot be read (%s); this machine becomes a new device", path, err)
    made = ThisDevice(f"dev_{uuid.uuid4().hex[:16]}", socket.gethostname())
    private.write_small(path, json.dumps({"id": made.id, "name": made.name}))
    return made
