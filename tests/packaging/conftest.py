"""The Windows build under Wine, shared by the frozen-program and installer tests: built
once per run by packaging/windows/build.sh (its Wine prefix and Python are cached)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, require

DIST = ROOT / "build" / "windows" / "dist" / "traycourier"


def wine_env(base: dict[str, str]) -> dict[str, str]:
    """The environment packaging/windows/wine-env.sh sets up (one source for both)."""
    dump = subprocess.run(
        ["bash", "-c", "source packaging/windows/wine-env.sh && env -0"],
        cwd=ROOT, env=base, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    values = dict(item.split("=", 1) for item in dump.split("\0") if "=" in item)
    return {**base, **{k: v for k, v in values.items() if k.startswith(("WINE", "TC_WINE"))}}


def windows_path(path: Path) -> str:
    return "Z:" + str(path).replace("/", "\\")


@pytest.fixture(scope="session")
def frozen() -> Path:
    """Builds once per run (the prefix and its Python are cached between runs)."""
    require(
        os.geteuid() == 0 or shutil.which("wine") is not None,
        "the Windows build needs Wine (installed by packaging/windows/build.sh as root)",
    )
    done = subprocess.run(
        ["packaging/windows/build.sh"], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (DIST / "traycourier.exe").is_file()
    return DIST


def wine_status(
    env: dict[str, str], program: str | Path, *args: str, timeout: float = 120
) -> tuple[int, str]:
    """Run a Windows program to its end: (exit status, output). The output goes through a
    pipe (Wine's Python dies on a file or /dev/null as stdout); Wine passes exit statuses
    on modulo 256 (msiexec's 1603 arrives as 67)."""
    done = subprocess.run(
        ["wine", str(program), *args], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=timeout,
    )  # fmt: skip
    return done.returncode, done.stdout


def wine(env: dict[str, str], program: str | Path, *args: str, timeout: float = 120) -> str:
    status, output = wine_status(env, program, *args, timeout=timeout)
    assert status == 0, output
    return output
