"""What the tray shows, read from the database: the snapshot `agent.policy.tray_model` draws
the icon, tooltip and menu from."""

from __future__ import annotations

from traycourier.agent import __version__
from traycourier.agent.engine import controls, sources
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.policy import quiet, recent, tray_model
from traycourier.store import Database, history, mutes, queries, read_settings, timestamps


def load(db: Database, loop: AgentLoop) -> tray_model.TrayState:
    runtime = loop.runtime
    device = runtime.config.device
    summary = queries.tray_summary(db, device)
    newest = history.recent_notifications(db, tray_model.RECENT, device)
    pushed = history.pushed_out(db, tray_model.RECENT, tray_model.RECENT, device)
    settings = read_settings(db)
    now = timestamps.utcnow()
    hold = quiet.quiet_now(settings.quiet_window(), settings.quiet_weekdays_only, now)
    return tray_model.TrayState(
        settings=settings,
        quiet_until=hold.ends_at,
        mutes=tuple(mutes.active(db, now).values()),
        sources=tuple(sources.tray_lines(db)),
        pending=summary.pending,
        failed=summary.failed,
        last_delivered=timestamps.parse_or_none(summary.last_delivered_at),
        recent=recent.in_view(newest, pushed, tray_model.RECENT),
        autostart=controls.autostart_enabled(),
        notifier_broken=runtime.notifier.problem() is not None,
        agent_failing=loop.failing,
        version=__version__,
        db_path=db.location,
    )
