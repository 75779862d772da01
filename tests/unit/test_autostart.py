"""Start at login: the XDG entry on a real file system, the macOS and Windows formats."""

from __future__ import annotations

import json
import os
import plistlib
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool, run_in_process, wait_for
from traycourier.agent.engine import controls
from traycourier.agent.system import autostart


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
    from traycourier.agent.system import paths

    standard = autostart.launch_command(paths.standard_db_path())
    assert standard[-1] == "run" and "--db" not in standard


def test_every_mechanism_gets_the_database_in_its_command(tmp_path: Path) -> None:
    command = autostart.for_platform("windows", db=tmp_path / "x.db").command
    assert command[-2:] == ["--db", str(tmp_path / "x.db")]


WEIRD = "my dir/50% $HOME \"x\" `y` a\\b 'q' ~#;&|<>*?()é.db"
"""Every character the Desktop Entry spec reserves, a field code and a backslash."""


def test_glib_starts_the_entry_with_the_database_path_byte_for_byte(tmp_path: Path) -> None:
    """What the user's session runs at login: GLib (GNOME, Xfce and most panels start XDG
    autostart entries through it) reads the entry and starts a program that records its
    arguments. The entry used to quote with a shell's single quotes, which the spec does not
    know, and never doubled `%`: GLib then started the agent on another database."""
    import gi  # a dependency of the package on Linux

    gi.require_version("Gio", "2.0")
    from gi.repository import Gio

    recorder = tmp_path / "record.py"
    recorder.write_text(
        "import json, sys\nopen(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))\n"
    )
    record = tmp_path / "argv.json"
    command = [sys.executable, str(recorder), str(record), "run", "--db", str(tmp_path / WEIRD)]
    entry = tmp_path / "traycourier.desktop"
    entry.write_text(autostart.XdgAutostart.desktop_entry(command))
    validator = require_tool("desktop-file-validate")
    check = subprocess.run([validator, str(entry)], capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout == "", check.stdout
    assert Gio.DesktopAppInfo.new_from_filename(str(entry)).launch([], None)
    wait_for(record.exists, "the entry's program to start")
    assert json.loads(record.read_text()) == command[3:]


def test_a_line_break_in_the_path_cannot_inject_a_key(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_CONFIG_DIRS": str(tmp_path / "no")}
    sneaky = tmp_path / "x.db\nExec=/bin/evil"
    result = run_in_process("autostart", "enable", "--db", str(sneaky), env=env)
    assert result.code == 2
    assert "a line break or control character cannot stand in a desktop entry" in result.stderr
    assert not (tmp_path / "cfg" / "autostart").exists()


def test_under_umask_000_what_it_makes_is_still_private(tmp_path: Path) -> None:
    """`umask 000` in a login script: the entry was 0666 and ~/.config and its autostart
    folder 0777, so anyone could have rewritten what runs at login; the state folder too."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    script = (
        "import os, sys; os.umask(0); from traycourier.agent.cli.main import main; sys.exit(main())"
    )
    for args in (["autostart", "enable"], ["--db", str(home / "data" / "x.db"), "send", "hi"]):
        done = subprocess.run(
            [sys.executable, "-c", script, *args],
            env={**env, "HOME": str(home), "PYTHONPATH": str(ROOT)},
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    made = {
        path.relative_to(home).as_posix(): stat.S_IMODE(path.stat().st_mode)
        for path in home.rglob("*")
    }
    assert made["data/x.db"] == 0o600
    assert made[".config/autostart/traycourier.desktop"] == 0o600
    loose = {name: oct(mode) for name, mode in made.items() if mode & 0o077}
    assert loose == {}, loose
