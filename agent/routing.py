"""Which desktop delivery a notification gets. Pure: settings and `now` come in as values."""

from __future__ import annotations

from datetime import datetime, timedelta

from store import Settings, schema, timestamps
from store.deliveries import RouteDecision, Unrouted


def priority_rank(priority: str) -> int:
    """0 = urgent, the most important."""
    return schema.PRIORITIES.index(priority)


def is_at_least(priority: str, minimum: str) -> bool:
    return priority_rank(priority) <= priority_rank(minimum)


def decide_desktop(item: Unrouted, settings: Settings, now: datetime) -> RouteDecision | None:
    """The contract's routing rules, in order:

    - archived, or below `min_priority`: no desktop row (the notification is still routed);
    - notifications switched off: `skipped` with code `disabled`;
    - older than `max_age_seconds` (0 = no limit): `skipped` with code `stale`;
    - otherwise `queued`.
    """
    if item.archived or not is_at_least(item.priority, settings.min_priority):
        return None
    if not settings.enable_notifications:
        return RouteDecision("skipped", "disabled", "notifications were switched off")
    if settings.max_age_seconds and _age(item.created_at, now) > timedelta(
        seconds=settings.max_age_seconds
    ):
        return RouteDecision(
            "skipped", "stale", f"older than max_age_seconds ({settings.max_age_seconds} s)"
        )
    return RouteDecision("queued")


def _age(created_at: str, now: datetime) -> timedelta:
    """A created_at a producer mangled counts as new: better shown than silently dropped."""
    try:
        return now - timestamps.parse(created_at)
    except (ValueError, TypeError):
        return timedelta(0)
