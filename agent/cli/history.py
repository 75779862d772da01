"""`traycourier history`: every notification with its text, newest first, for people who
live in a terminal (the history window of issue 27 is the other way to read it)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from traycourier.agent.cli.commands import _report, database
from traycourier.agent.policy import recent, textfit
from traycourier.agent.system import device
from traycourier.store import InvalidInput, timestamps
from traycourier.store.history import history as read_history
from traycourier.store.rows import NotificationRow

_AGO = re.compile(r"^(\d+)\s*(m|h|d)$")
_UNIT = {"m": 60, "h": 3600, "d": 86400}
SINCE_HELP = "only those created since then: 30m, 2h, 3d ago, or a local date or time"


def since(text: str, now: datetime) -> datetime:
    """`--since`: a span back from now (30m, 2h, 3d), or a date or time (local unless it
    says its zone)."""
    raw = text.strip()
    ago = _AGO.match(raw.lower())
    if ago:
        return now - timedelta(seconds=int(ago.group(1)) * _UNIT[ago.group(2)])
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"--since takes 30m, 2h, 3d or a date like 2026-12-01, not {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a user's wall-clock time means local time
    return moment.astimezone(UTC)


def lines(rows: list[NotificationRow], now: datetime) -> list[str]:
    """Each notification as a user reads it: unread mark, local time, priority, source and
    title; its body indented; what became of it. Control characters a producer wrote
    (terminal escapes) are removed."""
    out: list[str] = []
    for row in rows:
        item = recent.from_row(row)
        when = recent.clock(item.created, now) if item.created else "?"
        mark = "● " if not item.read else "  "
        source = f"{clean(row.source)} — " if row.source else ""
        out.append(f"{mark}{when:>9}  {clean(row.priority):<7}  {source}{clean(row.title)}")
        body = textfit.strip_controls(row.message, single_line=False)
        out += [f"    {line}" for line in body.splitlines() if line.strip()]
        out.append(f"    {recent.outcome(item, False, now)}")
    return out or ["no notifications"]


def clean(text: str) -> str:
    return textfit.strip_controls(text, single_line=True)


def cmd_history(args: argparse.Namespace) -> int:
    now = timestamps.utcnow()
    start = since(args.since, now) if args.since else None
    with database(args, reading=True) as db:
        rows = read_history(
            db, source=args.source, search=args.search, since=start, limit=args.limit,
            device=device.this_device(db).id,
        )  # fmt: skip
    return _report(args, [asdict(r) for r in rows], lines(rows, now))


def add_parser(
    command: Callable[..., argparse.ArgumentParser],
    json_help: str,
    count: Callable[[str], int],
) -> None:
    history = command(
        "history", help="every notification with its text, newest first (what you missed)"
    )
    history.add_argument("--source", default=None, help="only this source's")
    history.add_argument(
        "--search", default=None, metavar="TEXT", help="only those whose title, body or source "
        "holds TEXT (any case)",
    )  # fmt: skip
    history.add_argument("--since", default=None, metavar="WHEN", help=SINCE_HELP)
    history.add_argument(
        "--limit", type=count, default=20, metavar="N", help="at most this many (default: 20)"
    )
    history.add_argument("--json", action="store_true", help=json_help)
    history.set_defaults(func=cmd_history)
