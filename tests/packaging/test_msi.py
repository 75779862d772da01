"""The Windows installer, built with wixl and used under Wine in a fresh prefix (a Windows
that never saw traycourier): silent per-user install with the "start at login" feature, the
installed program's self-test, the Run value agreeing with `traycourier autostart`, an
upgrade in place, a refused downgrade, and an uninstall that leaves only the user's data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool
from tests.packaging.conftest import windows_path, wine, wine_env, wine_status

pytestmark = pytest.mark.packaging

RUN_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
AUMID = "traycourier.agent"
IDENTITY_KEY = rf"HKCU\Software\Classes\AppUserModelId\{AUMID}"
APP_SETTINGS_KEY = rf"HKCU\Software\Microsoft\Windows\CurrentVersion\Notifications\Settings\{AUMID}"


def build_msi(frozen: Path, version: str) -> Path:
    done = subprocess.run(
        ["packaging/windows/build-msi.sh", version, str(frozen)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    msi = ROOT / done.stdout.strip().splitlines()[-1]
    assert msi.is_file()
    return msi


@pytest.fixture
def fresh_windows(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A new Wine prefix of its own: no Python, no earlier install."""
    require_tool("wixl")
    env = wine_env(dict(os.environ))
    env["WINEPREFIX"] = str(tmp_path / "prefix")
    subprocess.run(["wineboot", "--init"], env=env, capture_output=True, check=True, timeout=300)
    try:
        yield env
    finally:
        subprocess.run(["wineserver", "-k"], env=env, check=False, timeout=60)
        shutil.rmtree(tmp_path / "prefix", ignore_errors=True)  # ~700 MB


def run_value(env: dict[str, str]) -> str | None:
    status, output = wine_status(env, "reg", "query", RUN_KEY, "/v", "traycourier")
    if status != 0:
        return None
    return output.split("REG_SZ", 1)[1].strip()


def identity(env: dict[str, str]) -> dict[str, str] | None:
    """The values of the app identity's key, or None when there is no key."""
    status, output = wine_status(env, "reg", "query", IDENTITY_KEY)
    if status != 0:
        return None
    return {
        parts[0]: parts[2] if len(parts) > 2 else ""
        for line in output.splitlines()
        if len(parts := line.strip().split(None, 2)) >= 2 and parts[1] == "REG_SZ"
    }


def doctor_line(env: dict[str, str], exe: str, check: str) -> str:
    _status, output = wine_status(env, exe, "doctor")  # 1 when any check fails
    return next(
        line for line in output.splitlines() if f" {check}: " in line or f" {check} " in line
    )


def uninstall_version(env: dict[str, str]) -> str | None:
    """Wine records a per-user product under HKLM (Windows under HKCU): look in both."""
    for root in ("HKCU", "HKLM"):
        key = rf"{root}\Software\Microsoft\Windows\CurrentVersion\Uninstall"
        _status, output = wine_status(env, "reg", "query", key, "/s")
        for block in output.split("\n\n"):
            if "DisplayName    REG_SZ    traycourier" in block and "DisplayVersion" in block:
                return block.split("DisplayVersion    REG_SZ    ", 1)[1].split()[0]
    return None


def test_install_upgrade_downgrade_and_uninstall(
    frozen: Path, fresh_windows: dict[str, str], tmp_path: Path
) -> None:
    env = fresh_windows
    first, second = build_msi(frozen, "0.1.0"), build_msi(frozen, "0.1.1")
    users = Path(env["WINEPREFIX"]) / "drive_c" / "users"
    [home] = [p for p in users.iterdir() if p.name != "Public"]
    program_dir = home / "AppData" / "Local" / "Programs" / "traycourier"
    data_dir = home / "AppData" / "Local" / "traycourier"
    shortcut = home / "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/traycourier.lnk"
    exe = rf"C:\users\{home.name}\AppData\Local\Programs\traycourier\traycourier.exe"

    # a silent per-user install, "start at login" chosen
    log = tmp_path / "install.log"
    wine(env, "msiexec", "/i", windows_path(first), "/qn", "ADDLOCAL=Main,Autostart",
         "/l*v", windows_path(log))  # fmt: skip
    assert (program_dir / "traycourier.exe").is_file()
    assert shortcut.is_file()
    report_file = tmp_path / "installed.json"
    wine(env, exe, "self-test", "--out", windows_path(report_file))
    assert json.loads(report_file.read_text(encoding="utf-8"))["ok"] is True

    # the app's identity: registered with its name and icon, on the shortcut, adopted
    assert identity(env) == {
        "DisplayName": "traycourier",
        "IconUri": rf"C:\users\{home.name}\AppData\Local\Programs\traycourier\traycourier.ico",
    }
    assert (program_dir / "traycourier.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    table = subprocess.run(["msiinfo", "export", str(first), "MsiShortcutProperty"],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert f"AppShortcut\tSystem.AppUserModel.ID\t{AUMID}" in table
    assert doctor_line(env, exe, "app identity").startswith("OK")
    assert doctor_line(env, exe, "windows notifications").startswith("OK")
    wine(env, "reg", "add", APP_SETTINGS_KEY, "/v", "Enabled", "/t", "REG_DWORD", "/d", "0", "/f")
    off = doctor_line(env, exe, "windows notifications")
    assert off.startswith("FAIL") and "switched off in Windows' settings" in off, off
    wine(env, "reg", "delete", APP_SETTINGS_KEY, "/f")

    # the installer's Run value is the one `traycourier autostart` reads and writes
    installed = run_value(env)
    assert installed == f'"{exe}" "run"'
    assert "start at login: enabled" in wine(env, exe, "autostart", "status")
    wine(env, exe, "autostart", "disable")
    assert run_value(env) is None
    wine(env, exe, "autostart", "enable")
    assert run_value(env) == installed

    # the user's database and log exist now (one headless tick: no screen, so the delivery
    # fails and is recorded; what matters here is what the uninstaller leaves)
    wine(env, exe, "send", "kept across uninstall")
    wine(env, exe, "run", "--headless", "--once")
    assert (data_dir / "traycourier.db").is_file()
    assert any((data_dir / "Logs").glob("traycourier.log*"))
    log = (data_dir / "Logs" / "traycourier.log").read_text(encoding="utf-8")
    assert f"app identity {AUMID}: adopted" in log

    # a higher version upgrades in place; a lower one is refused
    wine(env, "msiexec", "/i", windows_path(second), "/qn", "ADDLOCAL=Main,Autostart")
    assert uninstall_version(env) == "0.1.1"
    assert "traycourier 0.1.0" in wine(env, exe, "--version")
    status, output = wine_status(env, "msiexec", "/i", windows_path(first), "/qn")
    assert status != 0, output
    assert uninstall_version(env) == "0.1.1"

    # uninstalling removes the program, the shortcut and the Run value, never the data
    wine(env, "msiexec", "/x", windows_path(second), "/qn")
    assert not program_dir.exists()
    assert not shortcut.exists()
    assert run_value(env) is None
    assert identity(env) is None
    assert uninstall_version(env) is None
    assert (data_dir / "traycourier.db").is_file()
    assert any((data_dir / "Logs").glob("traycourier.log*"))
