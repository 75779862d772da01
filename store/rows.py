"""What the CLI and the tray read: frozen records of query results (`store/queries.py`
returns them). Pure, like `store.model`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    notification_id: str
    title: str
    priority: str
    status: str
    attempts: int | None
    """None when another program wrote something that is no count (`invalid_row` then)."""
    max_attempts: int | None
    next_attempt_at: str | None
    lease_owner: str | None
    last_error_code: str | None
    last_error: str | None
    created_at: str
    updated_at: str
    delivered_at: str | None
    device: str = ""
    """Its `destination_key`: the device it is for ("" on a SQLite file)."""
    closed_reason: str | None = None
    """How its popup went away: expired, dismissed, closed (by an agent)."""
    source: str | None = None
    snoozed_until: str | None = None


@dataclass(frozen=True)
class AgentRow:
    owner: str
    pid: int
    host: str
    version: str
    mode: str
    notifier: str
    started_at: str
    heartbeat_at: str
    last_error: str | None = None
    last_error_at: str | None = None
    notifier_problem: str | None = None
    """Why its notifier can show nothing now (no notification daemon), or None."""
    history_address: str | None = None
    """Where its history window listens (http://127.0.0.1:port), while it does."""


@dataclass(frozen=True)
class NotificationRow:
    id: str
    title: str
    message: str
    priority: str
    source: str
    actions_json: str
    created_at: str
    read_at: str | None
    delivery_status: str | None = None
    """The desktop delivery's state (None: not routed yet, or archived)."""
    delivery_code: str | None = None
    """Its recorded reason (`min_priority`, `disabled`, `stale`, `snoozed`, an error class)."""
    snoozed_until: str | None = None
    """Set once the user snoozed it: shown again (or to be) at that time."""
    answer: str | None = None
    answered_device: str | None = None
    closed_reason: str | None = None
    seq: int | None = None
    """Its place in the history: later rows have higher ones (the history window pages by it)."""
    delivery_error: str | None = None
    """The desktop delivery's last error, in the notifier's words (why it failed)."""


@dataclass(frozen=True)
class Status:
    counts: dict[str, int]
    unrouted: int
    live_agents: tuple[AgentRow, ...]
    last_errors: tuple[DeliveryRow, ...]
    """Failures and retries: something went wrong."""
    last_delivered_at: str | None
    skip_reasons: dict[str, int]
    """Skipped or cancelled deliveries by code: deliberate, not errors."""


@dataclass(frozen=True)
class TraySummary:
    pending: int
    failed: int
    last_delivered_at: str | None


@dataclass(frozen=True)
class Device:
    """The user on one machine, sharing a server with their other machines."""

    id: str
    name: str
    registered_at: str
    last_seen_at: str
    since: str
    """Notifications created from then on are routed to it ("": all, the first device)."""


@dataclass(frozen=True)
class Answer:
    """A notification's answer as it stands: the chosen action's id (None: not answered),
    when and on which device; whether a popup of it was dismissed without one; and, from
    `answers.answer`, whether the answer just given is the one that stands."""

    answer: str | None
    answered_at: str | None
    device: str | None
    dismissed: bool = False
    won: bool = False


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    attempt_no: int | None
    owner: str | None
    outcome: str | None
    error_code: str | None
    error: str | None
    started_at: str | None
    finished_at: str | None


@dataclass(frozen=True)
class Story:
    id: str
    title: str | None
    message: str | None
    priority: str | None
    source: str | None
    kind: str | None
    actions_json: str | None
    created_at: str | None
    read_at: str | None
    answer: str | None
    answered_at: str | None
    answered_device: str | None
    deliveries: tuple[DeliveryRow, ...] = ()
    attempts: tuple[Attempt, ...] = ()
