"""`patchtrail story`: from a symbol, a line, a commit or a message to the whole history.

The story is composed from the stages that already answer each part: the origin of a
symbol or line (patchtrail.story.origin), the series of the commit it was born in
(patchtrail.link.series), the follow-ups and the later discussions (story.followups,
story.discussions). Follow-ups and discussions are looked for from the *series* (after
its last applied commit, on the files of all its patches, naming any of its commits or
its title), not from the starting point, so two symbols born in different commits of one
series tell the same series story; what only the start knows (its birth, the follow-up
commits that changed its own lines, threads that name only the symbol) is kept apart in
`Start`.
"""

from __future__ import annotations

import re

from patchtrail.index.store import Store
from patchtrail.link.commits import RevisionError, expand_revisions
from patchtrail.link.series import SeriesError, build_series, message_id_of, series_from
from patchtrail.link.series_model import Series
from patchtrail.sources.git import GitRepo
from patchtrail.story.discussions import discussions, search_terms
from patchtrail.story.emails import emails_of
from patchtrail.story.followups import related
from patchtrail.story.model import CommitRef, EmailRef, Origin, Search
from patchtrail.story.origin import (
    TargetError,
    commit_refs_by_oid,
    line_origin,
    parse_target,
    symbol_origin,
)
from patchtrail.story.series_groups import told_elsewhere
from patchtrail.story.story_model import (
    COMMIT,
    LINE,
    MSGID,
    SYMBOL,
    Start,
    Story,
)

__all__ = ["classify", "classify_start", "tell_story"]

_HEX = re.compile(r"[0-9a-fA-F]{7,40}")
_LINE = re.compile(r"^[^@]+?:\d+(?:@.+)?$")


def _commit_of(store: Store, text: str) -> str | None:
    """The one commit `text` names (an id or a ref), indexed or readable from git; None
    when it names none."""
    try:
        oids = expand_revisions(store, [text])
    except (RevisionError, ValueError):
        return None
    if len(oids) != 1:
        return None
    refs = commit_refs_by_oid(store, oids)
    return oids[0] if oids[0] in refs else None


def classify_start(store: Store, text: str) -> tuple[str, str | None]:
    """`classify`'s answer, and for a COMMIT the full id it resolved on the way: a story
    resolves its start once and passes the id on (`tell_story(classified=...)`)."""
    if message_id_of(text) is not None:
        return MSGID, None
    if _LINE.match(text):
        parse_target(text)  # line 0 and the like are errors
        return LINE, None
    oid = _commit_of(store, text) if _HEX.fullmatch(text) else None
    if oid is not None:
        return COMMIT, oid
    parse_target(text)
    return SYMBOL, None


def classify(store: Store, text: str) -> str:
    """Which of SYMBOL, LINE, COMMIT, MSGID `text` is; TargetError when none."""
    return classify_start(store, text)[0]


def _origin(store: Store, text: str, kind: str, repo: GitRepo | None,
            source_id: int | None) -> tuple[Origin, set[str]]:
    """The origin of a symbol or line, and the later commits that changed its lines."""
    target = parse_target(text)
    if kind == SYMBOL:
        origin = symbol_origin(store, text, None, source_id)
    else:
        if repo is None:
            raise TargetError("FILE:LINE needs the repository: give --repo")
        origin = line_origin(store, repo, target)
    touched: set[str] = set()
    if origin.line is not None:
        touched = {c.oid for c in origin.line.chain}
    elif origin.birth is not None:
        after = origin.events[origin.events.index(origin.birth) + 1:]
        touched = {e.commit.oid for e in after}
    return origin, touched


def _series(store: Store, text: str, start_oid: str | None, email: EmailRef | None,
            ignore_links: bool, notes: list[str]) -> Series | None:
    """The series of the start, None (and why in `notes`) when there is none.

    A commit with its email, already linked, is built from that email, named by the
    commit; anything else goes through `build_series`, for the answer (or the reason) it
    gives.
    """
    try:
        if start_oid is not None and email is not None:
            return series_from(store, email.message_id, start_oid, ignore_links=ignore_links)
        return build_series(store, start_oid or text, ignore_links=ignore_links)
    except SeriesError as exc:
        notes.append(str(exc))
        return None


def tell_story(store: Store, text: str, repo: GitRepo | None = None, source_id: int | None = None,
               ignore_links: bool = False,
               classified: tuple[str, str | None] | None = None) -> Story:
    """The whole story of `text` (SYMBOL, FILE:LINE[@REV], COMMIT or MSGID); `classified`:
    `classify_start(text)`, when the caller has it already."""
    text = text.strip()
    kind, start_oid = classified or classify_start(store, text)
    start = Start(text, kind)
    notes: list[str] = []
    touched: set[str] = set()
    if kind in (SYMBOL, LINE):
        start.origin, touched = _origin(store, text, kind, repo, source_id)
        if start.origin.birth is None:
            return Story(start, None, None)
        start_oid = start.origin.birth.commit.oid
    emails: dict[str, EmailRef] = {}
    if start_oid is not None:
        emails = emails_of(store, [start_oid], ignore_links)
        start.email = emails.get(start_oid)
    series = _series(store, text, start_oid, start.email, ignore_links, notes)
    if series is None and kind == MSGID:
        raise TargetError(notes[0])
    applied = [c.oid for c in sorted(series.applied.commits, key=lambda c: c.position)] \
        if series is not None and series.applied is not None else []
    refs = commit_refs_by_oid(store, applied + ([start_oid] if start_oid else []))
    if start_oid is not None:
        start.commit = refs.get(start_oid)
    anchor_oid = applied[-1] if applied else start_oid
    anchor = refs.get(anchor_oid) if anchor_oid else None
    if anchor_oid is not None and anchor_oid != start_oid:
        emails.update(emails_of(store, [anchor_oid], ignore_links))
    story = Story(start, series, anchor, notes=notes)
    email = None
    if anchor is not None:
        email = emails.get(anchor.oid)
        rel = related(store, anchor, email, set(), source_id, series=series, ignore_links=ignore_links)
        story.followups = rel.followups
        story.followups_truncated = rel.truncated
    excluded, titles = told_elsewhere(story.followups, email, series)
    start.touching = [c.commit.oid for f in story.followups for c in f.group.commits
                      if c.commit.oid in touched]
    story.searches = _discussion_searches(story, [refs[o] for o in applied if o in refs])
    (terms, after), *mentions = story.searches
    story.discussions, story.discussions_truncated = discussions(
        store.conn, terms, after, excluded, titles)
    if mentions:  # a symbol's: at most one search (_discussion_searches)
        [(terms, born)] = mentions
        seen = excluded | {d.root_key for d in story.discussions}
        start.mentions, _ = discussions(store.conn, terms, born, seen, titles)
    return story


def _discussion_searches(story: Story, applied: list[CommitRef]) -> list[Search]:
    """(full-text terms, only after this time) of the later discussions of the series, then,
    for a symbol, of the messages that mention it. `applied`: the series' commits in
    applied order. Kept in `Story.searches`: story.remote asks a server for the same."""
    series, anchor = story.series, story.anchor
    commits = applied or ([anchor] if anchor else [])
    if anchor is not None:
        after = anchor.committer_time
    else:
        after = (series.review.first_posted or 0) if series is not None else 0
    title = series.title if series is not None else None
    searches = [(search_terms(None, commits, title), after)]
    if story.start.kind == SYMBOL:
        born = story.start.commit.committer_time if story.start.commit is not None else 0
        searches.append((search_terms(story.start.query, [], None), born))
    return searches
