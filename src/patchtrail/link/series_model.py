"""The series stage's answers, as plain data: every report format renders these objects.

A *posting* is one revision as it reached the list (a cover letter and its patches, or a
single patch); a *series* is the chain of postings v1..vN of the same work, with what
changed between them, how the applied revision became commits, and who reviewed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Msg:
    """The columns of one indexed message that threading and series need."""

    id: int
    msgid: str
    list: str
    subject: str
    title: str
    norm: str
    is_reply: bool
    is_patch: bool
    has_tag: bool
    version: int
    number: int | None
    total: int | None
    rfc: bool
    resend: bool
    author_name: str
    author_email: str
    sender_name: str
    sender_email: str
    date: int | None
    in_reply_to: str | None
    refs: tuple[str, ...]
    change_id: str | None
    patch_id: str | None
    fingerprint: bytes | None
    files: tuple[str, ...]

    @property
    def author(self) -> str:
        return f"{self.author_name} <{self.author_email}>"

    @property
    def parent(self) -> str | None:
        """The message this one answers: In-Reply-To, else the last of References."""
        return self.in_reply_to or (self.refs[-1] if self.refs else None)

    @property
    def is_cover(self) -> bool:
        return self.has_tag and self.number == 0 and not self.is_reply


@dataclass(slots=True)
class PostedPatch:
    """One message of a posting: the cover letter (number 0) or a patch."""

    msgid: str
    url: str
    subject: str
    title: str
    number: int | None
    total: int | None
    date: int | None
    author: str
    patch_id: str | None
    files: list[str]
    is_cover: bool = False


@dataclass(slots=True)
class Posting:
    """One revision as posted: its cover letter (if any) and its patches in posted order."""

    key: str  # Message-ID of the cover letter, or of the first patch
    version: int
    title: str
    date: int | None
    author_name: str
    author_email: str
    list: str
    rfc: bool
    resend: bool
    thread_root: str
    cover: PostedPatch | None
    patches: list[PostedPatch]
    total: int | None
    # Patch numbers 1..total the archive does not hold (a patch that never arrived).
    missing: list[int] = field(default_factory=list)
    # A partial reroll ("[PATCH v3 2/5]" answering the v2 thread): the posting it rerolls.
    partial_of: str | None = None
    change_id: str | None = None

    @property
    def messages(self) -> list[PostedPatch]:
        return ([self.cover] if self.cover else []) + self.patches

    @property
    def head(self) -> PostedPatch | None:
        """What a posting is shown and linked by: its cover letter, else its first patch."""
        return self.cover or (self.patches[0] if self.patches else None)


@dataclass(slots=True)
class RevisionLink:
    """Why a posting is taken for the previous revision of the next one."""

    confidence: float
    method: str  # change-id | revision-link | content
    detail: str


@dataclass(slots=True)
class Revision:
    version: int
    posting: Posting
    # The link to the revision before it (None for the first one found).
    link: RevisionLink | None = None
    # The same revision sent again ([PATCH RESEND], or identical patches re-posted).
    resends: list[Posting] = field(default_factory=list)


@dataclass(slots=True)
class DiffDelta:
    """A diff of two diffs, reduced to what a reader scans: changed lines either way."""

    added: int  # changed lines only in the newer diff
    removed: int  # changed lines only in the older diff
    files_added: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)  # "+ line" / "- line", a few

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.files_added or self.files_removed)


@dataclass(slots=True)
class PatchChange:
    """One patch across two revisions, as git range-diff would classify it."""

    status: str  # unchanged | modified | added | dropped | carried (not reposted in a partial reroll)
    old: PostedPatch | None
    new: PostedPatch | None
    title_changed: bool = False
    delta: DiffDelta | None = None


@dataclass(slots=True)
class RevisionDiff:
    old_version: int
    new_version: int
    # Changelog notes of the newer revision: from its cover letter and below each `---`.
    changelog: str
    changes: list[PatchChange]


@dataclass(slots=True)
class AppliedCommit:
    """A commit of the applied revision, with the posted patch it came from."""

    oid: str
    subject: str
    position: int  # 1-based, in the order the commits were applied
    committer: str
    committed: int
    number: int | None  # posted number of its patch (None when the patch is unknown)
    msgid: str | None
    posted_title: str | None
    version: int = 0  # the revision its mail belongs to
    reworded: bool = False
    edited: bool = False
    delta: DiffDelta | None = None
    score: float = 0.0
    method: str = ""
    # Other posted numbers squashed into this commit.
    squashed: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Applied:
    """How the applied revision became commits."""

    version: int
    commits: list[AppliedCommit]
    posted_order: list[int]
    applied_order: list[int]  # posted numbers in commit order
    never_applied: list[PostedPatch] = field(default_factory=list)
    # Posted number -> commits, when one patch became several commits.
    split: dict[int, list[str]] = field(default_factory=dict)

    @property
    def reordered(self) -> bool:
        return self.applied_order != sorted(self.applied_order)


@dataclass(slots=True)
class Reply:
    msgid: str
    url: str
    author: str
    date: int | None
    subject: str
    # Review tags the reply gives (Reviewed-by, Acked-by, Tested-by, ...).
    tags: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class GivenTag:
    """A review tag given on the list, and whether it reached the commits."""

    key: str
    value: str
    version: int
    number: int | None  # the patch it was given on; 0 = the cover (the whole series)
    msgid: str
    reached: list[str] = field(default_factory=list)  # commit ids carrying it


@dataclass(slots=True)
class ReviewTrail:
    # (version, number) -> replies under that message, oldest first; number 0 = cover.
    replies: dict[tuple[int, int], list[Reply]]
    tags: list[GivenTag]
    participants: list[tuple[str, int]]  # "Name <addr>", message count
    first_posted: int | None
    applied: int | None


@dataclass(slots=True)
class Series:
    """The whole picture from one message or commit: every revision, and what became of it."""

    title: str
    author: str
    revisions: list[Revision]
    missing_versions: list[int]
    diffs: list[RevisionDiff]
    applied: Applied | None
    review: ReviewTrail
    start: str  # what the user asked about (a Message-ID or a commit id)
    start_version: int
    notes: list[str] = field(default_factory=list)
