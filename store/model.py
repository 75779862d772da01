"""The vocabulary of the shared database: priorities, delivery states, outcomes, and the frozen
records that travel between the store and the agent (what the user chose, the settings and
mutes, is in `store.choices`).

Pure: no SQL, no I/O, no clock. The agent's policy modules import their types from here and
never from a module that runs SQL, so a rule can be read and tested without a database.
The enum values are the exact strings stored in the file (`StrEnum`): producers in any
language read and write the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the user's choices are built on these words (`store.choices`)
    from traycourier.store.choices import Settings


class Priority(StrEnum):
    """A notification's importance, most important first."""

    URGENT = "urgent"
    ACTION = "action"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for urgent … 3 for info: the claim order, stored as `deliveries.rank`."""
        return RANKS[self.value]

    def at_least(self, minimum: Priority) -> bool:
        return self.rank <= minimum.rank


PRIORITIES: tuple[str, ...] = tuple(p.value for p in Priority)
RANKS: dict[str, int] = {p.value: rank for rank, p in enumerate(Priority)}
"""Priority word -> rank, for the per-row paths (an enum call per row costs a microsecond)."""


class DeliveryStatus(StrEnum):
    """Where one delivery stands (the contract's state machine).

    `queued` and `retry_wait` wait to be claimed; `leased` is being shown by one agent;
    `sent`, `failed`, `skipped` and `cancelled` are final (`failed` until "Retry failed").
    """

    QUEUED = "queued"
    LEASED = "leased"
    RETRY_WAIT = "retry_wait"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


DELIVERY_STATUSES: tuple[str, ...] = tuple(s.value for s in DeliveryStatus)


class AttemptOutcome(StrEnum):
    """What one attempt row records (`notification_delivery_attempts.outcome`)."""

    SENT = "sent"
    RETRYABLE_FAILED = "retryable_failed"
    FAILED = "failed"
    LEASE_EXPIRED = "lease_expired"
    COALESCED = "coalesced"


class OutcomeKind(StrEnum):
    """What the agent decided for one claimed delivery; `mark` turns it into a state.

    `release` gives the row back unshown (shutdown, or held while the notifier is down):
    it is the only kind that counts no attempt.
    """

    SENT = "sent"
    COALESCED = "coalesced"
    RETRY = "retry"
    FAILED = "failed"
    RELEASE = "release"

    @property
    def attempt_outcome(self) -> AttemptOutcome | None:
        return _ATTEMPT_OF.get(self)


_ATTEMPT_OF = {
    OutcomeKind.SENT: AttemptOutcome.SENT,
    OutcomeKind.COALESCED: AttemptOutcome.COALESCED,
    OutcomeKind.RETRY: AttemptOutcome.RETRYABLE_FAILED,
    OutcomeKind.FAILED: AttemptOutcome.FAILED,
}


class Code(StrEnum):
    """Reason codes the state machine itself records in `last_error_code` (the notifier's
    own error classes are in `agent.policy.errors`)."""

    DISABLED = "disabled"
    MIN_PRIORITY = "min_priority"
    MUTED = "muted"
    SNOOZED = "snoozed"  # waiting to be shown again, as the user asked
    DEVICE_FORGOTTEN = "device_forgotten"
    PAUSED = "paused"  # never on a delivery (a pause holds, not skips); `Enqueued` says it
    QUIET_HOURS = "quiet_hours"  # never on a delivery either: quiet hours hold
    STALE = "stale"
    INVALID_ROW = "invalid_row"
    ORPHANED = "orphaned"
    REPLACED = "replaced"  # a newer notification with the same source and tag came first
    LEASE_EXPIRED = "lease_expired"
    REFUSED = "refused"  # the database refused the agent's write (a producer's trigger)
    READ = "read"  # read before it was routed (by a producer, or in a followed source)
    READ_ELSEWHERE = "read_elsewhere"  # read in the program it was followed from, unshown
    COALESCED = "coalesced"  # on a `sent` one: shown as part of its source's storm summary
    ACTION_CENTER = "action_center"  # on a `sent` one: Windows held the banner (Focus Assist)


def rank_of(priority: object) -> int:
    """The claim rank of whatever a producer wrote: unknown values sort last, with info."""
    last = len(PRIORITIES) - 1
    return RANKS.get(priority, last) if isinstance(priority, str) else last


DESKTOP = "desktop"
"""The sink (and route name) of this agent's deliveries; other sinks may share the table."""

DEFAULT_MAX_ATTEMPTS = 5

ANY_RANK = 1 << 30
"""A claim's `max_rank` that lets every priority through (no quiet hours in force)."""


# -- routing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unrouted:
    """What routing needs to know about a notification, as the producer wrote it: any
    column may hold any SQLite type, so the values are what the file holds and the flags say
    whether a text column really holds text."""

    seq: int
    id: str
    id_is_text: bool
    """False for a BLOB, a number, or bytes that are not UTF-8 (`id` is then a readable form)."""
    priority: object
    created_at: object
    title_is_text: bool
    message_is_text: bool
    archived: bool
    source: object = ""
    """As written: any SQLite type (only text can match a mute)."""
    tagged: bool = False
    """It has a tag: it replaces an older one of the same source and tag."""
    read: bool = False
    """Already read (`read_at`): nobody needs to be told any more."""


@dataclass(frozen=True)
class RouteDecision:
    """A desktop row to create: `queued`, or `skipped` with a reason code."""

    status: DeliveryStatus
    code: str | None = None
    reason: str | None = None
    destinations: tuple[str, ...] = ("",)
    """One row per device key; "" is the one device of a SQLite file."""


@dataclass(frozen=True)
class RouteReport:
    routed: int
    queued: int
    skipped: int
    imported: int = 0
    """Rows of followed sources added (not before by any agent) in the same transaction."""


# -- claiming and marking -------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A leased delivery and the notification to show."""

    delivery_id: int
    notification_id: str
    attempt_no: int
    max_attempts: int
    rank: int
    title: str | None
    """None when the file holds no text there (a BLOB): the row cannot be shown."""
    message: str | None
    priority: str
    source: str
    kind: str
    actions_json: str
    created_at: str
    claimed_at: str
    lease_expires_at: str
    """The lease this claim holds: an outcome is written only while the row holds this very
    lease (the same owner may hold a later one after this one expired)."""
    started: bool = False
    """Its notifier call already counts as started (marked by the claim itself)."""
    tag: str | None = None
    progress: int | None = None
    replaces: str | None = None
    """The popup of an older notification with the same source and tag still on screen."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed delivery. `retry` and `release` need `next_attempt_at`."""

    claimed: Claimed
    kind: OutcomeKind
    error_code: str | None = None
    error: str | None = None
    external_id: str | None = None
    next_attempt_at: str | None = None


@dataclass(frozen=True)
class MarkReport:
    applied: int
    fenced_off: tuple[int, ...]


@dataclass(frozen=True)
class Pending:
    """Which write transactions a tick needs at all (an idle tick needs none)."""

    expired_leases: bool
    unrouted: bool
    waiting: bool
    """Any queued or retry_wait desktop delivery, due or not."""
    due: bool
    malformed: bool = False
    """A delivery whose agent-written columns another program broke (`deliveries.malformed`)."""


# -- producers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enqueued:
    id: str
    created: bool
    """False when the dedupe key already named a notification: `id` is that one."""
    withheld: Code | None = None
    """Why it will not be shown at once under the settings of the moment (`min_priority`,
    `disabled`: never; `paused`: after `paused_until`), or None."""
    paused_until: str | None = None
    settings: Settings | None = field(default=None, compare=False, repr=False)
    """The settings it was judged by, so a caller need not read them again."""
