"""The linking stage's answers, as plain data every report format renders."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class CommitInfo:
    """What linking needs to know about a commit (from the index, or read from git)."""

    oid: str
    subject: str
    subject_norm: str
    message: str
    author_name: str
    author_email: str
    author_time: int
    committer_time: int
    parents: tuple[str, ...]
    patch_id: str | None
    fingerprint: bytes | None
    files: tuple[str, ...]
    diff_error: str | None = None

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


@dataclass(slots=True)
class Evidence:
    """The signals that compared one commit with one message."""

    link: bool = False
    patch_id: bool = False
    diff: float = 0.0
    # Dice similarity of the file names both diffs touch.
    files: float = 0.0
    subject: float = 0.0
    author: float = 0.0
    date_exact: bool = False
    days_before_commit: float = 0.0
    reply: bool = False
    posted_after_commit: bool = False

    def describe(self) -> str:
        parts: list[str] = []
        if self.link:
            parts.append("Link trailer")
        if self.patch_id:
            parts.append("patch-id")
        elif self.diff:
            parts.append(f"diff {self.diff:.2f}")
        if self.date_exact:
            parts.append("author date")
        parts.append(f"subject {self.subject:.2f}")
        if self.author:
            parts.append("author")
        return ", ".join(parts)


@dataclass(slots=True)
class Match:
    """One candidate message for a commit, with its score and evidence."""

    message_id: str
    subject: str
    list: str
    url: str
    date: int | None
    author: str
    version: int
    number: int | None
    total: int | None
    score: float
    method: str
    evidence: Evidence


@dataclass(slots=True)
class DigResult:
    """The email a commit was applied from (or None), and the runners-up."""

    commit: CommitInfo
    match: Match | None
    candidates: list[Match] = field(default_factory=list)
    # Message-IDs named by the commit's Link trailers (empty with --ignore-links).
    link_ids: list[str] = field(default_factory=list)
    note: str | None = None
