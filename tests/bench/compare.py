"""Before and after: the same benchmark functions on two checkouts, rounds interleaved, so a
change is judged against the code it changed, on the same machine in the same minutes.

    .venv/bin/python -m tests.bench.compare /path/to/old-checkout [--rounds 3]

The old checkout needs its own `.venv` (`make setup` there). Figures: commit -> notifier
(recording notifier) and commit -> dunst received the Notify call, p50 / p99; the drain of
10 000 notifications; idle RSS of the headless and the tray agent. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
from tests.bench import latency, memory, throughput
lat = latency.measure(60, 5.0, ["agent", "agent_dunst"], 1)
drain = throughput.measure([10000], 1, 0)
mem = memory.measure(1, 5.0, 5.0)
print("RESULT " + json.dumps({
    "latency": {r["mode"]: {"p50": r["p50_ms"]["median"], "p99": r["p99_ms"]["median"]}
                for r in lat["rows"]},
    "drain_per_s": next(r["per_s"]["median"] for r in drain["rows"] if r["variant"] == "agent"),
    "rss_mib": {r["case"]: r["peak_rss_mib"]["median"] for r in mem["rows"]
                if "agent" in r["case"]},
}))
"""


def one_round(tree: Path) -> dict[str, object]:
    done = subprocess.run(
        [str(tree / ".venv" / "bin" / "python"), "-c", PROBE],
        cwd=tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])  # type: ignore[no-any-return]


def medians(results: list[dict[str, object]]) -> dict[str, object]:
    """The median of every leaf over the rounds."""
    first = results[0]
    out: dict[str, object] = {}
    for key, value in first.items():
        if isinstance(value, dict):
            out[key] = medians([r[key] for r in results])  # type: ignore[misc]
        else:
            out[key] = round(statistics.median(float(r[key]) for r in results), 1)  # type: ignore[arg-type]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, object]]] = {"before": [], "after": []}
    for n in range(args.rounds):
        for name, tree in (("before", args.old), ("after", ROOT)):
            print(f"compare: round {n + 1}, {name}", file=sys.stderr)
            runs[name].append(one_round(tree))
    print(json.dumps({name: medians(found) for name, found in runs.items()}, indent=1))


if __name__ == "__main__":
    main()
