"""Follow-up commits grouped by series: every revision of it, across threads.

A commit's email belongs to a posting (one revision as it reached the list,
`patchtrail.link.postings`) and the posting to a revision chain
(`patchtrail.link.series.revisions_of`, what `patchtrail series` shows): v1 posted as one
patch and v3 as five, each in a thread of its own, are one series, and the commits
applied from either are one follow-up. A chain compares the author's postings around
it, a few to tens of ms on a busy list (about 15 ms on LTP), so chains are looked up for
the first MAX_FOLLOWUP_SERIES follow-ups, oldest first, without RESENDs (finding them
compares the author's every posting of a version). Every later commit joins the
follow-up whose chain holds its posting or its thread; the others are grouped by thread,
with their revisions not looked up (`FollowUp.revisions` empty, which the reports say).
"""

from __future__ import annotations

from dataclasses import dataclass

from patchtrail.index.store import Store
from patchtrail.link.msgstore import SqlMessages
from patchtrail.link.revisions import ChainFinder
from patchtrail.link.series import missing_versions, revisions_of
from patchtrail.link.series_model import Posting, Revision, Series
from patchtrail.story.model import CommitRef, EmailRef, FollowUpCommit, FollowUpGroup
from patchtrail.story.story_model import FollowUp

# Follow-ups (the first, oldest first) whose revision chain is looked up.
MAX_FOLLOWUP_SERIES = 8
NO_EMAIL = "commits not applied from an archived email"
_NO_EMAIL_KEY = "none"


@dataclass(slots=True)
class Later:
    """A later commit, before it is grouped."""

    commit: CommitRef
    files: list[str]                  # the origin series' files it touched
    touches_symbol: bool


def thread_roots(revisions: list[Revision]) -> set[str]:
    """Every thread a series was posted in: its revisions and their resends."""
    return {p.thread_root for r in revisions for p in (r.posting, *r.resends)}


def told_elsewhere(followups: list[FollowUp], email: EmailRef | None,
                   series: Series | None = None) -> tuple[set[str], set[str]]:
    """(thread keys, lower-cased titles) a discussions search leaves out, because the
    story tells them already: each follow-up series (its group, its revisions' threads
    and titles), the thread of `email` (the origin's, or its last applied commit's) and,
    when the story tells one, the series itself (its revisions' threads and its title)."""
    keys: set[str] = set()
    titles: set[str] = set()
    if email is not None:
        keys.add(email.series_key)
        titles.add(email.series_title.lower())
    if series is not None:
        keys |= thread_roots(series.revisions)
        titles.add(series.title.lower())
    for f in followups:
        if f.group.key is not None:
            keys.add(f.group.key)
            titles.add(f.group.title.lower())
        keys |= thread_roots(f.revisions)
        titles.update(r.posting.title.lower() for r in f.revisions)
    return keys, titles


def names_of(revisions: list[Revision]) -> set[str]:
    """What marks the messages of a series: its postings ("p:" key) and their threads
    ("t:" root), resends included."""
    return {n for r in revisions for p in (r.posting, *r.resends)
            for n in (f"p:{p.key}", f"t:{p.thread_root}")}


def origin_names(email: EmailRef | None, series: Series | None) -> set[str]:
    """`names_of` the origin series (when built), and the thread of the origin's email."""
    names = names_of(series.revisions) if series is not None else set()
    if email is not None:
        names.add(f"t:{email.series_key}")
    return names


def _names(email: EmailRef | None, posting: Posting | None) -> set[str]:
    if email is None:
        return {_NO_EMAIL_KEY}
    names = {f"t:{email.series_key}"}
    if posting is not None:
        names |= {f"p:{posting.key}", f"t:{posting.thread_root}"}
    return names


def _group(email: EmailRef | None) -> FollowUpGroup:
    if email is None:
        return FollowUpGroup(None, NO_EMAIL, None, [])
    return FollowUpGroup(email.series_key, email.series_title, email.series_url, [])


def _name_after(group: FollowUpGroup, last: Posting) -> None:
    """A chained follow-up is named as `patchtrail series` names it: its latest revision."""
    head = last.head
    group.key, group.title = last.thread_root, last.title
    if head is not None:
        group.url = head.url


def group_by_series(store: Store, later: list[Later], emails: dict[str, EmailRef], origin: set[str],
                    ignore_links: bool = False, lookups: int | None = None) -> list[FollowUp]:
    """`later` (oldest first) grouped by series, in the order of their first commits.

    `origin`: `origin_names` of the origin series; its commits are not follow-ups, nor
    are those of a chain that turns out to hold one of its revisions. `lookups`: how
    many chains to look up (default MAX_FOLLOWUP_SERIES).
    """
    lookups = MAX_FOLLOWUP_SERIES if lookups is None else lookups
    db = SqlMessages(store.conn)
    finder = ChainFinder(db, ignore_links)
    # The emails' messages in one query; their postings from the finder, which keeps each
    # with the messages it was built from for the chains looked up below.
    msgs = db.by_msgid(sorted({e.message_id for e in emails.values()}))
    origin = set(origin)
    owner: dict[str, FollowUp] = {}
    out: list[FollowUp] = []
    looked = 0
    for c in later:
        email = emails.get(c.commit.oid)
        msg = msgs.get(email.message_id) if email is not None else None
        found = finder.posting_for(msg) if msg is not None else None
        posting = found.posting if found is not None else None
        names = _names(email, posting)
        if names & origin:
            continue
        f = next((owner[n] for n in sorted(names) if n in owner), None)
        if f is None and posting is not None and looked < lookups:
            looked += 1
            revisions, _ = revisions_of(finder, posting, resends=False)
            chain = names_of(revisions)
            if chain & origin:  # a later revision of the origin series itself
                origin |= chain | names
                continue
            names |= chain
            # A RESEND, or a posting a chain passed over, of a series already found.
            f = next((owner[n] for n in sorted(chain) if n in owner), None)
            if f is None:
                f = FollowUp(_group(email))
                out.append(f)
            if not f.revisions:
                f.revisions, f.missing_versions = revisions, missing_versions(revisions)
                _name_after(f.group, revisions[-1].posting)
        if f is None:
            f = FollowUp(_group(email))
            out.append(f)
        for n in names:
            owner.setdefault(n, f)
        f.group.commits.append(FollowUpCommit(c.commit, email, c.touches_symbol, c.files))
    return out
