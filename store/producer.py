"""The producer API: how a Python program adds a notification (other languages INSERT)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from traycourier.store import dialects, schema, timestamps
from traycourier.store.actions import MAX_ID, Action, is_web_url
from traycourier.store.db import Database
from traycourier.store.errors import InvalidInput
from traycourier.store.model import PRIORITIES, Code, Enqueued
from traycourier.store.settings import read_settings


def check_action(action: Action) -> Action:
    if not action.label.strip():
        raise InvalidInput("an action needs a label")
    if action.url is not None and not is_web_url(action.url):
        raise InvalidInput(f"action URLs must be http(s) addresses, not {action.url!r}")
    if action.url is not None and action.id is not None:
        raise InvalidInput("an action is a link (url) or an answer (id), not both")
    answer = action.answer
    if answer is not None and (not answer.strip() or len(answer) > MAX_ID):
        raise InvalidInput(f"an answer's id is 1 to {MAX_ID} characters")
    return action


def enqueue(
    db: Database,
    title: str,
    message: str = "",
    *,
    priority: str = "info",
    source: str = "",
    kind: str = "",
    payload: dict[str, Any] | None = None,
    actions: list[Action] | tuple[Action, ...] = (),
    dedupe_key: str | None = None,
    tag: str | None = None,
    progress: int | None = None,
    now: datetime | None = None,
) -> Enqueued:
    """Add one notification; the same `dedupe_key` twice gives one notification. A `tag`
    makes it replace the older notification of the same source and tag (never shown if it
    still waits; the same popup updated if it is on screen); `progress` (0-100) draws a bar
    where the daemon can. The result says when the settings of the moment keep it from
    being shown at once."""
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("a notification needs a non-empty title")
    if priority not in PRIORITIES:
        raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}")
    if dedupe_key is not None and not dedupe_key:
        raise InvalidInput("a dedupe key may not be empty")
    if tag is not None and not tag:
        raise InvalidInput("a tag may not be empty")
    if progress is not None and (isinstance(progress, bool) or not 0 <= progress <= 100):
        raise InvalidInput("progress is a whole number from 0 to 100")
    checked = [check_action(a) for a in actions]
    values = {
        "title": title,
        "message": message,
        "priority": priority,
        "source": source,
        "kind": kind,
        "payload_json": json.dumps(payload or {}),
        "actions_json": json.dumps([a.as_json() for a in checked]),
        "dedupe_key": dedupe_key,
        "tag": tag,
        "progress": progress,
    }
    n = schema.notifications
    with db.write() as conn:
        stmt = dialects.insert(conn, n).values(**values).on_conflict_do_nothing()
        new_id = conn.execute(stmt.returning(n.c.id)).scalar_one_or_none()
        if new_id is not None:
            result = Enqueued(id=new_id, created=True)
        else:
            existing = conn.execute(select(n.c.id).where(n.c.dedupe_key == dedupe_key))
            result = Enqueued(id=existing.scalar_one(), created=False)
    current = read_settings(db)  # after the commit: the write lock is held for the INSERT alone
    withheld = current.withheld(priority, now or timestamps.utcnow())
    until = current.paused_until if withheld == Code.PAUSED else None
    return replace(result, withheld=withheld, paused_until=until, settings=current)
