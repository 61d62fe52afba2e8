"""select_in: long IN lists run in chunks, with their other parameters bound each time."""

from __future__ import annotations

import sqlite3

from patchtrail.index.query import IN_CHUNK, select_in


def test_select_in_spans_chunks_and_binds_params_first() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, kind TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)",
                     [(i, "even" if i % 2 == 0 else "odd") for i in range(3 * IN_CHUNK)])
    wanted = range(5, 5 + 2 * IN_CHUNK + 7)  # three statements, the last one short
    rows = list(select_in(conn, "SELECT id FROM t WHERE kind = ? AND id IN ({marks})",
                          wanted, ("even",)))
    assert sorted(r[0] for r in rows) == [i for i in wanted if i % 2 == 0]
    assert list(select_in(conn, "SELECT id FROM t WHERE id IN ({marks})", [])) == []
