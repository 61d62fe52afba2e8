"""How a series was applied: its patches mapped to commits, in the order they landed.

Candidate commits come from cheap index lookups per posted patch (the same patch-id, the
author date `git am` copies from the mail's Date, the same subject, the author's commits
touching the same files after the posting). Each candidate is then linked the ordinary
way (`dig`, commit -> email), so a series answer never contradicts `patchtrail dig`. From
that mapping follow the applied order against the posted one, reworded subjects, patches
edited on apply (with the diff-of-diffs), patches never applied, squashed or split.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable
from itertools import groupby, islice
from operator import itemgetter

from patchtrail.index.query import select_in
from patchtrail.index.store import Store
from patchtrail.link.commits import commit_diffs, load_commits
from patchtrail.link.dig import best_match
from patchtrail.link.model import CommitInfo
from patchtrail.link.msgstore import Messages
from patchtrail.link.postings import posted_patch
from patchtrail.link.rangediff import diff_delta, pair, patch_pair_score
from patchtrail.link.revisions import PostingMsgs
from patchtrail.link.series_model import Applied, AppliedCommit, Msg
from patchtrail.mail.fingerprint import changed_line_count, containment

DAY = 86400
# How long after posting a patch may be applied, and how long before the post its author
# may have committed it locally (the author date of a commit made before sending).
APPLY_AFTER = 2 * 365 * DAY
AUTHORED_BEFORE = 120 * DAY
SQUASH_CONTAINMENT = 0.7
_LIMIT = 200


def candidate_commits(conn: sqlite3.Connection, patches: list[Msg]) -> set[str]:
    """The commits that may have applied any of `patches` (see the module doc).

    A few statements for all the patches, each lookup batched (a nine-revision series
    made hundreds one patch at a time); each keeps the same _LIMIT per patch, and the
    same rows under it, as one query per patch with LIMIT did.
    """
    dated = [(m, m.date) for m in patches if m.date is not None]
    oids = set(_first_per_value(conn, "patch_id", {m.patch_id for m in patches if m.patch_id}))
    oids.update(_first_per_value(conn, "author_time", {date for _m, date in dated}))
    titled = _by_subject(conn, {m.norm for m, _date in dated if m.norm})
    for m, date in dated:
        if m.norm:
            lo, hi = date - 2 * DAY, date + APPLY_AFTER
            oids.update([oid for oid, when in titled.get(m.norm, []) if lo <= when <= hi][:_LIMIT])
    oids.update(_authored(conn, dated))
    return oids


def _first_per_value(conn: sqlite3.Connection, column: str, values: Iterable[object]) -> list[str]:
    """The commits whose indexed `column` is any of `values`: for each value the first
    _LIMIT in index order, which is what `column=? LIMIT n` returned."""
    rows = select_in(conn, f"SELECT {column}, id, oid FROM commits WHERE {column} IN ({{marks}})", values)
    return [r[2] for _value, same in groupby(_index_order(rows), key=itemgetter(0))
            for r in islice(same, _LIMIT)]


def _authored(conn: sqlite3.Connection, dated: list[tuple[Msg, int]]) -> set[str]:
    """The patch author's commits touching a file of the patch, authored from
    AUTHORED_BEFORE before the posting to two days after it and committed no earlier
    than two days before it. One statement per stretch of overlapping windows (a
    series' revisions are weeks apart); per patch the first _LIMIT matching rows in
    the order of the author date index, which one statement per patch with LIMIT read."""
    stretches: list[tuple[int, int, list[tuple[Msg, int]]]] = []
    for m, date in sorted(dated, key=itemgetter(1)):
        lo, hi = date - AUTHORED_BEFORE, date + 2 * DAY
        if stretches and lo <= stretches[-1][1]:
            start, _end, group = stretches[-1]
            group.append((m, date))
            stretches[-1] = (start, hi, group)
        else:
            stretches.append((lo, hi, [(m, date)]))
    oids: set[str] = set()
    q = ("SELECT author_time, id, oid, files, committer_time, lower(author_email) FROM commits"
         " WHERE author_time BETWEEN ? AND ? AND lower(author_email) IN ({marks})")
    for lo, hi, group in stretches:
        rows = _index_order(select_in(conn, q, {m.author_email for m, _date in group}, (lo, hi)))
        for m, date in group:
            hits = [r for r in rows if date - AUTHORED_BEFORE <= r[0] <= date + 2 * DAY
                    and r[5] == m.author_email and r[4] >= date - 2 * DAY][:_LIMIT]
            files = set(m.files)
            oids.update(r[2] for r in hits if files & set((r[3] or "").split("\n")))
    return oids


def _index_order(rows: Iterable[sqlite3.Row]) -> list[sqlite3.Row]:
    """Rows starting (indexed value, rowid) in the order the index on that value gives."""
    return sorted(rows, key=lambda r: (r[0], r[1]))


def _by_subject(conn: sqlite3.Connection, norms: set[str]) -> dict[str, list[tuple[str, int]]]:
    """(oid, commit time) of the commits with each normalised subject, in history order.
    commits.subject_norm has no index: one scan for all the patches, not one each."""
    out: dict[str, list[tuple[str, int]]] = {}
    q = "SELECT oid, subject_norm, committer_time FROM commits WHERE subject_norm IN ({marks}) ORDER BY id"
    for oid, norm, when in select_in(conn, q, sorted(norms)):
        out.setdefault(norm, []).append((oid, when))
    return out


def _positions(conn: sqlite3.Connection,
               commits: list[CommitInfo]) -> tuple[list[CommitInfo], dict[str, str]]:
    """Commits in the order they were applied (commit time, then history order), and
    who committed each, in one query."""
    rows = {r[0]: (r[1], f"{r[2]} <{r[3]}>") for r in select_in(
        conn, "SELECT oid, id, committer_name, committer_email FROM commits WHERE oid IN ({marks})",
        [c.oid for c in commits])}
    ordered = sorted(commits, key=lambda c: (c.committer_time, rows[c.oid][0] if c.oid in rows else 0))
    return ordered, {oid: who for oid, (_id, who) in rows.items()}


def find_applied(store: Store, db: Messages, revisions: list[PostingMsgs],
                 ignore_links: bool = False) -> Applied | None:
    """The applied picture, or None when no commit came from any revision."""
    owner: dict[str, int] = {}
    for i, pm in enumerate(revisions):
        for m in pm.patches:
            owner.setdefault(m.msgid, i)
    all_patches = [m for pm in revisions for m in pm.patches]
    oids = sorted(candidate_commits(store.conn, all_patches))
    commits = [c for c in load_commits(store, oids) if not c.is_merge]
    linked: dict[str, tuple[CommitInfo, str, float, str]] = {}
    for c in commits:
        match = best_match(store, c, ignore_links)  # dig's answer, without the runners-up
        if match and match.message_id in owner:
            linked[c.oid] = (c, match.message_id, match.score, match.method)
    if not linked:
        return None
    votes = Counter(owner[msgid] for _c, msgid, _s, _m in linked.values())
    applied_i = max(votes, key=lambda i: (votes[i], i))
    applied = revisions[applied_i]
    by_msgid = {m.msgid: m for pm in revisions for m in pm.msgs}
    to_applied = _translation(revisions, applied_i)
    ordered, committers = _positions(store.conn, [v[0] for v in linked.values()])
    diffs = commit_diffs(store, [c.oid for c in ordered if _edited(c, by_msgid[linked[c.oid][1]])])
    out: list[AppliedCommit] = []
    for pos, c in enumerate(ordered, start=1):
        _c, msgid, score, method = linked[c.oid]
        sent = by_msgid[msgid]
        target = to_applied.get(msgid, sent)
        ac = AppliedCommit(
            oid=c.oid, subject=c.subject, position=pos, committer=committers.get(c.oid, ""),
            committed=c.committer_time, number=target.number or 1, msgid=msgid,
            posted_title=sent.title, version=sent.version,
            reworded=c.subject.strip() != sent.title.strip(), score=score, method=method,
        )
        if c.oid in diffs:
            ac.delta = diff_delta(db.parts(sent)[2], diffs[c.oid], list(sent.files), list(c.files))
            ac.edited = not ac.delta.empty
        out.append(ac)
    mapped = {ac.number for ac in out}
    never = []
    for m in applied.patches:
        n = m.number or 1
        if n in mapped:
            continue
        host = _squashed_into(m, ordered)
        if host is not None:
            next(ac for ac in out if ac.oid == host).squashed.append(n)
        else:
            never.append(m)
    split: dict[int, list[str]] = {}
    for ac in out:
        if ac.number is not None:
            split.setdefault(ac.number, []).append(ac.oid)
    split = {n: v for n, v in split.items() if len(v) > 1}
    return Applied(
        version=applied.posting.version, commits=out,
        posted_order=_posted_order(applied),
        applied_order=[ac.number for ac in out if ac.number is not None],
        never_applied=[posted_patch(m) for m in never], split=split,
    )


def _posted_order(pm: PostingMsgs) -> list[int]:
    """Posted numbers of the applied revision; a partial reroll stands for its whole set."""
    p = pm.posting
    if p.partial_of and p.total:
        return list(range(1, p.total + 1))
    return [m.number or 1 for m in pm.patches]


def _edited(c: CommitInfo, sent: Msg) -> bool:
    return bool(c.patch_id and sent.patch_id and c.patch_id != sent.patch_id)


def _translation(revisions: list[PostingMsgs], applied_i: int) -> dict[str, Msg]:
    """Patches of other revisions -> the applied revision's patch they became."""
    out: dict[str, Msg] = {}
    target = revisions[applied_i].patches
    for i, pm in enumerate(revisions):
        if i == applied_i:
            continue
        for a, b in pair(pm.patches, target, patch_pair_score):
            if a is not None and b is not None:
                out[a.msgid] = b
    return out


def _squashed_into(m: Msg, commits: list[CommitInfo]) -> str | None:
    """A commit holding most of the patch's changed lines, and more: the patch was folded
    into another one on apply."""
    if not m.fingerprint:
        return None
    own = changed_line_count(m.fingerprint)
    best: tuple[float, str] | None = None
    for c in commits:
        if not c.fingerprint or changed_line_count(c.fingerprint) <= own:
            continue
        share = containment(m.fingerprint, c.fingerprint)
        if share >= SQUASH_CONTAINMENT and (best is None or share > best[0]):
            best = (share, c.oid)
    return best[1] if best else None

