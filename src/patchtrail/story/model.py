"""The answers of `patchtrail origin`, as plain data every report format renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# What one commit did to an identifier (see patchtrail.story.events for the rules).
BIRTH = "birth"        # first appearance: added while absent, and not moved from elsewhere
REBIRTH = "rebirth"    # added again after a deletion
ADD = "add"            # more occurrences while it already existed
EDIT = "edit"          # lines carrying it changed, no file gained or lost occurrences
MOVE = "move"          # removed from some files and added to others in the same commit
RENAME = "rename"      # a file carrying it was renamed
REMOVE = "remove"      # fewer occurrences, still present
DELETION = "deletion"  # its last occurrence went away


class Term(NamedTuple):
    """One thing a later message may name: its label in reports, the words (or commit id)
    it must hold, and whether `text` is a prefix (an abbreviated commit id). Plain text,
    which each searcher writes in its own query syntax (the local full-text index, a
    public-inbox server)."""

    label: str
    text: str
    prefix: bool = False


# A search for later discussions (patchtrail.story.discussions): its terms, and the time a
# message must be posted after. Kept with the story that made it, so that what
# `patchtrail.story.remote` asks a server for is what was searched locally.
Terms = list[Term]
Search = tuple[Terms, int]


@dataclass(slots=True)
class CommitRef:
    oid: str
    subject: str
    author: str           # "Name <email>"
    author_time: int
    committer_time: int


@dataclass(slots=True)
class Place:
    """Occurrences of the identifier one commit added to and removed from one file."""

    path: str
    added: int
    removed: int
    line: int | None = None   # first new-file line it was added on


@dataclass(slots=True)
class IdentEvent:
    """One commit in the life of an identifier."""

    commit: CommitRef
    kind: str
    places: list[Place]
    moved_from: list[str] = field(default_factory=list)  # MOVE / RENAME: files it left
    moved_to: list[str] = field(default_factory=list)    # MOVE / RENAME: files it went to


@dataclass(slots=True)
class EmailRef:
    """The email a commit was applied from (patchtrail dig), and the series it belongs to."""

    message_id: str
    subject: str
    list: str
    url: str
    date: int | None
    method: str
    score: float
    series_key: str                 # its thread root (patchtrail.story.emails.group_key)
    series_title: str
    series_url: str


@dataclass(slots=True)
class LineOrigin:
    """FILE:LINE[@REV]: the commit that wrote the line's content, past trivial commits."""

    path: str
    line: int
    rev: str                          # the full id REV named
    content: str
    origin_path: str                  # path and line in the origin commit
    origin_line: int
    skipped: list[CommitRef] = field(default_factory=list)   # whitespace/reflow commits looked through
    chain: list[CommitRef] = field(default_factory=list)     # commits that touched the line since, newest first


@dataclass(slots=True)
class Origin:
    """Where an identifier (or a line) came from."""

    query: str
    kind: str                         # "symbol" | "line"
    path: str | None                  # --path, for a symbol
    birth: IdentEvent | None          # None: it never appeared in the indexed history
    moves: list[IdentEvent] = field(default_factory=list)      # moves and renames after the birth
    rebirths: list[IdentEvent] = field(default_factory=list)
    deletions: list[IdentEvent] = field(default_factory=list)
    events: list[IdentEvent] = field(default_factory=list)     # the whole timeline, oldest first
    alive: bool = False               # still present after the last indexed commit
    line: LineOrigin | None = None
    email: EmailRef | None = None     # the birth commit's email
    note: str | None = None


@dataclass(slots=True)
class FollowUpCommit:
    commit: CommitRef
    email: EmailRef | None
    touches_symbol: bool              # its diff changed lines carrying the symbol (or the line)
    files: list[str]                  # the origin series' files it touched


@dataclass(slots=True)
class FollowUpGroup:
    """Later commits that came from one series, any of its revisions (or were not applied
    from an email): see patchtrail.story.series_groups."""

    key: str | None                   # thread root of its latest revision (else of its email); None: no email
    title: str
    url: str | None
    commits: list[FollowUpCommit]


@dataclass(slots=True)
class Discussion:
    """A later thread mentioning the symbol, the origin commit or its series."""

    root_key: str
    subject: str
    list: str
    url: str                          # the first mentioning message
    date: int | None
    author: str
    messages: int                     # mentioning messages in the thread
    matched: list[str]                # "symbol", "commit id", "commit subject", "series title"


@dataclass(slots=True)
class OriginStory:
    origin: Origin
    series_commits: list[CommitRef] = field(default_factory=list)  # the origin series' commits
    followups: list[FollowUpGroup] = field(default_factory=list)
    discussions: list[Discussion] = field(default_factory=list)
    followups_truncated: int = 0      # candidate commits not examined (over the limit)
    discussions_truncated: int = 0
    searches: list[Search] = field(default_factory=list)  # what the discussions were searched for
