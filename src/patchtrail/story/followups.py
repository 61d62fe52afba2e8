"""What came after an origin: later commits on the symbol or the series' files, by series.

A follow-up is a later commit whose diff changed lines carrying the symbol (or the
line), or that touched a file the origin series touched (followed through renames).
Each is linked to its email (`patchtrail dig`'s answer, `emails_of`) and the commits are
grouped by the series of their emails (`patchtrail.story.series_groups`), so a later
series shows up as one group with its commits and revisions even when their subjects
say nothing of the series title. Commits near the birth that come from the origin series
itself are its siblings, reported apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from patchtrail.index.store import Store
from patchtrail.link.series_model import Series
from patchtrail.story.emails import emails_of, thread_patches
from patchtrail.story.events import REF_COLUMNS, commit_ref, renamed_forward
from patchtrail.story.model import CommitRef, EmailRef, FollowUpGroup
from patchtrail.story.series_groups import Later, group_by_series, origin_names
from patchtrail.story.story_model import FollowUp

# Commits linked for follow-ups at most (a link is 3-10 ms on LTP); the rest is counted.
MAX_COMMITS = 120
# A series' commits are applied together: siblings of the birth commit are looked for
# this long before and after it.
SIBLING_WINDOW = 120 * 86400


@dataclass(slots=True)
class Related:
    siblings: list[CommitRef]          # the origin series' commits (the birth commit included)
    followups: list[FollowUp]          # later commits by series, oldest first
    truncated: int                     # candidate follow-ups not examined (over MAX_COMMITS)

    @property
    def groups(self) -> list[FollowUpGroup]:
        return [f.group for f in self.followups]


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
            source_id: int | None, core: Iterable[str] = (), series: Series | None = None,
            ignore_links: bool = False) -> Related:
    """Siblings and follow-ups of the commit `birth`.

    `touched`: later commits that changed lines carrying the symbol (or the line); `core`:
    the files it was born in and moved to. When there are more candidates than
    MAX_COMMITS, the most telling are examined first: commits on the symbol in its core
    files, then any change to its core files, then its other uses, then the rest of the
    series' files; each tier oldest first.

    `series`: the origin series when it is already built (`patchtrail story`): its applied
    commits are the siblings, so none has to be linked to be told apart from follow-ups,
    and its revisions (all of them, not only the thread of `email`) are left out.
    """
    conn = store.conn
    row = conn.execute("SELECT id FROM commits WHERE oid=?", (birth.oid,)).fetchone()
    birth_id = row["id"] if row is not None else 0
    files = series_files(store, birth.oid, email)
    core = renamed_forward(conn, core)
    known = {c.oid for c in series.applied.commits} if series is not None and series.applied else set()
    lo = birth.committer_time - SIBLING_WINDOW
    hi = birth.committer_time + SIBLING_WINDOW
    look_for_siblings = email is not None and series is None
    sql = f"SELECT id, {REF_COLUMNS}, files, parents FROM commits WHERE (committer_time >= ? OR id > ?)"
    args: list[object] = [lo if look_for_siblings else 1 << 62, birth_id]
    if source_id is not None:
        sql += " AND source_id = ?"
        args.append(source_id)
    siblings: list[tuple[int, CommitRef, list[str]]] = []
    tiers: list[list[tuple[int, CommitRef, list[str]]]] = [[], [], [], []]
    scan = conn.cursor()
    scan.row_factory = None  # plain tuples: every later commit of the history is read
    for cid, oid, subject, name, address, authored, committed, changes, parents in scan.execute(
            sql + " ORDER BY id", args):
        if " " in parents or oid == birth.oid or oid in known:
            continue
        changed = set(changes.split("\n")) if changes else set()
        shared = sorted(files & changed)
        sibling = look_for_siblings and shared and lo <= committed <= hi
        on_symbol, on_core = oid in touched, bool(core & changed)
        tier = 0 if on_symbol and on_core else 1 if on_core else 2 if on_symbol else 3 if shared else -1
        if not sibling and (tier < 0 or cid <= birth_id):
            continue
        ref = commit_ref(oid, subject, name, address, authored, committed)
        if sibling:
            siblings.append((cid, ref, shared))
        else:
            tiers[tier].append((cid, ref, shared))
    ranked = [c for tier in tiers for c in tier]
    later = sorted(ranked[:MAX_COMMITS], key=lambda t: t[0])
    truncated = len(ranked) - len(later)
    emails = emails_of(store, [ref.oid for _, ref, _ in siblings + later], ignore_links)
    names = origin_names(email, series)
    sibs = [(birth_id, birth)] + [(i, ref) for i, ref, _ in siblings if _of(emails.get(ref.oid), names)]
    # Siblings that turn out to come from another series are follow-ups when later.
    later += [(i, ref, shared) for i, ref, shared in siblings
              if i > birth_id and not _of(emails.get(ref.oid), names)]
    in_order = [Later(ref, shared, ref.oid in touched) for _, ref, shared in sorted(later, key=lambda t: t[0])]
    followups = group_by_series(store, in_order, emails, names, ignore_links)
    return Related([ref for _, ref in sorted(sibs, key=lambda t: t[0])], followups, truncated)


def _of(email: EmailRef | None, names: set[str]) -> bool:
    """Whether the email belongs to the origin series (by its thread)."""
    return email is not None and f"t:{email.series_key}" in names
