"""Postings: which messages form one revision of a series, as it reached the list.

git send-email threads a series under its cover letter (or under patch 1 when there is
none), but the archive shows every variation: patch sets sent unthreaded, a patch that
never arrived, `[PATCH v3 2/5]` sent as a reply inside the v2 thread (a partial reroll),
`[PATCH v2]` answering v1 in the same thread, RESEND and RFC marks. A posting is one
author's patch messages of one version, found in the thread first and, for unthreaded
sets, among that author's messages sent within minutes of each other.
"""

from __future__ import annotations

from patchtrail.link.msgstore import Messages
from patchtrail.link.score import person_similarity
from patchtrail.link.series_model import Msg, PostedPatch, Posting
from patchtrail.link.threads import Thread
from patchtrail.link.urls import message_url

# Unthreaded patches of one set are sent within this many seconds of the first one.
UNTHREADED_WINDOW = 2 * 3600


def is_posted_patch(m: Msg) -> bool:
    """A message that posts a patch or a cover letter (not a reply quoting one)."""
    return not m.is_reply and (m.has_tag or m.is_patch)


def same_author(a: Msg, b: Msg) -> bool:
    return person_similarity(a.author_name, a.author_email, b.author_name, b.author_email) > 0


def same_poster(a: Msg, b: Msg) -> bool:
    """Messages one person sent: the same author, or the same sender (a series may carry
    patches of several authors, sent by one of them or by a maintainer)."""
    return same_author(a, b) or (a.sender_email == b.sender_email and a.sender_name == b.sender_name)


def posted_patch(m: Msg) -> PostedPatch:
    return PostedPatch(
        msgid=m.msgid, url=message_url(m.list, m.msgid), subject=m.subject, title=m.title,
        number=m.number, total=m.total, date=m.date, author=m.author, patch_id=m.patch_id,
        files=list(m.files), is_cover=m.is_cover,
    )


def posting_of(db: Messages, msg: Msg) -> Posting | None:
    """The posting `msg` belongs to; for a reply, the posting it answers. None when the
    message and its ancestors post no patch (a plain discussion)."""
    found = posting_with_msgs(db, msg)
    return found[0] if found else None


def posting_with_msgs(db: Messages, msg: Msg) -> tuple[Posting, list[Msg]] | None:
    """`posting_of`, and the messages it was built from in the posting's order (cover
    letter first): what a revision chain compares, so it need not read them again."""
    thread = db.thread(msg.msgid)
    anchor = _patch_ancestor(thread, msg)
    if anchor is None:
        return None
    group = [m for m in thread.messages.values()
             if is_posted_patch(m) and m.version == anchor.version and same_poster(m, anchor)
             and _same_set(m, anchor)]
    partial_of = _rerolled_posting(thread, anchor)
    if anchor.total and partial_of is None:
        group += _unthreaded_siblings(db, anchor, {m.msgid for m in group})
    return make_posting(group, anchor, thread.root, partial_of)


def _patch_ancestor(thread: Thread, msg: Msg) -> Msg | None:
    cur: str | None = msg.msgid
    seen: set[str] = set()
    while cur is not None and cur not in seen:
        seen.add(cur)
        m = thread.messages.get(cur)
        if m is not None and is_posted_patch(m):
            return m
        cur = thread.parent.get(cur)
    return None


def _same_set(m: Msg, anchor: Msg) -> bool:
    """Whether `m` can be in the same patch set as `anchor`: a single patch stands alone;
    numbered patches share their total (a cover `0/K` counts)."""
    if m.msgid == anchor.msgid:
        return True
    if not anchor.total or not m.total:
        return False
    return m.total == anchor.total


def _rerolled_posting(thread: Thread, anchor: Msg) -> str | None:
    """For a patch posted as a reply under an older version's patch: that posting's key."""
    cur = thread.parent.get(anchor.msgid)
    seen: set[str] = set()
    while cur is not None and cur not in seen:
        seen.add(cur)
        m = thread.messages.get(cur)
        if m is not None and is_posted_patch(m) and m.version < anchor.version:
            older = [x for x in thread.messages.values()
                     if is_posted_patch(x) and x.version == m.version and same_poster(x, m)
                     and _same_set(x, m)]
            return _key(older)
        cur = thread.parent.get(cur)
    return None


def _unthreaded_siblings(db: Messages, anchor: Msg, have: set[str]) -> list[Msg]:
    """Patches of the same set sent without threading: same author, version and total,
    sent within minutes, not replies."""
    if anchor.date is None:
        return []
    rows = db.siblings(anchor, anchor.date - UNTHREADED_WINDOW, anchor.date + UNTHREADED_WINDOW)
    # Another threaded set of the same shape sent at the same time is not ours: keep only
    # messages with no parent, or threaded under a message of this set.
    return [m for m in rows if m.msgid not in have and (m.parent is None or m.parent in have)]


def _key(msgs: list[Msg]) -> str:
    ordered = sorted(msgs, key=lambda m: (m.number if m.number is not None else 1, m.date or 0, m.id))
    return ordered[0].msgid


def make_posting(group: list[Msg], anchor: Msg, root: str,
                 partial_of: str | None = None) -> tuple[Posting, list[Msg]]:
    """A posting from its messages (one per number: the first sent wins over a resend),
    and the messages kept, cover letter first."""
    by_number: dict[int, Msg] = {}
    for m in sorted(group, key=lambda m: (m.date or 0, m.id)):
        n = m.number if m.number is not None else 1
        by_number.setdefault(n, m)
    cover = by_number.pop(0, None)
    patches = [by_number[n] for n in sorted(by_number)]
    if not patches and cover is None:
        patches = [anchor]
    total = anchor.total
    missing: list[int] = []
    if total and partial_of is None:
        missing = [n for n in range(1, total + 1) if n not in by_number]
    first = cover or patches[0]
    msgs = ([cover] if cover else []) + patches
    dates = [m.date for m in msgs if m.date is not None]
    change_id = next((m.change_id for m in msgs if m.change_id), None)
    return Posting(
        key=first.msgid, version=anchor.version, title=first.title,
        date=min(dates) if dates else None, author_name=first.author_name,
        author_email=first.author_email, list=anchor.list,
        rfc=any(m.rfc for m in msgs), resend=any(m.resend for m in msgs), thread_root=root,
        cover=posted_patch(cover) if cover else None, patches=[posted_patch(m) for m in patches],
        total=total, missing=missing, partial_of=partial_of, change_id=change_id,
    ), msgs
