"""Every part of the installers that can be checked without Windows or macOS, checked here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from PIL import Image

from tests.conftest import ROOT, require_tool

sys.path.insert(0, str(ROOT / "packaging"))
import make_icons

WXS = ROOT / "packaging" / "windows" / "traycourier.wxs"
WIX = "{http://schemas.microsoft.com/wix/2006/wi}"


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


def test_the_msi_is_per_user_upgradable_and_writes_the_run_value_autostart_writes() -> None:
    """What the Wine test cannot see: the fixed UpgradeCode (a new one would install side
    by side), per-user scope, a downgrade refused, and the Run value byte for byte the one
    `traycourier autostart enable` writes."""
    from xml.etree import ElementTree

    from traycourier.agent.system.autostart import WindowsRunKey

    root = ElementTree.parse(WXS).getroot()
    product = root.find(f"{WIX}Product")
    assert product is not None
    assert product.get("UpgradeCode") == "1bf9507e-ef7c-4efb-8842-9d9d6f1e86c4"
    package = product.find(f"{WIX}Package")
    assert package is not None and package.get("InstallScope") == "perUser"
    assert product.find(f"{WIX}MajorUpgrade") is not None
    [run] = [
        value
        for value in root.iter(f"{WIX}RegistryValue")
        if value.get("Key") == r"Software\Microsoft\Windows\CurrentVersion\Run"
    ]
    assert run.get("Root") == "HKCU" and run.get("Name") == "traycourier"
    installdir = "C:\\Users\\u\\AppData\\Local\\Programs\\traycourier\\"
    written = (run.get("Value") or "").replace("[INSTALLDIR]", installdir)
    assert written == WindowsRunKey.run_value([installdir + "traycourier.exe", "run"])
    features = {f.get("Id"): f for f in product.iter(f"{WIX}Feature")}
    assert int(features["Autostart"].get("Level") or 1) > 1  # off unless asked for


def test_the_installer_registers_the_identity_the_program_adopts() -> None:
    """One AUMID in the MSI's key, on its shortcut and in the program (a typo in any one
    makes Windows name the notifications by the file again)."""
    from xml.etree import ElementTree

    from traycourier.agent.system import windesktop

    root = ElementTree.parse(WXS).getroot()
    [key] = list(root.iter(f"{WIX}RegistryKey"))
    assert key.get("Root") == "HKCU" and key.get("Key") == windesktop.IDENTITY_KEY
    names = {v.get("Name"): v.get("Value") for v in key.iter(f"{WIX}RegistryValue")}
    assert names == {"DisplayName": "traycourier", "IconUri": "[INSTALLDIR]traycourier.ico"}
    build = (WXS.parent / "build-msi.sh").read_text(encoding="utf-8")
    assert f"AppShortcut System.AppUserModel.ID {windesktop.AUMID}" in build
    shortcut_ids = [s.get("Id") for s in root.iter(f"{WIX}Shortcut")]
    assert shortcut_ids == ["AppShortcut"]


def test_the_release_workflow_builds_tests_and_installs_on_both_oses() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    jobs = workflow["jobs"]
    assert jobs["windows"]["runs-on"].startswith("windows")
    assert jobs["macos"]["runs-on"].startswith("macos")
    for name in ("windows", "macos"):
        runs = "\n".join(step.get("run", "") for step in jobs[name]["steps"])
        assert "packaging/traycourier.spec" in runs, name
        assert "self-test --out" in runs, name
    msi = "\n".join(s.get("run", "") for s in jobs["msi"]["steps"])
    assert "packaging/windows/build-msi.sh" in msi  # the script .ci/run tests under Wine
    install = "\n".join(s.get("run", "") for s in jobs["windows-install"]["steps"])
    for step in (
        "/i traycourier-0.1.0.msi",
        "/i traycourier-0.1.1.msi",
        "/x traycourier-0.1.1.msi",
    ):
        assert step in install
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
