"""Run every benchmark and write `results.json` and `results.md` (default: bench-results/).

    .venv/bin/python -m tests.bench            # the full run (about 15 minutes)
    .venv/bin/python -m tests.bench --quick    # seconds-long smoke run; figures are printed only

Each figure is a median (min-max) over rounds; every comparison is a ratio measured in the
same run with the variants' rounds interleaved.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.bench import (
    click,
    contention,
    history_window,
    latency,
    memory,
    postgres,
    scale,
    stats,
    throughput,
)
from traycourier.agent import __version__

FULL = {
    "latency": {"count": 200, "idle_s": 30.0, "rounds": 1},
    "throughput": {"sizes": [10_000, 100_000], "rounds": 3, "peer_limit": 10_000},
    "memory": {"rounds": 3, "settle_s": 5.0, "tray_idle_s": 30.0},
    "scale": {"small": 100_000, "large": 1_000_000, "repeat": 7},
    "contention": {"seconds": 10.0, "rounds": 3},
    "postgres": {
        "count": 200,
        "sizes": [10_000],
        "rounds": 3,
        "devices": [1, 2, 4],
        "device_backlog": 2_000,
    },
    "click": {"count": 20},
    "history_window": {"sizes": [100, 100_000, 1_000_000], "rounds": 3},
}
QUICK = {
    "latency": {"count": 20, "idle_s": 2.0, "rounds": 1},
    "throughput": {"sizes": [2_000], "rounds": 1, "peer_limit": 2_000},
    "memory": {"rounds": 1, "settle_s": 3.0, "tray_idle_s": 2.0},
    "scale": {"small": 1_000, "large": 10_000, "repeat": 3},
    "contention": {"seconds": 2.0, "rounds": 1},
    "postgres": {
        "count": 20,
        "sizes": [1_000],
        "rounds": 1,
        "devices": [1, 2],
        "device_backlog": 200,
    },
    "click": {"count": 3},
    "history_window": {"sizes": [100, 2_000], "rounds": 1},
}


def run(config: dict[str, dict[str, object]]) -> dict[str, object]:
    results: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        "version": __version__,
        "config": config,
    }
    steps = {
        "latency": lambda c: latency.measure(
            int(c["count"]),
            float(c["idle_s"]),
            ["agent", "agent_pr", "agent_reverbcode", "poll_1s", "agent_dunst"],
            int(c["rounds"]),
        ),
        "throughput": lambda c: throughput.measure(
            list(c["sizes"]), int(c["rounds"]), int(c["peer_limit"])
        ),
        "memory": lambda c: memory.measure(
            int(c["rounds"]), float(c["settle_s"]), float(c["tray_idle_s"])
        ),
        "scale": lambda c: scale.measure(int(c["small"]), int(c["large"]), int(c["repeat"])),
        "contention": lambda c: contention.measure(float(c["seconds"]), rounds=int(c["rounds"])),
        "postgres": lambda c: postgres.measure(
            int(c["count"]),
            list(c["sizes"]),
            int(c["rounds"]),
            list(c["devices"]),
            int(c["device_backlog"]),
        ),
        "click": lambda c: click.measure(int(c["count"])),
        "history_window": lambda c: history_window.measure(list(c["sizes"]), int(c["rounds"])),
    }
    for name, step in steps.items():
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        results[name] = step(config[name])
    return results


def markdown(r: dict) -> str:  # type: ignore[type-arg]
    lines = [
        f"Benchmarks of traycourier {r['version']}, {r['date']}; {r['machine']}.",
        "",
        "**Latency** (commit by another process -> notifier called / daemon reached) and idle CPU",
        "",
        "| consumer | samples | p50 ms | p99 ms | max ms | idle CPU % |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["latency"]["rows"]:
        lines.append(
            f"| {row['mode']} | {row['samples']} | {stats.fmt(row['p50_ms'])} | "
            f"{stats.fmt(row['p99_ms'])} | {stats.fmt(row['max_ms'])} | "
            f"{stats.fmt(row['idle_cpu_pct'])} |"
        )
    lines += [
        "",
        "**Backlog drain** (route + claim + mark, no-op notifier), deliveries/s and ratios in "
        "the same rounds",
        "",
        "| variant | backlog | per s | x raw batched | x raw per-row |",
        "|---|---|---|---|---|",
    ]
    for row in r["throughput"]["rows"]:
        lines.append(
            f"| {row['variant']} | {row['n']:,} | {stats.fmt(row['per_s'])} | "
            f"{stats.fmt(row.get('x_raw_batch100'))} | {stats.fmt(row.get('x_raw_per_row'))} |"
        )
    lines += ["", "**Memory** (peak RSS, MiB)", "", "| case | MiB |", "|---|---|"]
    for row in r["memory"]["rows"]:
        lines.append(f"| {row['case']} | {stats.fmt(row['peak_rss_mib'])} |")
    lines.append(
        f"| tray agent (GTK) idle CPU % over {r['memory']['tray_idle_s']:g} s | "
        f"{stats.fmt(r['memory']['tray_idle_cpu_pct'])} |"
    )
    lines.append(
        f"| tray agent (StatusNotifier item) idle CPU % over {r['memory']['tray_idle_s']:g} s | "
        f"{stats.fmt(r['memory']['sni_idle_cpu_pct'])} |"
    )
    lines += [
        "",
        "**What the tray agent's memory is made of** (MiB)",
        "",
        "| part | MiB |",
        "|---|---|",
    ]
    for row in r["memory"]["tray_parts"]:
        lines.append(f"| {row['part']} | {stats.fmt(row['mib'])} |")
    s = r["scale"]
    lines += [
        "",
        f"**Scale**: one tick, {s['small']:,} vs {s['large']:,} notifications of history (ms)",
        "",
        "| new notifications | small | large | large / small |",
        "|---|---|---|---|",
    ]
    for row in s["rows"]:
        lines.append(
            f"| {row['backlog']} | {stats.fmt(row['small_ms'])} | {stats.fmt(row['large_ms'])} | "
            f"{row['large_over_small']} |"
        )
    c = r["contention"]
    lines += [
        "",
        f"**Contention**: {c['producers']} producers as fast as they can for {c['seconds']:g} s, "
        f"{c['agents']} agents draining: {c['produced_per_s']} produced/s, "
        f"{c['delivered_per_s']} delivered/s; producer commit p99 / worst "
        f"{c['p99_commit_ms']} / {c['worst_commit_ms']} ms, the producers alone in the same "
        f"rounds {c['alone_p99_commit_ms']} / {c['alone_worst_commit_ms']} ms "
        f"(median of {c['rounds']} rounds).",
    ]
    p = r["postgres"]
    lines += [
        "",
        "**PostgreSQL** (a local server, loopback), in the same run as the SQLite figures",
        "",
        "| commit -> notifier | samples | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for row in p["latency"]:
        lines.append(
            f"| {row['mode']} | {row['samples']} | {row['p50_ms']:g} | {row['p99_ms']:g} |"
        )
    lines += ["", "| drain | backlog | per s | x raw psycopg |", "|---|---|---|---|"]
    for row in p["drain"]:
        lines.append(
            f"| {row['variant']} | {row['n']:,} | {stats.fmt(row['per_s'])} | "
            f"{stats.fmt(row.get('x_raw'))} |"
        )
    lines += ["", "| devices (one agent each) | backlog | deliveries/s |", "|---|---|---|"]
    for row in p["devices"]:
        lines.append(
            f"| {row['devices']} | {row['backlog']:,} | {stats.fmt(row['deliveries_per_s'])} |"
        )
    k = r["click"]
    lines += [
        "",
        f"**Click -> browser started** (dunst, {k['samples']} clicks): p50 {k['p50_ms']} ms, "
        f"p99 {k['p99_ms']} ms; xdg-open alone in the same session p50 {k['xdg_open_p50_ms']} "
        f"ms, p99 {k['xdg_open_p99_ms']} ms.",
    ]
    h = r["history_window"]
    lines += [
        "",
        f"**History window** (first page, {h['rounds']} rounds interleaved; chromium headless)",
        "",
        "| history | first byte ms | list shown ms | agent RSS MiB: never opened / open / closed |",
        "|---|---|---|---|",
    ]
    for row in h["rows"]:
        lines.append(
            f"| {row['history']:,} | {stats.fmt(row['first_byte_ms'])} | "
            f"{stats.fmt(row['rendered_ms'])} | {row['rss_idle_mib']} / {row['rss_open_mib']} / "
            f"{row['rss_closed_mib']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    results = run(QUICK if args.quick else FULL)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    table = markdown(results)
    (args.out / "results.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
