"""From commits to the emails they came from, and from emails to the threads they are in.

`group_key` says which thread a message belongs to (`link.threads.root_id`: the first
Message-ID of its References, the cover letter when there is one, else its In-Reply-To,
else the message itself). Discussions are threads; the series of an email (all its
revisions, across threads) is `patchtrail.story.series_groups`'s to find.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from patchtrail.index.query import select_in
from patchtrail.index.store import Store
from patchtrail.link.commits import load_commits
from patchtrail.link.dig import best_match
from patchtrail.link.threads import root_id
from patchtrail.link.urls import message_url
from patchtrail.story.model import EmailRef

MESSAGE_COLUMNS = "id, msgid, subject, title, list, date, author_name, author_email, refs, in_reply_to"


def group_key(row: sqlite3.Row) -> str:
    """The thread of a message row (any row with msgid, refs and in_reply_to): its root's id."""
    return root_id(row["msgid"], row["refs"], row["in_reply_to"])


def messages_by_ids(conn: sqlite3.Connection, ids: Iterable[int]) -> list[sqlite3.Row]:
    return list(select_in(conn, f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({{marks}})",
                          ids))


def message_by_msgid(conn: sqlite3.Connection, msgid: str) -> sqlite3.Row | None:
    return conn.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE msgid=?", (msgid,)).fetchone()


def messages_by_msgid(conn: sqlite3.Connection, msgids: Iterable[str]) -> dict[str, sqlite3.Row]:
    """The indexed messages among `msgids`, in one statement per IN_CHUNK of them."""
    q = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE msgid IN ({{marks}})"
    return {row["msgid"]: row for row in select_in(conn, q, dict.fromkeys(msgids))}


def series_title(conn: sqlite3.Connection, key: str, fallback: sqlite3.Row) -> tuple[str, str]:
    """(title, url) of the series `key`: its root message's, else the message's own."""
    return _titled(message_by_msgid(conn, key) if key != fallback["msgid"] else fallback, fallback)


def _titled(root: sqlite3.Row | None, fallback: sqlite3.Row) -> tuple[str, str]:
    row = root if root is not None else fallback
    return row["title"] or row["subject"], message_url(row["list"], row["msgid"])


def emails_of(store: Store, oids: list[str], ignore_links: bool = False) -> dict[str, EmailRef]:
    """The email each commit was applied from (`patchtrail dig`'s answer, found without
    scoring the runners-up: `best_match`), for those that have one.

    The emails, then their threads' roots, are read in one statement each rather than
    two per commit: a story links up to MAX_COMMITS follow-ups at once.
    """
    conn = store.conn
    matches = [(info.oid, match) for info in load_commits(store, oids)
               if (match := best_match(store, info, ignore_links)) is not None]
    rows = messages_by_msgid(conn, (match.message_id for _, match in matches))
    keys = {m: group_key(row) for m, row in rows.items()}
    rows.update(messages_by_msgid(conn, set(keys.values()) - rows.keys()))
    out: dict[str, EmailRef] = {}
    titles: dict[str, tuple[str, str]] = {}
    for oid, match in matches:
        key = keys.get(match.message_id)
        if key is None:
            continue  # the matched message is not in the index
        if key not in titles:  # a root the archive lacks: the first email of its thread names it
            titles[key] = _titled(rows.get(key), rows[match.message_id])
        title, url = titles[key]
        out[oid] = EmailRef(match.message_id, match.subject, match.list, match.url, match.date,
                            match.method, match.score, key, title, url)
    return out


def thread_patches(conn: sqlite3.Connection, key: str, limit: int = 500) -> list[sqlite3.Row]:
    """The patch messages of the series `key`: the root and what replies to it, transitively.

    Walked down through message_refs, level by level, until `limit` messages were seen: a
    message is below `key` when its In-Reply-To or any of its References names `key` or
    a message already found below it. References catches what In-Reply-To alone loses
    (a reply whose In-Reply-To is missing, or names a message the archive lacks), which
    is how `group_key` already counts such a reply in the thread.

    `patchtrail.link.threads.thread_of` finds threads too, but cannot stand in here: it
    walks the whole connected thread, up as well as down (the parent and other branches
    of `key`: on the LTP list 490 of 5,991 series keys would get other patches, 195 other
    files); its limit counts ghosts and cuts within a level; and it reads every column of
    every message, 2.6 times the time of this walk over all LTP series keys.
    """
    seen: set[str] = {key}
    frontier = [key]
    patches: list[sqlite3.Row] = []
    root = conn.execute("SELECT msgid, is_patch, files FROM messages WHERE msgid=?", (key,)).fetchone()
    if root is not None and root["is_patch"]:
        patches.append(root)
    q = ("SELECT m.msgid, m.is_patch, m.files FROM message_refs r"
         " JOIN messages m ON m.id = r.message_id WHERE r.ref IN ({marks})")
    while frontier and len(seen) < limit:
        nxt: list[str] = []
        for row in select_in(conn, q, frontier):
            if row["msgid"] not in seen:
                seen.add(row["msgid"])
                nxt.append(row["msgid"])
                if row["is_patch"]:
                    patches.append(row)
        frontier = nxt
    return patches
