"""Which messages could a commit have been applied from: cheap index lookups, unioned.

Each lookup catches one way a maintainer's hands change a patch: identical diff (patch-id),
`git am` keeping the mail's Date as author date, the same subject, reworded subjects that
keep rare words (full-text), the same author around that time, and the same files around
that time (for a reworded *and* edited patch). Scoring decides among them; this module
only has to make sure the right message is in the set.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from patchtrail.index.query import select_in
from patchtrail.link.model import CommitInfo

# How far before the commit a patch may have been posted, and after (clock skew).
WINDOW_BEFORE = 2 * 365 * 86400
WINDOW_AFTER = 2 * 86400
PER_LOOKUP = 200
WORD = re.compile(r"[A-Za-z0-9_]{3,}")  # a word worth searching for
COMMON_WORDS = frozenset(
    ["the", "and", "for", "from", "with", "into", "that", "this", "add", "fix", "use", "when", "not", "are", "was", "has", "have", "set", "get", "new", "remove", "update", "make", "test", "tests", "support"]
)

MESSAGE_FIELDS = (
    "id, msgid, list, subject, title, subject_norm, is_reply, is_patch, version, number, "
    "total, author_name, author_email, date, patch_id, fingerprint"
)


def window(commit: CommitInfo) -> tuple[int, int]:
    lo = min(commit.author_time, commit.committer_time) - WINDOW_BEFORE
    hi = max(commit.author_time, commit.committer_time) + WINDOW_AFTER
    return lo, hi


@dataclass(slots=True)
class Exact:
    """What the lookups on exact equalities found, and what they are known to hold in
    full: what lets `dig.best_match` leave out the messages that cannot change the answer."""

    direct: set[int]                     # the same patch-id, author date or subject
    mine: list[tuple[int, int | None]]   # (id, date) of the author's patches, newest first
    all_dated: bool      # every patch posted on the commit's author date is in `direct`
    author_after: float  # every patch of the commit's author posted after this (in the window) is in `mine`

    @property
    def ids(self) -> set[int]:
        return self.direct | {i for i, _date in self.mine}


def candidate_ids(conn: sqlite3.Connection, commit: CommitInfo) -> set[int]:
    return exact_ids(conn, commit).ids | fuzzy_ids(conn, commit)


def exact_ids(conn: sqlite3.Connection, commit: CommitInfo) -> Exact:
    """Same patch-id, a Date equal to the author date, the same subject, the same author."""
    lo, hi = window(commit)
    direct: set[int] = set()

    def add(sql: str, args: tuple[object, ...]) -> int:
        rows = conn.execute(sql, args).fetchall()
        direct.update(r[0] for r in rows)
        return len(rows)

    if commit.patch_id:
        add("SELECT id FROM messages WHERE patch_id=? LIMIT ?", (commit.patch_id, PER_LOOKUP))
    dated = add("SELECT id FROM messages WHERE date=? AND is_patch LIMIT ?", (commit.author_time, PER_LOOKUP))
    if commit.subject_norm:
        add("SELECT id FROM messages WHERE subject_norm=? AND is_patch LIMIT ?",
            (commit.subject_norm, PER_LOOKUP))
    mine: list[tuple[int, int | None]] = []
    author_after = float("inf")
    if commit.author_email:
        mine = [(r[0], r[1]) for r in conn.execute(
            "SELECT id, date FROM messages WHERE author_email=? AND date BETWEEN ? AND ? AND is_patch"
            " ORDER BY date DESC LIMIT ?",
            (commit.author_email.lower(), lo, hi, PER_LOOKUP),
        )]
        # Newest first: when the limit cut the list, everything after its last date is in.
        author_after = lo - 1 if len(mine) < PER_LOOKUP else mine[-1][1] or 0
    return Exact(direct, mine, dated < PER_LOOKUP, author_after)


def fuzzy_ids(conn: sqlite3.Connection, commit: CommitInfo) -> set[int]:
    """Subjects sharing rare words, patches touching the commit's rarest files."""
    lo, hi = window(commit)
    ids: set[int] = set()
    if conn.execute("SELECT 1 FROM messages WHERE date BETWEEN ? AND ? LIMIT 1", (lo, hi)).fetchone() is None:
        return ids  # no message in the window (a commit older than the archive): nothing to find

    def add(sql: str, args: tuple[object, ...]) -> None:
        ids.update(r[0] for r in conn.execute(sql, args))

    query = fts_query(commit.subject_norm or commit.subject)
    if query:
        add(
            "SELECT f.rowid FROM subjects_fts f JOIN messages m ON m.id = f.rowid"
            " WHERE subjects_fts MATCH ? AND m.date BETWEEN ? AND ? ORDER BY f.rank LIMIT 40",
            (query, lo, hi),
        )
    for path in rarest_files(conn, commit.files, 2):
        add(
            "SELECT m.id FROM message_files f JOIN messages m ON m.id = f.message_id"
            " WHERE f.path=? AND m.date BETWEEN ? AND ? AND m.is_patch"
            " ORDER BY m.date DESC LIMIT ?",
            (path, lo, hi, PER_LOOKUP),
        )
    return ids


def rarest_files(conn: sqlite3.Connection, files: tuple[str, ...], n: int) -> list[str]:
    """The paths fewest patches touch: the most telling ones (not Makefile, not runtest)."""
    if not files:
        return []
    counted = []
    for path in files[:50]:
        row = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM message_files WHERE path=? LIMIT 5000)", (path,)
        ).fetchone()
        if row[0]:
            counted.append((row[0], path))
    counted.sort()
    return [p for _, p in counted[:n]]


def fts_query(text: str) -> str | None:
    """An FTS5 OR-query of the subject's telling words, each quoted (no query syntax leaks)."""
    words = [w for w in WORD.findall(text.lower()) if w not in COMMON_WORDS]
    words = list(dict.fromkeys(words))[:12]
    if not words:
        return None
    return " OR ".join(f'"{w}"' for w in words)


def load_messages(conn: sqlite3.Connection, ids: set[int] | list[int]) -> list[sqlite3.Row]:
    """The rows of `ids`, by id (the order dig breaks ties of score and date in)."""
    # Chunks of sorted ids, each in id order: the whole list is in id order.
    return list(select_in(conn, f"SELECT {MESSAGE_FIELDS} FROM messages WHERE id IN ({{marks}})"
                          " ORDER BY id", sorted(ids)))


def messages_by_msgid(conn: sqlite3.Connection, msgids: list[str]) -> list[sqlite3.Row]:
    return list(select_in(conn, f"SELECT {MESSAGE_FIELDS} FROM messages WHERE msgid IN ({{marks}})",
                          msgids))
