"""The `traycourier` command. Every command is a thin wrapper over `store` and
`agent.controls`, the same functions the tray menu calls."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

from agent import APP_NAME, __version__, controls, logs, paths
from agent.notifier import (
    Notifier,
    NullNotifier,
    PlyerNotifier,
    RecordingNotifier,
    default_notifier,
)
from agent.wakeup import Waker
from store import (
    Action,
    Database,
    InvalidInput,
    StoreError,
    enqueue,
    queries,
    schema,
    timestamps,
)
from store import settings as store_settings

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
    send.add_argument("--priority", choices=schema.PRIORITIES, default="info")
    send.add_argument("--dedupe-key", default=None)
    send.add_argument("--source", default="cli")
    send.add_argument("--kind", default="")
    send.add_argument("--action", type=_action, action="append", default=[], metavar="LABEL=URL")
    send.set_defaults(func=cmd_send)

    status = sub.add_parser("status", help="settings, delivery counts, agents, last errors")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    dels = sub.add_parser("deliveries", help="list deliveries, newest first")
    dels.add_argument("--status", choices=schema.DELIVERY_STATUSES)
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
        metavar="plyer|record:PATH|null",
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
    get.add_argument("key", nargs="?", choices=list(store_settings.DEFAULTS))
    get.set_defaults(func=cmd_settings_get)
    put = sets_sub.add_parser("set", help="change a setting")
    put.add_argument("key", choices=list(store_settings.DEFAULTS))
    put.add_argument("value")
    put.set_defaults(func=cmd_settings_set)
    return parser


def _open(args: argparse.Namespace) -> Database:
    return Database.open(args.db or paths.default_db_path())


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def cmd_send(args: argparse.Namespace) -> int:
    db = _open(args)
    try:
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
    finally:
        db.close()
    print(result.id)
    return 0


def _settings_dict(current: store_settings.Settings) -> dict[str, Any]:
    return asdict(current)


def cmd_status(args: argparse.Namespace) -> int:
    db = _open(args)
    try:
        now = timestamps.utcnow()
        current = store_settings.read_settings(db)
        state = queries.status(db, now)
        version = db.schema_version()
    finally:
        db.close()
    if args.json:
        _print_json(
            {
                "database": str(db.path),
                "schema_version": version,
                "settings": _settings_dict(current),
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
    return 0


def describe_settings(current: store_settings.Settings, now: Any) -> str:
    parts = ["enabled" if current.enable_notifications else "switched off"]
    parts.append(f"min priority {current.min_priority}")
    parts.append(f"paused until {current.paused_until}" if current.is_paused(now) else "not paused")
    parts.append(f"max age {current.max_age_seconds} s")
    parts.append(f"burst limit {current.burst_limit}")
    return ", ".join(parts)


def cmd_deliveries(args: argparse.Namespace) -> int:
    db = _open(args)
    try:
        rows = queries.list_deliveries(db, status=args.status, limit=args.limit)
    finally:
        db.close()
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
    db = _open(args)
    try:
        current = _settings_dict(store_settings.read_settings(db))
    finally:
        db.close()
    if args.key:
        print(json.dumps(current[args.key]))
    else:
        for key, value in current.items():
            print(f"{key} = {json.dumps(value)}")
    return 0


def cmd_settings_set(args: argparse.Namespace) -> int:
    value = store_settings.parse_text(args.key, args.value, timestamps.utcnow())
    db = _open(args)
    try:
        stored = store_settings.write_setting(db, args.key, value, timestamps.utcnow())
    finally:
        db.close()
    print(f"{args.key} = {json.dumps(stored)}")
    return 0


def make_notifier(spec: str) -> Notifier:
    if spec == "plyer":
        return default_notifier()
    if spec == "null":
        return NullNotifier()
    if spec.startswith("record:") and len(spec) > len("record:"):
        target, _, delay = spec.removeprefix("record:").partition(",delay=")
        try:
            return RecordingNotifier(Path(target), delay_s=float(delay or 0))
        except ValueError:
            pass
    raise UsageError(f"--notifier takes plyer, null or record:PATH[,delay=S], not {spec!r}")


def _single_instance(db_path: Path) -> Any:
    """One tray agent per database: a lock file beside it, and the holder's pid for the message."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(db_path) + ".tray.lock")
    pid_file = Path(str(db_path) + ".tray.pid")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = pid_file.read_text().strip() if pid_file.exists() else "unknown"
        raise AlreadyRunning(
            f"a tray agent already runs for {db_path} (pid {holder}); "
            "use --headless for another agent"
        ) from None
    pid_file.write_text(str(os.getpid()))
    return lock


class AlreadyRunning(Exception):
    pass


def cmd_run(args: argparse.Namespace) -> int:
    from agent import runtime

    notifier = make_notifier(args.notifier)
    db_path = (args.db or paths.default_db_path()).expanduser().absolute()
    headless = args.headless
    # The lock comes first: a second tray agent is refused before GTK is even loaded.
    lock = None if headless else _single_instance_checked(db_path)
    if not headless:
        from agent import tray  # GTK and Pillow stay out of a headless agent's memory

        reason = tray.unavailable_reason()
        if reason:
            print(f"{APP_NAME}: running headless: {reason}", file=sys.stderr)
            headless = True
            lock.release()
            lock = None
    try:
        config = runtime.RuntimeConfig(
            owner=args.owner or runtime.default_owner(),
            notify_timeout_s=args.notify_timeout,
            lease_ttl_s=args.lease_ttl,
            mode="headless" if headless else "tray",
            icon=str(paths.asset_path("traycourier.png")),
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    logs.setup(to_stderr=headless, debug=args.debug)
    db = Database.open(db_path)
    agent = runtime.Runtime(db, notifier, config)
    if isinstance(notifier, PlyerNotifier) and not notifier.available:
        log.error("%s; deliveries will fail until it is fixed", notifier.describe())
    waker = Waker(db.path)
    try:
        agent.start()
        if args.once:
            log.info("tick: %s", agent.tick())
        elif headless:
            _run_headless(agent, waker)
        else:
            from agent import tray

            tray.TrayApp(db, agent, waker).run()
    finally:
        agent.close()
        waker.close()
        db.close()
        if lock is not None:
            lock.release()
    return 0


def _single_instance_checked(db_path: Path) -> Any:
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return _single_instance(db_path)


def _run_headless(agent: Any, waker: Waker) -> None:
    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        agent.stop.set()
        waker.poke()

    for sig in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, request_stop)
    agent.run(waker)


def cmd_self_test(args: argparse.Namespace) -> int:
    from agent import doctor

    report = doctor.self_test()
    text = json.dumps(report, indent=2, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0 if report["ok"] else 1


def cmd_autostart(args: argparse.Namespace) -> int:
    from agent import autostart

    if args.action == "enable":
        print(f"start at login: enabled ({autostart.enable()})")
    elif args.action == "disable":
        print(f"start at login: disabled ({autostart.disable()})")
    else:
        print(f"start at login: {'enabled' if autostart.is_enabled() else 'disabled'}")
    return 0


def cmd_retry_failed(args: argparse.Namespace) -> int:
    db = _open(args)
    try:
        count = controls.retry_failed(db, timestamps.utcnow())
    finally:
        db.close()
    print(f"requeued {count} failed deliver{'y' if count == 1 else 'ies'}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from agent import doctor

    checks = doctor.run_checks(args.db or paths.default_db_path())
    broken = any(c.level == "fail" for c in checks)
    if args.json:
        _print_json({"ok": not broken, "checks": [asdict(c) for c in checks]})
    else:
        for c in checks:
            fix = f"  -> {c.fix}" if c.fix and c.level != "ok" else ""
            print(f"{c.level.upper():<5} {c.name:<20} {c.detail}{fix}")
    return 1 if broken else 0


def _restore_child_environment() -> None:
    """A PyInstaller bundle points LD_LIBRARY_PATH at its own libraries; programs we start
    (xdg-open, notify-send) must get the environment they would have had without it."""
    if not getattr(sys, "frozen", False):
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


def main(argv: Sequence[str] | None = None) -> int:
    _restore_child_environment()
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
    except (StoreError, AlreadyRunning) as err:
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
