"""Where series detection reads messages from: the index one query at a time, or all of
it held in memory.

A question about one series touches a few dozen messages, so SQL lookups answer it in
milliseconds. Building every series of an archive (the bench, a future cache) would make
tens of thousands of such lookups; loading the columns once and answering from
dictionaries is two orders of magnitude faster. Both give the same answers because the
series code sees only this interface.

Bodies are the exception to "one query each": one series answer reads the same patch
from several places (its "Link to vN:" lines while chaining, its diff and changelog in
the range-diff, its diff again against an edited commit), and each zstd decompression
costs more than the lookup. So both stores hand out a message's decoded parts, decoded
once per store object, which is one question for `SqlMessages`.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Protocol

from patchtrail.index.rows import body_parts
from patchtrail.link.series_model import Msg
from patchtrail.link.threads import (
    Thread,
    build_thread,
    load_msgs,
    msgs_by_msgid,
    thread_of,
)

# (message, notes, diff) of a stored body (`patchtrail.index.rows.body_parts`).
Parts = tuple[str, str, str]


class Messages(Protocol):
    def by_msgid(self, msgids: list[str]) -> dict[str, Msg]: ...
    def thread(self, msgid: str) -> Thread: ...
    def by_author(self, email: str, name: str, lo: int, hi: int) -> list[Msg]: ...
    def by_change_id(self, change_id: str) -> list[Msg]: ...
    def siblings(self, anchor: Msg, lo: int, hi: int) -> list[Msg]: ...
    def parts(self, msg: Msg) -> Parts: ...


_NO_PARTS: Parts = ("", "", "")
_POSTED = "NOT is_reply AND (has_tag OR is_patch)"


class _Bodies:
    """Bodies read from the index, their parts decoded once and kept.

    `parts_kept` bounds what is kept (oldest out first) for a store that outlives one
    question; None keeps everything, which for one question is a few hundred messages.
    """

    parts_kept: int | None = None

    def __init__(self, conn: sqlite3.Connection, parts: dict[int, Parts] | None = None) -> None:
        self.conn = conn
        # By message id; a caller may share one between stores: a stored body never changes.
        self._parts: dict[int, Parts] = {} if parts is None else parts

    def body(self, msg: Msg) -> bytes | None:
        """The stored blob, still compressed (`parts` decodes and keeps it)."""
        row = self.conn.execute("SELECT body FROM messages WHERE id=?", (msg.id,)).fetchone()
        return row[0] if row else None

    def parts(self, msg: Msg) -> Parts:
        """(message, notes, diff) of `msg`; empty strings if the index no longer holds it."""
        got = self._parts.get(msg.id)
        if got is None:
            blob = self.body(msg)
            got = body_parts(blob) if blob is not None else _NO_PARTS
            if self.parts_kept is not None and len(self._parts) >= self.parts_kept:
                del self._parts[next(iter(self._parts))]
            self._parts[msg.id] = got
        return got


class SqlMessages(_Bodies):
    """Answers from the index, one query each; create one per question (threads and
    bodies are kept for its lifetime)."""

    def __init__(self, conn: sqlite3.Connection, parts: dict[int, Parts] | None = None) -> None:
        super().__init__(conn, parts)
        self._threads: dict[str, Thread] = {}

    def by_msgid(self, msgids: list[str]) -> dict[str, Msg]:
        return msgs_by_msgid(self.conn, msgids)

    def thread(self, msgid: str) -> Thread:
        t = self._threads.get(msgid)
        if t is None:
            t = thread_of(self.conn, msgid)
            for mid in t.messages:
                self._threads[mid] = t
        return t

    def by_author(self, email: str, name: str, lo: int, hi: int) -> list[Msg]:
        rows = load_msgs(self.conn, f"author_email=? AND date BETWEEN ? AND ? AND {_POSTED}", (email, lo, hi))
        if name:
            seen = {m.id for m in rows}
            rows += [m for m in load_msgs(self.conn, f"author_name=? AND date BETWEEN ? AND ? AND {_POSTED}",
                                          (name, lo, hi)) if m.id not in seen]
        return rows

    def by_change_id(self, change_id: str) -> list[Msg]:
        return load_msgs(self.conn, "change_id=? AND NOT is_reply", (change_id,))

    def siblings(self, anchor: Msg, lo: int, hi: int) -> list[Msg]:
        return load_msgs(
            self.conn,
            "author_email=? AND total=? AND version=? AND has_tag AND NOT is_reply AND date BETWEEN ? AND ?",
            (anchor.author_email, anchor.total, anchor.version, lo, hi),
        )


class MemoryMessages(_Bodies):
    """Every message's columns held in memory, threads precomputed by union-find; the
    decoded bodies of the last few thousand messages read (not the whole archive's)."""

    parts_kept = 4096

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self.msgs: dict[str, Msg] = {m.msgid: m for m in load_msgs(conn, "1")}
        self._author: dict[str, list[Msg]] = defaultdict(list)
        self._name: dict[str, list[Msg]] = defaultdict(list)
        self._change: dict[str, list[Msg]] = defaultdict(list)
        for m in self.msgs.values():
            if not m.is_reply and m.change_id:
                self._change[m.change_id].append(m)
            if not m.is_reply and (m.has_tag or m.is_patch):
                self._author[m.author_email].append(m)
                self._name[m.author_name].append(m)
        self._component = self._components()
        self._by_comp: dict[str, list[Msg]] | None = None

    def _components(self) -> dict[str, str]:
        up: dict[str, str] = {}

        def find(x: str) -> str:
            root = x
            while up.get(root, root) != root:
                root = up[root]
            while up.get(x, x) != root:
                up[x], x = root, up[x]
            return root

        for m in self.msgs.values():
            names = list(m.refs) + ([m.in_reply_to] if m.in_reply_to else [])
            a = find(m.msgid)
            for n in names:
                b = find(n)
                if a != b:
                    up[b] = a
        return {mid: find(mid) for mid in self.msgs}

    def by_msgid(self, msgids: list[str]) -> dict[str, Msg]:
        return {mid: self.msgs[mid] for mid in msgids if mid in self.msgs}

    def thread(self, msgid: str) -> Thread:
        comp = self._component.get(msgid)
        if comp is None:
            return build_thread({}, {msgid})
        members = self._members().get(comp, [])
        messages = {m.msgid: m for m in members}
        nodes = set(messages)
        for m in members:
            nodes.update(m.refs)
            if m.in_reply_to:
                nodes.add(m.in_reply_to)
        return build_thread(messages, nodes)

    def _members(self) -> dict[str, list[Msg]]:
        if self._by_comp is None:
            by: dict[str, list[Msg]] = defaultdict(list)
            for mid, comp in self._component.items():
                by[comp].append(self.msgs[mid])
            self._by_comp = by
        return self._by_comp

    def by_author(self, email: str, name: str, lo: int, hi: int) -> list[Msg]:
        out = {m.id: m for m in self._author.get(email, []) if m.date is not None and lo <= m.date <= hi}
        if name:
            out.update({m.id: m for m in self._name.get(name, []) if m.date is not None and lo <= m.date <= hi})
        return list(out.values())

    def by_change_id(self, change_id: str) -> list[Msg]:
        return list(self._change.get(change_id, []))

    def siblings(self, anchor: Msg, lo: int, hi: int) -> list[Msg]:
        return [m for m in self._author.get(anchor.author_email, [])
                if m.has_tag and m.total == anchor.total and m.version == anchor.version
                and m.date is not None and lo <= m.date <= hi]
