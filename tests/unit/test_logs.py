"""The log cannot be forged by a producer's text, and it stays private."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from traycourier.agent.system import logs, paths


@pytest.fixture(autouse=True)
def _restore_root_logger():  # type: ignore[no-untyped-def]
    """`logs.setup` configures the process's root logger; give the next test its own back."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            handler.close()
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def test_control_characters_in_a_message_are_escaped() -> None:
    title = "ok\n2026-11-29 03:00:00,000 ERROR traycourier: fake\r\x1b[2J\u202eexe.gpj"
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "shown %s", (title,), None)
    line = logs.EscapingFormatter("%(message)s").format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u202e" not in line
    assert (
        line
        == "shown ok\\n2026-11-29 03:00:00,000 ERROR traycourier: fake\\r\\x1b[2J\\u202eexe.gpj"
    )


def test_a_traceback_keeps_its_lines() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "x\ny", (), sys.exc_info())
    text = logs.EscapingFormatter("%(message)s").format(record)
    assert text.startswith("x\\ny\nTraceback") and "ValueError: boom" in text


def test_the_log_folder_and_files_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    folder = paths.log_dir()
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    old = paths.log_file()
    old.write_text("an older version's 0644 log\n")
    old.chmod(0o644)
    logs.setup(to_stderr=False, debug=False)
    logging.getLogger("t").warning("hello")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert "hello" in old.read_text()


def test_a_symlink_planted_as_the_log_file_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    paths.log_dir().mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    paths.log_file().symlink_to(victim)
    logs.setup(to_stderr=False, debug=False)
    assert victim.read_text() == "precious"
    assert "cannot write the log file" in capsys.readouterr().err
