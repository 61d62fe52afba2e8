"""`patchtrail index`: read what is new in each source and store it, batch by batch.

Incremental: git sources remember the tips they were read to, archives their cursor; a
rerun reads only what came after. Crash-safe: each batch of rows is written in one
transaction together with the cursor that says it is done, so after kill -9 a rerun
resumes from the last whole batch and ends with the same index an uninterrupted run
builds (commit rows already present are skipped, message keys are deduplicated).

Parsing runs in worker processes (it is CPU-bound pure Python; `index.workers`); SQLite
writes stay in this process, so there is one writer and ordering is preserved (results
come back in input order, which is what makes the resume cursor valid). Public-inbox messages are read by the workers too,
each with its own `git cat-file`: this process, the one part that cannot run in parallel,
never handles message bytes.
"""

from __future__ import annotations

import gc
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from patchtrail.index.idents import IdentWriter
from patchtrail.index.query import select_in
from patchtrail.index.rows import (
    COMMIT_COLUMNS,
    MESSAGE_COLUMNS,
    MessageRow,
    commit_job,
    parse_raw,
)
from patchtrail.index.schema import bulk_indexes, restore_indexes
from patchtrail.index.store import Store, dumps_tips, loads_tips
from patchtrail.index.workers import chunked, ordered_map
from patchtrail.sources.archive import MailRef, MailSource, iter_mails, open_archive
from patchtrail.sources.catfile import close_shared
from patchtrail.sources.git import GitRepo
from patchtrail.sources.records import RawMail, SkipLog

# Rows per transaction. Each commit ends with the full-text indexes writing out what they
# gathered, as a new segment that later merges must read again: on the LTP archive 2,000
# rows a commit took the writer 0.15 s of CPU less than 500 (18 commits instead of 71),
# for a batch of ~6 MB held in memory, and a crash loses at most one batch of work.
BATCH = 2000
K = TypeVar("K", RawMail, MailRef)  # anything with the `key` of a message in its source
T = TypeVar("T")


def _batch() -> int:
    """Rows per transaction; PATCHTRAIL_BATCH lowers it (the crash tests want many commits)."""
    env = os.environ.get("PATCHTRAIL_BATCH")
    return max(1, int(env)) if env and env.isdigit() else BATCH


class Progress(Protocol):
    """What a long step reports; the CLI shows it as a rich progress bar."""

    def start(self, label: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    def start(self, label: str, total: int | None) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def finish(self) -> None:
        return None


@dataclass(slots=True)
class RunSummary:
    """What one `patchtrail index` run read, stored and skipped."""

    commits_read: int = 0
    commits_stored: int = 0
    messages_read: int = 0
    messages_stored: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def add(self, other: RunSummary) -> None:
        """Fold another run's counts into this one (one summary for several sources)."""
        self.commits_read += other.commits_read
        self.commits_stored += other.commits_stored
        self.messages_read += other.messages_read
        self.messages_stored += other.messages_stored
        for reason, n in other.skipped.items():
            self.skip(reason, n)


def index_repo(store: Store, path: str | Path, refs: Sequence[str] = ("HEAD",),
               progress: Progress | None = None) -> RunSummary:
    """Store every commit reachable from `refs` that the index does not hold yet."""
    progress = progress or NoProgress()
    summary = RunSummary()
    repo = GitRepo(path)
    src = store.source("git", repo.top, repo.name)
    tips = repo.tips(refs)
    oids = repo.rev_list(list(refs), exclude=loads_tips(src.cursor))
    todo = _unknown_commits(store, oids)
    skips = SkipLog()
    progress.start(f"commits of {repo.path}", len(todo))
    placeholders = ",".join("?" * len(COMMIT_COLUMNS))
    sql = f"INSERT OR IGNORE INTO commits({','.join(COMMIT_COLUMNS)}) VALUES ({placeholders})"
    jobs = ((rec, src.id) for rec in repo.read_commits(todo, skips))
    idents = IdentWriter()
    with ordered_map(commit_job, jobs, chunksize=16) as results:
        for batch in _weighed(results, _batch(), IDENT_ROWS, lambda r: len(r[2].rows)):
            with store.transaction() as c:
                c.executemany(sql, [values for values, _, _ in batch])
                c.executemany(
                    "INSERT OR REPLACE INTO commit_skips(oid, reason) VALUES (?, ?)",
                    [(values[0], error) for values, error, _ in batch if error],
                )
                # Same transaction: a commit is never stored without its identifiers.
                idents.write(c, [str(v[0]) for v, _, _ in batch], [ch for _, _, ch in batch])
            summary.commits_read += len(batch)
            summary.commits_stored += len(batch)
            progress.advance(len(batch))
    for reason, n in skips.by_reason().items():
        summary.skip(f"commit diff unreadable: {reason}", n)
    with store.transaction() as c:
        # Only the new tips: whatever the old ones reached and these do not is filtered out
        # by _unknown_commits on the next run, so the cursor stays one id per ref.
        store.set_cursor(c, src.id, dumps_tips(tips))
    progress.finish()
    return summary


# Identifier rows per transaction of a repository read, besides BATCH commits: a batch is
# held whole (its rows are sorted before they go in), and 2,000 commits of large diffs
# held ~300 MiB in the writer on LTP.
IDENT_ROWS = 250_000


def _weighed(items: Iterable[T], most: int, weight_cap: int,
             weight: Callable[[T], int]) -> Iterator[list[T]]:
    """Lists of at most `most` items, ended early once their `weight` reaches `weight_cap`."""
    batch: list[T] = []
    total = 0
    for item in items:
        batch.append(item)
        total += weight(item)
        if len(batch) >= most or total >= weight_cap:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def _unknown_commits(store: Store, oids: list[str]) -> list[str]:
    known = {r[0] for r in select_in(store.conn, "SELECT oid FROM commits WHERE oid IN ({marks})", oids)}
    return [o for o in oids if o not in known]


def index_archive(store: Store, path: str | Path, progress: Progress | None = None,
                  source: MailSource | None = None, processes: int | None = None) -> RunSummary:
    """Store every message of the archive that came after the saved cursor, parsed by
    `processes` workers (default: see index.workers.workers; 1 parses in this process)."""
    progress = progress or NoProgress()
    summary = RunSummary()
    src_obj = source or open_archive(path)
    src = store.source(src_obj.kind, str(src_obj.path), src_obj.name)
    skips = SkipLog()
    progress.start(f"messages of {src_obj.path}", src_obj.estimate(src.cursor))
    with _bulk_load(store):
        _read_archive(store, src.id, src.cursor, src_obj, summary, progress, skips, processes)
    for reason, n in skips.by_reason().items():
        summary.skip(reason, n)
    progress.finish()
    return summary


def _read_archive(store: Store, src_id: int, cursor: str | None, src_obj: MailSource,
                  summary: RunSummary, progress: Progress, skips: SkipLog,
                  processes: int | None) -> None:
    refs = src_obj.iter_refs(cursor)
    if refs is None:
        raws = _unseen(store, src_id, src_obj.iter_messages(cursor, skips), summary)
        jobs = ((raw, src_obj.name, src_id) for raw in raws)
        with ordered_map(parse_raw, jobs, chunksize=16, n=processes) as rows, _writing(store):
            _store_rows(store, src_id, rows, summary, progress)
    else:
        # The workers read the messages themselves: this process, which also writes the
        # index, never touches their bytes.
        missing: list[MailRef] = []
        batches = ((batch, src_obj.name, src_id)
                   for batch in chunked(_unseen(store, src_id, refs, summary), REF_BATCH))
        try:
            with ordered_map(_parse_refs, batches, n=processes) as results, _writing(store):
                _store_rows(store, src_id, _found(results, missing), summary, progress)
        finally:
            close_shared()  # the reader of a run without workers
        summary.messages_read -= len(missing)
        src_obj.skip_missing(missing, skips)


@contextmanager
def _bulk_load(store: Store) -> Iterator[None]:
    """Into an empty message table, load without the secondary indexes and build them at
    the end. A run killed halfway leaves them missing; the next run, or the next query
    (`Store.open` of an existing index), builds them, and the content is the same."""
    restore_indexes(store.conn)
    if store.conn.execute("SELECT 1 FROM messages LIMIT 1").fetchone() is not None:
        yield
        return
    with store.transaction() as c:
        for name in bulk_indexes(c):
            c.execute(f"DROP INDEX IF EXISTS {name}")
    try:
        yield
    finally:
        restore_indexes(store.conn)


# Messages a worker reads and parses per task when it reads them itself.
REF_BATCH = 32


def _parse_refs(job: tuple[list[MailRef], str, int]) -> tuple[list[MessageRow], list[MailRef]]:
    """Worker: read a batch of messages and parse them; (rows, refs of missing messages)."""
    refs, list_name, source_id = job
    rows: list[MessageRow] = []
    missing: list[MailRef] = []
    for raw, ref in zip(iter_mails(refs), refs, strict=True):
        if raw is None:
            missing.append(ref)
        else:
            rows.append(parse_raw((raw, list_name, source_id)))
    return rows, missing


def _found(results: Iterable[tuple[list[MessageRow], list[MailRef]]],
           missing: list[MailRef]) -> Iterator[MessageRow]:
    for rows, gone in results:
        missing.extend(gone)
        yield from rows


# WAL bytes written between checkpoints during a long index run (SQLite's default is 1000
# pages). Every checkpoint syncs the file to disk; on the LTP archive the default's ~40
# checkpoints cost more than all the message inserts. Crash safety does not depend on it.
_CHECKPOINT_BYTES = 64 << 20


@contextmanager
def _writing(store: Store) -> Iterator[None]:
    """How the writer runs while it stores a stream of rows.

    Fewer checkpoints (see _CHECKPOINT_BYTES), and no cycle collection: the rows are
    tuples of strings, bytes and numbers, which form no cycles, and the collector's passes
    over them were 4 % of this process's CPU.
    """
    conn = store.conn
    before = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute(f"PRAGMA wal_autocheckpoint={max(1000, _CHECKPOINT_BYTES // page)}")
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        conn.execute(f"PRAGMA wal_autocheckpoint={int(before)}")


def _unseen(store: Store, source_id: int, raws: Iterable[K],
            summary: RunSummary) -> Iterator[K]:
    """Drop keys already read (Maildir rereads, a restarted mbox), without parsing them.

    Reads through a connection of its own, so that its lookups never sit inside the
    writer's open transaction. A source with no key read yet (the first
    run) needs no lookups: a source yields each key once per run.
    """
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, check_same_thread=False)
    try:
        q = "SELECT 1 FROM seen WHERE source_id=? AND key=?"
        if conn.execute("SELECT 1 FROM seen WHERE source_id=? LIMIT 1", (source_id,)).fetchone() is None:
            for raw in raws:
                summary.messages_read += 1
                yield raw
            return
        for raw in raws:
            summary.messages_read += 1
            if conn.execute(q, (source_id, raw.key)).fetchone() is None:
                yield raw
    finally:
        conn.close()


def _store_rows(store: Store, source_id: int, rows: Iterable[MessageRow],
                summary: RunSummary, progress: Progress) -> None:
    """Write rows batch by batch, each batch with its cursor in one transaction.

    Row ids are given here rather than by SQLite, so that each table of a batch is one
    `executemany`: per-row statements from Python were most of this process's time, and
    this process is the one part of the run that cannot use another core.
    """
    cols = ",".join(("id",) + MESSAGE_COLUMNS)
    insert = f"INSERT INTO messages({cols}) VALUES ({','.join('?' * (len(MESSAGE_COLUMNS) + 1))})"
    msgid_at = MESSAGE_COLUMNS.index("msgid")
    for batch in chunked(rows, _batch()):
        cursor = next((row.cursor for row in reversed(batch) if row.cursor is not None), None)
        with store.transaction() as c:
            known = _known_msgids(c, [str(row.values[msgid_at]) for row in batch if row.values])
            next_id = c.execute("SELECT coalesce(max(id), 0) + 1 FROM messages").fetchone()[0]
            messages, refs, files, subjects, prose, seen = [], [], [], [], [], []
            for row in batch:
                reason, message_id = row.reason, None
                if row.values is not None:
                    msgid = str(row.values[msgid_at])
                    if msgid in known:
                        reason = "duplicate Message-ID (already indexed)"
                    else:
                        known.add(msgid)
                        message_id, next_id = next_id, next_id + 1
                        messages.append((message_id, *row.values))
                        refs.extend((ref, message_id) for ref in row.refs)
                        files.extend((message_id, path) for path in row.files)
                        if row.fts_subject is not None:
                            subjects.append((message_id, row.fts_subject))
                        if row.prose:
                            prose.append((message_id, row.prose))
                if reason:
                    summary.skip(reason)
                seen.append((source_id, row.key, message_id, reason))
            c.executemany(insert, messages)
            c.executemany("INSERT INTO message_refs(ref, message_id) VALUES (?, ?)", refs)
            c.executemany("INSERT INTO message_files(message_id, path) VALUES (?, ?)", files)
            c.executemany("INSERT INTO subjects_fts(rowid, norm) VALUES (?, ?)", subjects)
            c.executemany("INSERT INTO prose_fts(rowid, text) VALUES (?, ?)", prose)
            c.executemany("INSERT OR IGNORE INTO seen(source_id, key, message_id, reason)"
                          " VALUES (?,?,?,?)", seen)
            if cursor is not None:
                store.set_cursor(c, source_id, cursor)
        summary.messages_stored += len(messages)
        progress.advance(len(batch))


def _known_msgids(c: sqlite3.Connection, msgids: list[str]) -> set[str]:
    return {r[0] for r in select_in(c, "SELECT msgid FROM messages WHERE msgid IN ({marks})", msgids)}
