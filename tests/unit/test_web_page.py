"""The history window's HTML: whatever a producer wrote stays text (a property over any
text), only http(s) links become links, and the address's filters are read safely."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from traycourier.agent.policy import textfit
from traycourier.agent.web import page
from traycourier.store.rows import NotificationRow

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TAGS = {"li", "div", "span", "time", "h2", "p", "a", "form", "input", "button", "ul", "details",
        "summary", "select", "option"}  # fmt: skip
ATTRIBUTES = {"class", "data-id", "href", "target", "rel", "method", "action", "type", "name",
              "value"}  # fmt: skip


class Parsed(HTMLParser):
    """The elements, attributes and text of the page as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        klass = dict(attrs).get("class") or ""
        self._open.append(klass)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            key = self._open[-1]
            self.text[key] = self.text.get(key, "") + data


def row(**values: object) -> NotificationRow:
    base = NotificationRow(
        id="ntf_1", title="Build failed", message="see the log", priority="urgent",
        source="ci", actions_json="[]", created_at="2026-12-07 11:00:00.000000", read_at=None,
        delivery_status="sent", seq=7,
    )  # fmt: skip
    return replace(base, **values)  # type: ignore[arg-type]


def parse(html: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(html)
    return parsed


@settings(max_examples=300, deadline=None)
@given(
    title=st.text(max_size=80),
    body=st.text(max_size=200),
    source=st.text(max_size=30),
    label=st.text(min_size=1, max_size=30).filter(str.strip),
    ident=st.text(min_size=1, max_size=30),
)
def test_producer_text_is_never_markup(
    title: str, body: str, source: str, label: str, ident: str
) -> None:
    actions = json.dumps([{"label": label, "url": "https://e.example/x"}, {"label": label}])
    html = page.item(row(id=ident, title=title, message=body, source=source,
                         actions_json=actions), "tok", "", NOW)  # fmt: skip
    found = parse(html)
    for tag, attrs in found.tags:
        assert tag in TAGS, tag
        assert set(attrs) <= ATTRIBUTES, attrs
    assert found.text.get("title", "") == textfit.strip_controls(title, single_line=True)
    assert found.text.get("body", "") == textfit.strip_controls(body, single_line=False)
    assert found.tags[0][1]["data-id"] == ident


def test_the_classic_attack_is_inert_text() -> None:
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    found = parse(page.item(row(title=hostile, source=hostile), "tok", "", NOW))
    assert all(tag not in ("img", "script") for tag, _ in found.tags)
    assert found.text["title"] == hostile


def test_only_web_links_become_links_and_answers_become_forms() -> None:
    actions = json.dumps([
        {"label": "Evil", "url": "javascript:alert(1)"},
        {"label": "Log", "url": "https://ci.example/run/1?a=1&b=<2>"},
        {"label": "Approve", "id": "approve"},
    ])  # fmt: skip
    found = parse(page.item(row(actions_json=actions), "tok", "?q=x", NOW))
    links = [attrs for tag, attrs in found.tags if tag == "a"]
    assert [a["href"] for a in links] == ["https://ci.example/run/1?a=1&b=<2>"]
    assert links[0]["rel"] == "noopener noreferrer"
    choices = [a["value"] for t, a in found.tags if t == "input" and a["name"] == "choice"]
    assert choices == ["approve"]
    tokens = {a["value"] for t, a in found.tags if t == "input" and a["name"] == "csrf"}
    assert tokens == {"tok"}


def test_an_answered_one_offers_no_answer_and_a_read_one_no_mark_read() -> None:
    actions = json.dumps([{"label": "Approve", "id": "approve"}])
    html = page.item(row(actions_json=actions, answer="approve", read_at="x"), "t", "", NOW)
    kinds = [a["value"] for t, a in parse(html).tags if t == "input" and a["name"] == "kind"]
    assert "answer" not in kinds and "read" not in kinds
    assert "answered approve" in parse(html).text["outcome"]


def test_the_query_is_read_safely_and_round_trips() -> None:
    query = page.Query.parse("q=disk+full&source=ci&priority=urgent&unread=1&before=40")
    assert query == page.Query("disk full", "ci", "urgent", True, 40)
    assert page.Query.parse(query.as_query_string()) == query
    odd = page.Query.parse("priority=<x>&before=-3&unread=yes&q=" + "a" * 500)
    assert (odd.priority, odd.before, odd.unread, len(odd.search)) == ("", None, False, 200)
    assert page.Query.parse("&".join(f"q{i}=1" for i in range(50))) == page.Query()
    dates = page.Query.parse("since=2026-12-01&until=2026-12-31x&status=failed")
    assert (dates.since, dates.until, dates.status) == ("2026-12-01", "", "failed")
    assert page.Query.parse("status=deleted").status == ""


def test_a_full_page_links_to_the_older_ones() -> None:
    rows = [row(id=f"n{i}", seq=100 - i) for i in range(page.PAGE_SIZE)]
    found = parse(page.listing(rows, page.Query(search="x"), "t", NOW))
    older = [a["href"] for t, a in found.tags if t == "a" and a.get("class") == "older"]
    assert older == [f"?q=x&before={100 - page.PAGE_SIZE + 1}"]
    short = parse(page.listing(rows[:3], page.Query(), "t", NOW))
    assert not [a for t, a in short.tags if a.get("class") == "older"]


def test_the_settings_panel_offers_each_choice_with_its_current_value() -> None:
    from traycourier.store.choices import Mute, Settings

    current = Settings(
        enable_notifications=False, min_priority="action", quiet_hours="23:00-08:00",
        burst_limit=5, burst_window_seconds=30,
    )  # fmt: skip
    muted = (Mute("backup", None), Mute("<ci>", "2026-12-07 13:00:00.000000", urgent_too=False))
    found = parse(page.settings_panel(page.Choices(current, muted), "tok", "", NOW))
    values = {a.get("name"): a.get("value") for t, a in found.tags if t == "input"}
    assert values["window"] == "23:00-08:00"
    assert (values["limit"], values["seconds"]) == ("5", "30")
    kinds = [a["value"] for t, a in found.tags if t == "input" and a["name"] == "kind"]
    assert kinds.count("unmute") == 2 and "enabled" in kinds and "resume" not in kinds
    selected = [a["value"] for t, a in found.tags if t == "option" and "selected" in a]
    assert selected == ["action"]
    html = page.settings_panel(page.Choices(current, muted), "tok", "", NOW)
    assert "&lt;ci&gt; until" in html and "urgent ones still shown" in html
    assert "backup until unmuted" in html and "Switch on" in html


def test_what_became_of_it_says_why_it_failed_and_until_when_it_is_held() -> None:
    from traycourier.agent.policy.visibility import Moment
    from traycourier.store.choices import Settings

    failed = row(delivery_status="failed", delivery_code="daemon_unreachable",
                 delivery_error="no notification daemon on the session bus")  # fmt: skip
    assert page.outcome(failed, NOW) == "failed: no notification daemon on the session bus"
    waiting = row(delivery_status="queued", priority="info")
    paused = Settings(paused_until="2026-12-07 13:30:00.000000")
    held = page.outcome(waiting, NOW, Moment.at(paused, NOW))
    assert held.startswith("held until ") and held.endswith(" (paused)")
    assert page.outcome(waiting, NOW, Moment.at(Settings(), NOW)) == "waiting"
    quiet = Settings(quiet_hours="00:00-23:59")
    assert page.outcome(waiting, NOW, Moment.at(quiet, NOW)).endswith("(quiet hours)")
    urgent = row(delivery_status="queued", priority="urgent")  # breaks through quiet hours
    assert page.outcome(urgent, NOW, Moment.at(quiet, NOW)) == "waiting"
