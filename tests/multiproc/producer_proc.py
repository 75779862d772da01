"""A producer process for the concurrency test: sends N notifications through the store API
and prints one JSON line {dedupe_key or index: id}."""

from __future__ import annotations

import json
import sys

from traycourier.store import Database, enqueue


def main() -> None:
    db_path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = Database.open(db_path)
    ids = {}
    for i in range(count):
        # every 5th key is shared by all producers: 4 sends, 1 row
        key = f"shared-{i}" if i % 5 == 0 else f"{name}-{i}"
        result = enqueue(db, f"{name} #{i}", "body", dedupe_key=key, source=name)
        ids[key] = result.id
    db.close()
    print(json.dumps(ids))


if __name__ == "__main__":
    main()
