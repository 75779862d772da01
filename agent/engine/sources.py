"""`traycourier source add|list|remove`, and what `status`, `doctor` and the tray say of the
followed sources. The following itself is `agent.engine.following`.

A source is checked before anything is stored: a path that does not exist, is not SQLite,
or has no ReverbCode `notifications` table is refused in one line (exit 2), and neither our
database nor the path is created.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Literal

from traycourier.agent.engine import reverbcode
from traycourier.agent.engine.following import KINDS
from traycourier.agent.policy.wording import local_time
from traycourier.agent.system import paths
from traycourier.store import Database, InvalidInput, sources, timestamps
from traycourier.store.reverbcode import SourceUnavailable, check, default_path
from traycourier.store.sources import Source


def follow(
    db: Database,
    kind: str,
    location: str | None,
    now: datetime,
    priorities: dict[str, str] | None = None,
    session_url: str | None = None,
) -> tuple[Source, bool]:
    """Follow a source (again: a changed path or option, or a problem the user fixed);
    the source and whether it is new."""
    source = checked(kind, location, now, priorities, session_url)
    return source, sources.add(db, source)


def checked(
    kind: str,
    location: str | None,
    now: datetime,
    priorities: dict[str, str] | None = None,
    session_url: str | None = None,
) -> Source:
    """The source to store, once its file proved to be one (InvalidInput says why not)."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind of source {kind!r} (known: {', '.join(KINDS)})")
    path = (Path(location).expanduser() if location else default_path()).absolute()
    try:
        check(path)
    except SourceUnavailable as err:
        raise InvalidInput(f"{err}; nothing was added ({err.fix})") from None
    options = reverbcode.options(priorities, session_url)
    return Source(kind, kind, str(path), options.as_json(), timestamps.fmt(now))


def unfollow(db: Database, name: str) -> None:
    if not sources.remove(db, name):
        raise InvalidInput(f"no source named {name!r} (see `traycourier source list`)")


def describe(source: Source) -> str:
    """One line: what is followed, and how it goes."""
    state = "following" if source.problem is None else f"problem: {source.problem}"
    return f"{source.name}  {source.location}  {state}"


def tray_lines(db: Database) -> list[str]:
    """The sources as the tray menu's status section shows them."""
    return [
        f"{s.name}: {'following' if s.problem is None else 'not followed now (see doctor)'}"
        for s in sources.listed(db)
    ]


def doctor_lines(db: Database) -> list[tuple[str, Literal["ok", "warn"], str, str]]:
    """(name, level, detail, fix) for each source: the agent's last word on it, and a look
    at the file from here (the agent may not be running)."""
    found: list[tuple[str, Literal["ok", "warn"], str, str]] = []
    for source in sources.listed(db):
        name = f"source {source.name}"
        if source.problem is not None:
            since = local_time(source.problem_at) if source.problem_at else "?"
            what, _, fix = source.problem.partition(" — ")
            found.append((name, "warn", f"{source.location}: {what} (since {since})", fix))
            continue
        try:
            check(Path(source.location))
        except SourceUnavailable as err:
            found.append((name, "warn", str(err), err.fix))
            continue
        found.append((name, "ok", f"following {source.location} (read-only)", ""))
    return found


# -- the commands -------------------------------------------------------------------------


def _priorities(given: Sequence[str]) -> dict[str, str]:
    found = {}
    for text in given:
        kind, sep, priority = text.partition("=")
        if not sep:
            raise InvalidInput(f"--priority takes TYPE=PRIORITY, not {text!r}")
        found[kind.strip()] = priority.strip()
    return found


def _open(args: argparse.Namespace) -> Database:
    return Database.open(paths.database(args.db))


def cmd_source(args: argparse.Namespace) -> int:
    now = timestamps.utcnow()
    if args.action == "add":
        if not args.name:
            raise InvalidInput("usage: traycourier source add KIND [PATH]")
        # checked before the database is opened: a refused source creates nothing
        source = checked(args.name, args.path, now, _priorities(args.priority), args.session_url)
        with _open(args) as db:
            new = sources.add(db, source)
        print(f"{'following' if new else 'updated'} {source.name}: {source.location}")
        return 0
    if args.action == "remove":
        if not args.name or args.path:
            raise InvalidInput("usage: traycourier source remove NAME")
        with _open(args) as db:
            unfollow(db, args.name)
        print(f"no longer following {args.name} (what it brought stays in the history)")
        return 0
    if args.name or args.path:
        raise InvalidInput("usage: traycourier source list [--json]")
    with _open(args) as db:
        found = sources.listed(db)
    if args.json:
        print(json.dumps([asdict(s) for s in found], indent=2, sort_keys=True))
    else:
        for source in found:
            print(describe(source))
        if not found:
            print("no sources (add one: traycourier source add reverbcode)")
    return 0
