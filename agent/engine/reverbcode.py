"""ReverbCode's notifications as ours: the mapping, and the options a user can change. Pure.

| ReverbCode | traycourier |
|---|---|
| `title` (empty: what the type means) | title |
| `body` | message |
| `type` | `kind`, and the priority (`PRIORITIES`, changeable per source) |
| `project_id` | `source`: it leads the popup's title, and a mute silences one project |
| `pr_url` (http(s) only) | the first action, labelled for what it is; a click opens it |
| `session_id` | with a `session_url` template, a `needs_input` row's link |
| `created_at` (Go's text, any zone) | `created_at` in the contract's UTC text |
| `id` | `dedupe_key` `<source name>:<id>` |

Every value is untrusted: text is kept (bytes decoded with replacement characters), anything
else becomes text or is left out; a time that is not one is kept as written, so routing
records the row `invalid_row` with the reason instead of guessing. A row whose id is not text
cannot be imported once only, nor marked read: it is left out, and counted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from traycourier.store import timestamps
from traycourier.store.actions import is_web_url
from traycourier.store.errors import InvalidInput
from traycourier.store.imports import Imported
from traycourier.store.model import PRIORITIES
from traycourier.store.reverbcode import ForeignRow

KIND = "reverbcode"
PRIORITIES_BY_TYPE: Mapping[str, str] = {
    "needs_input": "urgent",
    "ready_to_merge": "action",
    "pr_merged": "info",
    "pr_closed_unmerged": "info",
}
"""The default; an unknown type (a newer release) is `info`."""
LINK_LABELS: Mapping[str, str] = {
    "ready_to_merge": "Open pull request",
    "pr_merged": "View merged pull request",
    "pr_closed_unmerged": "View closed pull request",
}
WHAT_IT_MEANS: Mapping[str, str] = {
    "needs_input": "A session needs your input",
    "ready_to_merge": "A pull request is ready to merge",
    "pr_merged": "A pull request was merged",
    "pr_closed_unmerged": "A pull request was closed without merging",
}
MAX_ID = 200
MAX_PROJECT = 60
SESSION_FIELD = "{session_id}"


@dataclass(frozen=True)
class Options:
    """What the user can change for a ReverbCode source (`--priority`, `--session-url`)."""

    priorities: Mapping[str, str] = field(default_factory=lambda: dict(PRIORITIES_BY_TYPE))
    session_url: str | None = None
    """An address with `{session_id}` in it, opened by a click on a `needs_input` popup."""

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"priorities": dict(self.priorities)}
        if self.session_url:
            found["session_url"] = self.session_url
        return found


def options(priorities: Mapping[str, str] | None = None, session_url: str | None = None) -> Options:
    """Checked options from the CLI: InvalidInput names what is wrong."""
    merged = dict(PRIORITIES_BY_TYPE)
    for kind, priority in (priorities or {}).items():
        if priority not in PRIORITIES:
            raise InvalidInput(f"{priority!r} is not a priority ({', '.join(PRIORITIES)})")
        if not kind:
            raise InvalidInput("--priority takes TYPE=PRIORITY, e.g. pr_merged=warning")
        merged[kind] = priority
    if session_url is not None:
        sample = session_url.replace(SESSION_FIELD, "s")
        if SESSION_FIELD not in session_url or not is_web_url(sample):
            raise InvalidInput(
                "--session-url is an http(s) address with {session_id} in it, "
                "e.g. http://localhost:3001/sessions/{session_id}"
            )
    return Options(merged, session_url or None)


def options_from(stored: Mapping[str, Any]) -> Options:
    """The options as stored (another program may have written them): what is unusable in
    them is the default."""
    priorities = dict(PRIORITIES_BY_TYPE)
    raw = stored.get("priorities")
    if isinstance(raw, dict):
        for kind, priority in raw.items():
            if isinstance(kind, str) and priority in PRIORITIES:
                priorities[kind] = priority
    url = stored.get("session_url")
    try:
        return options(priorities, url if isinstance(url, str) else None)
    except InvalidInput:
        return Options(priorities)


def _text(value: object, limit: int = 4000) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif value is None:
        return ""
    elif not isinstance(value, str):
        value = str(value)
    return value.replace("\x00", "")[:limit]


def key_of(source_name: str, row_id: object) -> str | None:
    """The `dedupe_key` of a row, or None for an id that is not usable text."""
    if not isinstance(row_id, str) or not row_id.strip() or len(row_id) > MAX_ID:
        return None
    return f"{source_name}:{row_id}"


def to_notification(row: ForeignRow, source_name: str, opts: Options) -> Imported | None:
    """The notification a row becomes; None when its id is unusable (`key_of`)."""
    key = key_of(source_name, row.id)
    if key is None:
        return None
    kind = _text(row.type, 40)
    title = _text(row.title).strip() or WHAT_IT_MEANS.get(kind, "ReverbCode")
    project = _text(row.project_id, MAX_PROJECT).strip()
    pr_url = _text(row.pr_url)
    session = _text(row.session_id, MAX_ID)
    actions = []
    if is_web_url(pr_url):
        actions.append({"label": LINK_LABELS.get(kind, "Open pull request"), "url": pr_url})
    elif opts.session_url and session:
        url = opts.session_url.replace(SESSION_FIELD, quote(session, safe=""))
        if is_web_url(url):
            actions.append({"label": "Open session", "url": url})
    payload = {KIND: {"type": kind, "project_id": project, "session_id": session}}
    return Imported(
        key=key,
        title=title,
        message=_text(row.body),
        priority=opts.priorities.get(kind, "info"),
        source=project or KIND,
        kind=kind,
        actions_json=json.dumps(actions),
        payload_json=json.dumps(payload),
        created_at=created_at(row.created_at),
    )


def created_at(value: object) -> str:
    """Go's text (or any time `timestamps.from_stored` reads) as the contract's UTC text; a
    value that is no time is kept as written, for routing to record why."""
    try:
        return timestamps.fmt(timestamps.from_stored(value))
    except ValueError:
        return _text(value, 100)
