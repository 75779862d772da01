"""Starting, supervising and stopping one agent process: `traycourier run`.

The CLI parses the options and calls `run_agent`; this module owns the rest of the process's
life: the one-tray-per-database lock, choosing tray or headless, logging, signals, and a
clean shutdown that returns unshown leases.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from traycourier.agent import APP_NAME
from traycourier.agent.engine import clock
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.engine.popups import PopupActions
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig, default_owner
from traycourier.agent.notifiers import backends
from traycourier.agent.notifiers.notifier import Notifier, NotifyError, OsNotification, show_within
from traycourier.agent.system import device, logs, ostype, paths, signals
from traycourier.store import Database, DatabaseBusy, InvalidInput, private, shown_target

if TYPE_CHECKING:
    from filelock import BaseFileLock

    from traycourier.agent.web.window import Window

log = logging.getLogger(__name__)
T = TypeVar("T")


class AlreadyRunning(Exception):
    """Another tray agent holds this database: one line, exit 1."""


@dataclass(frozen=True)
class RunOptions:
    db: paths.Target
    headless: bool = False
    once: bool = False
    owner: str | None = None
    notifier: str = "plyer"
    notify_timeout_s: float = 10.0
    lease_ttl_s: float = 30.0
    debug: bool = False


def single_instance(target: paths.Target) -> BaseFileLock:
    """One tray agent per database: a lock file beside it (for a server, in the cache
    folder), and the holder's pid for the message a second one prints. filelock is imported
    here, not at the top: it loads asyncio, half a MiB a headless agent never needs."""
    from filelock import FileLock, Timeout

    db_path = paths.lock_base(target)
    private.make_dirs(db_path.parent)
    lock = FileLock(str(db_path) + ".tray.lock")
    pid_file = Path(str(db_path) + ".tray.pid")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = pid_file.read_text().strip() if pid_file.exists() else "unknown"
        raise AlreadyRunning(
            f"a tray agent already runs for {shown(target)} (pid {holder}); "
            "use --headless for another agent"
        ) from None
    private.write_small(pid_file, str(os.getpid()))
    return lock


def shown(target: paths.Target) -> str:
    return shown_target(target) if isinstance(target, str) else str(target)


def run_agent(options: RunOptions) -> int:
    """Run until Quit, a signal, or (with `once`) one tick; returns the exit status."""
    try:
        notifier = backends.from_spec(options.notifier)
        config = RuntimeConfig(
            owner=options.owner or default_owner(),
            notify_timeout_s=options.notify_timeout_s,
            lease_ttl_s=options.lease_ttl_s,
            icon=str(paths.asset_path("traycourier.png")),
        )
    except ValueError as err:  # before anything starts: a bad option is one line
        raise InvalidInput(str(err)) from None
    headless, waiting = options.headless, False
    # The lock comes first: a second tray agent is refused before GTK is even loaded.
    lock = None if headless else single_instance(options.db)
    if not headless:
        from traycourier.agent.system import trayhost  # GTK stays out of a headless agent's memory

        reason = trayhost.unavailable_reason()
        if reason == trayhost.NO_HOST and not options.once:
            print(
                f"{APP_NAME}: no tray host yet; delivering without an icon until one appears",
                file=sys.stderr,
            )
            waiting = True
        elif reason:
            print(f"{APP_NAME}: running headless: {reason}", file=sys.stderr)
            headless = True
            assert lock is not None
            lock.release()
            lock = None
    config = replace(config, mode="headless" if headless else "tray")
    logs.setup(to_stderr=headless, debug=options.debug)
    if ostype.current() == "windows":  # before any window or icon exists
        from traycourier.agent.system import windesktop

        adopted = windesktop.adopt()
        log.info(
            "app identity %s: %s", windesktop.AUMID, "adopted" if adopted else "not registered"
        )
    db = when_free(lambda: Database.open(options.db))
    me = when_free(lambda: device.this_device(db))
    config = replace(config, device=me.id, device_name=me.name)
    check = db.quick_check()
    if check != "ok":
        log.error("quick_check of %s: %s", db.location, check)
    agent = Runtime(db, notifier, config, clock=clock.for_database(db))
    agent.rounds.popups = popups = PopupActions(
        db, notifier, config.owner, (me.id, me.name), agent.clock, tell_by(notifier)
    )
    if not notifier.available:
        log.error("%s; deliveries will fail until it is fixed", notifier.describe())
    waker = db.listen()
    status = 0
    try:
        when_free(agent.start)
        if not options.once:
            notifier.listen(popups)
        if options.once:
            log.info("tick: %s", agent.tick())
        elif headless:
            _run_headless(AgentLoop(agent, waker), tell_by(notifier))
        elif not waiting or _headless_until_a_host_appears(AgentLoop(agent, waker)):
            from traycourier.agent.tray import app as tray

            status = tray.TrayApp(db, AgentLoop(agent, waker)).run()
    finally:
        notifier.stop_listening()
        agent.close()
        waker.close()
        db.close()
        if lock is not None:
            lock.release()
    if not headless and not options.once:  # headless, the log on stderr said it already
        print(f"{APP_NAME}: stopped", file=sys.stderr)
    return status


def tell_by(notifier: Notifier) -> Callable[[str, str], None]:
    """How the agent tells the user something (a link that would not open, an answer that
    came second): a plain notification, and the log."""

    def tell(title: str, body: str) -> None:
        log.warning("%s: %s", title, body)
        try:
            show_within(notifier, OsNotification(title, body, "info"), 10.0)
        except NotifyError as err:
            log.warning("could not tell the user: %s", err)

    return tell


def when_free(step: Callable[[], T], pauses: Iterable[float] = (1, 2, 4, 8, 15, 30)) -> T:
    """Run a start-up step, waiting while another process holds the database's write lock
    past the busy timeout (a producer's long transaction at login): an agent started then
    waits and says so once, instead of exiting. Anything else is raised at once."""
    waits = iter(pauses)
    pause = 0.0
    while True:
        try:
            return step()
        except DatabaseBusy as err:
            pause = next(waits, pause)
            if pause == 1:
                log.warning("%s; waiting for it to be free", err)
            time.sleep(pause)


def _run_headless(loop: AgentLoop, tell: Callable[[str, str], None]) -> None:
    """Without a tray the history window is still served when asked for (`history --open`)."""
    from traycourier.agent.web.demand import WindowOnDemand

    runtime = loop.runtime

    def complain(why: str) -> None:
        tell(APP_NAME, why)

    def make() -> Window:
        from traycourier.agent.web.window import Window

        return Window(runtime.db, runtime.config, loop.waker.poke, tell, complain)

    window = WindowOnDemand(make)
    loop.on_tick = window.ticked
    _stop_on_signals(loop)
    try:
        loop.run()
    finally:
        window.stop()


def _stop_on_signals(loop: AgentLoop) -> None:
    def request_stop(signum: int) -> None:
        log.info("signal %d: stopping", signum)
        loop.runtime.stop.set()
        loop.waker.poke()

    signals.on_stopping_signals(request_stop)


HOST_POLL_S = 1.0


def _headless_until_a_host_appears(loop: AgentLoop) -> bool:
    """Deliver without an icon, looking for a tray host every second; True once one is
    there (the caller then starts the tray), False if the agent was stopped first."""
    from traycourier.agent.system import trayhost

    _stop_on_signals(loop)
    worker = threading.Thread(target=loop.run, name="runtime", daemon=True)
    worker.start()
    stop = loop.runtime.stop
    while not stop.wait(HOST_POLL_S):
        if trayhost.unavailable_reason() is None:
            log.info("a tray host appeared; showing the icon")
            break
    loop.leave()
    worker.join()
    return not stop.is_set()


def restore_child_environment() -> None:
    """A PyInstaller bundle points LD_LIBRARY_PATH at its own libraries; programs we start
    (xdg-open, notify-send) must get the environment they would have had without it."""
    if not ostype.is_frozen():
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


def cmd_run(args: argparse.Namespace) -> int:
    return run_agent(
        RunOptions(
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
