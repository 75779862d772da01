"""What differs between SQLite's SQL and PostgreSQL's, in one place: a statement written
twice (`Both`), the batch-of-ids subquery, and INSERT … ON CONFLICT.

SQLite's text stays exactly what it was (its partial indexes, its `json_each` batches are
what the benchmarks measured); PostgreSQL gets its own text only where the words differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, TextClause, text
from sqlalchemy.dialects import sqlite


@dataclass(frozen=True)
class Both:
    """One statement in each dialect; `on(conn)` picks the one the connection speaks."""

    sqlite: TextClause
    postgresql: TextClause

    @classmethod
    def build(cls, write: Callable[[str], str]) -> Both:
        """The statement `write(dialect)` returns, for each dialect."""
        return cls(text(write("sqlite")), text(write("postgresql")))

    def on(self, conn: Connection) -> TextClause:
        return self.postgresql if is_postgresql(conn) else self.sqlite


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def skip_locked(dialect: str) -> str:
    """What a SELECT that takes rows to change ends with: SQLite has one writer at a time; on
    a server, rows another agent holds are passed over rather than waited for."""
    return " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""


def is_text(column: str, dialect: str) -> str:
    """Whether a producer's value is text (SQLite stores any type; a PostgreSQL column holds
    only its own)."""
    return "true" if dialect == "postgresql" else f"typeof({column}) = 'text'"


def text_only(column: str, limit: int, dialect: str) -> str:
    """At most `limit` characters of a producer's text (on SQLite up to four times as many,
    and a character cut in two at the end reads as U+FFFD); NULL for a value that is not
    text."""
    if dialect == "postgresql":
        return f"substr({column}, 1, {limit})"
    # cut as bytes (at most four a character): SQLite's text functions stop at a NUL, which
    # would drop whatever a producer wrote after one; the agent strips the NUL itself. (The
    # cut of an empty text is NULL: coalesce makes it empty text again.)
    return (
        f"CASE typeof({column}) WHEN 'text' "
        f"THEN coalesce(CAST(substr(CAST({column} AS BLOB), 1, {4 * limit}) AS TEXT), '') END"
    )


def is_count(column: str, dialect: str) -> str:
    """Whether a count the agent writes (attempts, max_attempts, rank) is still one: another
    program may have put text, a fraction or a huge number there."""
    if dialect == "postgresql":  # an integer column: only its range can be wrong
        return f"coalesce({column} BETWEEN 0 AND 1000000, false)"
    return f"(typeof({column}) = 'integer' AND {column} BETWEEN 0 AND 1000000)"


_TIME_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]*"
_TIME_REGEX = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"


def is_time(column: str, dialect: str) -> str:
    """Whether a time the agent writes still looks like the file's UTC text (a NULL, a
    number or a word sorts where no due time or lease end would ever be reached)."""
    if dialect == "postgresql":
        return f"coalesce({column} ~ '{_TIME_REGEX}', false)"
    return f"(typeof({column}) = 'text' AND {column} GLOB '{_TIME_GLOB}')"


def shown_value(column: str, dialect: str, *, number: bool = False) -> str:
    """A value of any type as a short text for a reason ("'abc'", "NULL", "a BLOB");
    `number`: a PostgreSQL integer column, shown as a number."""
    if dialect == "postgresql":
        shown = f"{column}::text" if number else f"quote_literal(substr({column}::text, 1, 40))"
        return f"coalesce({shown}, 'NULL')"
    return (
        f"CASE typeof({column}) WHEN 'text' THEN quote(substr({column}, 1, 40)) "
        f"WHEN 'blob' THEN 'a BLOB' WHEN 'null' THEN 'NULL' ELSE CAST({column} AS TEXT) END"
    )


def integer_only(column: str, dialect: str) -> str:
    """A producer's whole number, or NULL for a value of any other type."""
    if dialect == "postgresql":
        return column
    return f"CASE typeof({column}) WHEN 'integer' THEN {column} END"


def ids(param: str, dialect: str) -> str:
    """A subquery over the ids in a JSON array parameter (`[1, 2, 3]`): one statement per
    batch, whatever its size."""
    if dialect == "postgresql":
        return f"SELECT CAST(value AS bigint) FROM json_array_elements_text(CAST(:{param} AS json))"
    return f"SELECT value FROM json_each(:{param})"


def texts(param: str, dialect: str) -> str:
    """A subquery over the strings in a JSON array parameter (`["a", "b"]`)."""
    if dialect == "postgresql":
        return f"SELECT json_array_elements_text(CAST(:{param} AS json))"
    return f"SELECT value FROM json_each(:{param})"


def rows_of(param: str, dialect: str) -> str:
    """A FROM item over a JSON array of arrays, aliased `j`; pair it with `item`."""
    if dialect == "postgresql":
        return f"json_array_elements(CAST(:{param} AS json)) AS j(value)"
    return f"json_each(:{param}) AS j"


def item(index: int, dialect: str, cast: str = "") -> str:
    """Element `index` of the current `rows_of` array; `cast` (bigint, integer) where the
    column is not text (PostgreSQL converts nothing by itself)."""
    if dialect == "postgresql":
        value = f"(j.value ->> {index})"
        return f"CAST({value} AS {cast})" if cast else value
    return f"json_extract(j.value, '$[{index}]')"


def insert(conn: Connection, table: Table) -> Any:
    """INSERT with `on_conflict_do_nothing` in the connection's dialect. SQLAlchemy's
    PostgreSQL dialect (with asyncpg's, pg8000's and psycopg2's modules: about 2 MiB) is
    loaded only when a server is used."""
    if is_postgresql(conn):
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)
