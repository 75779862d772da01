"""A notification's actions: what `actions_json` holds, written by producers and read back as
untrusted input. Pure.

Two kinds of entry: a link, `{"label": "Open log", "url": "https://…"}`, which opens the
address; and an answer, `{"label": "Approve", "id": "approve"}` (no url; `id` defaults to the
label), which the user picks and the producer reads back from `notifications.answer`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_ACTIONS = 20
"""More than any popup or menu shows; the rest of a longer list is left out, and said."""
MAX_LABEL = 200
MAX_ID = 200


def is_web_url(url: str) -> bool:
    """An http(s) address with a host: the only links traycourier stores or opens."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class Action:
    """A button or menu entry: a link (`url`) or an answer (`id`, the label if not given)."""

    label: str
    url: str | None = None
    id: str | None = None

    @property
    def answer(self) -> str | None:
        """The id written back when the user picks it; None for a link."""
        if self.url is not None:
            return None
        return self.id if self.id is not None else self.label

    def as_json(self) -> dict[str, str]:
        if self.url is not None:
            return {"label": self.label, "url": self.url}
        return {"label": self.label, "id": self.answer or self.label}


@dataclass(frozen=True)
class Parsed:
    actions: tuple[Action, ...]
    problem: str | None = None
    """What was left out and why (not a list, an entry without a label, a `javascript:` link,
    too many), or None."""


def parse(actions_json: object) -> Parsed:
    """What a producer wrote, as the actions that can be offered (in its order) and what had
    to be left out. Never raises: a value no one can use offers nothing."""
    if not isinstance(actions_json, str):
        return Parsed((), "actions_json is not text")
    try:
        found = json.loads(actions_json)
    except (ValueError, RecursionError):
        return Parsed((), "actions_json is not JSON")
    if not isinstance(found, list):
        return Parsed((), "actions_json is not a list")
    actions: list[Action] = []
    problems: list[str] = []
    for n, entry in enumerate(found):
        action, why = _one(entry)
        if action is None:
            problems.append(f"action {n + 1}: {why}")
        elif len(actions) == MAX_ACTIONS:
            problems.append(f"only the first {MAX_ACTIONS} actions are offered")
            break
        else:
            actions.append(action)
    return Parsed(tuple(actions), "; ".join(problems[:3]) or None)


def _one(entry: object) -> tuple[Action | None, str]:
    if not isinstance(entry, dict):
        return None, "not an object"
    label, url, key = entry.get("label"), entry.get("url"), entry.get("id")
    if not isinstance(label, str) or not label.strip():
        return None, "no label"
    label = label.strip()[:MAX_LABEL]
    if url is not None:
        if not isinstance(url, str) or not is_web_url(url):
            return None, "its link is not an http(s) address"
        return Action(label, url=url), ""
    if key is not None and (not isinstance(key, str) or not key.strip()):
        return None, "its id is not text"
    if key is not None and len(key) > MAX_ID:
        return None, f"its id is longer than {MAX_ID} characters"
    return Action(label, id=key), ""


def first_link(actions: tuple[Action, ...]) -> str | None:
    return next((a.url for a in actions if a.url is not None), None)
