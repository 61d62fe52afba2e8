"""Filling the index for `patchtrail story` and `patchtrail origin` from a public-inbox
server.

A story is composed from parts that each read the index (story.story): the origin (git
only), the email of the start's commit, its series with every revision, the emails of
the follow-up commits and the revision chains of the follow-up series, and the later
discussions. What each part needs depends on what the others found (the follow-ups are
looked for after the series' last applied commit, the discussions name its commits), so
the story is told locally on what the index holds, what it showed is turned into
requests, and it is told again until a round stores no new message
(`RemoteRun.until_stable`):

* the start's and the anchor's commits, and every follow-up commit: `ensure_for_commits`
  (blind under --ignore-links, as story.emails digs them);
* the series: `link.remote_series.ensure_series`; each revision of the follow-up series
  whose chain story looked up: `RemoteRun.posting`, the step a chain takes from it;
* the discussions: one search, with whole threads (a thread's root names it), for the
  terms story.discussions gives SQLite's full-text index, each in the subject or the
  unquoted body (`s:` or `nq:`), after the same date (only for the days no earlier
  round asked: the date moves as the series is found).

The last round's story is the one the command then tells locally, so the answer is the
one a full mirror gives as far as these requests reach (docs/remote.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from patchtrail.link.remote_series import END_OF_TIME, RemoteRun, ensure_series
from patchtrail.link.series import SeriesError, message_id_of
from patchtrail.sources.git import GitRepo
from patchtrail.sources.remote_query import (
    Query,
    any_of,
    phrase,
    word_prefix,
)
from patchtrail.story.model import OriginStory, Search, Term
from patchtrail.story.origin import Target, TargetError, tell
from patchtrail.story.story import tell_story
from patchtrail.story.story_model import FollowUp, Story

__all__ = ["ensure_origin", "ensure_story", "mention_asks"]

# The scope of the spans asked for discussions (`RemoteRun.spans_search`).
MENTIONS = "m"


def _remote_term(term: Term) -> Query | None:
    """A term of story.discussions as a public-inbox query: the same words in the subject
    or the unquoted body."""
    if term.prefix:
        try:
            return any_of(word_prefix("s", term.text), word_prefix("nq", term.text))
        except ValueError:
            return None  # not a plain word: a prefix of it cannot be asked for
    return any_of(phrase("s", term.text), phrase("nq", term.text))


def mention_asks(groups: Iterable[Search]) -> list[tuple[Query, int, int]]:
    """(query, from, to) for each term of each group that can be asked: messages matching
    it posted after the group's date (`RemoteRun.spans_search` asks each term once for a
    span of time, so a later date asks nothing more)."""
    asks: list[tuple[Query, int, int]] = []
    for terms, after in groups:
        for term in terms:
            query = _remote_term(term)
            if query is not None:
                asks.append((query, after, END_OF_TIME))
    return asks


def _ensure_followups(run: RemoteRun, followups: list[FollowUp], ignore_links: bool) -> None:
    """The emails of the follow-up commits, and what the chains story looked up compare."""
    run.commits((c.commit.oid for f in followups for c in f.group.commits), links=not ignore_links)
    for f in followups:
        for rev in f.revisions:
            for post in (rev.posting, *rev.resends):
                run.posting(post, ignore_links)


def ensure_story(run: RemoteRun, text: str, repo: GitRepo | None, source_id: int | None,
                 ignore_links: bool = False,
                 classified: tuple[str, str | None] | None = None) -> Story | None:
    """Make sure the index holds what `tell_story(text)` reads (see the module doc); the
    story once nothing more came (None: tell it, it says why). `classified`: as for
    `tell_story` (fetching mail does not change what the text names)."""
    text = text.strip()
    if message_id_of(text) is not None:
        ensure_series(run, text, ignore_links)  # a message's story is its series' story

    def step() -> Story | None:
        try:
            story = tell_story(run.store, text, repo, source_id, ignore_links=ignore_links,
                               classified=classified)
        except (TargetError, SeriesError):
            return None
        start = story.start
        if start.origin is not None and start.origin.birth is None:
            return story  # never born in the indexed history: nothing more to ask
        if start.commit is not None or message_id_of(text) is not None:
            ensure_series(run, start.commit.oid if start.commit is not None else text, ignore_links)
        run.commits((c.oid for c in (start.commit, story.anchor) if c is not None), links=not ignore_links)
        _ensure_followups(run, story.followups, ignore_links)
        run.spans_search(MENTIONS, None, mention_asks(story.searches))
        return story

    return run.until_stable(step)


def ensure_origin(run: RemoteRun, target: Target, repo: GitRepo | None,
                  source_id: int | None) -> OriginStory | None:
    """Make sure the index holds what `story.origin.tell(target)` reads: the birth commit's
    email, the emails of its series' commits and of the follow-ups, the discussions. The
    story once nothing more came (None: tell it, it says why)."""

    def step() -> OriginStory | None:
        try:
            story = tell(run.store, target, repo, source_id)
        except TargetError:
            return None
        origin = story.origin
        if origin.birth is None:
            return story
        birth = origin.birth.commit
        run.commits([birth.oid, *(c.oid for c in story.series_commits),
                     *(c.commit.oid for g in story.followups for c in g.commits)])
        run.spans_search(MENTIONS, None, mention_asks(story.searches))
        return story

    return run.until_stable(step)
