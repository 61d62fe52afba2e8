"""Threads: the messages joined by In-Reply-To and References, missing ones included.

Real archives lose messages (a parent sent to another list, a moderation drop), clients
drop part of the References chain, and replies are stored before their parent. So a
thread is not read from one header: it is the connected part of the graph of every
Message-ID any message names, walked both ways through the `message_refs` table. A
Message-ID named but not in the index is a *ghost*: it still joins its children, and the
References lists of those children say where it sat.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from patchtrail.index.query import select_in
from patchtrail.link.series_model import Msg

MSG_COLUMNS = (
    "id, msgid, list, subject, title, subject_norm, is_reply, is_patch, has_tag, version, number,"
    " total, rfc, resend, author_name, author_email, sender_name, sender_email, date, in_reply_to, refs,"
    " change_id, patch_id, fingerprint, files"
)
# A thread larger than this is cut (a flame war with thousands of replies says nothing
# more about a series, and the walk must stay fast).
MAX_THREAD = 3000


def root_id(msgid: str, refs: str | None, in_reply_to: str | None) -> str:
    """The id a message's thread is known by, read off its own headers (`refs` as the
    index stores them, space-separated): the first Message-ID of its References (the cover
    letter, when there is one), else its In-Reply-To, else the message itself."""
    first = refs.split(None, 1) if refs else ()
    return first[0] if first else (in_reply_to or msgid)


def msg_from_row(r: sqlite3.Row | tuple) -> Msg:
    return Msg(
        id=r[0], msgid=r[1], list=r[2], subject=r[3], title=r[4], norm=r[5], is_reply=bool(r[6]),
        is_patch=bool(r[7]), has_tag=bool(r[8]), version=r[9], number=r[10], total=r[11],
        rfc=bool(r[12]), resend=bool(r[13]), author_name=r[14], author_email=r[15],
        sender_name=r[16], sender_email=r[17], date=r[18], in_reply_to=r[19] or None,
        refs=tuple((r[20] or "").split()), change_id=r[21], patch_id=r[22], fingerprint=r[23],
        files=tuple(f for f in (r[24] or "").split("\n") if f),
    )


def load_msgs(conn: sqlite3.Connection, where: str, args: Iterable[object] = ()) -> list[Msg]:
    sql = f"SELECT {MSG_COLUMNS} FROM messages WHERE {where}"
    return [msg_from_row(r) for r in conn.execute(sql, tuple(args))]


def msgs_by_msgid(conn: sqlite3.Connection, msgids: Iterable[str]) -> dict[str, Msg]:
    sql = f"SELECT {MSG_COLUMNS} FROM messages WHERE msgid IN ({{marks}})"
    return {m.msgid: m for m in map(msg_from_row, select_in(conn, sql, dict.fromkeys(msgids)))}


def _referrers(conn: sqlite3.Connection, msgids: list[str]) -> set[str]:
    """Message-IDs of the messages naming any of `msgids` as a parent or ancestor."""
    return {r[0] for r in select_in(
        conn, "SELECT m.msgid FROM message_refs r JOIN messages m ON m.id = r.message_id"
        " WHERE r.ref IN ({marks})", msgids)}


@dataclass(slots=True)
class Thread:
    root: str
    messages: dict[str, Msg]
    parent: dict[str, str | None]
    children: dict[str, list[str]] = field(default_factory=dict)
    ghosts: set[str] = field(default_factory=set)
    truncated: bool = False

    def descendants(self, msgid: str) -> list[Msg]:
        """Every known message below `msgid`, oldest first."""
        out: list[Msg] = []
        todo = list(self.children.get(msgid, []))
        seen = {msgid}
        while todo:
            mid = todo.pop()
            if mid in seen:
                continue
            seen.add(mid)
            if mid in self.messages:
                out.append(self.messages[mid])
            todo.extend(self.children.get(mid, []))
        return sorted(out, key=lambda m: (m.date or 0, m.id))



def thread_of(conn: sqlite3.Connection, msgid: str, limit: int = MAX_THREAD) -> Thread:
    """The thread holding `msgid`: a breadth-first walk up and down the reference graph."""
    messages: dict[str, Msg] = {}
    nodes: set[str] = set()
    frontier = [msgid]
    truncated = False
    while frontier:
        if len(nodes) + len(frontier) > limit:
            truncated = True
            frontier = frontier[: max(0, limit - len(nodes))]
            if not frontier:
                break
        nodes.update(frontier)
        loaded = msgs_by_msgid(conn, frontier)
        messages.update(loaded)
        nxt: set[str] = set()
        for m in loaded.values():
            nxt.update(m.refs)
            if m.in_reply_to:
                nxt.add(m.in_reply_to)
        nxt.update(_referrers(conn, frontier))
        frontier = sorted(nxt - nodes)
    return build_thread(messages, nodes, truncated)


def build_thread(messages: dict[str, Msg], nodes: set[str] | None = None,
                 truncated: bool = False) -> Thread:
    """Parent links for known messages from their headers, for ghosts from the References
    lists of their descendants; the root is the oldest parentless node."""
    nodes = set(messages) if nodes is None else nodes
    parent: dict[str, str | None] = {n: None for n in nodes}
    for m in messages.values():
        parent[m.msgid] = m.parent
        chain = list(m.refs)
        if m.in_reply_to and (not chain or chain[-1] != m.in_reply_to):
            chain.append(m.in_reply_to)
        for above, below in pairwise(chain):
            if below not in messages and parent.get(below) is None and above != below:
                parent[below] = above
    for n in list(parent):
        parent.setdefault(n, None)
        p = parent[n]
        if p is not None and p not in parent:
            parent[p] = None
    _break_cycles(parent)
    children: dict[str, list[str]] = {}
    for child, p in parent.items():
        if p is not None:
            children.setdefault(p, []).append(child)
    roots = [n for n, p in parent.items() if p is None]
    root = min(roots, key=lambda n: _root_rank(n, messages, children)) if roots else next(iter(parent))
    ghosts = {n for n in parent if n not in messages}
    return Thread(root, messages, parent, children, ghosts, truncated)


def _root_rank(n: str, messages: dict[str, Msg], children: dict[str, list[str]]) -> tuple:
    """The real root is the node with the biggest subtree; ties go to the oldest."""
    size, todo = 0, [n]
    seen: set[str] = set()
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        size += 1
        todo.extend(children.get(x, []))
    m = messages.get(n)
    return (-size, m.date if m and m.date is not None else 0, n)


def _break_cycles(parent: dict[str, str | None]) -> None:
    """Headers can loop (forged or broken References); cut each loop at its first repeat."""
    for start in list(parent):
        seen: set[str] = set()
        cur: str | None = start
        while cur is not None:
            if cur in seen:
                parent[cur] = None
                break
            seen.add(cur)
            cur = parent.get(cur)
