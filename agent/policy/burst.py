"""Storm control: when many deliveries are due at once, show a few and one summary. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class BurstPlan(Generic[T]):
    individual: tuple[T, ...]
    coalesced: tuple[T, ...]


def plan(due: Sequence[T], burst_limit: int) -> BurstPlan[T]:
    """`due` is in claim order (most important first). With more than `burst_limit` due,
    the first `burst_limit - 1` are shown one by one and the rest as one summary, so the
    screen never shows more than `burst_limit` notifications for one burst.
    `burst_limit` 0 switches coalescing off."""
    if burst_limit <= 0 or len(due) <= burst_limit:
        return BurstPlan(tuple(due), ())
    keep = burst_limit - 1
    return BurstPlan(tuple(due[:keep]), tuple(due[keep:]))


def summary_text(titles: Sequence[str], shown_titles: int = 3) -> tuple[str, str]:
    """Title and body of the summary notification for the coalesced titles."""
    count = len(titles)
    title = f"{count} more notification" + ("" if count == 1 else "s")
    lines = [f"• {t}" for t in titles[:shown_titles]]
    if count > shown_titles:
        lines.append(f"and {count - shown_titles} more")
    return title, "\n".join(lines)
