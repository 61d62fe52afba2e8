"""The review trail: who answered which patch, which tags they gave, which tags landed.

A reply belongs to the nearest posted patch above it in its thread (a review of patch 2
answering a reply to patch 2 is still about patch 2); a reply to the cover letter is
about the whole revision. Tags count only on unquoted lines with an address, as b4 takes
them (`mail.trailers.reply_trailers`). A tag "reached" a commit when the commit message
carries the same key for the same address.
"""

from __future__ import annotations

import re
from collections import Counter

from patchtrail.link.msgstore import Messages
from patchtrail.link.postings import is_posted_patch
from patchtrail.link.revisions import PostingMsgs
from patchtrail.link.series_model import Applied, GivenTag, Msg, Reply, ReviewTrail
from patchtrail.link.threads import Thread
from patchtrail.link.urls import message_url
from patchtrail.mail.trailers import parse_trailers, reply_trailers

_EMAIL = re.compile(r"[\w.+-]+@[\w.-]+")


def _address(value: str) -> str:
    m = _EMAIL.search(value)
    return m.group(0).lower() if m else value.strip().lower()


def review_trail(db: Messages, revisions: list[PostingMsgs], applied: Applied | None,
                 commit_messages: dict[str, str]) -> ReviewTrail:
    replies: dict[tuple[int, int], list[Reply]] = {}
    tags: list[GivenTag] = []
    people: Counter[str] = Counter()
    seen: set[str] = set()
    for pm in revisions:
        own = {m.msgid: m for m in pm.msgs}
        for m in pm.msgs:
            people[m.author] += 1
        for thread in {db.thread(m.msgid).root: db.thread(m.msgid) for m in pm.msgs}.values():
            for reply in sorted(thread.messages.values(), key=lambda r: (r.date or 0, r.id)):
                if reply.msgid in own or reply.msgid in seen or is_posted_patch(reply):
                    continue
                target = _answered(thread, own, reply.msgid)
                if target is None:
                    continue
                seen.add(reply.msgid)
                people[reply.author] += 1
                number = 0 if target.is_cover else (target.number or 1)
                given = _tags(db, reply)
                replies.setdefault((pm.posting.version, number), []).append(Reply(
                    reply.msgid, message_url(reply.list, reply.msgid), reply.author, reply.date,
                    reply.subject, given))
                for key, value in given:
                    tags.append(GivenTag(key, value, pm.posting.version, number, reply.msgid))
    if applied is not None:
        _reached(tags, applied, commit_messages)
    dates = [pm.posting.date for pm in revisions if pm.posting.date is not None]
    landed = [c.committed for c in applied.commits] if applied else []
    return ReviewTrail(
        replies=replies, tags=tags, participants=people.most_common(),
        first_posted=min(dates) if dates else None, applied=max(landed) if landed else None,
    )


def _answered(thread: Thread, own: dict[str, Msg], msgid: str) -> Msg | None:
    """The message of this posting a reply is about: its nearest ancestor in the posting.
    Stops at another posting's patch (a partial reroll's replies are not ours)."""
    cur = thread.parent.get(msgid)
    seen: set[str] = set()
    while cur is not None and cur not in seen:
        seen.add(cur)
        if cur in own:
            return own[cur]
        above = thread.messages.get(cur)
        if above is not None and is_posted_patch(above):
            return None
        cur = thread.parent.get(cur)
    return None


def _tags(db: Messages, reply: Msg) -> list[tuple[str, str]]:
    message, notes, _diff = db.parts(reply)
    return reply_trailers(message + "\n" + notes)


def _reached(tags: list[GivenTag], applied: Applied, commit_messages: dict[str, str]) -> None:
    carried = {oid: {(k.lower(), _address(v)) for k, v in parse_trailers(text)}
               for oid, text in commit_messages.items()}
    for tag in tags:
        want = (tag.key.lower(), _address(tag.value))
        for ac in applied.commits:
            about_it = tag.number == 0 or tag.version != applied.version or ac.number == tag.number \
                or tag.number in ac.squashed
            if about_it and want in carried.get(ac.oid, set()):
                tag.reached.append(ac.oid)
