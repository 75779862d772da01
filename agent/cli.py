"""The `traycourier` command: parse the arguments, call one function, print the result.

Commands that change something call `agent.controls`, the functions the tray menu calls;
`run` hands over to `agent.process`. Errors become one line on stderr: exit 2 for bad input,
1 for a database or process problem, never a traceback (unless `--debug`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from traycourier.agent import APP_NAME, __version__, controls, paths, process
from traycourier.agent.backends import SPEC_HELP
from traycourier.agent.runtime import STALE_AFTER
from traycourier.store import (
    DEFAULTS,
    Action,
    Database,
    InvalidInput,
    Settings,
    StoreError,
    enqueue,
    queries,
    read_settings,
    timestamps,
)
from traycourier.store import settings as store_settings
from traycourier.store.model import DELIVERY_STATUSES, PRIORITIES

log = logging.getLogger(__name__)


class UsageError(Exception):
    """A bad argument: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + error
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _action(text: str) -> Action:
    label, sep, url = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"actions are LABEL=URL, got {text!r}")
    return Action(label=label.strip(), url=url.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=APP_NAME, description="Deliver notifications from a shared SQLite file.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help=f"database file (default: ${paths.DB_ENV} or {paths.default_db_path()})",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    send = sub.add_parser("send", help="enqueue a notification; prints its id")
    send.add_argument("title")
    send.add_argument("message", nargs="?", default="")
    send.add_argument("--priority", choices=PRIORITIES, default="info")
    send.add_argument("--dedupe-key", default=None)
    send.add_argument("--source", default="cli")
    send.add_argument("--kind", default="")
    send.add_argument("--action", type=_action, action="append", default=[], metavar="LABEL=URL")
    send.set_defaults(func=cmd_send)

    status = sub.add_parser("status", help="settings, delivery counts, agents, last errors")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    dels = sub.add_parser("deliveries", help="list deliveries, newest first")
    dels.add_argument("--status", choices=DELIVERY_STATUSES)
    dels.add_argument("--limit", type=_positive_int, default=20)
    dels.add_argument("--json", action="store_true")
    dels.set_defaults(func=cmd_deliveries)

    run = sub.add_parser("run", help="run the agent (tray icon, or --headless)")
    run.add_argument("--headless", action="store_true", help="no tray icon; log to stderr")
    run.add_argument("--once", action="store_true", help="run one tick, then exit")
    run.add_argument("--owner", default=None, help="lease owner name (default: host-pid)")
    run.add_argument(
        "--notifier",
        default="plyer",
        metavar=SPEC_HELP.replace(", ", "|").replace(" or ", "|"),
        help="where notifications go; record and null are for tests and benchmarks",
    )
    run.add_argument(
        "--notify-timeout", type=float, default=10.0, metavar="S", help=argparse.SUPPRESS
    )
    run.add_argument("--lease-ttl", type=float, default=30.0, metavar="S", help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)

    retry = sub.add_parser("retry-failed", help="requeue failed deliveries")
    retry.set_defaults(func=cmd_retry_failed)

    doctor = sub.add_parser("doctor", help="check the database, notifier, daemon and tray")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(func=cmd_doctor)

    selftest = sub.add_parser(
        "self-test", help="prove this build works: notifier, tray backend, icon, database"
    )
    selftest.add_argument("--out", type=Path, help="write the JSON report here (windowed apps)")
    selftest.set_defaults(func=cmd_self_test)

    auto = sub.add_parser("autostart", help="start the tray agent at login")
    auto.add_argument("action", choices=["enable", "disable", "status"])
    auto.set_defaults(func=cmd_autostart)

    sets = sub.add_parser("settings", help="read or change settings")
    sets_sub = sets.add_subparsers(dest="settings_command", metavar="get|set", parser_class=_Parser)
    sets_sub.required = True
    get = sets_sub.add_parser("get", help="print one setting or all")
    get.add_argument("key", nargs="?", choices=list(DEFAULTS))
    get.set_defaults(func=cmd_settings_get)
    put = sets_sub.add_parser("set", help="change a setting")
    put.add_argument("key", choices=list(DEFAULTS))
    put.add_argument("value")
    put.set_defaults(func=cmd_settings_set)
    return parser


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[Database]:
    db = Database.open(paths.database(args.db))
    try:
        yield db
    finally:
        db.close()


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def cmd_send(args: argparse.Namespace) -> int:
    with _database(args) as db:
        result = enqueue(
            db,
            args.title,
            args.message,
            priority=args.priority,
            source=args.source,
            kind=args.kind,
            actions=args.action,
            dedupe_key=args.dedupe_key,
        )
    print(result.id)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with _database(args) as db:
        now = timestamps.utcnow()
        current = read_settings(db)
        state = queries.status(db, now, STALE_AFTER)
        version = db.schema_version()
    if args.json:
        _print_json(
            {
                "database": str(db.path),
                "schema_version": version,
                "settings": asdict(current),
                "paused": current.is_paused(now),
                "deliveries": state.counts,
                "unrouted": state.unrouted,
                "last_delivered_at": state.last_delivered_at,
                "agents": [asdict(a) for a in state.live_agents],
                "last_errors": [asdict(e) for e in state.last_errors],
            }
        )
        return 0
    print(f"database    {db.path} (schema {version})")
    print(f"settings    {describe_settings(current, now)}")
    print("deliveries  " + " · ".join(f"{k} {v}" for k, v in state.counts.items()))
    print(f"unrouted    {state.unrouted}")
    print(f"last sent   {state.last_delivered_at or 'never'}")
    if state.live_agents:
        for agent in state.live_agents:
            print(
                f"agent       {agent.owner} pid {agent.pid} on {agent.host} ({agent.mode}, "
                f"notifier {agent.notifier or 'unknown'}, heartbeat {agent.heartbeat_at})"
            )
    else:
        print("agent       none running")
    for err in state.last_errors:
        print(f"error       {err.notification_id} [{err.last_error_code}] {err.last_error}")
    for agent in state.live_agents:
        if agent.last_error:
            print(f"internal    {agent.owner} at {agent.last_error_at}: {agent.last_error}")
    return 0


def describe_settings(current: Settings, now: datetime) -> str:
    parts = ["enabled" if current.enable_notifications else "switched off"]
    parts.append(f"min priority {current.min_priority}")
    parts.append(f"paused until {current.paused_until}" if current.is_paused(now) else "not paused")
    parts.append(f"max age {current.max_age_seconds} s")
    parts.append(f"burst limit {current.burst_limit}")
    return ", ".join(parts)


def cmd_deliveries(args: argparse.Namespace) -> int:
    with _database(args) as db:
        rows = queries.list_deliveries(db, status=args.status, limit=args.limit)
    if args.json:
        _print_json([asdict(r) for r in rows])
        return 0
    if not rows:
        print("no deliveries")
    for r in rows:
        error = f"  [{r.last_error_code}] {r.last_error}" if r.last_error_code else ""
        print(
            f"{r.id:>6}  {r.status:<10} {r.attempts}/{r.max_attempts}  {r.priority:<7} "
            f"{r.notification_id}  {r.title[:50]}{error}"
        )
    return 0


def cmd_settings_get(args: argparse.Namespace) -> int:
    with _database(args) as db:
        current = asdict(read_settings(db))
    if args.key:
        print(json.dumps(current[args.key]))
    else:
        for key, value in current.items():
            print(f"{key} = {json.dumps(value)}")
    return 0


def cmd_settings_set(args: argparse.Namespace) -> int:
    value = store_settings.parse_text(args.key, args.value, timestamps.utcnow())
    with _database(args) as db:
        stored = controls.set_setting(db, args.key, value, timestamps.utcnow())
    print(f"{args.key} = {json.dumps(stored)}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return process.run_agent(
        process.RunOptions(
            db=paths.database(args.db),
            headless=args.headless,
            once=args.once,
            owner=args.owner,
            notifier=args.notifier,
            notify_timeout_s=args.notify_timeout,
            lease_ttl_s=args.lease_ttl,
            debug=args.debug,
        )
    )


def cmd_self_test(args: argparse.Namespace) -> int:
    from traycourier.agent import doctor

    report = doctor.self_test()
    text = json.dumps(report, indent=2, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0 if report["ok"] else 1


def cmd_autostart(args: argparse.Namespace) -> int:
    if args.action == "status":
        print(f"start at login: {'enabled' if controls.autostart_enabled() else 'disabled'}")
    else:
        enabled = args.action == "enable"
        where = controls.set_autostart(enabled)
        print(f"start at login: {'enabled' if enabled else 'disabled'} ({where})")
    return 0


def cmd_retry_failed(args: argparse.Namespace) -> int:
    with _database(args) as db:
        count = controls.retry_failed(db, timestamps.utcnow())
    print(f"requeued {count} failed deliver{'y' if count == 1 else 'ies'}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from traycourier.agent import doctor

    checks = doctor.run_checks(paths.database(args.db))
    broken = any(c.level == "fail" for c in checks)
    if args.json:
        _print_json({"ok": not broken, "checks": [asdict(c) for c in checks]})
    else:
        for c in checks:
            fix = f"  -> {c.fix}" if c.fix and c.level != "ok" else ""
            print(f"{c.level.upper():<5} {c.name:<20} {c.detail}{fix}")
    return 1 if broken else 0


def main(argv: Sequence[str] | None = None) -> int:
    process.restore_child_environment()
    parser = build_parser()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = parser.parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.debug else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except UsageError as err:
        print(f"{APP_NAME}: error: {err}", file=sys.stderr)
        return 2
    except InvalidInput as err:
        print(f"{APP_NAME}: error: {err}", file=sys.stderr)
        return 2
    except (StoreError, process.AlreadyRunning) as err:
        print(f"{APP_NAME}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the last line of defence: never a traceback for a user
        if debug:
            raise
        print(
            f"{APP_NAME}: internal error: {err!r} (run with --debug for details)", file=sys.stderr
        )
        return 1
