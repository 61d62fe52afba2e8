"""From commits to the emails they came from, and from emails to the threads they are in.

`_group_key` is the one place that decides which thread a message belongs to: the first
Message-ID of its References (the cover letter, when there is one), else its In-Reply-To,
else the message itself. Discussions are threads; the series of an email (all its
revisions, across threads) is `patchtrail.story.series_groups`'s to find.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from patchtrail.index.query import select_in
from patchtrail.index.store import Store
from patchtrail.link.commits import load_commits
from patchtrail.link.dig import best_match
from patchtrail.link.urls import message_url
from patchtrail.story.model import EmailRef

MESSAGE_COLUMNS = "id, msgid, subject, title, list, date, author_name, author_email, refs, in_reply_to"


def _group_key(msgid: str, refs: str, in_reply_to: str | None) -> str:
    """The thread a message belongs to (see the module docstring): its root's id."""
    first = refs.split(" ", 1)[0] if refs else ""
    return first or in_reply_to or msgid


def group_key(row: sqlite3.Row) -> str:
    """`_group_key` of a message row (any row with msgid, refs and in_reply_to)."""
    return _group_key(row["msgid"], row["refs"], row["in_reply_to"])


def messages_by_ids(conn: sqlite3.Connection, ids: Iterable[int]) -> list[sqlite3.Row]:
    return list(select_in(conn, f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({{marks}})",
                          ids))


def message_by_msgid(conn: sqlite3.Connection, msgid: str) -> sqlite3.Row | None:
    return conn.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE msgid=?", (msgid,)).fetchone()


def series_title(conn: sqlite3.Connection, key: str, fallback: sqlite3.Row) -> tuple[str, str]:
    """(title, url) of the series `key`: its root message's, else the message's own."""
    root = message_by_msgid(conn, key) if key != fallback["msgid"] else fallback
    row = root if root is not None else fallback
    return row["title"] or row["subject"], message_url(row["list"], row["msgid"])


def emails_of(store: Store, oids: list[str], ignore_links: bool = False) -> dict[str, EmailRef]:
    """The email each commit was applied from (`patchtrail dig`'s answer, found without
    scoring the runners-up: `best_match`), for those that have one."""
    out: dict[str, EmailRef] = {}
    titles: dict[str, tuple[str, str]] = {}
    conn = store.conn
    for info in load_commits(store, oids):
        match = best_match(store, info, ignore_links)
        if match is None:
            continue
        row = message_by_msgid(conn, match.message_id)
        if row is None:
            continue
        key = group_key(row)
        if key not in titles:
            titles[key] = series_title(conn, key, row)
        title, url = titles[key]
        out[info.oid] = EmailRef(match.message_id, match.subject, match.list, match.url, match.date,
                                 match.method, match.score, key, title, url)
    return out


def thread_patches(conn: sqlite3.Connection, key: str, limit: int = 500) -> list[sqlite3.Row]:
    """The patch messages of the series `key`: the root and what replies to it, transitively."""
    seen: set[str] = {key}
    frontier = [key]
    patches: list[sqlite3.Row] = []
    root = conn.execute("SELECT msgid, is_patch, files FROM messages WHERE msgid=?", (key,)).fetchone()
    if root is not None and root["is_patch"]:
        patches.append(root)
    while frontier and len(seen) < limit:
        nxt: list[str] = []
        q = "SELECT msgid, is_patch, files FROM messages WHERE in_reply_to IN ({marks})"
        for row in select_in(conn, q, frontier):
            if row["msgid"] not in seen:
                seen.add(row["msgid"])
                nxt.append(row["msgid"])
                if row["is_patch"]:
                    patches.append(row)
        frontier = nxt
    return patches
