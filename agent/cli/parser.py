"""The `traycourier` command line as argparse sees it: every command, argument and option
with its help, examples where a command has several ways to be used, and refusals that say
in one line what was wrong and what was probably meant ("did you mean 'send'?")."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from traycourier.agent import APP_NAME, __version__
from traycourier.agent.cli.values import Parser, action, positive_int, progress, seconds
from traycourier.agent.notifiers.backends import SPEC_HELP
from traycourier.agent.system import paths
from traycourier.store import DEFAULTS
from traycourier.store.model import DELIVERY_STATUSES, PRIORITIES


def _global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """`--db` and `--debug`, accepted before or after the command: each subcommand knows
    them too, with a default that leaves the top level's value alone when not given."""
    parser.add_argument(
        "--db",
        default=default,
        metavar="FILE|URL",
        help=(
            "database: a SQLite file or a postgresql:// URL "
            f"(default: ${paths.DB_ENV} or {paths.standard_db_path()})"
        ),
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if default is None else default,
        help="show tracebacks and debug logs",
    )


JSON_HELP = "print JSON instead of text (times in UTC), for scripts"
UNTIL_HELP = "the next 08:00, or a local ISO time (2026-12-24T09:00)"
SINCE_HELP = "only those created since then: 30m, 2h, 3d ago, or a local date or time"
SEND_EXAMPLES = """examples:
  traycourier send "Backup done"
  traycourier send "Build failed" "3 tests failed in api/" --priority urgent --source ci
  traycourier send "PR #7 ready" --action "Open=https://github.com/acme/app/pull/7"
  traycourier send "Deploy to prod?" --action Approve --action Reject --wait --timeout 10m
  traycourier send "Copying" --source backup --tag copy --progress 40
"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=APP_NAME, description="Deliver notifications from a shared SQLite file.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    _global_options(parser, None)
    common = Parser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        parser_class=Parser,
        title="commands",
        help="`traycourier COMMAND --help` tells more",
    )
    command = functools.partial(sub.add_parser, parents=[common])

    send = command(
        "send",
        help="add a notification; prints its id",
        description="Add a notification for the agent to show; prints its id. One line on\n"
        "stderr says when it will not appear now (below the minimum, muted, off, paused,\n"
        "quiet hours, no agent running).",
        epilog=SEND_EXAMPLES,
    )
    send.add_argument("title", help="the headline (one line)")
    send.add_argument("message", nargs="?", default="", help="the body (optional)")
    send.add_argument(
        "--priority",
        type=str.lower,
        choices=PRIORITIES,
        default="info",
        help="urgent, action, warning or info (default: info); below the minimum priority "
        "setting it is recorded, not shown",
    )
    send.add_argument(
        "--dedupe-key",
        default=None,
        metavar="KEY",
        help="the same key twice gives one notification (a retried cron job)",
    )
    send.add_argument(
        "--source",
        default="",
        help="who sends it: leads the popup's title, and `mute` silences it (default: none)",
    )
    send.add_argument("--kind", default="", help="a word for what it is, kept for producers")
    send.add_argument(
        "--action",
        type=action,
        action="append",
        default=[],
        metavar="LABEL[=URL]",
        help="a button, repeatable: LABEL=URL opens the link; LABEL alone is an answer "
        "(see --wait)",
    )
    send.add_argument(
        "--tag",
        default=None,
        help="replaces the earlier one of this source and tag (waiting: never shown; on "
        "screen: updated)",
    )
    send.add_argument(
        "--progress", type=progress, default=None, metavar="0-100", help="draws a bar"
    )
    send.add_argument(
        "--wait", action="store_true", help="then wait, and print the answer when it comes"
    )
    send.add_argument(
        "--timeout",
        default=None,
        metavar="10m|2h",
        help="with --wait: give up after this long (exit 124)",
    )
    send.set_defaults(func=_later("send", "cmd_send"))

    waiting = command("wait", help="print the answer to a notification when it comes")
    waiting.add_argument("id", help="the notification's id (as `send` printed it)")
    waiting.add_argument(
        "--timeout", default=None, metavar="10m|2h", help="give up after this long (exit 124)"
    )
    waiting.set_defaults(func=_later("send", "cmd_wait"))

    status = command("status", help="settings, delivery counts, agents, last errors")
    status.add_argument("--json", action="store_true", help=JSON_HELP)
    status.add_argument(
        "--all-devices", action="store_true", help="on a server: every device's deliveries"
    )
    status.set_defaults(func=_later("commands", "cmd_status"))

    dels = command("deliveries", help="list deliveries, newest first")
    dels.add_argument("--status", choices=DELIVERY_STATUSES, help="only these")
    dels.add_argument(
        "--limit", type=positive_int, default=20, help="at most this many (default: 20)"
    )
    dels.add_argument("--source", default=None, help="only this source's")
    dels.add_argument("--json", action="store_true", help=JSON_HELP)
    dels.set_defaults(func=_later("commands", "cmd_deliveries"))

    show = command("show", help="everything about one notification: text, links, deliveries")
    show.add_argument("id", help="the notification's id (as `send` printed it)")
    show.add_argument("--json", action="store_true", help=JSON_HELP)
    show.set_defaults(func=_later("commands", "cmd_show"))
    _history(command)

    run = command("run", help="run the agent (tray icon, or --headless)")
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
        "--notify-timeout", type=seconds, default=10.0, metavar="S", help=argparse.SUPPRESS
    )
    run.add_argument("--lease-ttl", type=seconds, default=30.0, metavar="S", help=argparse.SUPPRESS)
    run.set_defaults(func=_later("process", "cmd_run"))

    retry = command("retry-failed", help="requeue failed deliveries")
    retry.set_defaults(func=_later("commands", "cmd_retry_failed"))

    doctor = command("doctor", help="check the database, notifier, daemon and tray")
    doctor.add_argument("--json", action="store_true", help=JSON_HELP)
    doctor.set_defaults(func=_later("commands", "cmd_doctor"))

    selftest = command(
        "self-test", help="prove this build works: notifier, tray backend, icon, database"
    )
    selftest.add_argument("--out", type=Path, help="write the JSON report here (windowed apps)")
    selftest.set_defaults(func=_later("commands", "cmd_self_test"))

    auto = command("autostart", help="start the tray agent at login")
    auto.add_argument("action", choices=["enable", "disable", "status"], help="what to do")
    auto.set_defaults(func=_later("commands", "cmd_autostart"))

    mute = command("mute", help="skip new notifications from a source for a while")
    mute.add_argument("source", help="the source, as `send --source` or the popup names it")
    how_long = mute.add_mutually_exclusive_group()
    how_long.add_argument(
        "--for", dest="duration", metavar="30m|2h|1d", help="for this long (default: until unmuted)"
    )
    how_long.add_argument("--until", metavar="TIME", help=UNTIL_HELP)
    mute.add_argument(
        "--except-urgent", action="store_true", help="still show its urgent notifications"
    )
    mute.set_defaults(func=_later("commands", "cmd_mute"))
    unmute = command("unmute", help="show a muted source's notifications again")
    unmute.add_argument("source", help="the muted source")
    unmute.set_defaults(func=_later("commands", "cmd_unmute"))
    listed = command("mutes", help="list the muted sources")
    listed.add_argument("--json", action="store_true", help=JSON_HELP)
    listed.set_defaults(func=_later("commands", "cmd_mutes"))

    snooze = command("snooze", help="show a notification that was shown again later")
    snooze.add_argument("id", help="the notification's id (as `send` printed it)")
    again = snooze.add_mutually_exclusive_group()
    again.add_argument(
        "--for",
        dest="duration",
        metavar="10m|1h",
        default="10m",
        help="in this long (default: 10m)",
    )
    again.add_argument("--until", metavar="TIME", help=UNTIL_HELP)
    snooze.set_defaults(func=_later("commands", "cmd_snooze"))

    devs = command("devices", help="the machines sharing a PostgreSQL server, or forget one")
    devs.add_argument("action", nargs="?", choices=["forget"], help="forget the device NAME")
    devs.add_argument("name", nargs="?", help="the device to forget")
    devs.add_argument("--json", action="store_true", help=JSON_HELP)
    devs.set_defaults(func=_later("commands", "cmd_devices"))

    _source(command)

    sets = command("settings", help="read or change settings")
    sets_sub = sets.add_subparsers(
        dest="settings_command", metavar="get|set", parser_class=Parser, help="read or change"
    )
    sets_sub.required = True
    setting = functools.partial(sets_sub.add_parser, parents=[common])
    get = setting("get", help="print one setting or all")
    get.add_argument("key", nargs="?", choices=list(DEFAULTS), help="one setting (default: all)")
    get.set_defaults(func=_later("commands", "cmd_settings_get"))
    put = setting("set", help="change a setting")
    put.add_argument("key", choices=list(DEFAULTS), help="the setting (docs/schema.md)")
    put.add_argument(
        "value",
        help="true/false, a priority, a number, 30m|2h|08:00|off (paused_until), "
        "22:00-07:00|off (quiet_hours)",
    )
    put.set_defaults(func=_later("commands", "cmd_settings_set"))
    return parser


def _history(command: Callable[..., argparse.ArgumentParser]) -> None:
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
        "--limit",
        type=positive_int,
        default=20,
        metavar="N",
        help="at most this many (default: 20)",
    )
    history.add_argument("--json", action="store_true", help=JSON_HELP)
    window = history.add_mutually_exclusive_group()
    window.add_argument(
        "--url", action="store_true", help="print the history window's address (the agent "
        "running on this database here serves it; exit 1 when none runs)",
    )  # fmt: skip
    window.add_argument(
        "--open", action="store_true", help="open the history window in the browser"
    )
    history.set_defaults(func=_later("history", "cmd_history"))


def _source(command: Callable[..., argparse.ArgumentParser]) -> None:
    parser = command(
        "source", help="follow another program's database (ReverbCode's ao.db), read-only"
    )
    parser.add_argument("action", choices=["add", "list", "remove"], help="what to do")
    parser.add_argument("name", nargs="?", help="add: the kind (reverbcode); remove: the name")
    parser.add_argument(
        "path", nargs="?", help="add: the file (default: $AO_DATA_DIR/ao.db or ~/.ao/data/ao.db)"
    )
    parser.add_argument(
        "--priority",
        action="append",
        default=[],
        metavar="TYPE=PRIORITY",
        help="add: e.g. pr_merged=warning (defaults: needs_input=urgent, ready_to_merge=action)",
    )
    parser.add_argument(
        "--session-url",
        default=None,
        metavar="URL",
        help="add: opened by a click on needs_input, e.g. http://localhost:3001/s/{session_id}",
    )
    parser.add_argument("--json", action="store_true", help="list: as JSON")
    parser.set_defaults(func=_later("sources", "cmd_source"))


def _later(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A command's function, imported when that command runs: `run`, up for days, never
    holds the other commands' code (about 1 MiB of a headless agent's memory)."""

    def run(args: argparse.Namespace) -> int:
        found: Callable[[argparse.Namespace], int] = getattr(_module(module), name)
        return found(args)

    return run


def _module(name: str) -> ModuleType:
    """Import statements, not names in strings: PyInstaller bundles what it sees imported."""
    if name == "process":
        from traycourier.agent.cli import process

        return process
    if name == "send":
        from traycourier.agent.cli import send

        return send
    if name == "history":
        from traycourier.agent.cli import history

        return history
    if name == "sources":
        from traycourier.agent.engine import sources

        return sources
    from traycourier.agent.cli import commands

    return commands
