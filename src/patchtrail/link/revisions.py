"""Revision chains: v1..vN of the same work, found across separate threads.

b4 chains revisions only when the subject and the sender stay the same, or through a
`change-id:`. Real series do not hold still: the cover subject is reworded, a single patch
grows into five, v1 carries no version tag, a revision never reached the archive. So a
chain link here is a scored judgement over what a reviewer would compare: the same author
(across addresses and DMARC rewrites), the titles of the cover and of each patch, the
diffs of the patches, the files they touch, and the order of versions and dates.
`change-id` and "Link to vN:" lines, when present and not hidden, are taken as proof.

A chain never joins two authors' work: candidates come from the author's own postings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from patchtrail.link.msgstore import Messages
from patchtrail.link.postings import is_posted_patch, posting_with_msgs
from patchtrail.link.score import person_similarity
from patchtrail.link.series_model import Msg, Posting, Revision, RevisionLink
from patchtrail.mail.fingerprint import similarity
from patchtrail.mail.subject import normalize_title
from patchtrail.mail.trailers import revision_links

# Revisions of one series are rarely more than a year apart.
WINDOW = 400 * 86400
THRESHOLD = 0.55
# How many candidate groups get a full posting built (a thread walk each).
SHORTLIST = 6
# How many groups, ranked by title and files alone, get the full diff comparison.
PRESCORED = 24
W_TITLE, W_DIFF, W_FILES = 0.45, 0.35, 0.20


@dataclass(slots=True)
class PostingMsgs:
    """A posting with the message columns its comparison needs."""

    posting: Posting
    msgs: list[Msg]

    @property
    def patches(self) -> list[Msg]:
        return [m for m in self.msgs if not m.is_cover]

    @property
    def cover(self) -> Msg | None:
        return next((m for m in self.msgs if m.is_cover), None)


def with_msgs(db: Messages, posting: Posting) -> PostingMsgs:
    found = db.by_msgid([p.msgid for p in posting.messages])
    return PostingMsgs(posting, [found[p.msgid] for p in posting.messages if p.msgid in found])


_normalized = lru_cache(maxsize=1 << 16)(normalize_title)


def title_similarity(a: str, b: str) -> float:
    """Titles compared whole: "foo01: convert to new API" and "bar02: convert to new API"
    are different work. Without `component:` prefixes only when the rest is (nearly) the
    same: a maintainer's or author's reworded prefix is the same work."""
    if not a or not b:
        return 0.0
    whole = fuzz.ratio(a.lower(), b.lower()) / 100.0
    bare = fuzz.ratio(_normalized(a), _normalized(b)) / 100.0
    sim = max(whole, bare if bare >= 0.9 else 0.0)
    ids_a, ids_b = _identifiers(a), _identifiers(b)
    if ids_a and ids_b and not ids_a & ids_b:
        sim *= 0.6  # "return -ERANGE from foo_read()" vs "... from bar_read()": other code
    return sim


_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*(?=\(\))")


@lru_cache(maxsize=1 << 16)
def _identifiers(title: str) -> frozenset[str]:
    return frozenset(_IDENT.findall(title))


def _best(values: list[float]) -> float:
    return max(values) if values else 0.0


def compare(old: list[Msg], new: list[Msg]) -> tuple[float, str]:
    """How much two postings look like revisions of the same work, and why, in words.

    Patches are matched both ways and the better direction counts: a one-patch v1 that
    grew into a five-patch v2 is fully found in v2, though most of v2 is new.
    """
    old_p = [m for m in old if not m.is_cover] or old
    new_p = [m for m in new if not m.is_cover] or new
    cover_sim = _best([title_similarity(a.title, b.title) for a in old for b in new if a.is_cover or b.is_cover
                       or (len(old) == 1 or len(new) == 1)])
    patch_titles = _matched(old_p, new_p, lambda a, b: title_similarity(a.title, b.title))
    diff_part = _matched(old_p, new_p, diff_similarity)
    if diff_part < 0.3 and patch_titles < 0.75:
        cover_sim *= 0.6  # "misc fixes" twice is not the same work without shared patches
    title_part = max(cover_sim, patch_titles)
    files_old = {f for m in old_p for f in m.files}
    files_new = {f for m in new_p for f in m.files}
    files_part = (max(len(files_old & files_new) / len(files_old), len(files_old & files_new) / len(files_new))
                  if files_old and files_new else 0.0)
    score = W_TITLE * title_part + W_DIFF * diff_part + W_FILES * files_part
    if files_old and files_new and not files_old & files_new and diff_part < 0.2:
        score *= 0.6  # same words, other files: another piece of work
    detail = f"title {title_part:.2f}, diff {diff_part:.2f}, files {files_part:.2f}"
    return round(min(score, 1.0), 4), detail


def _matched(old: list[Msg], new: list[Msg], sim: Callable[[Msg, Msg], float]) -> float:
    """Mean best similarity of the patches of one side in the other, the better side."""
    table = [[sim(a, b) for b in new] for a in old]
    old_side = sum(max(row) for row in table) / len(old)
    new_side = sum(max(table[i][j] for i in range(len(old))) for j in range(len(new))) / len(new)
    return max(old_side, new_side)


def diff_similarity(p: Msg, q: Msg) -> float:
    if p.patch_id and p.patch_id == q.patch_id:
        return 1.0
    if p.fingerprint and q.fingerprint:
        return similarity(p.fingerprint, q.fingerprint)
    return 0.0


def named_revisions(db: Messages, pm: PostingMsgs) -> set[str]:
    """Message-IDs a posting names as its other revisions ("Link to v2: <url>" lines of a
    b4 cover letter, "v1: <url>" in change notes)."""
    named: set[str] = set()
    for m in pm.msgs:
        message, notes, _diff = db.parts(m)
        named.update(msgid for _v, msgid in revision_links(message + "\n" + notes))
    return named


class ChainFinder:
    """Finds the revisions before and after a posting, one step at a time."""

    def __init__(self, db: Messages, ignore_links: bool = False) -> None:
        self.db = db
        self.ignore_links = ignore_links
        self._postings: dict[str, PostingMsgs] = {}  # by posting key: the first one built
        self._posting_of: dict[str, PostingMsgs | None] = {}  # by Message-ID asked about
        self._links: dict[str, set[str]] = {}
        self._authors: dict[tuple[str, str], tuple[int, int, list[Msg]]] = {}

    def load(self, posting: Posting) -> PostingMsgs:
        """`posting` with its messages; read from the index only for a posting this finder
        did not build itself (the start of a chain found by someone else)."""
        if posting.key not in self._postings:
            self._postings[posting.key] = with_msgs(self.db, posting)
        return self._postings[posting.key]

    def posting_for(self, m: Msg) -> PostingMsgs | None:
        """The posting `m` belongs to (`postings.posting_of`), kept with the messages it
        was built from. Asked once per message: the pools of consecutive chain steps and
        the RESEND search meet the same postings again."""
        if m.msgid not in self._posting_of:
            found = posting_with_msgs(self.db, m)
            self._posting_of[m.msgid] = None if found is None else \
                self._postings.setdefault(found[0].key, PostingMsgs(*found))
        return self._posting_of[m.msgid]

    def chain(self, start: Posting) -> list[Revision]:
        """Every revision found, oldest first, each with the link to the one before."""
        first = self.load(start)
        before: list[tuple[PostingMsgs, RevisionLink]] = []
        cur = first
        seen = {first.posting.key}
        while True:
            step = self.step(cur, older=True, seen=seen)
            if step is None:
                break
            prev, link = step
            before.append((cur, link))
            seen.add(prev.posting.key)
            cur = prev
        revisions = [Revision(cur.posting.version, cur.posting)]
        for pm, link in reversed(before):
            revisions.append(Revision(pm.posting.version, pm.posting, link))
        cur = first
        while True:
            step = self.step(cur, older=False, seen=seen)
            if step is None:
                break
            nxt, link = step
            seen.add(nxt.posting.key)
            revisions.append(Revision(nxt.posting.version, nxt.posting, link))
            cur = nxt
        return revisions

    def step(self, cur: PostingMsgs, older: bool, seen: set[str]) -> tuple[PostingMsgs, RevisionLink] | None:
        best: tuple[tuple, PostingMsgs, RevisionLink] | None = None
        for cand, link in self.candidates(cur, older, seen):
            v = cand.posting.version
            # Nearest version first (v3 before v2 when going back), then the strongest link.
            rank = ((v if older else -v), link.confidence, (cand.posting.date or 0) * (1 if older else -1))
            if best is None or rank > best[0]:
                best = (rank, cand, link)
        return (best[1], best[2]) if best else None

    def candidates(self, cur: PostingMsgs, older: bool, seen: set[str]) -> list[tuple[PostingMsgs, RevisionLink]]:
        post = cur.posting
        out: list[tuple[PostingMsgs, RevisionLink]] = []
        weak: list[tuple[PostingMsgs, RevisionLink]] = []
        for cand in self._pool(cur, older):
            cp = cand.posting
            if cp.key in seen or cp.key == post.key or not self._ordered(cp, post, older):
                continue
            link = self._proof(cand, cur, older)
            if link is None and not _same_author(cp, post):
                continue
            if link is None:
                old, new = (cand, cur) if older else (cur, cand)
                score, detail = compare(old.msgs, new.msgs)
                if score < THRESHOLD:
                    if _rewrite(old, new, score):
                        weak.append((cand, RevisionLink(score, "files+version", detail)))
                    continue
                link = RevisionLink(score, "content", detail)
            out.append((cand, link))
        # A rewrite under a new title keeps only the files, the author and the version
        # count; taken only when nothing better exists and exactly one posting fits.
        return out or (weak if len(weak) == 1 else [])

    @staticmethod
    def _ordered(cand: Posting, cur: Posting, older: bool) -> bool:
        lo, hi = (cand, cur) if older else (cur, cand)
        if lo.version >= hi.version:
            return False
        return (lo.date or 0) <= (hi.date or 0)

    def _named(self, pm: PostingMsgs) -> set[str]:
        key = pm.posting.key
        if key not in self._links:
            self._links[key] = set() if self.ignore_links else named_revisions(self.db, pm)
        return self._links[key]

    def _proof(self, cand: PostingMsgs, cur: PostingMsgs, older: bool) -> RevisionLink | None:
        if self.ignore_links:
            return None
        a, b = cand.posting.change_id, cur.posting.change_id
        if a and a == b:
            return RevisionLink(1.0, "change-id", f"change-id {a}")
        old, new = (cand, cur) if older else (cur, cand)
        if {m.msgid for m in old.msgs} & self._named(new):
            return RevisionLink(1.0, "revision-link", "named by a \"Link to vN\" line")
        return None

    def author_msgs(self, post: Posting) -> list[Msg]:
        """The author's posted patches within WINDOW of `post`; loaded once per author
        with a wide margin, because a chain walks the same author's months step by step."""
        key = (post.author_email, post.author_name)
        date = post.date or 0
        cached = self._authors.get(key)
        if cached is None or not cached[0] <= date - WINDOW or not date + WINDOW <= cached[1]:
            lo, hi = date - 3 * WINDOW, date + 3 * WINDOW
            cached = (lo, hi, self.db.by_author(post.author_email, post.author_name, lo, hi))
            self._authors[key] = cached
        return [m for m in cached[2] if m.date is not None and abs(m.date - date) <= WINDOW]

    def _pool(self, cur: PostingMsgs, older: bool) -> list[PostingMsgs]:
        """The author's other postings on the side of `cur` being searched, best first.

        Cheap gates come before the full comparison (a prolific author has hundreds of
        postings a year): the version and date order, then a shared file or a close title.
        """
        post = cur.posting
        msgs = self.author_msgs(post)
        proven: set[str] = set()
        if not self.ignore_links:
            if post.change_id:
                msgs += self.db.by_change_id(post.change_id)
            named = sorted(self._named(cur))
            msgs += self.db.by_msgid(named).values()
            proven = set(named)
        mine = {m.msgid for m in cur.msgs}
        groups: dict[tuple, list[Msg]] = {}
        for m in msgs:
            if m.msgid in mine or not is_posted_patch(m):
                continue
            is_proven = m.msgid in proven or bool(post.change_id and m.change_id == post.change_id)
            if not is_proven:
                if (m.version < post.version) != older or m.version == post.version:
                    continue
                if older != ((m.date or 0) <= (post.date or 0)):
                    continue
            groups.setdefault(_group_key(m), []).append(m)
        files = {f for m in cur.msgs for f in m.files}
        titles = [m.title for m in cur.msgs]
        gated = []
        for group in groups.values():
            proof = any(m.msgid in proven or (post.change_id and m.change_id == post.change_id)
                        for m in group)
            share = _files_share(files, group)
            title = _best([title_similarity(a, m.title) for a in titles for m in group])
            if proof or share >= 0.3 or title >= 0.6:
                gated.append((proof, W_TITLE * title + W_FILES * share, group))
        gated.sort(key=lambda x: (x[0], x[1]), reverse=True)
        out: list[tuple[bool, float, PostingMsgs]] = []
        keys: set[str] = set()
        for proof, _quick, group in gated[:PRESCORED]:
            # Whole postings are compared: the pool holds only the author's own messages,
            # and a cover sent by someone else's hand would look empty.
            anchor_msg = min(group, key=lambda m: (m.number if m.number is not None else 1, m.date or 0))
            pm = self.posting_for(anchor_msg)
            if pm is None or pm.posting.key in keys or pm.posting.key == post.key:
                continue
            keys.add(pm.posting.key)
            score, _ = compare(pm.msgs, cur.msgs) if older else compare(cur.msgs, pm.msgs)
            if proof or score >= THRESHOLD * 0.7:
                out.append((proof, score, pm))
        out.sort(key=lambda x: (x[0], x[1]), reverse=True)
        return [pm for proof, _score, pm in out if proof] + \
            [pm for proof, _score, pm in out if not proof][:SHORTLIST]


REWRITE_DAYS = 45


def _rewrite(old: PostingMsgs, new: PostingMsgs, score: float) -> bool:
    """vN+1 rewritten from scratch: the next version number, the very same files, weeks
    apart, and still some resemblance."""
    a, b = old.posting, new.posting
    files_a = {f for m in old.msgs for f in m.files}
    files_b = {f for m in new.msgs for f in m.files}
    return (b.version == a.version + 1 and bool(files_a) and files_a == files_b and score >= 0.35
            and 0 <= (b.date or 0) - (a.date or 0) <= REWRITE_DAYS * 86400)


def _same_author(a: Posting, b: Posting) -> bool:
    return person_similarity(a.author_name, a.author_email, b.author_name, b.author_email) > 0


def _files_share(files: set[str], group: list[Msg]) -> float:
    theirs = {f for m in group for f in m.files}
    if not files or not theirs:
        return 0.0
    return len(files & theirs) / min(len(files), len(theirs))


def _group_key(m: Msg) -> tuple:
    """Messages likely of one posting: same version under the same thread root; an
    unthreaded numbered patch by its set's shape and hour."""
    root = m.refs[0] if m.refs else (m.in_reply_to or None)
    if root is None and m.number and m.total:
        return ("u", m.version, m.total, (m.date or 0) // 7200)
    return ("t", m.version, root or m.msgid)
