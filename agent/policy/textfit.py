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
    utf16: bool = False
    """Counted in UTF-16 code units (an emoji is two), as Windows' fixed buffers are."""


# Windows balloons and toasts hold 63 / 255 UTF-16 units (NOTIFYICONDATAW's szInfoTitle[64]
# and szInfo[256]; a longer text is refused, not cut); the others are generous, but a
# screen-filling body helps nobody.
LIMITS: dict[str, Limits] = {
    "windows": Limits(63, 255, utf16=True),
    "darwin": Limits(120, 1000),
    "linux": Limits(200, 1000),
}

# C0/C1 controls except tab/newline, plus the bidirectional overrides and isolates that can
# make a title read backwards ("gpj.exe" shown as "exe.jpg").
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
# Invisible characters that can hide text or make two titles look alike: zero-width space,
# word joiner and the invisible operators, the byte order mark, the Mongolian vowel
# separator. The zero-width joiner and non-joiner stay: emoji and several scripts need them.
_INVISIBLE = "\u200b\u2060-\u2064\ufeff\u180e"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_INVISIBLE}]")
# Tag characters carry invisible ASCII (a hidden prompt, a hidden word); their one visible
# use is a subdivision flag (black flag, tags, cancel tag), which is kept whole.
_TAGS = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)|[\U000e0000-\U000e007f]")


def strip_controls(value: str, *, single_line: bool) -> str:
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    value = _TAGS.sub(lambda found: found.group(1) or "", value)
    if single_line:
        value = " ".join(value.split())
    return value.strip()


def width(char: str, utf16: bool) -> int:
    return 2 if utf16 and ord(char) > 0xFFFF else 1


def cut(value: str, limit: int, *, utf16: bool = False) -> str:
    """At most `limit` characters (or UTF-16 units), an ellipsis marking a cut."""
    if sum(width(c, utf16) for c in value) <= limit:
        return value
    kept, used = [], 0
    for char in value:
        used += width(char, utf16)
        if used > limit - 1:  # room for the ellipsis, one unit either way
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS


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


def fit(title: str, body: str, *, platform: str) -> FittedText:
    """Fit a title and body for `platform` ("linux", "windows", "darwin"): control
    characters removed, the title on one line, both cut to the OS's limits. The result is
    plain text; `render` then makes it safe for the mechanism that carries it."""
    limits = LIMITS.get(platform, LIMITS["linux"])
    clean_title = cut(strip_controls(title, single_line=True), limits.title, utf16=limits.utf16)
    clean_body = cut(strip_controls(body, single_line=False), limits.body, utf16=limits.utf16)
    return FittedText(clean_title, clean_body)


@dataclass(frozen=True)
class Rules:
    """How a mechanism reads text. `body_markup`/`summary_markup`: the server parses Pango
    markup there, so `<` and `&` must be escaped to be read as written (and a producer's
    `<a href>` never becomes a link). `command_line`: the text travels as arguments of a
    program (notify-send, osascript), so no part may start with '-'."""

    body_markup: bool = False
    summary_markup: bool = False
    command_line: bool = False


PLAIN = Rules()


def render(text: FittedText, rules: Rules) -> FittedText:
    title, body = text.title, text.body
    if rules.summary_markup:
        title = escape_markup(title)
    if rules.body_markup:
        body = escape_markup(body)
    if rules.command_line:
        title, body = guard_option(title), guard_option(body)
    return FittedText(title, body)


def daemon_rules(server_name: str, capabilities: frozenset[str]) -> Rules:
    """What a freedesktop notification server parses, from its `GetServerInformation` name
    and `GetCapabilities`. The spec says the summary is plain text; dunst parses markup in it
    whenever it parses the body (its `markup = full`), so there the summary is escaped too."""
    body = "body-markup" in capabilities
    return Rules(body_markup=body, summary_markup=body and server_name.lower() == "dunst")
