"""The agent's rules and words, as plain functions over plain values: what a notification's
fate is, which desktop row it gets, how long to back off, how a storm is shown, what the
tray and the CLI say. No SQL, no clock, no I/O (tests/unit/test_structure.py checks it), so
each rule is read and tested table-driven. The lowest layer: it imports no other folder."""
