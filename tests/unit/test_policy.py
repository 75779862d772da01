"""The pure policy: backoff, routing, error classes. Table-driven (storms: test_burst.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from traycourier.agent.policy import backoff, errors, recent, routing
from traycourier.store import Database, timestamps
from traycourier.store.choices import Mute, Settings
from traycourier.store.model import DeliveryStatus, RouteDecision, Unrouted
from traycourier.store.rows import Device

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (1, 0.5, 1.0),
        (2, 0.5, 2.0),
        (3, 0.5, 4.0),
        (9, 0.5, 256.0),
        (10, 0.5, 300.0),  # capped
        (60, 0.5, 300.0),
        (1, 0.0, 0.8),
        (4, 0.0, 6.4),
        (10, 0.999999, 300.0 * (0.8 + 0.4 * 0.999999)),
    ],
)
def test_backoff_delay(attempt: int, rand: float, expected: float) -> None:
    assert backoff.delay_s(attempt, rand) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("rand", [0.0, 0.25, 0.5, 0.999999])
@pytest.mark.parametrize("attempt", [1, 2, 5, 9, 12])
def test_backoff_factor_stays_within_its_band(attempt: int, rand: float) -> None:
    base = min(2 ** (attempt - 1), 300)
    assert 0.8 * base <= backoff.delay_s(attempt, rand) < 1.2 * base


@pytest.mark.parametrize(("attempt", "rand"), [(0, 0.5), (1, 1.0), (1, -0.1)])
def test_backoff_rejects_nonsense(attempt: int, rand: float) -> None:
    with pytest.raises(ValueError):
        backoff.delay_s(attempt, rand)


@pytest.mark.parametrize(
    ("attempt", "max_attempts", "gives_up"), [(1, 5, False), (4, 5, False), (5, 5, True)]
)
def test_budget(attempt: int, max_attempts: int, gives_up: bool) -> None:
    assert (backoff.next_attempt_in(attempt, max_attempts, 0.5) is None) is gives_up


def _item(
    priority: object = "action", age_s: int = 0, archived: bool = False, **changes: object
) -> Unrouted:
    created = datetime.fromtimestamp(NOW.timestamp() - age_s, UTC)
    values: dict[str, object] = {
        "seq": 1,
        "id": "ntf_1",
        "id_is_text": True,
        "priority": priority,
        "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
        "title_is_text": True,
        "message_is_text": True,
        "archived": archived,
    }
    values.update(changes)
    return Unrouted(**values)  # type: ignore[arg-type]


QUEUED = RouteDecision(DeliveryStatus.QUEUED)


@pytest.mark.parametrize(
    ("item", "settings", "expected"),
    [
        (_item("urgent"), Settings(), QUEUED),
        (_item("action"), Settings(), QUEUED),
        (_item("info"), Settings(), QUEUED),  # the default minimum (info): a plain row shows
        (_item("warning"), Settings(min_priority="action"), "min_priority"),
        (_item("warning"), Settings(min_priority="urgent"), "min_priority"),
        (_item("urgent", archived=True), Settings(), None),
        (_item("urgent"), Settings(enable_notifications=False), "disabled"),
        (_item("info"), Settings(False, "action"), "min_priority"),  # the first reason
        (_item("urgent", age_s=90000), Settings(), "stale"),
        (_item("urgent", age_s=86399), Settings(), QUEUED),
        (_item("urgent", age_s=10**7), Settings(max_age_seconds=0), QUEUED),  # 0 = no limit
        (_item("urgent", age_s=61), Settings(max_age_seconds=60), "stale"),
    ],
)
def test_routing_rules(item: Unrouted, settings: Settings, expected: object) -> None:
    decision = routing.decide_desktop(item, settings, NOW)
    if isinstance(expected, str):
        assert decision is not None
        assert (decision.status, decision.code) == ("skipped", expected)
    else:
        assert decision == expected


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (_item(id="x'6e7466ff'", id_is_text=False), "the id x'6e7466ff' is not text"),
        (_item(title_is_text=False), "the title is not text"),
        (_item(message_is_text=False), "the message is not text"),
        (_item("bogus"), "unknown priority 'bogus'"),
        (_item(b"urgent"), "unknown priority b'urgent'"),
        (_item(None), "unknown priority None"),
        (_item(created_at="yesterday-ish"), "created_at is not a time"),
        (_item(created_at="0001-01-01T00:00:00+05:00"), "outside the range of times"),
        (_item(created_at="9999-12-31T23:59:59-05:00"), "outside the range of times"),
        (_item(created_at=1e300), "outside the range of times"),
        (_item(created_at=b"\x00"), "created_at is not a time"),
        (_item(created_at=None), "created_at is not a time"),
        # an archived or low-priority row that cannot be read is still reported
        (_item("bogus", archived=True), "unknown priority"),
    ],
)
def test_a_row_that_cannot_be_read_fails_alone_with_its_reason(item: Unrouted, reason: str) -> None:
    decision = routing.decide_desktop(item, Settings(), NOW)
    assert decision is not None
    assert (decision.status, decision.code) == ("failed", "invalid_row")
    assert decision.reason is not None and reason in decision.reason


SECONDS = int(NOW.timestamp()) - 5


@pytest.mark.parametrize(
    "created_at",
    # what a TEXT column keeps of `strftime('%s','now')` or a bound integer is its digits
    [SECONDS, SECONDS - 0.5, str(SECONDS), f"{SECONDS}.5", f" {SECONDS} "],
    ids=repr,
)
def test_a_time_given_as_seconds_since_1970_is_understood(created_at: float | str) -> None:
    assert routing.decide_desktop(_item(created_at=created_at), Settings(), NOW) == QUEUED
    stale = _item(created_at=float(created_at) - 90000)
    assert routing.decide_desktop(stale, Settings(), NOW).code == "stale"  # type: ignore[union-attr]
    # the tray's Recent reads the same time routing judged by
    assert recent.created_time(created_at) == timestamps.from_stored(float(created_at))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("type_name", "message", "code", "transient"),
    [
        ("NotifierTimeout", "", "timeout", True),
        ("TimeoutError", "", "timeout", True),
        (
            "DBusException",
            "org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable",
            "daemon_unreachable",
            True,
        ),
        (
            "DBusException",
            "org.freedesktop.DBus.Error.NotSupported: Unable to autolaunch a dbus-daemon",
            "daemon_unreachable",
            True,
        ),
        (
            "DBusException",
            "org.freedesktop.DBus.Error.NoReply: no reply",
            "daemon_unreachable",
            True,
        ),
        ("DBusException", "org.example.Weird: ?", "error", True),
        (  # jeepney's words for the same
            "DBusErrorResponse",
            "[org.freedesktop.DBus.Error.ServiceUnknown] ('The name is not activatable',)",
            "daemon_unreachable",
            True,
        ),
        ("NoSessionBus", "no DBus session bus (no desktop session)", "daemon_unreachable", True),
        ("BrokenPipeError", "[Errno 32] Broken pipe", "daemon_unreachable", True),
        ("ValueError", "Unable to guess signature from an empty list", "daemon_unreachable", True),
        ("NotImplementedError", "No usable implementation found!", "no_backend", False),
        ("InvalidNotification", "empty title", "invalid", False),
        ("RuntimeError", "anything else", "error", True),
    ],
)
def test_error_classes(type_name: str, message: str, code: str, transient: bool) -> None:
    assert errors.classify(type_name, message) == errors.ErrorClass(code, transient)


def _muted(until_s: float | None = None, urgent_too: bool = True) -> dict[str, Mute]:
    until = None if until_s is None else timestamps.fmt(NOW + timedelta(seconds=until_s))
    return {"backup": Mute("backup", until, urgent_too)}


@pytest.mark.parametrize(
    ("item", "mutes", "expected"),
    [
        (_item("action", source="backup"), _muted(), "muted"),
        (_item("urgent", source="backup"), _muted(), "muted"),  # urgent too, by default
        (_item("urgent", source="backup"), _muted(urgent_too=False), QUEUED),
        (_item("action", source="ci"), _muted(), QUEUED),  # another source
        (_item("action", source="backup"), _muted(until_s=1), "muted"),  # a second to go
        (_item("action", source="backup"), _muted(until_s=0), QUEUED),  # ends at this second
        (_item("action", source=b"backup"), _muted(), QUEUED),  # a BLOB is no source name
        (_item("info", source="backup"), _muted(), "min_priority"),  # the first reason wins
    ],
)
def test_muted_sources(item: Unrouted, mutes: dict[str, Mute], expected: object) -> None:
    decision = routing.decide_desktop(item, Settings(min_priority="action"), NOW, mutes)
    if isinstance(expected, str):
        assert decision is not None and (decision.status, decision.code) == ("skipped", expected)
    else:
        assert decision == expected


def _device(key: str, since_s: float | None) -> Device:
    """A device registered `since_s` seconds before NOW (None: the first device, "")."""
    since = "" if since_s is None else timestamps.fmt(NOW - timedelta(seconds=since_s))
    return Device(key, key, "", "", since)


@pytest.mark.parametrize(
    ("item", "devices", "expected"),
    [
        (_item(), (), ("",)),  # a SQLite file: its one device
        (_item(age_s=60), (_device("a", None), _device("b", 30)), ("a",)),  # b came later
        (_item(age_s=30), (_device("a", None), _device("b", 30)), ("a", "b")),  # at its second
        (_item(age_s=0), (_device("a", 3600), _device("b", 30)), ("a", "b")),
        (_item(age_s=10_000), (_device("a", 3600),), ()),  # before every device: nobody's
        (_item(created_at="garbage"), (_device("a", None), _device("b", 30)), ("a", "b")),
        (_item(), (Device("x", "x", "", "", "not a time"),), ("x",)),  # broken since: all
    ],
)
def test_one_delivery_per_device_registered_by_then(
    item: Unrouted, devices: tuple[Device, ...], expected: tuple[str, ...]
) -> None:
    decision = routing.decide_desktop(item, Settings(min_priority="info"), NOW, {}, devices)
    assert decision is not None and decision.destinations == expected


def test_a_device_unseen_for_seven_days_gets_nothing_new(any_db: Database) -> None:
    from traycourier.store import devices

    devices.register(any_db, "dev_old", "old laptop", NOW - timedelta(days=7, seconds=1))
    devices.register(any_db, "dev_new", "desktop", NOW - timedelta(days=6))
    assert [d.name for d in devices.active(any_db, NOW)] == ["desktop"]
    first, second = devices.listing(any_db)
    assert (first.since, second.since) == ("", second.registered_at)  # the first takes all
    devices.register(any_db, "dev_old", "old laptop", NOW)  # seen again: active again
    assert sorted(d.name for d in devices.active(any_db, NOW)) == ["desktop", "old laptop"]


@pytest.mark.parametrize(
    ("created_at", "meant"),
    [
        # Go's time.Time.String(): offset, zone name, nanoseconds, a monotonic reading
        ("2026-12-06 04:22:25.278156123 +0000 UTC", "2026-12-06 04:22:25.278156"),
        ("2026-12-06 05:22:25.5 +0100 CET m=+12.345678901", "2026-12-06 04:22:25.500000"),
        ("2026-12-05 23:52:25 -0430 -0430", "2026-12-06 04:22:25.000000"),
        ("2026-12-06 07:22:25.000000001 +0300 +03", "2026-12-06 04:22:25.000000"),
        # RFC 3339 as other languages write it
        ("2026-12-06T04:22:25.278156123Z", "2026-12-06 04:22:25.278156"),
        ("2026-12-06T09:52:25+05:30", "2026-12-06 04:22:25.000000"),
        # the contract's own text, both precisions
        ("2026-12-06 04:22:25", "2026-12-06 04:22:25.000000"),
        ("2026-12-06 04:22:25.278156", "2026-12-06 04:22:25.278156"),
    ],
)
def test_a_time_written_by_go_or_as_rfc_3339_is_read_in_utc(created_at: str, meant: str) -> None:
    assert timestamps.fmt(timestamps.from_stored(created_at)) == meant
    now = timestamps.parse(meant)
    assert routing.decide_desktop(_item(created_at=created_at), Settings(), now) == QUEUED


@pytest.mark.parametrize(
    "created_at",
    [
        "2026-12-06 04:22:25 UTC",  # a zone name without an offset
        "2026-12-06 04:22:25.1234567890 +0000 UTC",  # ten digits of a second
        "2026-12-06 04:22:25 +0000 UTC m=+1",  # a monotonic reading without its fraction
        "2026-12-06 04:22:25 +2500 UTC",  # an offset beyond a day
    ],
)
def test_something_like_go_time_but_not_it_is_refused(created_at: str) -> None:
    decision = routing.decide_desktop(_item(created_at=created_at), Settings(), NOW)
    assert decision is not None and decision.code == "invalid_row"
