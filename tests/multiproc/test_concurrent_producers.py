"""Four producer processes and a status reader on one real file, all at once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from traycourier.store import Database

PRODUCERS = 4
PER_PRODUCER = 500


@pytest.mark.slow
@pytest.mark.parametrize("fresh_file", [False, True], ids=["existing-file", "fresh-file"])
def test_four_producers_and_a_reader_lose_nothing_and_never_see_locked(
    db_path: Path, fresh_file: bool
) -> None:
    if not fresh_file:
        Database.open(db_path).close()
    # with a fresh file the producers also race to create and migrate it
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    producers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.multiproc.producer_proc",
                str(db_path),
                f"p{i}",
                str(PER_PRODUCER),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PRODUCERS)
    ]
    reader_runs = []
    while any(p.poll() is None for p in producers):
        reader = subprocess.run(
            [sys.executable, "-m", "traycourier.agent", "--db", str(db_path), "status", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        reader_runs.append(reader)
        time.sleep(0.05)
    outputs = [p.communicate(timeout=120) for p in producers]

    for proc, (_out, err) in zip(producers, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    assert reader_runs, "the status reader never ran while producers were writing"
    for run in reader_runs:
        assert run.returncode == 0, run.stderr
        json.loads(run.stdout)

    shared = PER_PRODUCER // 5
    expected_rows = PRODUCERS * (PER_PRODUCER - shared) + shared
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM notifications").fetchone() == (expected_rows,)
    ids = [json.loads(out) for out, _ in outputs]
    for i in range(0, PER_PRODUCER, 5):
        key = f"shared-{i}"
        assert len({m[key] for m in ids}) == 1, f"{key} got different ids"
    stored = dict(conn.execute("SELECT dedupe_key, id FROM notifications").fetchall())
    for mapping in ids:
        for key, ntf_id in mapping.items():
            assert stored[key] == ntf_id
