"""The plain records every source yields; the only types later stages see from `sources`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class CommitRecord:
    """One commit as git stores it. `diff` is None for merges and unreadable commits."""

    oid: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_time: int
    author_tz: str
    committer_name: str
    committer_email: str
    committer_time: int
    message: str
    diff: str | None = None
    # Why the diff could not be read (missing blob, git error); None when it was read.
    diff_error: str | None = None

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


@dataclass(slots=True)
class RawMail:
    """One message's bytes and where it sits in its source.

    `key` identifies the message inside its source for ever (epoch commit id, Maildir unique
    name, mbox byte offset). `cursor`, when not None, is a resume point: once this message
    and every one before it are stored, reading again from `cursor` yields only newer ones.
    """

    key: str
    data: bytes
    cursor: str | None = None


@dataclass(slots=True)
class Skip:
    """Something a source could not read, and why; counted and reported, never fatal."""

    where: str
    reason: str


@dataclass(slots=True)
class SkipLog:
    """Collects skips so that a summary can say what was left out and why."""

    items: list[Skip] = field(default_factory=list)

    def add(self, where: str, reason: str) -> None:
        self.items.append(Skip(where, reason))

    def by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.reason] = counts.get(item.reason, 0) + 1
        return counts
