"""`traycourier history`: every notification with its text, newest first, for people who
live in a terminal (the history window of issue 27 is the other way to read it)."""

from __future__ import annotations

import argparse
import re
import socket
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from traycourier.agent.cli.commands import _report, database
from traycourier.agent.engine import controls
from traycourier.agent.engine.presence import STALE_AFTER
from traycourier.agent.policy import recent, textfit
from traycourier.agent.system import device
from traycourier.store import Database, InvalidInput, agents, queries, timestamps
from traycourier.store.history import history as read_history
from traycourier.store.rows import NotificationRow

_AGO = re.compile(r"^(\d+)\s*(m|h|d)$")
_UNIT = {"m": 60, "h": 3600, "d": 86400}


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


WINDOW_WAIT_S = 10.0
"""How long `--url`/`--open` waits for the agent to serve its window: a tick follows the
request at once; a busy database (a long producer transaction) can hold it a little."""


class NoAgent(Exception):
    """No agent runs on this database on this machine: nothing can serve the window."""


def window_address(db: Database, now: datetime) -> str:
    """The history window's address (with its secret) of the agent on this machine serving
    `db`; asked for first when none is served yet."""
    running, _gone = device.still_running(queries.live_agents(db, now, STALE_AFTER))
    here = [a for a in running if a.host == socket.gethostname()]
    if not here:
        raise NoAgent("no agent runs on this database here: start one (`traycourier run`)")
    from traycourier.agent.web.window import address_file  # only here: the agent runs main

    deadline = time.monotonic() + WINDOW_WAIT_S
    agent, asked = here[-1], False
    while True:
        address = agent.history_address
        if address is not None:
            try:  # the agent writes it before it records the address
                return address_file(address).read_text(encoding="ascii").strip()
            except OSError:
                pass  # removed since (a cleaned cache): the agent writes it again when asked
        if not asked:
            agents.want_history(db, agent.owner, now)
            asked = True
        if time.monotonic() > deadline:
            raise NoAgent(f"agent {agent.owner} did not open the history window in "
                          f"{WINDOW_WAIT_S:.0f} s (see its log: traycourier doctor)")  # fmt: skip
        time.sleep(0.1)
        found = [a for a in queries.live_agents(db, now, STALE_AFTER) if a.owner == agent.owner]
        if not found:
            raise NoAgent(f"agent {agent.owner} stopped")
        agent = found[0]


def cmd_window(args: argparse.Namespace) -> int:
    """`history --url` prints the address; `--open` hands it to the browser too."""
    with database(args, reading=True) as db:
        try:
            url = window_address(db, timestamps.utcnow())
        except NoAgent as err:
            print(f"traycourier: {err}", file=sys.stderr)
            return 1
    if args.open:
        problems: list[str] = []
        if not controls.open_url(url, problems.append) or problems:
            print(f"traycourier: {problems[0] if problems else 'cannot open'}", file=sys.stderr)
            return 1
        return 0
    print(url)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    if args.url or args.open:
        return cmd_window(args)
    now = timestamps.utcnow()
    start = since(args.since, now) if args.since else None
    with database(args, reading=True) as db:
        rows = read_history(
            db, source=args.source, search=args.search, since=start, limit=args.limit,
            device=device.this_device(db).id,
        )  # fmt: skip
    return _report(args, [asdict(r) for r in rows], lines(rows, now))
