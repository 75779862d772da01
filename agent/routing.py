"""Which desktop delivery a notification gets. Pure: settings and `now` come in as values."""

from __future__ import annotations

from datetime import datetime, timedelta

from traycourier.store import timestamps
from traycourier.store.model import DeliveryStatus, Priority, RouteDecision, Settings, Unrouted


def decide_desktop(item: Unrouted, settings: Settings, now: datetime) -> RouteDecision | None:
    """The contract's routing rules, in order:

    - archived, or below `min_priority`: no desktop row (the notification is still routed);
    - notifications switched off: `skipped` with code `disabled`;
    - older than `max_age_seconds` (0 = no limit): `skipped` with code `stale`;
    - otherwise `queued`.
    """
    if item.archived or not Priority(item.priority).at_least(Priority(settings.min_priority)):
        return None
    if not settings.enable_notifications:
        return RouteDecision(DeliveryStatus.SKIPPED, "disabled", "notifications were switched off")
    if settings.max_age_seconds and _age(item.created_at, now) > timedelta(
        seconds=settings.max_age_seconds
    ):
        return RouteDecision(
            DeliveryStatus.SKIPPED,
            "stale",
            f"older than max_age_seconds ({settings.max_age_seconds} s)",
        )
    return RouteDecision(DeliveryStatus.QUEUED)


def _age(created_at: str, now: datetime) -> timedelta:
    """A created_at a producer mangled counts as new: better shown than silently dropped."""
    try:
        return now - timestamps.parse(created_at)
    except (ValueError, TypeError):
        return timedelta(0)
