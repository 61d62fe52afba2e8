"""Filling the index for `patchtrail series` from a public-inbox server.

A series answer reads much more of an archive than a dig does, and what it reads depends
on what it has found so far: the posting a message belongs to (its thread, and patches
of the same set sent unthreaded), the author's other postings a revision chain compares
(`link.revisions.ChainFinder`: the author's posted patches within WINDOW of each
revision, kept when they share a file or a close title), the postings a change-id or a
"Link to vN:" line names, and the commits that may have applied any revision
(`link.applied`'s index lookups) with the email each of them came from.

So the local code is run on what the index holds, each revision it found is turned into
the requests that bring what its lookups would see in a full mirror, and the local code
runs again, until a round stores no new message (at most MAX_ROUNDS). Per revision:

* its thread (reviews, partial rerolls);
* one search with whole threads (`t=1`: candidates are compared as whole postings):
  `f:ADDR-or-NAME AND ((d:date±WINDOW AND (dfn:FILE … OR s:WORD …)) OR dt:date±2h)` —
  the first half is the pool's gate (a shared file, or a title close enough to share a
  telling word), the second the set's unthreaded siblings. Each term is asked only over
  the days no earlier search covered (remembered per author and term), so the next
  revision, weeks away, asks for those weeks alone;
* unless links are ignored: `nq:"change-id: …"` and the threads "Link to vN:" names.

Then every candidate commit of the applied picture gets what its dig needs
(`ensure_for_commits`). Every request is remembered in the index as with dig, so the same
question again makes none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from patchtrail.index.store import Store
from patchtrail.link.applied import candidate_commits
from patchtrail.link.commits import RevisionError, expand_revisions, load_commits
from patchtrail.link.msgstore import Parts, SqlMessages
from patchtrail.link.postings import UNTHREADED_WINDOW
from patchtrail.link.remote import (
    ensure_for_commits,
    ensure_search,
    ensure_thread,
    remember,
    remembered,
    telling_paths,
    title_words,
)
from patchtrail.link.revisions import WINDOW, named_revisions, with_msgs
from patchtrail.link.series import SeriesError, build_series, message_id_of
from patchtrail.link.series_model import Posting, Series
from patchtrail.sources.remote import PublicInboxClient
from patchtrail.sources.remote_query import (
    Query,
    all_of,
    any_of,
    date_range,
    phrase,
)

T = TypeVar("T")  # what a round of `RemoteRun.until_stable` answers

__all__ = ["END_OF_TIME", "MAX_ROUNDS", "RemoteRun", "ensure_series", "gaps", "gate_terms"]

# Rounds of "answer locally, fetch what the answer looked at": the demo's series settle
# in two, its story in four.
MAX_ROUNDS = 6
# A posting's files searched by name (deepest first) and telling title words searched.
POSTING_FILES = 8
POSTING_WORDS = 12
WORDS_PER_TITLE = 3
DAY = 86400
Interval = tuple[int, int]  # Unix times, both ends included
# The end of time for a question about everything after a date.
END_OF_TIME = 1 << 40


def _last_message(store: Store) -> int:
    row = store.conn.execute("SELECT max(id) FROM messages").fetchone()
    return int(row[0] or 0)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def gaps(have: Iterable[Interval], lo: int, hi: int) -> list[Interval]:
    """The parts of lo..hi that no interval of `have` covers."""
    out: list[Interval] = []
    cur = lo
    for a, b in sorted(have):
        if a > hi:
            break
        if a > cur:
            out.append((cur, a - 1))
        cur = max(cur, b + 1)
        if cur > hi:
            return out
    return [*out, (cur, hi)]


def _whole_days(span: Interval) -> Interval:
    """What `d:` asks for a span: its first to its last UTC day, whole."""
    return span[0] // DAY * DAY, span[1] // DAY * DAY + DAY - 1


def gate_terms(post: Posting) -> list[Query]:
    """What the chain keeps of the author's other postings around `post` (a shared file,
    or a title close enough to share a telling word), as search terms."""
    words: list[str] = []
    for m in post.messages:
        words.extend(title_words(m.title)[:WORDS_PER_TITLE])
    files = telling_paths((f for m in post.messages for f in m.files), POSTING_FILES)
    terms = [phrase("dfn", f) for f in files]
    terms += [phrase("s", w) for w in list(dict.fromkeys(words))[:POSTING_WORDS]]
    return [t for t in terms if t is not None]


@dataclass(slots=True)
class RemoteRun:
    """One command's questions to a server.

    Each question is put at most once per run, also with `refresh` (--no-cache), which
    only means that what earlier runs asked is asked again; without it, what the index
    remembers having asked is not asked again at all.
    """

    store: Store
    client: PublicInboxClient
    refresh: bool = False
    _asked: set[str] = field(default_factory=set, init=False, repr=False)
    # Per author and term, the spans of time asked already (`authored`).
    _spans: dict[str, list[Interval]] = field(default_factory=dict, init=False, repr=False)
    # Decoded bodies, for the whole run (threads are not kept: a fetch may add to them).
    _parts: dict[int, Parts] = field(default_factory=dict, init=False, repr=False)

    def _first_time(self, key: str) -> bool:
        if key in self._asked:
            return False
        self._asked.add(key)
        return True

    def search(self, query: Query | None, threads: bool = True) -> None:
        """Every hit of `query` (with their threads)."""
        if query and self._first_time(f"q{int(threads)}/{query}"):
            ensure_search(self.store, self.client, query, threads=threads, refresh=self.refresh)

    def thread(self, msgid: str) -> None:
        """The thread holding `msgid`."""
        if self._first_time(f"t/{msgid}"):
            ensure_thread(self.store, self.client, msgid, self.refresh)

    def commits(self, oids: Iterable[str], links: bool = True) -> None:
        """What digging each commit needs, and the thread of its email."""
        new = [o for o in dict.fromkeys(oids) if self._first_time(f"c{int(links)}/{o}")]
        if new:
            ensure_for_commits(self.store, self.client, list(load_commits(self.store, new)),
                               links=links, refresh=self.refresh)

    def posting(self, post: Posting, ignore_links: bool = False) -> None:
        """What a chain step from the revision `post` compares it with (see the module
        doc); a story calls it for the revisions of its follow-up series too."""
        self.thread(post.key)
        self.authored(post)
        if ignore_links:
            return
        if post.change_id:
            self.search(phrase("nq", f"change-id: {post.change_id}"))
        db = SqlMessages(self.store.conn, self._parts)
        for msgid in sorted(named_revisions(db, with_msgs(db, post))):
            self.thread(msgid)

    def _missing(self, key: str, lo: int, hi: int) -> list[Interval]:
        have = self._spans.get(key)
        if have is None:
            have = [] if self.refresh else [_span(k) for k in remembered(self.store, self.client, key + "/")]
            self._spans[key] = have
        return gaps(have, lo, hi)

    def spans_search(self, scope: str, where: Query | None,
                     asks: Iterable[tuple[Query | None, int, int]]) -> None:
        """Every message matching `where` and a term within the term's lo..hi (None: any
        message), with their threads. Each term is asked only over the whole days no
        earlier question of `scope` covered, and those days are remembered: questions
        about neighbouring times (the revisions of a series, weeks apart; the same words
        after an earlier date) ask for the difference alone."""
        by_gaps: dict[tuple[Interval, ...], list[Query | None]] = {}
        asked: list[tuple[str, Interval]] = []
        for term, lo, hi in asks:
            key = f"ask:{scope}/{_digest(term or '')}"
            missing = tuple(map(_whole_days, self._missing(key, lo, hi)))
            if missing:
                by_gaps.setdefault(missing, []).append(term)
                asked += [(key, span) for span in missing]
        when = [all_of(any_of(*(date_range(a, None if b >= END_OF_TIME else b) for a, b in missing)),
                       None if None in terms else any_of(*terms))
                for missing, terms in by_gaps.items()]
        query = all_of(where, any_of(*when))
        if not asked or query is None:
            return
        ensure_search(self.store, self.client, query, threads=True, refresh=self.refresh)
        for key, span in asked:
            self._spans[key].append(span)
        remember(self.store, self.client, [f"{key}/{a}..{b}" for key, (a, b) in asked])

    def authored(self, post: Posting) -> None:
        """The author's messages a chain step from `post` may compare, with their threads:
        by `gate_terms` within WINDOW of it, and any within UNTHREADED_WINDOW (a set sent
        unthreaded)."""
        author = any_of(phrase("f", post.author_email), phrase("f", post.author_name))
        if author is None or post.date is None:
            return
        asks: list[tuple[Query | None, int, int]] = [
            (term, post.date - WINDOW, post.date + WINDOW) for term in gate_terms(post)]
        asks.append((None, post.date - UNTHREADED_WINDOW, post.date + UNTHREADED_WINDOW))
        who = _digest(post.author_email + "\0" + post.author_name)
        self.spans_search(f"a/{who}", author, asks)

    def until_stable(self, step: Callable[[], T | None]) -> T | None:
        """Run `step` (answer locally, ask for what the answer looked at) until a round
        stores nothing new, and return that round's answer: it is what answering again
        would give, so the caller need not. None when `step` has nothing to answer (the
        caller's own answer then says why) or the rounds ran out."""
        for _ in range(MAX_ROUNDS):
            before = _last_message(self.store)
            answer = step()
            if answer is None:
                return None
            if _last_message(self.store) == before:
                return answer
        return None


def _span(key: str) -> Interval:
    lo, hi = key.rsplit("/", 1)[1].split("..")
    return int(lo), int(hi)


def _start(run: RemoteRun, target: str, ignore_links: bool) -> bool:
    """The message or commit the series is asked from; False when it names none (the
    local code then says why)."""
    msgid = message_id_of(target)
    if msgid is not None:
        run.thread(msgid)
        return True
    try:
        oids = expand_revisions(run.store, [target])
    except RevisionError:
        return False
    if len(oids) != 1:
        return False
    run.commits(oids, links=not ignore_links)
    return True


def ensure_series(run: RemoteRun, target: str, ignore_links: bool = False) -> Series | None:
    """Make sure the index holds what `build_series(target)` reads (see the module doc);
    its answer once nothing more came (None: build it, it says why)."""
    if not _start(run, target, ignore_links):
        return None

    def step() -> Series | None:
        try:
            series = build_series(run.store, target, ignore_links=ignore_links)
        except SeriesError:
            return None
        db = SqlMessages(run.store.conn)
        for rev in series.revisions:
            for post in (rev.posting, *rev.resends):
                run.posting(post, ignore_links)
        patches = [m for rev in series.revisions for m in with_msgs(db, rev.posting).patches]
        run.commits(sorted(candidate_commits(run.store.conn, patches)), links=not ignore_links)
        return series

    return run.until_stable(step)

