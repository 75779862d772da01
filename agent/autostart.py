"""Start at login: an XDG autostart entry (Linux), a HKCU Run value (Windows), a LaunchAgent
(macOS). Only an explicit `enable` creates it; a user who deleted it keeps it deleted."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import sys
from pathlib import Path

from agent import APP_NAME

LABEL = "io.github.traycourier"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


def launch_command() -> list[str]:
    """How to start the agent: the frozen executable, the console script, or `python -m`."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "run"]
    script = shutil.which(APP_NAME)
    if script:
        return [script, "run"]
    return [sys.executable, "-m", "agent", "run"]


def desktop_entry(command: list[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "Comment=Shows notifications from local programs\n"
        f"Exec={shlex.join(command)}\n"
        f"Icon={APP_NAME}\n"
        "Terminal=false\n"
        "Categories=Utility;\n"
        "X-GNOME-Autostart-enabled=true\n"
        "X-GNOME-Autostart-Delay=2\n"
    )


def launch_agent_plist(command: list[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": LABEL,
            "ProgramArguments": command,
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "KeepAlive": False,
        }
    )


def run_value(command: list[str]) -> str:
    """The Windows Run value: each part quoted, as the shell expects."""
    return " ".join(f'"{part}"' for part in command)


def linux_entry_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / f"{APP_NAME}.desktop"


def linux_system_entries() -> list[Path]:
    """Entries a package installed for every user (the .deb puts one in /etc/xdg/autostart)."""
    dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    found = [Path(d) / "autostart" / f"{APP_NAME}.desktop" for d in dirs.split(":") if d]
    return [p for p in found if p.is_file()]


def _hidden(path: Path) -> bool:
    """XDG: a user entry with Hidden=true switches off the system entry of the same name."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return any(line.strip().lower() == "hidden=true" for line in lines)


def mac_plist_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"


def is_enabled() -> bool:
    if sys.platform.startswith("win"):
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, APP_NAME)
        except OSError:
            return False
        return True
    if sys.platform == "darwin":
        return mac_plist_path().is_file()
    user = linux_entry_path()
    if user.is_file():
        return not _hidden(user)
    return bool(linux_system_entries())


def enable() -> str:
    command = launch_command()
    if sys.platform.startswith("win"):
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            winreg.SetValueEx(key, APP_NAME, 0, winreg.REG_SZ, run_value(command))
        return rf"HKCU\{RUN_KEY}\{APP_NAME}"
    if sys.platform == "darwin":
        path = mac_plist_path()
        content: str | bytes = launch_agent_plist(command)
    else:
        path = linux_entry_path()
        content = desktop_entry(command)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    if isinstance(content, bytes):
        tmp.write_bytes(content)
    else:
        tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)
    return str(path)


def disable() -> str:
    if sys.platform.startswith("win"):
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, APP_NAME)
        except OSError:
            pass
        return rf"HKCU\{RUN_KEY}\{APP_NAME}"
    if sys.platform == "darwin":
        path = mac_plist_path()
        path.unlink(missing_ok=True)
        return str(path)
    path = linux_entry_path()
    if linux_system_entries():
        # the package's entry stays; a user entry with Hidden=true overrides it
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(desktop_entry(launch_command()) + "Hidden=true\n", encoding="utf-8")
    else:
        path.unlink(missing_ok=True)
    return str(path)
