"""Fitting a producer's text to what an OS notification shows. Pure.

The user must see exactly what the producer wrote, as text: never markup, never a
command-line option, never a control sequence, and cut (with an ellipsis) rather than
rejected by the OS when too long.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ELLIPSIS = "…"
ZERO_WIDTH_SPACE = "\u200b"


@dataclass(frozen=True)
class Limits:
    title: int
    body: int


# Windows balloons and toasts cut at 63 / 255 characters; the others are generous, but a
# screen-filling body helps nobody.
LIMITS: dict[str, Limits] = {
    "windows": Limits(63, 255),
    "darwin": Limits(120, 1000),
    "linux": Limits(200, 1000),
}

# C0/C1 controls except tab/newline, plus the bidirectional overrides and isolates that can
# make a title read backwards ("gpj.exe" shown as "exe.jpg").
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")


def strip_controls(value: str, *, single_line: bool) -> str:
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    if single_line:
        value = " ".join(value.split())
    return value.strip()


def cut(value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def escape_markup(value: str) -> str:
    """Body markup escaping for servers that parse it (dunst, GNOME, KDE): a bare `<` would
    otherwise make dunst drop the text between it and the next `>`."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def guard_option(value: str) -> str:
    """A leading '-' would be read as an option by a command line (notify-send): a
    zero-width space in front keeps the text identical to the eye."""
    return ZERO_WIDTH_SPACE + value if value.startswith("-") else value


@dataclass(frozen=True)
class FittedText:
    title: str
    body: str


def fit(
    title: str, body: str, *, platform: str, body_markup: bool, command_line: bool
) -> FittedText:
    """Fit a title and body for `platform` ("linux", "windows", "darwin").

    `body_markup`: the server parses body markup (Linux DBus); the summary is always shown
    literally by the spec, so only the body is escaped. `command_line`: the text travels as
    arguments of a program (notify-send, osascript), so no part may start with '-'.
    """
    limits = LIMITS.get(platform, LIMITS["linux"])
    clean_title = cut(strip_controls(title, single_line=True), limits.title)
    clean_body = cut(strip_controls(body, single_line=False), limits.body)
    if body_markup:
        clean_body = escape_markup(clean_body)
    if command_line:
        clean_title, clean_body = guard_option(clean_title), guard_option(clean_body)
    return FittedText(clean_title, clean_body)
