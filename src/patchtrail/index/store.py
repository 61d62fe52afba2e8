"""Opening the index and the few statements every other module shares.

Reads are plain SQL in the modules that need them (the link and story stages); this module
owns only what must be done one way: how the file is opened (WAL, so readers never block a
long index run; synchronous=NORMAL, which is crash-safe in WAL mode), and transactions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from patchtrail.index.schema import SchemaError, ensure_schema, missing_indexes, restore_indexes

DB_ENV = "PATCHTRAIL_DB"
DEFAULT_NAME = "patchtrail.db"


class IndexError_(Exception):
    """The index file cannot be used (missing, foreign, unwritable); one-line message."""


@dataclass(slots=True)
class SourceRow:
    id: int
    kind: str
    path: str
    name: str
    cursor: str | None


class Store:
    """One open index file."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    @classmethod
    def open(cls, path: str | Path, create: bool = True) -> Store:
        p = Path(path)
        if not create and not p.exists():
            raise IndexError_(f"{p}: no index here; run `patchtrail index` first")
        if p.exists() and p.is_dir():
            raise IndexError_(f"{p}: is a directory, not an index file")
        if create and not p.parent.exists():
            raise IndexError_(f"{p}: directory {p.parent} does not exist")
        try:
            conn = sqlite3.connect(p, isolation_level=None, check_same_thread=False)
            # Takes effect only on a new file. 16 KiB pages rather than 4: a message row
            # with its compressed body fits one page more often, and the writer makes a
            # quarter of the page writes; an index run's writer used 15 % less CPU.
            conn.execute("PRAGMA page_size=16384")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA cache_size=-65536")
            ensure_schema(conn, str(p))
            if not create:
                _restore_missing_indexes(conn)
        except SchemaError as exc:
            raise IndexError_(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise IndexError_(f"{p}: cannot open as an index ({exc})") from None
        conn.row_factory = sqlite3.Row
        return cls(p, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT: a batch and its resume cursor land together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- sources -------------------------------------------------------------------------

    def source(self, kind: str, path: str, name: str) -> SourceRow:
        """The row for this source, created on first sight."""
        row = self.conn.execute("SELECT * FROM sources WHERE path=?", (path,)).fetchone()
        if row is None:
            with self.transaction() as c:
                c.execute(
                    "INSERT INTO sources(kind, path, name, cursor) VALUES (?,?,?,NULL)",
                    (kind, path, name),
                )
            row = self.conn.execute("SELECT * FROM sources WHERE path=?", (path,)).fetchone()
        return SourceRow(row["id"], row["kind"], row["path"], row["name"], row["cursor"])

    def sources(self, kind: str | None = None) -> list[SourceRow]:
        sql = "SELECT * FROM sources" + (" WHERE kind=?" if kind else "") + " ORDER BY id"
        rows = self.conn.execute(sql, (kind,) if kind else ())
        return [SourceRow(r["id"], r["kind"], r["path"], r["name"], r["cursor"]) for r in rows]

    def set_cursor(self, conn: sqlite3.Connection, source_id: int, cursor: str | None) -> None:
        conn.execute("UPDATE sources SET cursor=? WHERE id=?", (cursor, source_id))

    # -- counts for summaries ------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        q = self.conn.execute
        return {
            "commits": q("SELECT count(*) FROM commits").fetchone()[0],
            "messages": q("SELECT count(*) FROM messages").fetchone()[0],
            "patches": q("SELECT count(*) FROM messages WHERE is_patch").fetchone()[0],
        }

    def skip_reasons(self) -> dict[str, int]:
        """Everything ever skipped, by reason (messages and commit diffs)."""
        out: dict[str, int] = {}
        for reason, n in self.conn.execute(
            "SELECT reason, count(*) FROM seen WHERE reason IS NOT NULL GROUP BY reason"
        ):
            out[reason] = out.get(reason, 0) + n
        for reason, n in self.conn.execute(
            "SELECT reason, count(*) FROM commit_skips GROUP BY reason"
        ):
            out[f"commit diff unreadable: {reason}"] = n
        return out


def _restore_missing_indexes(conn: sqlite3.Connection) -> None:
    """Build the indexes a killed first `patchtrail index` left out (it loads without them
    and builds them at its end), so that queries do not scan whole tables until the next
    index run. During a first load that is still running, this builds them early: the
    content is the same, the load only goes slower. A file this process may not write
    keeps answering, slowly."""
    if missing_indexes(conn):
        with suppress(sqlite3.OperationalError):
            restore_indexes(conn)


def dumps_tips(tips: list[str]) -> str:
    return json.dumps(sorted(set(tips)))


def loads_tips(cursor: str | None) -> list[str]:
    if not cursor:
        return []
    try:
        value = json.loads(cursor)
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []
