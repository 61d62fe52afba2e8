"""Later threads that talk about an origin: "Why are we using preemption timer on x86?".

A message mentions the origin when its own prose (subject, message, notes; not quotes,
not the diff: see `patchtrail.mail.prose`) names the symbol, the id of a commit of the
origin series (8 hex digits or more), one of their subjects or the series title. Only
messages posted after the birth commit was committed count, and threads that are the
origin series or one of its follow-up series are left out: they are told elsewhere.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable

from patchtrail.link.urls import message_url
from patchtrail.story.emails import group_key, message_by_msgid, messages_by_ids
from patchtrail.story.model import CommitRef, Discussion

MAX_THREADS = 50
PER_TERM = 5000            # messages read per search term at most
MIN_PHRASE_WORDS = 3       # "Fix typo" names nothing; a phrase must be this long
_WORD = re.compile(r"\w+")
_TITLE = re.compile(r"^\s*(?:(?:re|fwd?|aw|sv)\s*:\s*|\[[^\]]*\]\s*)+", re.IGNORECASE)


def _phrase(text: str) -> str | None:
    words = _WORD.findall(text)
    if len(words) < MIN_PHRASE_WORDS:
        return None
    return '"' + " ".join(words) + '"'


def search_terms(symbol: str | None, commits: Iterable[CommitRef],
                 title: str | None) -> list[tuple[str, str]]:
    """(label, FTS5 query) pairs; every user-derived text is quoted (no query syntax leaks)."""
    terms: list[tuple[str, str]] = []
    if symbol:
        terms.append(("symbol", '"' + symbol.replace('"', '""') + '"'))
    for c in commits:
        terms.append(("commit id", f'"{c.oid[:8]}"*'))
        phrase = _phrase(c.subject)
        if phrase:
            terms.append(("commit subject", phrase))
    phrase = _phrase(title) if title else None
    if phrase:
        terms.append(("series title", phrase))
    return terms


def discussions(conn: sqlite3.Connection, terms: list[tuple[str, str]], after: int,
                excluded: set[str], excluded_titles: set[str]) -> tuple[list[Discussion], int]:
    """Threads with messages after `after` matching a term; keys in `excluded` left out.

    Returns the threads (oldest first, at most MAX_THREADS) and how many were left out.
    """
    matched: dict[int, set[str]] = {}
    for label, query in terms:
        try:
            rows = conn.execute("SELECT rowid FROM prose_fts WHERE prose_fts MATCH ? LIMIT ?",
                                (query, PER_TERM)).fetchall()
        except sqlite3.OperationalError:
            continue  # a term FTS5 cannot parse finds nothing rather than failing the query
        for (rowid,) in rows:
            matched.setdefault(rowid, set()).add(label)
    threads: dict[str, list[sqlite3.Row]] = {}
    for row in messages_by_ids(conn, matched):
        if row["date"] is None or row["date"] <= after:
            continue
        key = group_key(row)
        if key in excluded:
            continue
        threads.setdefault(key, []).append(row)
    out: list[Discussion] = []
    for key, rows in threads.items():
        rows.sort(key=lambda r: r["date"] or 0)
        first = rows[0]
        root = message_by_msgid(conn, key) if key != first["msgid"] else first
        subject = (root or first)["subject"]
        if _TITLE.sub("", subject).strip().lower() in excluded_titles:
            continue
        labels = sorted({label for r in rows for label in matched[r["id"]]})
        out.append(Discussion(
            key, subject, first["list"], message_url(first["list"], first["msgid"]), first["date"],
            f"{first['author_name']} <{first['author_email']}>", len(rows), labels))
    out.sort(key=lambda d: d.date or 0)
    return out[:MAX_THREADS], max(0, len(out) - MAX_THREADS)
