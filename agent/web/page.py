"""The history window's HTML, drawn from rows (pure: no clock read, no I/O).

Everything a producer wrote (title, body, source, labels, links, ids) is untrusted: each
value passes `html.escape` on its way into the page, so a title like
`<img src=x onerror=…>` is text on the screen, never markup. The page's only script is
`/app.js` (the Content-Security-Policy allows no other), and every button is a form that
posts to `/act` with the run's anti-forgery token. A link is a plain link the browser opens
itself (only http(s) ones are drawn); the script marks its notification read on the click.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape
from urllib.parse import parse_qs, urlencode

from traycourier.agent.policy import recent, textfit
from traycourier.store.actions import is_web_url
from traycourier.store.model import Priority
from traycourier.store.rows import NotificationRow

PAGE_SIZE = 50
MAX_FIELD = 200
"""A filter longer than this is cut: nobody searches with a paragraph."""


@dataclass(frozen=True)
class Query:
    """What the user asked to see, as the address carries it (`?q=…&source=…`)."""

    search: str = ""
    source: str = ""
    priority: str = ""
    unread: bool = False
    before: int | None = None

    @classmethod
    def parse(cls, query_string: str) -> Query:
        """From an address's query; a value that makes no sense is ignored, not an error."""
        values = parse_qs(query_string, keep_blank_values=False, max_num_fields=20)

        def first(key: str) -> str:
            return textfit.strip_controls(values.get(key, [""])[0], single_line=True)[:MAX_FIELD]

        priority = first("priority")
        before = first("before")
        return cls(
            search=first("q").strip(),
            source=first("source").strip(),
            priority=priority if priority in {p.value for p in Priority} else "",
            unread=first("unread") == "1",
            before=int(before) if before.isdigit() and len(before) < 19 else None,
        )

    def as_query_string(self) -> str:
        pairs = [("q", self.search), ("source", self.source), ("priority", self.priority)]
        pairs += [("unread", "1" if self.unread else "")]
        pairs += [("before", str(self.before) if self.before is not None else "")]
        return urlencode([(k, v) for k, v in pairs if v])


def when(moment: datetime | None) -> str:
    """Local date and time; a time the local zone cannot hold is shown in UTC."""
    if moment is None:
        return "unknown time"
    try:
        return moment.astimezone().strftime("%Y-%m-%d %H:%M")
    except OverflowError:
        return moment.strftime("%Y-%m-%d %H:%M UTC")


def _text(value: str, *, single_line: bool = True) -> str:
    return escape(textfit.strip_controls(value, single_line=single_line), quote=True)


def _button(csrf: str, back: str, label: str, fields: dict[str, str], css: str = "") -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v, quote=True)}">'
        for k, v in {"csrf": csrf, "back": back, **fields}.items()
    )
    klass = f' class="{css}"' if css else ""
    return (
        f'<form method="post" action="/act">{hidden}'
        f'<button type="submit"{klass}>{_text(label)}</button></form>'
    )


def item(row: NotificationRow, csrf: str, back: str, now: datetime) -> str:
    """One notification: its head (priority, source, time, what became of it), title,
    body, and what can be done with it."""
    it = recent.from_row(row)
    buttons: list[str] = []
    for action in it.actions:
        if action.url is not None and is_web_url(action.url):
            buttons.append(
                f'<a class="link" href="{escape(action.url, quote=True)}" target="_blank" '
                f'rel="noopener noreferrer">{_text(action.label)}</a>'
            )
        elif action.answer is not None and row.answer is None:
            answer = {"kind": "answer", "id": row.id, "choice": action.answer}
            buttons.append(_button(csrf, back, action.label, answer, "answer"))
    if not it.read:
        buttons.append(_button(csrf, back, "Mark read", {"kind": "read", "id": row.id}))
    if it.shown:
        buttons.append(_button(csrf, back, "Snooze 1 h", {"kind": "snooze", "id": row.id}))
    if row.source:
        mute = {"kind": "mute", "source": row.source}
        buttons.append(_button(csrf, back, f"Mute {recent.shorten(row.source, 30)} 1 h", mute))
    state = "unread" if not it.read else "read"
    priority = row.priority if row.priority in {p.value for p in Priority} else "info"
    source = f'<span class="source">{_text(row.source)}</span>' if row.source else ""
    return (
        f'<li class="item {state} prio-{priority}" data-id="{escape(row.id, quote=True)}">'
        f'<div class="head"><span class="prio">{_text(row.priority)}</span>{source}'
        f"<time>{escape(when(it.created))}</time>"
        f'<span class="outcome">{_text(recent.outcome(it, False, now))}</span></div>'
        f'<h2 class="title">{_text(row.title)}</h2>'
        f'<p class="body">{_text(row.message, single_line=False)}</p>'
        f'<div class="acts">{"".join(buttons)}</div></li>'
    )


def listing(rows: Sequence[NotificationRow], query: Query, csrf: str, now: datetime) -> str:
    """The list and the link to the next page: what `/list` returns for a live update."""
    back = query.as_query_string()
    if not rows:
        return '<p class="empty">No notifications match.</p>'
    items = "".join(item(row, csrf, back, now) for row in rows)
    older = ""
    last = rows[-1].seq
    if len(rows) >= PAGE_SIZE and last is not None:
        href = "?" + replace(query, before=last).as_query_string()
        older = f'<a class="older" href="{escape(href, quote=True)}">Older</a>'
    return f'<ul class="items">{items}</ul>{older}'


def page(rows: Sequence[NotificationRow], query: Query, csrf: str, now: datetime) -> str:
    """The whole window: the search and filters, the list, mark-all-read."""
    options = "".join(
        f'<option value="{p.value}"{" selected" if p.value == query.priority else ""}>'
        f"{p.value}</option>"
        for p in Priority
    )
    checked = " checked" if query.unread else ""
    newest = ' <a href="/">Newest</a>' if query.before is not None else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>traycourier — all notifications</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/app.css"><script src="/app.js" defer></script>'
        f'</head><body data-csrf="{escape(csrf, quote=True)}">'
        '<header><h1>All notifications</h1><form method="get" action="/">'
        f'<input type="search" name="q" placeholder="Search" value="{_text(query.search)}">'
        f'<input type="text" name="source" placeholder="Source" value="{_text(query.source)}">'
        f'<select name="priority"><option value="">any priority</option>{options}</select>'
        f'<label><input type="checkbox" name="unread" value="1"{checked}> unread</label>'
        f'<button type="submit">Show</button></form>{newest}'
        f"{_button(csrf, query.as_query_string(), 'Mark all read', {'kind': 'read-all'})}"
        f'</header><main id="list">{listing(rows, query, csrf, now)}</main></body></html>'
    )
