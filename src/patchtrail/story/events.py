"""The life of an identifier, commit by commit, read from the identifier index.

The index stores, per commit and file, the occurrences a diff added and removed (see
`patchtrail.mail.idents`). Replaying them in history order keeps a count per file, which
is what tells the kinds of change apart:

* a commit where some files lose occurrences and others gain them is a MOVE (code moved
  between files, or a file renamed with too many edits for git to pair it);
* an addition while the count is zero is a BIRTH (the first) or a REBIRTH;
* a removal that brings the count to zero is a DELETION.

Deleted files have no rows of their own: the count their path had is what they removed.
A rename carries the old path's count to the new one. Commit ids follow topological
order (parents first), so replaying by id respects history; merges carry no diff (the
index reads history with `--diff-merges=off`), so what a merge brings in is counted on
the side branch that wrote it. Parallel branches that add the same lines are counted
twice: the counts are exact on a linear history and approximate across branches.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from patchtrail.index.query import select_in
from patchtrail.story.model import (
    ADD,
    BIRTH,
    DELETION,
    EDIT,
    MOVE,
    REBIRTH,
    REMOVE,
    RENAME,
    CommitRef,
    IdentEvent,
    Place,
)


@dataclass(slots=True)
class Life:
    """Every event of one identifier, oldest first, and whether it is still there."""

    events: list[IdentEvent]
    alive: bool


def ident_id(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT id FROM idents WHERE name=?", (name,)).fetchone()
    return None if row is None else int(row[0])


# The columns of `commits` a CommitRef is made of, in `commit_ref`'s order: every story
# query that builds one reads these and no more (whole rows carry messages and diffs).
REF_COLUMNS = "oid, subject, author_name, author_email, author_time, committer_time"


def commit_ref(oid: str, subject: str, author_name: str, author_email: str, author_time: int,
               committer_time: int) -> CommitRef:
    """A CommitRef from the REF_COLUMNS of a commit: the one place its author is spelled."""
    return CommitRef(oid, subject, f"{author_name} <{author_email}>", author_time, committer_time)


def commit_refs(conn: sqlite3.Connection, ids: Iterable[int],
                source_id: int | None) -> dict[int, CommitRef]:
    """CommitRef per commits.id, only for commits of `source_id` (all when None)."""
    out: dict[int, CommitRef] = {}
    q = f"SELECT id, source_id, {REF_COLUMNS} FROM commits WHERE id IN ({{marks}})"
    for cid, source, *ref in select_in(conn, q, set(ids)):
        if source_id is None or source == source_id:
            out[cid] = commit_ref(*ref)
    return out


def _path_changes(conn: sqlite3.Connection, paths: set[int]) -> list[tuple[int, int, str, int | None]]:
    """Renames away from and deletions of `paths`, following renames to their new names."""
    found: list[tuple[int, int, str, int | None]] = []
    frontier = set(paths)
    while frontier:
        nxt: set[int] = set()
        q = ("SELECT path_id, commit_id, kind, other_id FROM path_changes"
             " WHERE path_id IN ({marks}) AND kind IN ('r', 'D')")
        for path_id, commit_id, kind, other in select_in(conn, q, frontier):
            found.append((path_id, commit_id, kind, other))
            if kind == "r" and other is not None and other not in paths:
                paths.add(other)
                nxt.add(other)
        frontier = nxt
    return found


def path_names(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, str]:
    return dict(select_in(conn, "SELECT id, path FROM paths WHERE id IN ({marks})", set(ids)))


def life(conn: sqlite3.Connection, name: str, source_id: int | None) -> Life:
    """Replay the identifier's rows; see the module docstring for the rules."""
    iid = ident_id(conn, name)
    if iid is None:
        return Life([], False)
    rows = conn.execute(
        "SELECT commit_id, path_id, added, removed, line FROM ident_changes WHERE ident_id=?", (iid,)
    ).fetchall()
    paths = {r[1] for r in rows}
    changes = _path_changes(conn, paths)
    refs = commit_refs(conn, {r[0] for r in rows} | {c[1] for c in changes}, source_id)
    names = path_names(conn, paths)
    by_commit: dict[int, list[tuple[int, int, int, int | None]]] = defaultdict(list)
    for commit_id, path_id, added, removed, line in rows:
        if commit_id in refs:
            by_commit[commit_id].append((path_id, added, removed, line))
    renamed: dict[int, list[tuple[int, int]]] = defaultdict(list)
    deleted: dict[int, list[int]] = defaultdict(list)
    for path_id, commit_id, kind, other in changes:
        if commit_id not in refs:
            continue
        if kind == "r" and other is not None:
            renamed[commit_id].append((path_id, other))
        elif kind == "D":
            deleted[commit_id].append(path_id)
    return _replay(by_commit, renamed, deleted, refs, names)


def _replay(by_commit: dict[int, list[tuple[int, int, int, int | None]]],
            renamed: dict[int, list[tuple[int, int]]], deleted: dict[int, list[int]],
            refs: dict[int, CommitRef], names: dict[int, str]) -> Life:
    count: dict[int, int] = defaultdict(int)
    total = 0
    born = False
    events: list[IdentEvent] = []
    for cid in sorted(set(by_commit) | set(renamed) | set(deleted)):
        before = total
        moved: list[tuple[str, str]] = []
        for old, new in renamed.get(cid, ()):
            if count[old] > 0:
                count[new] += count[old]
                count[old] = 0
                moved.append((names[old], names[new]))
        places: list[Place] = []
        for path_id in deleted.get(cid, ()):
            if count[path_id] > 0:
                places.append(Place(names[path_id], 0, count[path_id]))
                total -= count[path_id]
                count[path_id] = 0
        for path_id, added, removed, line in by_commit.get(cid, ()):
            places.append(Place(names[path_id], added, removed, line))
            # A count below zero means history the index could not read (a missing blob).
            new = max(0, count[path_id] + added - removed)
            total += new - count[path_id]
            count[path_id] = new
        if not places and not moved:
            continue
        kind, src, dst = _classify(places, moved, before, total, born)
        born = born or kind == BIRTH
        events.append(IdentEvent(refs[cid], kind, sorted(places, key=lambda p: p.path), src, dst))
    return Life(events, total > 0)


def _classify(places: list[Place], moved: list[tuple[str, str]], before: int, after: int,
              born: bool) -> tuple[str, list[str], list[str]]:
    """The event's kind, and the files it left and went to (moves and renames)."""
    gained = sorted(p.path for p in places if p.added > p.removed)
    lost = sorted(p.path for p in places if p.removed > p.added)
    src = [o for o, _ in moved]
    dst = [n for _, n in moved]
    if gained and lost:
        return MOVE, src + lost, dst + gained
    if gained and before == 0:
        return (REBIRTH if born else BIRTH), src, dst
    if gained:
        return ADD, src, dst
    if lost:
        return (DELETION if after == 0 else REMOVE), src, dst
    return (RENAME if moved else EDIT), src, dst


def renamed_forward(conn: sqlite3.Connection, paths: Iterable[str]) -> set[str]:
    """`paths` and every name they were later renamed to."""
    names = set(paths)
    ids = {r[0] for r in select_in(conn, "SELECT id FROM paths WHERE path IN ({marks})", names)}
    start = set(ids)
    _path_changes(conn, ids)  # grows `ids` along renames
    names.update(path_names(conn, ids - start).values())
    return names
