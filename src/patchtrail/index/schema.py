"""The index's tables, and how an older or foreign file is recognised.

The schema is versioned in `meta`; a file with another version is refused with a clear
message rather than silently misread (rebuilding is cheap compared to a wrong answer).
"""

from __future__ import annotations

import re
import sqlite3

SCHEMA_VERSION = 5  # 3: message bodies in zstd, not zlib; 4: fingerprints hashed with XXH3;
# 5: fingerprint lines hashed with their whitespace dropped, not folded
APPLICATION_ID = 0x70745452  # "ptTR": lets `file`-like checks tell our index from any SQLite file.

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every repository or archive ever indexed, with where reading stopped.
CREATE TABLE IF NOT EXISTS sources (
    id      INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL,          -- git | public-inbox-v2 | public-inbox-epoch | mbox | maildir
    path    TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,          -- list name guess ('ltp', 'kvm'), or the repository's name
    cursor  TEXT                    -- resume point (archives) or JSON of indexed tips (git)
);

CREATE TABLE IF NOT EXISTS commits (
    id              INTEGER PRIMARY KEY,
    oid             TEXT NOT NULL UNIQUE,
    source_id       INTEGER NOT NULL REFERENCES sources(id),
    parents         TEXT NOT NULL,  -- space-separated ids; merges have two or more
    author_name     TEXT NOT NULL,
    author_email    TEXT NOT NULL,
    author_time     INTEGER NOT NULL,
    author_tz       TEXT NOT NULL,
    committer_name  TEXT NOT NULL,
    committer_email TEXT NOT NULL,
    committer_time  INTEGER NOT NULL,
    subject         TEXT NOT NULL,
    subject_norm    TEXT NOT NULL,
    message         TEXT NOT NULL,
    patch_id        TEXT,           -- git patch-id --stable of the diff; NULL for merges
    fingerprint     BLOB,           -- changed-line hashes (patchtrail.mail.fingerprint)
    files           TEXT NOT NULL,  -- newline-separated paths the diff touches
    diff_error      TEXT            -- why the diff could not be read, when it could not
);
CREATE INDEX IF NOT EXISTS commits_patch_id ON commits(patch_id);
CREATE INDEX IF NOT EXISTS commits_author_time ON commits(author_time);

CREATE TABLE IF NOT EXISTS messages (
    id            INTEGER PRIMARY KEY,
    msgid         TEXT NOT NULL UNIQUE,
    generated_id  INTEGER NOT NULL,  -- 1 when the message had no Message-ID
    source_id     INTEGER NOT NULL REFERENCES sources(id),
    key           TEXT NOT NULL,     -- where in the source (epoch commit, mbox offset, ...)
    list          TEXT NOT NULL,     -- lore-style list name ('ltp', 'kvm', 'lkml')
    subject       TEXT NOT NULL,
    title         TEXT NOT NULL,
    subject_norm  TEXT NOT NULL,
    is_reply      INTEGER NOT NULL,
    is_patch      INTEGER NOT NULL,  -- carries a diff
    has_tag       INTEGER NOT NULL,  -- subject says [PATCH ...]
    version       INTEGER NOT NULL,
    number        INTEGER,
    total         INTEGER,
    rfc           INTEGER NOT NULL,
    resend        INTEGER NOT NULL,
    tags          TEXT NOT NULL,
    author_name   TEXT NOT NULL,
    author_email  TEXT NOT NULL,
    sender_name   TEXT NOT NULL,
    sender_email  TEXT NOT NULL,
    date          INTEGER,
    date_tz       TEXT,
    in_reply_to   TEXT,
    refs          TEXT NOT NULL,     -- space-separated Message-IDs, oldest first
    change_id     TEXT,
    base_commit   TEXT,
    patch_id      TEXT,
    fingerprint   BLOB,
    files         TEXT NOT NULL,
    trailers      TEXT NOT NULL,     -- JSON [[key, value], ...] of the message part
    problems      TEXT NOT NULL,     -- newline-separated decoding problems survived
    body          BLOB NOT NULL      -- zstd(message part, notes, diff) joined by \\0
);
CREATE INDEX IF NOT EXISTS messages_patch_id ON messages(patch_id);
CREATE INDEX IF NOT EXISTS messages_date ON messages(date);
CREATE INDEX IF NOT EXISTS messages_norm ON messages(subject_norm);
CREATE INDEX IF NOT EXISTS messages_author ON messages(author_email, date);
CREATE INDEX IF NOT EXISTS messages_reply ON messages(in_reply_to);
CREATE INDEX IF NOT EXISTS messages_change_id ON messages(change_id);

-- Every message a message names in In-Reply-To or References: threads are the connected
-- parts of this graph, so they survive a missing parent (a ghost still joins its children)
-- and a client that dropped part of the References chain.
CREATE TABLE IF NOT EXISTS message_refs (
    ref        TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages(id)
);
CREATE INDEX IF NOT EXISTS message_refs_ref ON message_refs(ref);
CREATE INDEX IF NOT EXISTS message_refs_message ON message_refs(message_id);
-- Revision chains look up an author's postings by name too (a new address, a DMARC rewrite).
CREATE INDEX IF NOT EXISTS messages_author_name ON messages(author_name, date);

CREATE TABLE IF NOT EXISTS message_files (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    path       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS message_files_path ON message_files(path);

-- Subjects for fuzzy candidate search (reworded subjects still share rare words).
CREATE VIRTUAL TABLE IF NOT EXISTS subjects_fts USING fts5(
    norm, content='', tokenize='unicode61'
);

-- Every key read from a source, stored or not: makes re-reads idempotent (Maildir has
-- no order, a rewritten mbox restarts) and keeps the skip reasons for the summary.
CREATE TABLE IF NOT EXISTS seen (
    source_id INTEGER NOT NULL REFERENCES sources(id),
    key       TEXT NOT NULL,
    message_id INTEGER,              -- NULL when skipped
    reason    TEXT,                  -- why skipped
    PRIMARY KEY (source_id, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS commit_skips (
    oid    TEXT PRIMARY KEY,
    reason TEXT NOT NULL
) WITHOUT ROWID;

-- The identifier index (patchtrail.mail.idents): per commit and file, the identifiers its
-- diff added and removed. Clustered by identifier, so "every commit that touched X" is one
-- range read. Deleted files have no rows of their own, only a path_changes row: what they
-- removed is what the earlier rows of that path left (see patchtrail.story.events).
CREATE TABLE IF NOT EXISTS idents (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS paths (
    id   INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS ident_changes (
    ident_id  INTEGER NOT NULL,     -- idents(id)
    commit_id INTEGER NOT NULL,     -- commits(id); ids follow topological order
    path_id   INTEGER NOT NULL,     -- paths(id), the post-image path
    added     INTEGER NOT NULL,     -- occurrences on + lines
    removed   INTEGER NOT NULL,     -- occurrences on - lines
    line      INTEGER,              -- first new-file line it was added on; NULL if none added
    PRIMARY KEY (ident_id, commit_id, path_id)
) WITHOUT ROWID;
-- Deleted files and renames: kind 'D' (path deleted), 'R' (path renamed here from other_id),
-- 'r' (path renamed away to other_id); both directions so a path's names are one lookup.
CREATE TABLE IF NOT EXISTS path_changes (
    path_id   INTEGER NOT NULL,
    commit_id INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    other_id  INTEGER,
    PRIMARY KEY (path_id, commit_id, kind)
) WITHOUT ROWID;

-- The prose of every message (message part and notes, not the diff, not quoted lines),
-- for "which later messages mention X": contentless, identifiers kept whole.
CREATE VIRTUAL TABLE IF NOT EXISTS prose_fts USING fts5(
    text, content='', columnsize=0, tokenize="unicode61 tokenchars '_'"
);
"""


# Tables whose secondary indexes a first bulk load drops and builds once at its end: one
# sort per index costs less than keeping eight B-trees in order row by row.
BULK_TABLES = ("messages", "message_refs", "message_files")


def bulk_indexes(conn: sqlite3.Connection) -> list[str]:
    """The names of the secondary indexes of BULK_TABLES the file holds now."""
    marks = ",".join("?" * len(BULK_TABLES))
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) ORDER BY name", BULK_TABLES)]


_INDEX_NAMES = re.compile(r"CREATE INDEX IF NOT EXISTS (\w+)")


def missing_indexes(conn: sqlite3.Connection) -> list[str]:
    """The indexes of the schema the file lacks (a bulk load was killed, or is running)."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    return [name for name in _INDEX_NAMES.findall(DDL) if name not in have]


def restore_indexes(conn: sqlite3.Connection) -> None:
    """Build whichever index is missing: after a bulk load, or one killed halfway. Every
    statement of DDL says IF NOT EXISTS, so running it again builds exactly those."""
    conn.executescript(DDL)


class SchemaError(Exception):
    """The file is not a patchtrail index of this version."""


def ensure_schema(conn: sqlite3.Connection, path: str) -> None:
    """Create the tables in an empty file; refuse a foreign or differently versioned one."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        with conn:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.executescript(DDL)
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        return
    if app_id != APPLICATION_ID or "meta" not in tables:
        raise SchemaError(f"{path}: not a patchtrail index (an SQLite file of something else)")
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = int(row[0]) if row else 0
    if version != SCHEMA_VERSION:
        raise SchemaError(
            f"{path}: index schema version {version}, this patchtrail reads {SCHEMA_VERSION};"
            " delete the file and run `patchtrail index` again"
        )
