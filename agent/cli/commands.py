"""What each `traycourier` command does once its arguments are parsed (agent/cli/main.py): call
one function of `agent.engine.controls`, `agent.cli.process` or the store, and print the result."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from traycourier.agent.engine import controls, sources
from traycourier.agent.engine.presence import NO_DAEMON_CONSEQUENCE, STALE_AFTER
from traycourier.agent.policy import visibility
from traycourier.agent.policy.wording import (
    deliveries_table,
    describe_mute,
    describe_settings,
    describe_skips,
    local_time,
    shown_value,
    story_lines,
)
from traycourier.agent.system import device, paths
from traycourier.store import (
    Database,
    DatabaseUnavailable,
    InvalidInput,
    mutes,
    queries,
    read_settings,
    timestamps,
)
from traycourier.store import devices as store_devices
from traycourier.store import settings as store_settings
from traycourier.store import sources as store_sources
from traycourier.store.model import Code


@contextlib.contextmanager
def database(args: argparse.Namespace, *, reading: bool = False) -> Iterator[Database]:
    """The database `--db` names. `reading`: a command that only looks (`status`,
    `deliveries`, `settings get`, `doctor`) refuses a `--db` whose folder does not exist,
    where opening would create it and a fresh database and report on that: a typo. The
    default path is created as before (the first command of a new user)."""
    with Database.open(target(args, reading=reading)) as db:
        yield db


def target(args: argparse.Namespace, *, reading: bool = False) -> paths.Target:
    found = paths.database(args.db)
    if reading and args.db and isinstance(found, Path) and not found.parent.is_dir():
        raise InvalidInput(
            f"no database at {found}: the folder {found.parent} does not exist (check --db)"
        )
    return found


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def cmd_status(args: argparse.Namespace) -> int:
    with database(args, reading=True) as db:
        now = timestamps.utcnow()
        current = read_settings(db)
        me = device.this_device(db)
        mine = None if args.all_devices else me.id
        state = queries.status(db, now, STALE_AFTER, device=mine)
        version = db.schema_version()
        followed = store_sources.listed(db)
        muted = mutes.active(db, now)
        held = visibility.holding(visibility.Moment.at(current, now, muted))
    running, gone = device.still_running(state.live_agents)
    state = replace(state, live_agents=tuple(running))
    if args.json:
        _print_json(
            {
                "database": db.location,
                "device": me.id if mine is not None else None,
                "schema_version": version,
                "settings": asdict(current),
                "paused": current.is_paused(now),
                "held": None
                if held is None
                else {
                    "by": held.code,
                    "until": timestamps.fmt(held.until) if held.until else None,
                },
                "deliveries": state.counts,
                "unrouted": state.unrouted,
                "last_delivered_at": state.last_delivered_at,
                "agents": [asdict(a) for a in state.live_agents],
                "dead_agents": [asdict(a) for a in gone],
                "last_errors": [asdict(e) for e in state.last_errors],
                "skip_reasons": state.skip_reasons,
                "sources": [asdict(s) for s in followed],
                "mutes": [asdict(m) for m in muted.values()],
            }
        )
        return 0
    print(f"database    {db.location} (schema {version})")
    print(f"settings    {describe_settings(current, now)}")
    whose = f" (device {me.name})" if mine else (" (every device)" if db.is_server else "")
    print(f"deliveries{whose}  " + " · ".join(f"{k} {v}" for k, v in state.counts.items()))
    print(f"unrouted    {state.unrouted}")
    if held is not None:
        until = local_time(timestamps.fmt(held.until)) if held.until else "?"
        what = (
            "paused"
            if held.code == Code.PAUSED
            else f"quiet hours ({current.quiet_breakthrough} and above still shown)"
        )
        print(f"held        what waits: {what} until {until}")
    last = state.last_delivered_at
    print(f"last sent   {local_time(last) if last else 'never'}")
    if state.live_agents:
        for agent in state.live_agents:
            print(
                f"agent       {agent.owner} pid {agent.pid} on {agent.host} ({agent.mode}, "
                f"notifier {agent.notifier or 'unknown'}, "
                f"heartbeat {local_time(agent.heartbeat_at)})"
            )
    else:
        print("agent       none running")
    for agent in gone:
        print(
            f"dead        {agent.owner} pid {agent.pid}: its process ended without stopping "
            f"(killed?); last heartbeat {local_time(agent.heartbeat_at)}"
        )
    if state.skip_reasons:
        print("not shown   " + describe_skips(state.skip_reasons))
    for agent in state.live_agents:
        if agent.notifier_problem:
            print(f"notifier    {agent.owner}: {agent.notifier_problem}; {NO_DAEMON_CONSEQUENCE}")
    for source in followed:
        print(f"source      {sources.describe(source)}")
    for mute in muted.values():
        print(f"muted       {describe_mute(mute).removeprefix('muted ')}")
    for err in state.last_errors:
        print(f"error       {err.notification_id} [{err.last_error_code}] {err.last_error}")
    for agent in state.live_agents:
        if agent.last_error:
            at = local_time(agent.last_error_at) if agent.last_error_at else "?"
            print(f"internal    {agent.owner} at {at}: {agent.last_error}")
    return 0


def cmd_deliveries(args: argparse.Namespace) -> int:
    with database(args, reading=True) as db:
        rows = queries.list_deliveries(db, status=args.status, limit=args.limit, source=args.source)
    table = deliveries_table(rows) if rows else ["no deliveries"]
    return _report(args, [asdict(r) for r in rows], table)


def cmd_show(args: argparse.Namespace) -> int:
    from traycourier.store.story import story

    with database(args, reading=True) as db:
        found = story(db, args.id)
    if found is None:
        raise InvalidInput(f"no notification {args.id!r} (ids are what `send` printed)")
    return _report(args, asdict(found), story_lines(found))


def _report(args: argparse.Namespace, value: Any, lines: list[str]) -> int:
    """`--json`: the value as JSON; else the lines, as a user reads them."""
    if args.json:
        _print_json(value)
    else:
        print("\n".join(lines))
    return 0


def cmd_settings_get(args: argparse.Namespace) -> int:
    with database(args, reading=True) as db:
        current = asdict(read_settings(db))
    if args.key:
        print(shown_value(args.key, current[args.key]))
    else:
        for key, value in current.items():
            print(f"{key} = {shown_value(key, value)}")
    return 0


def cmd_settings_set(args: argparse.Namespace) -> int:
    value = store_settings.parse_text(args.key, args.value, timestamps.utcnow())
    with database(args) as db:
        stored = controls.set_setting(db, args.key, value, timestamps.utcnow())
    print(f"{args.key} = {shown_value(args.key, stored)}")
    return 0


def cmd_self_test(args: argparse.Namespace) -> int:
    from traycourier.agent.cli import doctor

    report = doctor.self_test()
    text = json.dumps(report, indent=2, sort_keys=True)
    if args.out:
        try:
            args.out.write_text(text + "\n", encoding="utf-8")
        except OSError as err:
            raise DatabaseUnavailable(f"cannot write {args.out}: {err.strerror}") from None
    else:
        print(text)
    return 0 if report["ok"] else 1


def cmd_autostart(args: argparse.Namespace) -> int:
    if args.action == "status":
        print(f"start at login: {'enabled' if controls.autostart_enabled() else 'disabled'}")
    else:
        enabled = args.action == "enable"
        where = controls.set_autostart(enabled, paths.database(args.db))
        print(f"start at login: {'enabled' if enabled else 'disabled'} ({where})")
    return 0


def cmd_retry_failed(args: argparse.Namespace) -> int:
    with database(args) as db:
        count = controls.retry_failed(db, timestamps.utcnow(), device.this_device(db).id)
    print(f"requeued {count} failed deliver{'y' if count == 1 else 'ies'}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from traycourier.agent.cli import doctor

    checks = doctor.run_checks(target(args, reading=True))
    broken = any(c.level == "fail" for c in checks)
    if args.json:
        _print_json({"ok": not broken, "checks": [asdict(c) for c in checks]})
    else:
        for c in checks:
            fix = f"  -> {c.fix}" if c.fix and c.level != "ok" else ""
            print(f"{c.level.upper():<5} {c.name:<20} {c.detail}{fix}")
    return 1 if broken else 0


def cmd_mute(args: argparse.Namespace) -> int:
    now = timestamps.utcnow()
    given = args.duration or args.until
    until = store_settings.parse_until(given, now) if given else None
    with database(args) as db:
        done = controls.mute(db, args.source, until, not args.except_urgent, now)
    print(describe_mute(done))
    return 0


def cmd_snooze(args: argparse.Namespace) -> int:
    now = timestamps.utcnow()
    until = store_settings.parse_until(args.until or args.duration, now)
    with database(args) as db:
        controls.snooze(db, args.id, until, now, device.this_device(db).id)
    print(f"{args.id}: shown again at {local_time(timestamps.fmt(until))}")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    if (args.action == "forget") != bool(args.name):  # `devices`, or `devices forget NAME`
        raise InvalidInput("usage: traycourier devices [--json] | devices forget NAME")
    now = timestamps.utcnow()
    with database(args) as db:
        if not db.is_server:
            if args.action:
                raise InvalidInput("a SQLite file serves one device, this machine")
            print("[]" if args.json else "a SQLite file serves one device, this machine")
            return 0
        if args.action == "forget":
            gone = store_devices.forget(db, args.name, now)
            print(f"forgot {gone} device{'s' if gone != 1 else ''} called {args.name}")
            return 0
        found, mine = store_devices.listing(db), device.this_device(db).id
    stale_before = timestamps.fmt(now - store_devices.STALE_AFTER)
    if args.json:
        _print_json([{**asdict(d), "this_machine": d.id == mine} for d in found])
        return 0
    for d in found:
        state = "stale, gets nothing new" if d.last_seen_at <= stale_before else "active"
        me = " · this machine" if d.id == mine else ""
        print(f"{d.name}  {d.id}  last seen {local_time(d.last_seen_at)} · {state}{me}")
    if not found:
        print("no devices yet (an agent registers its machine when it starts)")
    return 0


def cmd_unmute(args: argparse.Namespace) -> int:
    with database(args) as db:
        was = controls.unmute(db, args.source)
    print(f"{args.source}: {'unmuted' if was else 'was not muted'}")
    return 0


def cmd_mutes(args: argparse.Namespace) -> int:
    with database(args) as db:
        found = mutes.active(db, timestamps.utcnow())
    if args.json:
        _print_json([asdict(m) for m in found.values()])
    else:
        for m in found.values():
            print(describe_mute(m))
        if not found:
            print("no muted sources")
    return 0
