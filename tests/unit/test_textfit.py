"""Fitting text to an OS and rendering it for a mechanism: what the user reads is the
producer's text, never markup, a link, an option or a control sequence."""

from __future__ import annotations

import html

import pytest

from traycourier.agent.policy.textfit import (
    ELLIPSIS,
    PLAIN,
    ZERO_WIDTH_SPACE,
    FittedText,
    Rules,
    daemon_rules,
    fit,
    render,
)


def shown(title: str = "t", body: str = "", rules: Rules = PLAIN) -> FittedText:
    return render(fit(title, body, platform="linux"), rules)


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        ("a < b and c > d", "a &lt; b and c &gt; d"),
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("&lt; already", "&amp;lt; already"),
    ],
)
def test_body_markup_is_escaped_so_it_reads_as_written(body: str, sent: str) -> None:
    fitted = shown(body=body, rules=Rules(body_markup=True))
    assert fitted.body == sent
    assert html.unescape(fitted.body) == body


def test_without_body_markup_the_body_goes_as_written() -> None:
    assert shown(body="a <i>b</i> & c").body == "a <i>b</i> & c"


def test_the_summary_is_escaped_only_where_the_server_parses_it() -> None:
    title = '<a href="file:///etc/passwd">x</a> & y'
    assert shown(title, rules=Rules(body_markup=True)).title == title
    escaped = shown(title, rules=Rules(body_markup=True, summary_markup=True)).title
    assert "<" not in escaped and html.unescape(escaped) == title


@pytest.mark.parametrize(
    ("server", "capabilities", "rules"),
    [
        ("dunst", {"body", "body-markup"}, Rules(body_markup=True, summary_markup=True)),
        ("dunst", {"body"}, Rules()),  # markup = no
        ("Xfce Notify Daemon", {"body", "body-markup", "actions"}, Rules(body_markup=True)),
        ("Notification Daemon", {"actions", "body", "body-markup"}, Rules(body_markup=True)),
        ("lxqt-notificationd", {"body", "body-markup", "body-images"}, Rules(body_markup=True)),
        ("notify-osd", {"body", "body-markup", "icon-static"}, Rules(body_markup=True)),
        ("some server", set(), Rules()),
    ],
)
def test_what_each_daemon_parses(server: str, capabilities: set[str], rules: Rules) -> None:
    assert daemon_rules(server, frozenset(capabilities)) == rules


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("bell\x07 and\x1b[31m escape", "bell and[31m escape"),
        ("line\nbreak\ttab", "line break tab"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("  padded  ", "padded"),
        ("pay\u200bpal\u2060 \ufeffnow", "paypal now"),  # invisible: cannot hide a word
        ("ok\U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065", "ok"),  # tags
        ("ab\x00cd", "abcd"),  # what follows a NUL is kept
        (
            "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f go",
            "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f go",
        ),
        (
            "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",
            "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",
        ),  # the joiner stays
    ],
)
def test_control_characters_are_removed(title: str, expected: str) -> None:
    assert fit(title, "", platform="linux").title == expected


def test_body_keeps_its_line_breaks() -> None:
    assert fit("t", "one\r\ntwo\x00", platform="linux").body == "one\ntwo"


@pytest.mark.parametrize(
    ("platform", "title_limit", "body_limit"),
    [("windows", 63, 255), ("linux", 200, 1000), ("darwin", 120, 1000)],
)
def test_long_text_is_cut_with_an_ellipsis(
    platform: str, title_limit: int, body_limit: int
) -> None:
    fitted = fit("T" * 5000, "B" * 5000, platform=platform)
    assert len(fitted.title) == title_limit and fitted.title.endswith(ELLIPSIS)
    assert len(fitted.body) == body_limit and fitted.body.endswith(ELLIPSIS)


def test_text_at_the_limit_is_left_alone() -> None:
    assert fit("T" * 63, "", platform="windows").title == "T" * 63


@pytest.mark.parametrize("text", ["--wait", "-u critical", "-ucritical", "--help"])
def test_no_leading_dash_reaches_a_command_line(text: str) -> None:
    fitted = shown(text, text, Rules(command_line=True))
    assert not fitted.title.startswith("-") and not fitted.body.startswith("-")
    assert fitted.title == ZERO_WIDTH_SPACE + text


def test_dashes_are_untouched_where_no_command_line_is_involved() -> None:
    assert shown("--wait", rules=Rules(body_markup=True)).title == "--wait"


def utf16_units(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("title", "fits"),
    [
        ("🔔" * 31 + "a", True),  # 63 units: exactly szInfoTitle's room
        ("🔔" * 32, False),  # 64 units: Windows would refuse the whole notification
        ("é" * 63, True),  # one unit each
        ("a" * 62 + "🔔", False),
    ],
)
def test_windows_text_fits_its_utf16_buffers(title: str, fits: bool) -> None:
    fitted = fit(title, "🔔" * 200, platform="windows")
    assert utf16_units(fitted.title) <= 63 and utf16_units(fitted.body) <= 255
    assert (fitted.title == title) is fits
    assert fitted.body.endswith(ELLIPSIS)
