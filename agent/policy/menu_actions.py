"""What a tray menu item does, as a value: a small frozen dataclass per kind of action that
holds what the item showed (the state a checkbox switches to, the notification an entry is
about). `agent.policy.tray_model` puts them on entries; `agent.tray.app` runs them through
`agent.engine.controls`, the functions the CLI uses too."""

from __future__ import annotations

from dataclasses import dataclass

from traycourier.store.model import Priority


@dataclass(frozen=True)
class SetEnabled:
    enabled: bool


@dataclass(frozen=True)
class PauseFor:
    minutes: int


@dataclass(frozen=True)
class PauseUntilMorning:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class SetMinPriority:
    priority: Priority


@dataclass(frozen=True)
class SetTrayIcon:
    """The icon's look: `color`, or a monochrome `white` or `black` (`tray_icon`)."""

    look: str


@dataclass(frozen=True)
class OpenRecent:
    """Mark it read; open its link, or say it has none."""

    notification_id: str
    url: str | None
    title: str = ""


@dataclass(frozen=True)
class AnswerRecent:
    """Write this answer (an action's id) for the notification, as a popup's button does."""

    notification_id: str
    answer: str


@dataclass(frozen=True)
class Snooze:
    """Show this (shown) notification again in `minutes`."""

    notification_id: str
    minutes: int


@dataclass(frozen=True)
class MuteFor:
    source: str
    minutes: int


@dataclass(frozen=True)
class MuteUntilMorning:
    source: str


@dataclass(frozen=True)
class SetQuietHours:
    window: str
    """`22:00-07:00`, or "" for none."""


@dataclass(frozen=True)
class Unmute:
    source: str


@dataclass(frozen=True)
class SetBurst:
    """A storm's limits (the history window's settings): `limit` popups per source within
    `window_seconds`."""

    limit: int
    window_seconds: int


@dataclass(frozen=True)
class MarkAllRead:
    pass


@dataclass(frozen=True)
class RetryFailed:
    pass


@dataclass(frozen=True)
class OpenDataFolder:
    pass


@dataclass(frozen=True)
class OpenLog:
    pass


@dataclass(frozen=True)
class SetAutostart:
    enabled: bool


@dataclass(frozen=True)
class About:
    pass


@dataclass(frozen=True)
class ShowStatus:
    """A left click on the icon (the menu's default item): the status as a notification."""


@dataclass(frozen=True)
class ShowHistory:
    """Open the history window (the agent's local page) in the browser."""


@dataclass(frozen=True)
class Quit:
    pass


MenuAction = (
    SetEnabled
    | PauseFor
    | PauseUntilMorning
    | Resume
    | SetMinPriority
    | SetTrayIcon
    | OpenRecent
    | AnswerRecent
    | Snooze
    | MuteFor
    | MuteUntilMorning
    | SetQuietHours
    | Unmute
    | SetBurst
    | MarkAllRead
    | RetryFailed
    | OpenDataFolder
    | OpenLog
    | SetAutostart
    | About
    | ShowStatus
    | ShowHistory
    | Quit
)
