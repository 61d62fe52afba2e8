"""`patchtrail series`: from one message or commit to the whole series.

Any message of any revision (a patch, the cover letter, a review reply) or any commit
applied from one gives the same answer: the posting it belongs to, the chain of
revisions around it, what changed between them, how the applied revision became commits
and who reviewed it. Everything is read from the index; commits' diffs come from git only
for the patches edited on apply.
"""

from __future__ import annotations

from itertools import pairwise

from patchtrail.index.store import Store
from patchtrail.link.applied import find_applied
from patchtrail.link.commits import RevisionError, expand_revisions, load_commits
from patchtrail.link.dig import best_match, dig_commit
from patchtrail.link.msgstore import SqlMessages
from patchtrail.link.postings import posted_patch
from patchtrail.link.rangediff import range_diff
from patchtrail.link.review import review_trail
from patchtrail.link.revisions import ChainFinder, PostingMsgs, compare
from patchtrail.link.series_model import Msg, PostedPatch, Posting, Revision, Series
from patchtrail.mail.trailers import link_message_ids

# A posting of the same version this close to a revision is that revision sent again.
RESEND_SIMILARITY = 0.9


class SeriesError(Exception):
    """The target names nothing series can answer about; a one-line message."""


def message_id_of(target: str) -> str | None:
    """A Message-ID from `<id>`, `id@host` or a lore/patchwork URL; None for other text."""
    t = target.strip()
    if t.startswith(("http://", "https://")):
        found = link_message_ids([t])
        return found[0] if found else None
    t = t.strip("<>")
    if t.lower().startswith("id:"):
        t = t[3:]
    return t if "@" in t and not any(c.isspace() for c in t) else None


def resolve(store: Store, target: str, ignore_links: bool = False) -> tuple[str, str]:
    """(Message-ID to start from, what the user named) for a MSGID or a COMMIT."""
    msgid = message_id_of(target)
    if msgid is not None:
        return msgid, msgid
    try:
        oids = expand_revisions(store, [target])
    except RevisionError as exc:
        raise SeriesError(f"{exc}; give a commit or a Message-ID") from None
    if len(oids) != 1:
        raise SeriesError(f"{target}: names {len(oids)} commits; give one commit or one Message-ID")
    commit = next(load_commits(store, oids), None)
    if commit is None:
        raise SeriesError(f"{target}: commit not found in the indexed repositories")
    match = best_match(store, commit, ignore_links)
    if match is None:
        note = dig_commit(store, commit, ignore_links).note  # why: what a whole dig tells
        raise SeriesError(f"{target}: commit {commit.oid[:12]} was not applied from any indexed email"
                          + (f" ({note})" if note else ""))
    return match.message_id, commit.oid


def posting_named(finder: ChainFinder, msgid: str) -> Posting:
    """The posting the message `msgid` belongs to (for a reply, the one it answers),
    built by the finder that chains it, which so holds its messages already."""
    msg = finder.db.by_msgid([msgid]).get(msgid)
    if msg is None:
        raise SeriesError(f"{msgid}: message not in the index (run `patchtrail index` on its archive)")
    found = finder.posting_for(msg)
    if found is None:
        raise SeriesError(f"{msgid}: a discussion, not a patch: no [PATCH] message above it in its thread")
    return found.posting


def revisions_of(finder: ChainFinder, posting: Posting,
                 resends: bool = True) -> tuple[list[Revision], list[PostingMsgs]]:
    """Every revision of the series `posting` is one of (oldest first), and the messages of
    each: the first steps of `build_series`, public for the callers that need the chains of
    many series and not their applied commits or review (`patchtrail story`'s follow-ups;
    one `finder` shares the author look-ups among them). `resends`: look for each
    revision's RESENDs too, which compares the author's every posting of that version
    (a tenth of a second for a prolific author)."""
    revisions = finder.chain(posting)
    loaded = [finder.load(r.posting) for r in revisions]
    for i, (rev, pm) in enumerate(zip(revisions, loaded, strict=True)):
        rev.resends = _resends(finder, pm) if resends else []
        if rev.resends:
            loaded[i] = finder.load(_canonical(rev))
    return revisions, loaded


def missing_versions(revisions: list[Revision]) -> list[int]:
    """Versions below the newest found that the archive does not hold."""
    versions = {r.version for r in revisions}
    return [v for v in range(1, max(versions, default=1)) if v not in versions]


def build_series(store: Store, target: str, ignore_links: bool = False) -> Series:
    """The series of `target` (a COMMIT or a MSGID, see `resolve`)."""
    return series_from(store, *resolve(store, target, ignore_links), ignore_links=ignore_links)


def series_from(store: Store, msgid: str, start: str, ignore_links: bool = False) -> Series:
    """The series the message `msgid` belongs to, named by `start` (what the user named:
    the commit applied from it, or the message). For callers that have linked the commit
    already, so that it is not resolved and linked a second time."""
    db = SqlMessages(store.conn)  # one per build: each body is decoded once
    finder = ChainFinder(db, ignore_links)
    posting = posting_named(finder, msgid)
    revisions, loaded = revisions_of(finder, posting)
    diffs = [range_diff(db, a, b, _posted) for a, b in pairwise(loaded)]
    applied = find_applied(store, db, loaded, ignore_links)
    commit_text: dict[str, str] = {}
    if applied is not None:
        commit_text = {c.oid: c.message for c in load_commits(store, [ac.oid for ac in applied.commits])}
    review = review_trail(db, loaded, applied, commit_text)
    last = revisions[-1].posting
    notes = _notes(revisions, posting)
    return Series(
        title=last.title, author=f"{last.author_name} <{last.author_email}>", revisions=revisions,
        missing_versions=missing_versions(revisions),
        diffs=diffs, applied=applied, review=review, start=start,
        start_version=posting.version, notes=notes,
    )


def _posted(m: Msg) -> PostedPatch:
    return posted_patch(m)


def _resends(finder: ChainFinder, pm: PostingMsgs) -> list[Posting]:
    """Postings of the same version carrying the same patches: RESENDs, re-posts."""
    out: list[Posting] = []
    keys = {pm.posting.key}
    for m in finder.author_msgs(pm.posting):
        if m.version != pm.posting.version or m.msgid in {x.msgid for x in pm.msgs}:
            continue
        if m.number not in (0, 1, None) or m.is_reply:
            continue
        other = finder.posting_for(m)
        if other is None or other.posting.key in keys:
            continue
        keys.add(other.posting.key)
        score, _ = compare(pm.msgs, other.msgs)
        if score >= RESEND_SIMILARITY:
            out.append(other.posting)
    return sorted(out, key=lambda p: p.date or 0)


def _canonical(rev: Revision) -> Posting:
    """A revision is named by its first posting; RESENDs and re-posts are listed under it,
    whichever of them the chain met first."""
    all_ = sorted([rev.posting, *rev.resends], key=lambda p: (p.resend, p.date or 0))
    rev.posting, rev.resends = all_[0], sorted(all_[1:], key=lambda p: p.date or 0)
    return rev.posting


def _notes(revisions: list[Revision], start: Posting) -> list[str]:
    notes = []
    for r in revisions:
        p = r.posting
        if p.missing:
            notes.append(f"v{p.version}: patch {', '.join(map(str, p.missing))} of {p.total} never "
                         "reached the archive (incomplete series)")
        if p.partial_of:
            notes.append(f"v{p.version}: a partial reroll, posted inside the thread of <{p.partial_of}>")
    return notes
