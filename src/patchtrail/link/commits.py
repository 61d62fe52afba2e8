"""Finding the commits a user names: from the index, or straight from git when not indexed."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from patchtrail.index.query import select_in
from patchtrail.index.rows import COMMIT_COLUMNS, commit_values
from patchtrail.index.store import Store
from patchtrail.link.model import CommitInfo
from patchtrail.sources.errors import SourceError
from patchtrail.sources.git import GitRepo
from patchtrail.sources.records import SkipLog

_FULL_OID = re.compile(r"^[0-9a-f]{40}$")


class RevisionError(Exception):
    """A REV that names no commit in any indexed repository; one-line message."""


def commit_from_row(row: sqlite3.Row | dict) -> CommitInfo:
    files = row["files"]
    return CommitInfo(
        oid=row["oid"], subject=row["subject"], subject_norm=row["subject_norm"],
        message=row["message"], author_name=row["author_name"],
        author_email=row["author_email"].lower(), author_time=row["author_time"],
        committer_time=row["committer_time"], parents=tuple(row["parents"].split()),
        patch_id=row["patch_id"], fingerprint=row["fingerprint"],
        files=tuple(files.split("\n")) if files else (), diff_error=row["diff_error"],
    )


def expand_revisions(store: Store, revs: list[str]) -> list[str]:
    """Full ids for REVs (commits or A..B ranges), oldest first within a range."""
    repos = [GitRepo(s.path) for s in store.sources("git") if Path(s.path).exists()]
    out: list[str] = []
    for rev in revs:
        if _FULL_OID.match(rev) and store.conn.execute(
            "SELECT 1 FROM commits WHERE oid=?", (rev,)
        ).fetchone():
            out.append(rev)
            continue
        out.extend(_expand_in(repos, rev))
    seen: set[str] = set()
    return [o for o in out if not (o in seen or seen.add(o))]


def _expand_in(repos: list[GitRepo], rev: str) -> list[str]:
    if not repos:
        raise RevisionError(f"{rev}: not an indexed commit, and no repository is indexed to resolve it")
    for repo in repos:
        try:
            return repo.expand([rev])
        except SourceError:
            continue
    raise RevisionError(f"{rev}: unknown revision in {', '.join(str(r.path) for r in repos)}")


def load_commits(store: Store, oids: list[str]) -> Iterator[CommitInfo]:
    """CommitInfo for each id, in order; commits missing from the index are read from git."""
    rows = {row["oid"]: commit_from_row(row)
            for row in select_in(store.conn, "SELECT * FROM commits WHERE oid IN ({marks})", oids)}
    missing = [o for o in oids if o not in rows]
    if missing:
        rows.update(_read_from_git(store, missing))
    for oid in oids:
        if oid in rows:
            yield rows[oid]


def _read_from_git(store: Store, oids: list[str]) -> dict[str, CommitInfo]:
    found: dict[str, CommitInfo] = {}
    for src in store.sources("git"):
        if not Path(src.path).exists():
            continue
        repo = GitRepo(src.path)
        want = [o for o in oids if o not in found]
        if not want:
            break
        try:
            for rec in repo.read_commits(want, SkipLog()):
                found[rec.oid] = commit_from_row(dict(zip(COMMIT_COLUMNS, commit_values(rec, src.id))))
        except SourceError:
            continue
    return found


def commit_diffs(store: Store, oids: list[str]) -> dict[str, str]:
    """The diffs of `oids` as git shows them, read from the indexed repositories (the index
    keeps only their fingerprints)."""
    found: dict[str, str] = {}
    for src in store.sources("git"):
        want = [o for o in oids if o not in found]
        if not want or not Path(src.path).exists():
            continue
        try:
            for rec in GitRepo(src.path).read_commits(want, SkipLog()):
                if rec.diff is not None:
                    found[rec.oid] = rec.diff
        except SourceError:
            continue
    return found
