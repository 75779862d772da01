"""Start at login: one class per mechanism and one chooser.

- `XdgAutostart` (Linux and other freedesktop systems): `~/.config/autostart/traycourier.desktop`;
  a package's entry in `/etc/xdg/autostart` is switched off per user with `Hidden=true`.
- `WindowsRunKey`: a value under `HKCU\\...\\Run`.
- `LaunchAgent` (macOS): a plist in `~/Library/LaunchAgents`.

Only an explicit `enable` creates an entry; a user who deleted it keeps it deleted.
The tray's "Start at login" and `traycourier autostart` both go through `for_platform()`.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Protocol

from traycourier.agent import APP_NAME
from traycourier.agent.system import ostype, paths
from traycourier.store import InvalidInput, private, shown_target

LABEL = "io.github.traycourier"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


class Autostart(Protocol):
    def is_enabled(self) -> bool: ...

    def enable(self) -> str:
        """Create the entry; returns where it lives (a path or a registry value)."""
        ...

    def disable(self) -> str: ...


def launch_command(db: Path | str | None = None) -> list[str]:
    """How to start the agent: the frozen executable, the console script, or `python -m`;
    with `--db` when the agent serves a database other than the standard one (at login
    neither the command line nor `TRAYCOURIER_DB` of today's session is there)."""
    if ostype.is_frozen():
        command = [sys.executable, "run"]
    elif script := shutil.which(APP_NAME):
        command = [script, "run"]
    else:
        command = [sys.executable, "-m", "traycourier.agent", "run"]
    if isinstance(db, str):
        # a server: never its password in a file other users' tools may read; the login
        # session's libpq password file (~/.pgpass) supplies it
        command += ["--db", shown_target(db)]
    elif db is not None and db.absolute() != paths.standard_db_path().absolute():
        command += ["--db", str(db.absolute())]
    return command


_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
"""Characters that make the Desktop Entry spec's Exec= quote an argument."""


def exec_value(command: list[str]) -> str:
    """`command` as the value of an Exec= key, by the Desktop Entry specification: an
    argument with a reserved character goes in double quotes with `"`, `` ` ``, `$` and `\\`
    escaped; `%` is doubled (field codes, inside quotes too); then, as for any string value,
    every backslash is doubled. A line break cannot be written into the file at all."""
    parts = []
    for arg in command:
        if any(ord(ch) < 0x20 or ch == "\x7f" for ch in arg):
            raise InvalidInput(
                f"cannot start at login with {arg[:60]!r}: a line break or control "
                "character cannot stand in a desktop entry (move the database elsewhere)"
            )
        if not arg or _RESERVED & set(arg):
            arg = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'
        parts.append(arg.replace("%", "%%"))
    return " ".join(parts).replace("\\", "\\\\")


class XdgAutostart:
    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or launch_command()

    @staticmethod
    def entry_path() -> Path:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(base) / "autostart" / f"{APP_NAME}.desktop"

    @staticmethod
    def system_entries() -> list[Path]:
        """Entries a package installed for every user (the .deb puts one in /etc/xdg)."""
        dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        found = [Path(d) / "autostart" / f"{APP_NAME}.desktop" for d in dirs.split(":") if d]
        return [p for p in found if p.is_file()]

    @staticmethod
    def desktop_entry(command: list[str]) -> str:
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            f"Name={APP_NAME}\n"
            "Comment=Shows notifications from local programs\n"
            f"Exec={exec_value(command)}\n"
            f"Icon={APP_NAME}\n"
            "Terminal=false\n"
            "Categories=Utility;\n"
            "X-GNOME-Autostart-enabled=true\n"
            "X-GNOME-Autostart-Delay=2\n"
        )

    @staticmethod
    def _hidden(path: Path) -> bool:
        """XDG: a user entry with Hidden=true switches off the system entry of the same name."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return False
        return any(line.strip().lower() == "hidden=true" for line in lines)

    def is_enabled(self) -> bool:
        user = self.entry_path()
        if user.is_file():
            return not self._hidden(user)
        return bool(self.system_entries())

    def enable(self) -> str:
        path = self.entry_path()
        private.write_file(path, self.desktop_entry(self.command).encode("utf-8"))
        return str(path)

    def disable(self) -> str:
        path = self.entry_path()
        if self.system_entries():
            # the package's entry stays; a user entry with Hidden=true overrides it
            hidden = self.desktop_entry(self.command) + "Hidden=true\n"
            private.write_file(path, hidden.encode("utf-8"))
        else:
            path.unlink(missing_ok=True)
        return str(path)


class WindowsRunKey:
    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or launch_command()

    @staticmethod
    def run_value(command: list[str]) -> str:
        """The Run value: each part quoted, as the shell expects."""
        return " ".join(f'"{part}"' for part in command)

    def is_enabled(self) -> bool:
        winreg = _winreg()
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, APP_NAME)
        except OSError:
            return False
        return True

    def enable(self) -> str:
        winreg = _winreg()
        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            winreg.SetValueEx(key, APP_NAME, 0, winreg.REG_SZ, self.run_value(self.command))
        return rf"HKCU\{RUN_KEY}\{APP_NAME}"

    def disable(self) -> str:
        winreg = _winreg()
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, APP_NAME)
        except OSError:
            pass
        return rf"HKCU\{RUN_KEY}\{APP_NAME}"


class LaunchAgent:
    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or launch_command()

    @staticmethod
    def plist_path() -> Path:
        return Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"

    @staticmethod
    def plist(command: list[str]) -> bytes:
        import plistlib  # only macOS needs it; it loads an XML parser

        return plistlib.dumps(
            {
                "Label": LABEL,
                "ProgramArguments": command,
                "RunAtLoad": True,
                "ProcessType": "Interactive",
                "KeepAlive": False,
            }
        )

    def is_enabled(self) -> bool:
        return self.plist_path().is_file()

    def enable(self) -> str:
        path = self.plist_path()
        private.write_file(path, self.plist(self.command))
        return str(path)

    def disable(self) -> str:
        path = self.plist_path()
        path.unlink(missing_ok=True)
        return str(path)


def for_platform(
    platform: ostype.Platform | None = None, db: Path | str | None = None
) -> Autostart:
    """The mechanism for `platform` (default: this OS), starting the agent on `db`."""
    kind = platform or ostype.current()
    command = launch_command(db)
    if kind == "windows":
        return WindowsRunKey(command)
    if kind == "darwin":
        return LaunchAgent(command)
    return XdgAutostart(command)


def _winreg() -> Any:
    """Windows' registry module, imported where it exists; `Any` because the type checker
    runs on Linux, where its stubs are empty."""
    return importlib.import_module("winreg")
