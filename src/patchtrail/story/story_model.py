"""`patchtrail story` as plain data: what every report format (text, markdown, JSON, HTML) renders.

A story has two parts. The *start* (what was asked, and where that symbol or line was
born) differs with the starting point; the *series story* (the series, its revisions and
how they were applied, the follow-up series, the later discussions) hangs on the series
alone, so every starting point inside one series tells the same series story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from patchtrail.link.series_model import Revision, Series
from patchtrail.story.model import (
    CommitRef,
    Discussion,
    EmailRef,
    FollowUpGroup,
    Origin,
    Search,
)

STORY_SCHEMA = 1

# What the user named.
SYMBOL = "symbol"
LINE = "line"
COMMIT = "commit"
MSGID = "msgid"


@dataclass(slots=True)
class FollowUp:
    """One later series: the commits applied from any of its revisions, and the revisions
    v1..vN when its chain was looked up (see patchtrail.story.series_groups).

    Only the revision chain (v1..vN, the missing versions): the commits are the group's,
    and a whole `Series` per follow-up (applied, review) costs too much on a real list.
    """

    group: FollowUpGroup
    revisions: list[Revision] = field(default_factory=list)   # oldest first; empty: not looked up
    missing_versions: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Start:
    """The starting point: it differs between two starts in the same series."""

    query: str
    kind: str                               # SYMBOL | LINE | COMMIT | MSGID
    origin: Origin | None = None            # SYMBOL / LINE: birth commit, file, line, moves
    commit: CommitRef | None = None         # COMMIT: the commit named
    email: EmailRef | None = None           # the email the start's commit was applied from
    touching: list[str] = field(default_factory=list)        # follow-up commits changing its lines
    mentions: list[Discussion] = field(default_factory=list)  # threads naming only the symbol


@dataclass(slots=True)
class Story:
    start: Start
    series: Series | None                   # None: the start came from no indexed email
    anchor: CommitRef | None                # the commit follow-ups are "after": the series' last
    followups: list[FollowUp] = field(default_factory=list)
    discussions: list[Discussion] = field(default_factory=list)
    followups_truncated: int = 0
    discussions_truncated: int = 0
    notes: list[str] = field(default_factory=list)
    # What the discussions, then (a symbol's story) its mentions, were searched for.
    searches: list[Search] = field(default_factory=list)

    def untold_followups(self) -> list[str]:
        """What the follow-ups leave out, in the words every format prints: a cap never
        drops anything silently."""
        out: list[str] = []
        chained = sum(1 for f in self.followups if f.revisions)
        blind = sum(1 for f in self.followups if f.group.key is not None and not f.revisions)
        if blind:
            out.append(f"revisions looked up for the {chained} oldest follow-up series only: "
                       f"{blind} more are grouped by thread, without their revisions")
        if self.followups_truncated:
            out.append(f"and {self.followups_truncated} more later commit(s) on the series' files, not examined")
        return out

    def untold_discussions(self) -> list[str]:
        """The discussion threads left out over the limit, in the same words everywhere."""
        if self.discussions_truncated:
            return [f"and {self.discussions_truncated} more thread(s), not shown"]
        return []

    @property
    def title(self) -> str:
        if self.series is not None:
            return self.series.title
        if self.anchor is not None:
            return self.anchor.subject
        return self.start.query
