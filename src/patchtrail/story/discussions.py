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
from patchtrail.story.emails import group_key, messages_by_ids, messages_by_msgid
from patchtrail.story.model import CommitRef, Discussion, Term, Terms

MAX_THREADS = 50
PER_TERM = 5000            # messages read per search term at most
MIN_PHRASE_WORDS = 3       # "Fix typo" names nothing; a phrase must be this long
_WORD = re.compile(r"\w+")


def _phrase(text: str) -> str | None:
    words = _WORD.findall(text)
    if len(words) < MIN_PHRASE_WORDS:
        return None
    return " ".join(words)


def search_terms(symbol: str | None, commits: Iterable[CommitRef], title: str | None) -> Terms:
    """The terms later messages are searched for: the symbol, each commit's id and subject,
    the series title (a subject or title of fewer than MIN_PHRASE_WORDS words names nothing)."""
    terms: Terms = []
    if symbol:
        terms.append(Term("symbol", symbol))
    for c in commits:
        terms.append(Term("commit id", c.oid[:8], prefix=True))
        phrase = _phrase(c.subject)
        if phrase:
            terms.append(Term("commit subject", phrase))
    phrase = _phrase(title) if title else None
    if phrase:
        terms.append(Term("series title", phrase))
    return terms


def fts_query(term: Term) -> str:
    """The term as an FTS5 query: quoted, so no text of a message's leaks query syntax."""
    quoted = '"' + term.text.replace('"', '""') + '"'
    return quoted + "*" if term.prefix else quoted


def discussions(conn: sqlite3.Connection, terms: Terms, after: int,
                excluded: set[str], excluded_titles: set[str]) -> tuple[list[Discussion], int]:
    """Threads with messages after `after` matching a term; keys in `excluded` left out.

    Returns the threads (oldest first, at most MAX_THREADS) and how many were left out.
    """
    matched: dict[int, set[str]] = {}
    for term in terms:
        try:
            rows = conn.execute("SELECT rowid FROM prose_fts WHERE prose_fts MATCH ? LIMIT ?",
                                (fts_query(term), PER_TERM)).fetchall()
        except sqlite3.OperationalError:
            continue  # a term FTS5 cannot parse finds nothing rather than failing the query
        for (rowid,) in rows:
            matched.setdefault(rowid, set()).add(term.label)
    threads: dict[str, list[sqlite3.Row]] = {}
    for row in messages_by_ids(conn, matched):
        if row["date"] is None or row["date"] <= after:
            continue
        key = group_key(row)
        if key in excluded:
            continue
        threads.setdefault(key, []).append(row)
    for rows in threads.values():
        rows.sort(key=lambda r: r["date"] or 0)
    roots = messages_by_msgid(conn, (key for key, rows in threads.items() if key != rows[0]["msgid"]))
    out: list[Discussion] = []
    for key, rows in threads.items():
        first = rows[0]
        root = roots.get(key, first)  # a root the archive lacks: the thread's first match
        # The title the index parsed from the subject (patchtrail.mail.subject), as the
        # series and follow-up titles in `excluded_titles` were.
        if root["title"].lower() in excluded_titles:
            continue
        subject = root["subject"]
        labels = sorted({label for r in rows for label in matched[r["id"]]})
        out.append(Discussion(
            key, subject, first["list"], message_url(first["list"], first["msgid"]), first["date"],
            f"{first['author_name']} <{first['author_email']}>", len(rows), labels))
    out.sort(key=lambda d: d.date or 0)
    return out[:MAX_THREADS], max(0, len(out) - MAX_THREADS)
