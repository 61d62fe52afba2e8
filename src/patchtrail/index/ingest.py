"""`patchtrail index`: read what is new in each source and store it, batch by batch.

Incremental: git sources remember the tips they were read to, archives their cursor; a
rerun reads only what came after. Crash-safe: each batch of rows is written in one
transaction together with the cursor that says it is done, so after kill -9 a rerun
resumes from the last whole batch and ends with the same index an uninterrupted run
builds (commit rows already present are skipped, message keys are deduplicated).

Parsing runs in a process pool (it is CPU-bound pure Python); SQLite writes stay in this
process, so there is one writer and ordering is preserved (`imap` keeps input order, which
is what makes the resume cursor valid). Public-inbox messages are read by the workers too,
each with its own `git cat-file`: this process, the one part that cannot run in parallel,
never handles message bytes.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Protocol, TypeVar

from patchtrail.index.idents import IdentWriter
from patchtrail.index.mentions import index_prose
from patchtrail.index.rows import (
    COMMIT_COLUMNS,
    MESSAGE_COLUMNS,
    MessageRow,
    commit_job,
    parse_raw,
)
from patchtrail.index.store import Store, dumps_tips, loads_tips
from patchtrail.sources.archive import MailRef, MailSource, open_archive, read_mails
from patchtrail.sources.catfile import close_shared
from patchtrail.sources.git import GitRepo
from patchtrail.sources.records import RawMail, SkipLog

BATCH = 500
T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", RawMail, MailRef)  # anything with the `key` of a message in its source


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


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _workers() -> int:
    env = os.environ.get("PATCHTRAIL_JOBS")
    if env and env.isdigit():
        return max(1, int(env))
    return max(1, min(4, os.cpu_count() or 1))


# Jobs handed to the pool ahead of the results read back. Pool.imap alone reads its input
# as fast as it can: a 365 MB archive would sit in the task queue. The window bounds it.
WINDOW = 256


@contextmanager
def parallel_map(func: Callable[[T], R], jobs: Iterable[T], chunksize: int = 16,
                 window_size: int = WINDOW) -> Iterator[Iterator[R]]:
    """`map(func, jobs)` in input order, on PATCHTRAIL_JOBS worker processes (fork).

    Order matters: the resume cursor stored with a batch is only valid if every message
    before it is stored too. `chunksize` jobs go to a worker at a time; at most
    `window_size` jobs are out (sent, or done and not read back yet).
    """
    workers = _workers()
    if workers <= 1:
        yield map(func, jobs)
        return
    window = threading.BoundedSemaphore(window_size)

    def feed() -> Iterator[T]:
        for job in jobs:
            window.acquire()
            yield job

    def results(pool: Pool) -> Iterator[R]:
        for result in pool.imap(func, feed(), chunksize=chunksize):
            window.release()
            yield result

    ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ctx.Pool(workers) as pool:
        yield results(pool)


def index_repo(store: Store, path: str | Path, refs: Sequence[str] = ("HEAD",),
               progress: Progress | None = None) -> RunSummary:
    """Store every commit reachable from `refs` that the index does not hold yet."""
    progress = progress or NoProgress()
    summary = RunSummary()
    repo = GitRepo(path)
    src = store.source("git", str(repo.path), Path(repo.path).name.removesuffix(".git"))
    tips = repo.tips(refs)
    oids = repo.rev_list(list(refs), exclude=loads_tips(src.cursor))
    todo = _unknown_commits(store, oids)
    skips = SkipLog()
    progress.start(f"commits of {repo.path}", len(todo))
    placeholders = ",".join("?" * len(COMMIT_COLUMNS))
    sql = f"INSERT OR IGNORE INTO commits({','.join(COMMIT_COLUMNS)}) VALUES ({placeholders})"
    jobs = ((rec, src.id) for rec in repo.read_commits(todo, skips))
    idents = IdentWriter()
    with parallel_map(commit_job, jobs) as results:
        for batch in _chunks(results, _batch()):
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


def _unknown_commits(store: Store, oids: list[str]) -> list[str]:
    known: set[str] = set()
    for chunk in _chunks(oids, 900):
        q = f"SELECT oid FROM commits WHERE oid IN ({','.join('?' * len(chunk))})"
        known.update(r[0] for r in store.conn.execute(q, chunk))
    return [o for o in oids if o not in known]


def index_archive(store: Store, path: str | Path, progress: Progress | None = None,
                  source: MailSource | None = None) -> RunSummary:
    """Store every message of the archive that came after the saved cursor."""
    progress = progress or NoProgress()
    summary = RunSummary()
    src_obj = source or open_archive(path)
    src = store.source(src_obj.kind, str(src_obj.path), src_obj.name)
    skips = SkipLog()
    progress.start(f"messages of {src_obj.path}", src_obj.estimate(src.cursor))
    refs = src_obj.iter_refs(src.cursor)
    if refs is None:
        raws = _unseen(store, src.id, src_obj.iter_messages(src.cursor, skips), summary)
        jobs = ((raw, src_obj.name, src.id) for raw in raws)
        with parallel_map(parse_raw, jobs) as rows, _fewer_checkpoints(store):
            _store_rows(store, src.id, rows, summary, progress)
    else:
        # The workers read the messages themselves: this process, which also writes the
        # index, never touches their bytes.
        missing: list[MailRef] = []
        batches = ((batch, src_obj.name, src.id)
                   for batch in _chunks(_unseen(store, src.id, refs, summary), REF_BATCH))
        try:
            with parallel_map(_parse_refs, batches, chunksize=1,
                              window_size=WINDOW // REF_BATCH) as results, \
                    _fewer_checkpoints(store):
                _store_rows(store, src.id, _found(results, missing), summary, progress)
        finally:
            close_shared()  # the reader of a run without workers
        summary.messages_read -= len(missing)
        src_obj.skip_missing(missing, skips)
    for reason, n in skips.by_reason().items():
        summary.skip(reason, n)
    progress.finish()
    return summary


# Messages a worker reads and parses per task when it reads them itself.
REF_BATCH = 32


def _parse_refs(job: tuple[list[MailRef], str, int]) -> tuple[list[MessageRow], list[MailRef]]:
    """Worker: read a batch of messages and parse them; (rows, refs of missing messages)."""
    refs, list_name, source_id = job
    rows: list[MessageRow] = []
    missing: list[MailRef] = []
    for ref, raw in zip(refs, read_mails(refs)):
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


# WAL pages written between checkpoints during a long index run (SQLite's default is
# 1000). Every checkpoint syncs the file to disk; on the LTP archive the default's ~40
# checkpoints cost more than all the message inserts. Crash safety does not depend on it.
_CHECKPOINT_PAGES = 16384


@contextmanager
def _fewer_checkpoints(store: Store) -> Iterator[None]:
    conn = store.conn
    before = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    conn.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA wal_autocheckpoint={int(before)}")


def _unseen(store: Store, source_id: int, raws: Iterable[K],
            summary: RunSummary) -> Iterator[K]:
    """Drop keys already read (Maildir rereads, a restarted mbox), without parsing them.

    Runs in the pool's feeder thread, so it reads through a connection of its own: the
    store's connection belongs to the writer. A source with no key read yet (the first
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
    cols = ",".join(MESSAGE_COLUMNS)
    sql = f"INSERT OR IGNORE INTO messages({cols}) VALUES ({','.join('?' * len(MESSAGE_COLUMNS))})"
    for batch in _chunks(rows, _batch()):
        cursor: str | None = None
        with store.transaction() as c:
            for row in batch:
                if row.cursor is not None:
                    cursor = row.cursor
                reason = row.reason
                message_id = None
                if row.values is not None:
                    values = row.values
                    cur = c.execute(sql, [values[k] for k in MESSAGE_COLUMNS])
                    if cur.rowcount == 1:
                        message_id = cur.lastrowid
                        _index_message(c, message_id, values, row.files)
                        summary.messages_stored += 1
                    else:
                        reason = "duplicate Message-ID (already indexed)"
                if reason:
                    summary.skip(reason)
                c.execute(
                    "INSERT OR IGNORE INTO seen(source_id, key, message_id, reason) VALUES (?,?,?,?)",
                    (source_id, row.key, message_id, reason),
                )
            if cursor is not None:
                store.set_cursor(c, source_id, cursor)
        progress.advance(len(batch))


def _index_message(c, message_id: int, values: dict[str, object], files: list[str]) -> None:
    """The secondary lookups candidate search and threading need: files, words, parents."""
    refs = set(str(values["refs"]).split())
    if values["in_reply_to"]:
        refs.add(str(values["in_reply_to"]))
    if refs:
        c.executemany("INSERT INTO message_refs(ref, message_id) VALUES (?, ?)",
                      [(r, message_id) for r in sorted(refs)])
    if files:
        c.executemany(
            "INSERT INTO message_files(message_id, path) VALUES (?, ?)",
            [(message_id, f) for f in files],
        )
    if values["is_patch"] or values["has_tag"]:
        c.execute(
            "INSERT INTO subjects_fts(rowid, norm) VALUES (?, ?)", (message_id, values["subject_norm"])
        )
    index_prose(c, message_id, values)
