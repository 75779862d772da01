"""Every part of the installers that can be checked without Windows or macOS, checked here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from tests.conftest import ROOT, require_tool

sys.path.insert(0, str(ROOT / "packaging"))
sys.path.insert(0, str(ROOT / "packaging" / "windows"))
import lint_iss
import make_icons

ISS = ROOT / "packaging" / "windows" / "traycourier.iss"


def test_icons_for_every_os_come_from_the_one_source(tmp_path: Path) -> None:
    make_icons.make(tmp_path)
    with Image.open(tmp_path / "traycourier.ico") as ico:
        assert ico.info["sizes"] == set(make_icons.ICO_SIZES)
    with Image.open(tmp_path / "traycourier.icns") as icns:
        assert icns.format == "ICNS"
        assert max(icns.info["sizes"])[0] >= 256
    for size in make_icons.HICOLOR:
        with Image.open(
            tmp_path / "hicolor" / f"{size}x{size}" / "apps" / "traycourier.png"
        ) as png:
            assert png.size == (size, size) and png.mode == "RGBA"


def test_the_inno_setup_script_lints_clean() -> None:
    assert lint_iss.lint(ISS.read_text()) == []
    text = ISS.read_text()
    assert "PrivilegesRequired=lowest" in text
    assert "AppUserModelID" in text  # toasts are attributed to the Start-menu shortcut
    assert "uninsdeletevalue" in text  # uninstall removes the Run value


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("AppId=", "AppIdent="), "[Setup] lacks AppId"),
        (("Tasks: autostart", "Tasks: autostrat"), "autostrat is not defined"),
        (('ValueName: "{#MyAppName}"', 'ValueName: "{#MyAppNam}"'), "never #defined"),
        (('Parameters: "run"; AppUser', 'Parameters: "run; AppUser'), "unbalanced quotes"),
        (("[UninstallDelete]", "[UninstalDelete]"), "unknown section"),
        (("PrivilegesRequired=lowest", "PrivilegesRequired=admin"), "per-user"),
    ],
)
def test_the_linter_catches_broken_scripts(change: tuple[str, str], problem: str) -> None:
    broken = ISS.read_text().replace(*change, 1)
    assert any(problem in p for p in lint_iss.lint(broken)), lint_iss.lint(broken)


def test_the_release_workflow_builds_tests_and_installs_on_both_oses() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    jobs = workflow["jobs"]
    assert jobs["windows"]["runs-on"].startswith("windows")
    assert jobs["macos"]["runs-on"].startswith("macos")
    for name, job in jobs.items():
        runs = "\n".join(step.get("run", "") for step in job["steps"])
        assert "packaging/traycourier.spec" in runs, name
        assert "self-test --out" in runs, name
    win = "\n".join(s.get("run", "") for s in jobs["windows"]["steps"])
    assert "iscc" in win and "/VERYSILENT" in win and "unins000.exe" in win
    assert "hdiutil create" in "\n".join(s.get("run", "") for s in jobs["macos"]["steps"])


def test_the_spec_names_plyers_platform_module_for_each_os() -> None:
    spec = (ROOT / "packaging" / "traycourier.spec").read_text()
    for module in (
        "plyer.platforms.win.notification",
        "plyer.platforms.macosx.notification",
        "plyer.platforms.linux.notification",
        "gi.repository.DBus",
    ):
        assert module in spec
    assert "LSUIElement" in spec


def test_linux_desktop_files_are_valid() -> None:
    validator = require_tool("desktop-file-validate")
    for name in ("traycourier.desktop", "traycourier-autostart.desktop"):
        path = ROOT / "packaging" / "linux" / name
        result = subprocess.run([validator, str(path)], capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout == "", result.stdout
