"""Fitting text to an OS: what the user sees is the producer's text, safely."""

from __future__ import annotations

import html

import pytest

from traycourier.agent.textfit import ELLIPSIS, ZERO_WIDTH_SPACE, fit


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        ("a < b and c > d", "a &lt; b and c &gt; d"),
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("&lt; already", "&amp;lt; already"),
    ],
)
def test_linux_body_markup_is_escaped_so_it_reads_as_written(body: str, sent: str) -> None:
    fitted = fit("t", body, platform="linux", body_markup=True, command_line=False)
    assert fitted.body == sent
    assert html.unescape(fitted.body) == body


def test_the_summary_is_never_escaped() -> None:
    fitted = fit("<b>x</b> & y", "", platform="linux", body_markup=True, command_line=False)
    assert fitted.title == "<b>x</b> & y"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("bell\x07 and\x1b[31m escape", "bell and[31m escape"),
        ("line\nbreak\ttab", "line break tab"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("  padded  ", "padded"),
    ],
)
def test_control_characters_are_removed(title: str, expected: str) -> None:
    assert fit(title, "", platform="linux", body_markup=False, command_line=False).title == expected


def test_body_keeps_its_line_breaks() -> None:
    fitted = fit("t", "one\r\ntwo\x00", platform="linux", body_markup=False, command_line=False)
    assert fitted.body == "one\ntwo"


@pytest.mark.parametrize(
    ("platform", "title_limit", "body_limit"),
    [("windows", 63, 255), ("linux", 200, 1000), ("darwin", 120, 1000)],
)
def test_long_text_is_cut_with_an_ellipsis(
    platform: str, title_limit: int, body_limit: int
) -> None:
    fitted = fit("T" * 5000, "B" * 5000, platform=platform, body_markup=False, command_line=False)
    assert len(fitted.title) == title_limit and fitted.title.endswith(ELLIPSIS)
    assert len(fitted.body) == body_limit and fitted.body.endswith(ELLIPSIS)


def test_text_at_the_limit_is_left_alone() -> None:
    fitted = fit("T" * 63, "", platform="windows", body_markup=False, command_line=False)
    assert fitted.title == "T" * 63


@pytest.mark.parametrize("text", ["--wait", "-u critical", "-ucritical", "--help"])
def test_no_leading_dash_reaches_a_command_line(text: str) -> None:
    fitted = fit(text, text, platform="linux", body_markup=False, command_line=True)
    assert not fitted.title.startswith("-") and not fitted.body.startswith("-")
    assert fitted.title == ZERO_WIDTH_SPACE + text


def test_dashes_are_untouched_where_no_command_line_is_involved() -> None:
    assert (
        fit("--wait", "", platform="linux", body_markup=True, command_line=False).title == "--wait"
    )
