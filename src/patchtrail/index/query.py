"""Queries over more values than one SQLite statement may bind.

SQLite caps the placeholders of a statement (999 before 3.32, which some distributions
still ship), and the story, the linker and the writer all look rows up by long lists of
ids; each used to chunk its own `IN (...)` list. Here it is done once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence

IN_CHUNK = 900  # values bound per statement: under the oldest limit, with room for params


def select_in(conn: sqlite3.Connection, sql: str, values: Iterable[object],
              params: Sequence[object] = ()) -> Iterator[sqlite3.Row]:
    """The rows of `sql` for all of `values`, where `{marks}` in `sql` stands for the
    placeholders of an `IN (...)` list: one statement per IN_CHUNK values, each bound to
    `params` first, then its values. Order follows the values' chunks, not the whole list:
    a caller who needs one order sorts."""
    items = list(values)
    for i in range(0, len(items), IN_CHUNK):
        chunk = items[i:i + IN_CHUNK]
        yield from conn.execute(sql.replace("{marks}", ",".join("?" * len(chunk))),
                                [*params, *chunk])
