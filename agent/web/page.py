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
from datetime import date, datetime
from html import escape
from urllib.parse import parse_qs, urlencode

from traycourier.agent.policy import recent, textfit, visibility
from traycourier.store.actions import is_web_url
from traycourier.store.choices import Mute, Settings
from traycourier.store.model import Code, Priority
from traycourier.store.rows import NotificationRow

PAGE_SIZE = 50
STATUSES = ("shown", "waiting", "failed", "skipped", "answered", "new")
"""What became of a notification, as the status filter offers it (`store.history.history`)."""
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
    since: str = ""
    """A local date (2026-12-01): only those created that day or later."""
    until: str = ""
    """A local date: only those created that day or earlier."""
    status: str = ""
    """What became of them (`STATUSES`)."""

    @classmethod
    def parse(cls, query_string: str) -> Query:
        """From an address's query; a value that makes no sense is ignored, not an error."""
        try:
            values = parse_qs(query_string, keep_blank_values=False, max_num_fields=20)
        except ValueError:  # more fields than any form of the page has
            return cls()

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
            since=first("since") if _is_date(first("since")) else "",
            until=first("until") if _is_date(first("until")) else "",
            status=first("status") if first("status") in STATUSES else "",
        )

    def as_query_string(self) -> str:
        pairs = [("q", self.search), ("source", self.source), ("priority", self.priority)]
        pairs += [("unread", "1" if self.unread else "")]
        pairs += [("status", self.status), ("since", self.since), ("until", self.until)]
        pairs += [("before", str(self.before) if self.before is not None else "")]
        return urlencode([(k, v) for k, v in pairs if v])


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


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


def outcome(row: NotificationRow, now: datetime, moment: visibility.Moment | None = None) -> str:
    """What became of it in the user's words: a failure with its reason; one waiting, held
    until when and by what (the one visibility rule, at `moment`)."""
    if row.delivery_status == "failed":
        return f"failed: {row.delivery_error or row.delivery_code or 'no reason recorded'}"
    words = recent.outcome(recent.from_row(row), False, now)
    if words != "waiting" or moment is None:
        return words
    seen = visibility.judge(row.priority, row.source, None, moment)
    if seen.fate != visibility.Fate.HELD:
        return words
    why = "paused" if seen.code == Code.PAUSED else "quiet hours"
    return f"held until {recent.clock(seen.until, now)} ({why})" if seen.until else f"held ({why})"


def item(
    row: NotificationRow,
    csrf: str,
    back: str,
    now: datetime,
    moment: visibility.Moment | None = None,
) -> str:
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
        f'<span class="outcome">{_text(outcome(row, now, moment))}</span></div>'
        f'<h2 class="title">{_text(row.title)}</h2>'
        f'<p class="body">{_text(row.message, single_line=False)}</p>'
        f'<div class="acts">{"".join(buttons)}</div></li>'
    )


def listing(
    rows: Sequence[NotificationRow],
    query: Query,
    csrf: str,
    now: datetime,
    choices: Choices | None = None,
) -> str:
    """The list and the link to the next page: what `/list` returns for a live update."""
    back = query.as_query_string()
    if not rows:
        return '<p class="empty">No notifications match.</p>'
    moment = None
    if choices is not None:
        muted = {m.source: m for m in choices.mutes}
        moment = visibility.Moment.at(choices.settings, now, muted)
    items = "".join(item(row, csrf, back, now, moment) for row in rows)
    older = ""
    last = rows[-1].seq
    if len(rows) >= PAGE_SIZE and last is not None:
        href = "?" + replace(query, before=last).as_query_string()
        older = f'<a class="older" href="{escape(href, quote=True)}">Older</a>'
    return f'<ul class="items">{items}</ul>{older}'


@dataclass(frozen=True)
class Choices:
    """What the user chose, as the settings panel shows it."""

    settings: Settings
    mutes: tuple[Mute, ...] = ()


def _form(csrf: str, back: str, kind: str, inner: str, label: str) -> str:
    fields = (
        f'<input type="hidden" name="csrf" value="{escape(csrf, quote=True)}">'
        f'<input type="hidden" name="back" value="{escape(back, quote=True)}">'
        f'<input type="hidden" name="kind" value="{kind}">'
    )
    button = f'<button type="submit">{label}</button>'
    return f'<form method="post" action="/act">{fields}{inner}{button}</form>'


def settings_panel(choices: Choices, csrf: str, back: str, now: datetime) -> str:
    """On/off, pause, minimum priority, quiet hours (any window), a storm's limits, mutes
    with their ends: each a form posting the menu's own action."""
    current = choices.settings
    on = current.enable_notifications
    switch = {"kind": "enabled", "value": "0" if on else "1"}
    paused = current.is_paused(now)
    resume = current.paused_until_time()
    pause_state = f"paused until {recent.clock(resume, now)}" if paused and resume else "not paused"
    pauses = "".join(
        _button(csrf, back, label, fields)
        for label, fields in (
            ("30 min", {"kind": "pause", "minutes": "30"}),
            ("1 h", {"kind": "pause", "minutes": "60"}),
            ("until morning", {"kind": "pause-morning"}),
            ("Resume", {"kind": "resume"}),
        )
        if label != "Resume" or paused
    )
    levels = "".join(
        f'<option value="{p.value}"{" selected" if p.value == current.min_priority else ""}>'
        f"{p.value}</option>"
        for p in Priority
    )
    muted = (
        "".join(
            f"<li>{_text(m.source)} {escape(_mute_end(m, now))}"
            f"{_button(csrf, back, 'Unmute', {'kind': 'unmute', 'source': m.source})}</li>"
            for m in choices.mutes
        )
        or "<li>none</li>"
    )
    spans = '<option value="60">for 1 h</option><option value="480">for 8 h</option>'
    spans += '<option value="morning">until morning</option>'
    return (
        '<details class="settings"><summary>Settings</summary>'
        f'<div class="row">Notifications are {"on" if on else "off"} '
        f"{_button(csrf, back, 'Switch off' if on else 'Switch on', switch)}</div>"
        f'<div class="row">Pause: {escape(pause_state)} {pauses}</div>'
        + _form(csrf, back, "min-priority",
                f'Minimum priority <select name="priority">{levels}</select>', "Set")
        + _form(csrf, back, "quiet",
                f'Quiet hours <input name="window" value="{_text(current.quiet_hours)}" '
                'placeholder="22:00-07:00, empty for none" size="14">', "Set")
        + _form(csrf, back, "burst",
                f'At most <input type="number" name="limit" min="0" value="{current.burst_limit}"> '
                f'popups per source in <input type="number" name="seconds" min="1" '
                f'value="{current.burst_window_seconds}"> s', "Set")
        + f'<div class="row">Muted sources<ul class="mutes">{muted}</ul></div>'
        + _form(csrf, back, "mute",
                f'Mute <input name="source" placeholder="source" required> '
                f'<select name="minutes">{spans}</select>', "Mute")
        + "</details>"
    )  # fmt: skip


def _mute_end(mute: Mute, now: datetime) -> str:
    urgent = "" if mute.urgent_too else ", urgent ones still shown"
    until = recent.created_time(mute.until)
    return (f"until {recent.clock(until, now)}" if until else "until unmuted") + urgent


def page(
    rows: Sequence[NotificationRow],
    query: Query,
    csrf: str,
    now: datetime,
    choices: Choices | None = None,
) -> str:
    """The whole window: the search and filters, the settings, the list, mark-all-read."""
    options = "".join(
        f'<option value="{p.value}"{" selected" if p.value == query.priority else ""}>'
        f"{p.value}</option>"
        for p in Priority
    )
    outcomes = "".join(
        f'<option value="{o}"{" selected" if o == query.status else ""}>{o}</option>'
        for o in STATUSES
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
        f'<select name="status"><option value="">any outcome</option>{outcomes}</select>'
        f'<label><input type="checkbox" name="unread" value="1"{checked}> unread</label>'
        f'<label>from <input type="date" name="since" value="{_text(query.since)}"></label>'
        f'<label>to <input type="date" name="until" value="{_text(query.until)}"></label>'
        f'<button type="submit">Show</button></form>{newest}'
        f"{_button(csrf, query.as_query_string(), 'Mark all read', {'kind': 'read-all'})}"
        f"{_button(csrf, query.as_query_string(), 'Retry failed', {'kind': 'retry'})}"
        f"{settings_panel(choices, csrf, query.as_query_string(), now) if choices else ''}"
        f'</header><main id="list">{listing(rows, query, csrf, now, choices)}</main></body></html>'
    )
