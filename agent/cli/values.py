"""What the command line's arguments may be, and how a wrong one is told: one line that
says what was wrong and what was probably meant ("did you mean 'send'?"). Light on purpose:
the running agent parses its arguments with these and keeps them loaded for days."""

from __future__ import annotations

import argparse
import difflib
import math
import re
import textwrap
from collections.abc import Sequence
from typing import Any, NoReturn

from traycourier.store import Action


class UsageError(Exception):
    """A bad argument: one line on stderr, exit 2."""


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Help as written: a path or URL is never broken in the middle to fit the width, and
    the examples below a command keep their lines."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)


_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)")


def suggestion(message: str) -> str:
    """argparse's "invalid choice" with the nearest choice named: `sned` -> send."""
    found = _INVALID_CHOICE.search(message)
    if found is None:
        return message
    choices = re.findall(r"'([^']*)'", found["choices"]) or found["choices"].split(", ")
    close = difflib.get_close_matches(found["given"].lower(), choices, n=1, cutoff=0.6)
    nearest = f"; did you mean '{close[0]}'?" if close else f" (one of {', '.join(choices)})"
    return f"{message[: found.start()]}unknown choice '{found['given']}'{nearest}"


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # one line, not usage + error
        raise UsageError(f"{suggestion(message)} (see '{self.prog} --help')")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    if value > MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_LIMIT}, got {text[:30]}")
    return value


MAX_LIMIT = 1_000_000


def seconds(text: str) -> float:
    """A duration in seconds a timer can hold: finite, more than 0, at most a day."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 86_400:  # also false for nan
        raise argparse.ArgumentTypeError(f"expected seconds from 0 to 86400, got {text[:30]!r}")
    return value


def valid_utf8(argv: Sequence[str]) -> None:
    """An argument of bytes that are not UTF-8 reaches Python with surrogates in it, which
    no database, log or notification can hold: refuse it whole."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            raise UsageError(f"the argument {shown[:60]!r} is not valid UTF-8 text") from None


def action(text: str) -> Action:
    """`LABEL=URL` is a link; `LABEL` alone an answer, whose id is its label."""
    label, sep, url = text.partition("=")
    if not sep:
        return Action(label=text.strip())
    return Action(label=label.strip(), url=url.strip())


def progress(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 100, got {text!r}")
    return value
