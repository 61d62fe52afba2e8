"""What came after an origin: later commits on the symbol or the series' files, by series.

A follow-up is a later commit whose diff changed lines carrying the symbol (or the
line), or that touched a file the origin series touched (followed through renames).
Each is linked to its email (`patchtrail dig`) and grouped by the series of that email
(`patchtrail.story.emails._group_key`), so a later series shows up as one group with its
commits even when their subjects say nothing of the series title. Commits near the birth
that come from the origin series itself are its siblings, reported apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from patchtrail.index.store import Store
from patchtrail.story.emails import emails_of, thread_patches
from patchtrail.story.events import renamed_forward
from patchtrail.story.model import CommitRef, EmailRef, FollowUpCommit, FollowUpGroup

# Commits linked for follow-ups at most (a dig is 10-30 ms on LTP); the rest is counted.
MAX_COMMITS = 120
# A series' commits are applied together: siblings of the birth commit are looked for
# this long before and after it.
SIBLING_WINDOW = 120 * 86400
NO_EMAIL = "commits not applied from an archived email"


@dataclass(slots=True)
class Related:
    siblings: list[CommitRef]          # the origin series' commits (the birth commit included)
    groups: list[FollowUpGroup]
    truncated: int                     # candidate follow-ups not examined


def series_files(store: Store, birth_oid: str, email: EmailRef | None) -> set[str]:
    """Files of the birth commit and of every patch of its series, with their later names."""
    conn = store.conn
    files: set[str] = set()
    row = conn.execute("SELECT files FROM commits WHERE oid=?", (birth_oid,)).fetchone()
    if row is not None and row["files"]:
        files.update(row["files"].split("\n"))
    if email is not None:
        for patch in thread_patches(conn, email.series_key):
            if patch["files"]:
                files.update(patch["files"].split("\n"))
    return renamed_forward(conn, files)


def related(store: Store, birth: CommitRef, email: EmailRef | None, touched: set[str],
            source_id: int | None, core: Iterable[str] = ()) -> Related:
    """Siblings and follow-ups of the commit `birth`.

    `touched`: later commits that changed lines carrying the symbol (or the line); `core`:
    the files it was born in and moved to. When there are more candidates than
    MAX_COMMITS, the most telling are examined first: commits on the symbol in its core
    files, then any change to its core files, then its other uses, then the rest of the
    series' files; each tier oldest first.
    """
    conn = store.conn
    row = conn.execute("SELECT id FROM commits WHERE oid=?", (birth.oid,)).fetchone()
    birth_id = row["id"] if row is not None else 0
    files = series_files(store, birth.oid, email)
    core = renamed_forward(conn, core)
    lo = birth.committer_time - SIBLING_WINDOW
    hi = birth.committer_time + SIBLING_WINDOW
    sql = ("SELECT id, oid, subject, author_name, author_email, author_time, committer_time,"
           " files, parents FROM commits WHERE (committer_time >= ? OR id > ?)")
    args: list[object] = [lo, birth_id]
    if source_id is not None:
        sql += " AND source_id = ?"
        args.append(source_id)
    siblings: list[tuple[int, CommitRef, list[str]]] = []
    tiers: list[list[tuple[int, CommitRef, list[str]]]] = [[], [], [], []]
    for r in conn.execute(sql + " ORDER BY id", args):
        if " " in r["parents"] or r["oid"] == birth.oid:
            continue
        changed = set(r["files"].split("\n")) if r["files"] else set()
        shared = sorted(files & changed)
        ref = CommitRef(r["oid"], r["subject"], f"{r['author_name']} <{r['author_email']}>",
                        r["author_time"], r["committer_time"])
        if email is not None and shared and lo <= r["committer_time"] <= hi:
            siblings.append((r["id"], ref, shared))
            continue
        if r["id"] <= birth_id:
            continue
        on_symbol, on_core = r["oid"] in touched, bool(core & changed)
        tier = 0 if on_symbol and on_core else 1 if on_core else 2 if on_symbol else 3 if shared else -1
        if tier >= 0:
            tiers[tier].append((r["id"], ref, shared))
    ranked = [c for tier in tiers for c in tier]
    later = sorted(ranked[:MAX_COMMITS], key=lambda t: t[0])
    truncated = len(ranked) - len(later)
    emails = emails_of(store, [ref.oid for _, ref, _ in siblings + later])
    key = email.series_key if email is not None else None
    sibs = [(birth_id, birth)] + [(i, ref) for i, ref, _ in siblings
                                  if key is not None and _key(emails.get(ref.oid)) == key]
    # Siblings that turn out to come from another series are follow-ups when later.
    later += [(i, ref, shared) for i, ref, shared in siblings
              if i > birth_id and _key(emails.get(ref.oid)) != key]
    groups = _group(sorted(later, key=lambda t: t[0]), emails, key, touched)
    return Related([ref for _, ref in sorted(sibs, key=lambda t: t[0])], groups, truncated)


def _key(email: EmailRef | None) -> str | None:
    return email.series_key if email is not None else None


def _group(later: list[tuple[int, CommitRef, list[str]]], emails: dict[str, EmailRef],
           origin_key: str | None, touched: set[str]) -> list[FollowUpGroup]:
    groups: dict[str | None, FollowUpGroup] = {}
    for _, ref, shared in later:
        email = emails.get(ref.oid)
        key = _key(email)
        if key is not None and key == origin_key:
            continue
        group = groups.get(key)
        if group is None:
            if email is None:
                group = FollowUpGroup(None, NO_EMAIL, None, [])
            else:
                group = FollowUpGroup(key, email.series_title, email.series_url, [])
            groups[key] = group
        group.commits.append(FollowUpCommit(ref, email, ref.oid in touched, shared))
    return list(groups.values())
