"""`traycourier send` and `traycourier wait`: enqueue a notification, say why it will not
appear now (below the minimum, off, paused, quiet hours, muted, no notification daemon where
the agent runs), and wait for the user's answer."""

from __future__ import annotations

import argparse
import sys

from traycourier.agent import APP_NAME
from traycourier.agent.cli.commands import database
from traycourier.agent.engine.presence import NO_DAEMON_CONSEQUENCE, STALE_AFTER
from traycourier.agent.policy import visibility
from traycourier.agent.policy.visibility import Visibility
from traycourier.agent.policy.wording import send_notice
from traycourier.agent.system import device
from traycourier.store import InvalidInput, Settings, answers, enqueue, mutes, queries, timestamps
from traycourier.store import settings as store_settings
from traycourier.store.choices import Mute
from traycourier.store.rows import AgentRow


def cmd_send(args: argparse.Namespace) -> int:
    timeout = _wait_timeout(args)
    if args.wait and not any(a.answer is not None for a in args.action):
        raise InvalidInput("--wait needs an answer to wait for: --action LABEL (no =URL)")
    with database(args) as db:
        result = enqueue(
            db,
            args.title,
            args.message,
            priority=args.priority,
            source=args.source,
            kind=args.kind,
            actions=args.action,
            dedupe_key=args.dedupe_key,
            tag=args.tag,
            progress=args.progress,
        )
        now = timestamps.utcnow()
        muted = mutes.active(db, now)
        live, _gone = device.still_running(queries.live_agents(db, now, STALE_AFTER))
    print(result.id)
    notice = None
    if result.settings is not None:
        seen = fate(result.settings, muted, args.priority, args.source)
        notice = send_notice(seen, args.priority, args.source)
    if notice is None:
        notice = no_daemon_notice(live)
    if notice:
        print(f"{APP_NAME}: {notice}", file=sys.stderr)
    if args.wait:
        sys.stdout.flush()  # the id now, the answer when it comes
        return _wait(args, result.id, timeout)
    return 0


WAIT_DISMISSED = 3
WAIT_TIMEOUT = 124
"""`send --wait` and `wait`: 0 and the answer on stdout; a popup dismissed without an
answer, or no answer in time, end with these (124 as timeout(1) does)."""


def cmd_wait(args: argparse.Namespace) -> int:
    return _wait(args, args.id, _wait_timeout(args))


def _wait_timeout(args: argparse.Namespace) -> float | None:
    """`--timeout` (30s, 10m, 2h, or an ISO time) in seconds from now."""
    if getattr(args, "timeout", None) is None:
        return None
    if not getattr(args, "wait", True):
        raise InvalidInput("--timeout goes with --wait")
    now = timestamps.utcnow()
    return max((store_settings.parse_until(args.timeout, now) - now).total_seconds(), 0.0)


def _wait(args: argparse.Namespace, notification_id: str, timeout: float | None) -> int:
    with database(args) as db:
        state = answers.wait_for_answer(db, notification_id, timeout)
    if state is None:
        print(f"{APP_NAME}: no answer to {notification_id} within {args.timeout}", file=sys.stderr)
        return WAIT_TIMEOUT
    if state.answer is None:
        print(f"{APP_NAME}: {notification_id} was dismissed without an answer", file=sys.stderr)
        return WAIT_DISMISSED
    print(state.answer)
    return 0


def no_daemon_notice(live: list[AgentRow]) -> str | None:
    """When no agent runs for this database, or every running one lacks a notification
    daemon (a server, a container, ssh): judged by what the agents recorded, not by this
    command's own environment, which may be a cron job's with no session bus on a desktop
    that shows everything."""
    if not live:
        return NO_AGENT
    if any(agent.notifier_problem is None for agent in live):
        return None
    return f"not shown now: {live[0].notifier_problem}; {NO_DAEMON_CONSEQUENCE}"


NO_AGENT = (
    "queued: no traycourier agent is running for this database; it is shown when one "
    "starts (`traycourier run`, or log in where it starts with your desktop)"
)


def fate(current: Settings, muted: dict[str, Mute], priority: str, source: str) -> Visibility:
    """What routing will make of what was just sent (`agent.policy.visibility`), at this moment."""
    now = timestamps.utcnow()
    return visibility.judge(priority, source, now, visibility.Moment.at(current, now, muted))
