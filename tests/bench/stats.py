"""Small helpers shared by the benchmarks: summaries, percentiles, and /proc readings."""

from __future__ import annotations

import os
import statistics
from pathlib import Path


def summary(values: list[float], digits: int = 3) -> dict[str, float]:
    """Median with min and max: the machines are shared and noisy, so one number is not enough."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def load() -> float:
    return os.getloadavg()[0]


def fmt(cell: dict[str, float] | None, unit: str = "") -> str:
    if cell is None:
        return "—"
    return f"{cell['median']:g}{unit} ({cell['min']:g}–{cell['max']:g})"
