"""How long to wait before the next attempt, and when to give up. Pure functions."""

from __future__ import annotations

BASE_S = 1.0
CAP_S = 300.0
JITTER_LOW, JITTER_HIGH = 0.8, 1.2


def delay_s(attempt_no: int, rand: float) -> float:
    """Seconds to wait after failed attempt `attempt_no` (1-based).

    `min(1 s * 2^(n-1), 300 s)` times a factor in [0.8, 1.2): the jitter keeps several
    agents (or many rows failing together) from retrying in lockstep. `rand` is in [0, 1).
    """
    if attempt_no < 1:
        raise ValueError("attempt numbers start at 1")
    if not 0.0 <= rand < 1.0:
        raise ValueError("rand must be in [0, 1)")
    base = min(BASE_S * 2 ** min(attempt_no - 1, 32), CAP_S)
    return base * (JITTER_LOW + (JITTER_HIGH - JITTER_LOW) * rand)


def next_attempt_in(attempt_no: int, max_attempts: int, rand: float) -> float | None:
    """Seconds until the retry after a transient failure, or None when the budget is spent."""
    if attempt_no >= max_attempts:
        return None
    return delay_s(attempt_no, rand)


SOURCE_CAP_S = 60.0


def source_retry_in(failures: int) -> float:
    """Seconds before a followed source that failed `failures` times in a row is looked at
    again: 1, 2, 4 … up to a minute (a file back sooner is found by then; a broken one costs
    one look a minute)."""
    return min(BASE_S * 2 ** min(max(failures, 1) - 1, 16), SOURCE_CAP_S)
