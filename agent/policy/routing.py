"""Which desktop delivery a notification gets. Pure: settings and `now` come in as values.

Every value comes from another program and may be anything; a row that cannot be routed is
not an error of the agent but an outcome of the row: `failed` with code `invalid_row` and
the reason, while the others go on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from traycourier.agent.policy import visibility
from traycourier.store import timestamps
from traycourier.store.choices import Mute, Settings
from traycourier.store.model import PRIORITIES, RANKS, Code, DeliveryStatus, RouteDecision, Unrouted
from traycourier.store.rows import Device


def _created(item: Unrouted) -> tuple[datetime | None, str | None]:
    """The row's creation time (parsed once), or why the row cannot be used."""
    reason = _type_problem(item)
    if reason is not None:
        return None, reason
    try:
        return timestamps.from_stored(item.created_at), None
    except ValueError as err:
        return None, f"created_at is not a time: {err}"


def _type_problem(item: Unrouted) -> str | None:
    if not item.id_is_text:
        return f"the id {item.id} is not text"
    if not item.title_is_text:
        return "the title is not text"
    if not item.message_is_text:
        return "the message is not text"
    if not isinstance(item.priority, str) or item.priority not in RANKS:
        shown = repr(item.priority)[:40]
        return f"unknown priority {shown} (one of {', '.join(PRIORITIES)})"
    return None


def destinations(created: datetime | None, devices: Sequence[Device]) -> tuple[str, ...]:
    """Which devices get a notification: each active device registered by the time it was
    created (`since` "" takes everything: the first device). A row that cannot be read is
    recorded on every device. A SQLite file has no device rows: its one device is ""."""
    if not devices:
        return ("",)
    return tuple(d.id for d in devices if created is None or _since(d) <= created)


def _since(device: Device) -> datetime:
    try:
        return timestamps.parse(device.since) if device.since else datetime.min.replace(tzinfo=UTC)
    except ValueError:  # another program broke it: treat it as the beginning
        return datetime.min.replace(tzinfo=UTC)


def decide_desktop(
    item: Unrouted,
    settings: Settings,
    now: datetime,
    mutes: Mapping[str, Mute] | None = None,
    devices: Sequence[Device] = (),
) -> RouteDecision | None:
    """The contract's rules (`decide`), and one row per device (`destinations`)."""
    decision = decide(item, settings, now, mutes)
    if decision is None or not devices:
        return decision
    created, _reason = _created(item)
    return replace(decision, destinations=destinations(created, devices))


def decide(
    item: Unrouted, settings: Settings, now: datetime, mutes: Mapping[str, Mute] | None = None
) -> RouteDecision | None:
    """A row that cannot be read (bad type, bad time, unknown priority) is `failed`,
    `invalid_row`; an archived one gets no desktop row (it is still routed); one already
    read (a producer, or the program a source follows, said so) is `skipped`, `read`. The
    rest is `agent.policy.visibility`'s: skipped for good with its code, or `queued` (a hold,
    pause or quiet hours, keeps it from the claim until it ends)."""
    created, reason = _created(item)
    if created is None:
        return RouteDecision(DeliveryStatus.FAILED, Code.INVALID_ROW, reason)
    if item.archived:
        return None
    if item.read:
        return RouteDecision(DeliveryStatus.SKIPPED, Code.READ, "read before it was shown")
    moment = visibility.Moment(settings, now, mutes or {})
    seen = visibility.judge(str(item.priority), item.source, created, moment)
    if seen.fate == visibility.Fate.SKIPPED:
        return RouteDecision(DeliveryStatus.SKIPPED, seen.code, seen.reason)
    return RouteDecision(DeliveryStatus.QUEUED)
