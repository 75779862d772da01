"""Start at login: the XDG entry on a real file system, the macOS and Windows formats."""

from __future__ import annotations

import plistlib
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool, run_in_process
from traycourier.agent import autostart, controls


def test_linux_autostart_entry_is_valid_and_not_recreated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-system-entries"))
    assert not controls.autostart_enabled()
    path = Path(controls.set_autostart(True))
    assert path == tmp_path / "autostart" / "traycourier.desktop"
    assert controls.autostart_enabled()
    validator = require_tool("desktop-file-validate")
    check = subprocess.run([validator, str(path)], capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout == "", check.stdout
    assert " run" in path.read_text()
    path.unlink()  # the user deletes it by hand
    assert not controls.autostart_enabled()  # and nothing puts it back
    controls.set_autostart(False)
    assert not path.exists()


def test_autostart_cli(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "XDG_CONFIG_DIRS": str(tmp_path / "none")}
    assert run_in_process("autostart", "status", env=env).stdout.strip() == (
        "start at login: disabled"
    )
    assert run_in_process("autostart", "enable", env=env).code == 0
    assert run_in_process("autostart", "status", env=env).stdout.strip() == (
        "start at login: enabled"
    )
    assert run_in_process("autostart", "disable", env=env).code == 0
    assert not (tmp_path / "autostart" / "traycourier.desktop").exists()


def test_macos_launch_agent_and_windows_run_value() -> None:
    command = ["/Applications/traycourier.app/Contents/MacOS/traycourier", "run"]
    plist = plistlib.loads(autostart.LaunchAgent.plist(command))
    assert plist["ProgramArguments"] == command
    assert plist["RunAtLoad"] is True and plist["Label"] == autostart.LABEL
    value = autostart.WindowsRunKey.run_value(
        [r"C:\Users\me\AppData\Local\traycourier\traycourier.exe", "run"]
    )
    assert value == r'"C:\Users\me\AppData\Local\traycourier\traycourier.exe" "run"'


@pytest.mark.parametrize(
    ("platform", "mechanism"),
    [
        ("linux", autostart.XdgAutostart),
        ("windows", autostart.WindowsRunKey),
        ("darwin", autostart.LaunchAgent),
    ],
)
def test_one_mechanism_per_os(platform: str, mechanism: type) -> None:
    assert isinstance(autostart.for_platform(platform), mechanism)  # type: ignore[arg-type]


def test_a_packaged_system_entry_is_switched_off_per_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = tmp_path / "etc-xdg"
    (system / "autostart").mkdir(parents=True)
    (system / "autostart" / "traycourier.desktop").write_text(
        autostart.XdgAutostart.desktop_entry(["/usr/bin/traycourier", "run"])
    )
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(system))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    assert controls.autostart_enabled()
    user = Path(controls.set_autostart(False))
    assert not controls.autostart_enabled()
    assert "Hidden=true" in user.read_text()
    assert (system / "autostart" / "traycourier.desktop").exists()  # the package's file stays
    validator = require_tool("desktop-file-validate")
    check = subprocess.run([validator, str(user)], capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout == "", check.stdout
    controls.set_autostart(True)
    assert controls.autostart_enabled()


def test_the_entry_starts_the_agent_on_the_database_it_serves(tmp_path: Path) -> None:
    """Switched on for an agent on another database, the login entry carries `--db`; on the
    standard database it does not (and matches the Windows installer's Run value)."""
    xdg = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_CONFIG_DIRS": str(tmp_path / "no")}
    other = tmp_path / "work" / "team.db"
    assert run_in_process("autostart", "enable", "--db", str(other), env=xdg).code == 0
    entry = (tmp_path / "cfg" / "autostart" / "traycourier.desktop").read_text()
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(f" run --db {other}")
    from traycourier.agent import paths

    standard = autostart.launch_command(paths.standard_db_path())
    assert standard[-1] == "run" and "--db" not in standard


def test_every_mechanism_gets_the_database_in_its_command(tmp_path: Path) -> None:
    command = autostart.for_platform("windows", db=tmp_path / "x.db").command
    assert command[-2:] == ["--db", str(tmp_path / "x.db")]
