"""The patch model shared by every later stage: what a message says once parsed."""

from __future__ import annotations

from dataclasses import dataclass, field

from patchtrail.mail.difffiles import FileDiff


@dataclass(slots=True, frozen=True)
class SubjectInfo:
    """A subject line split into its list/patch tags and its title.

    `title` is the subject with every bracketed tag and reply prefix removed, as a human
    would quote it ("kvm: vmx: hook preemption timer support"). `norm` is the form used for
    matching: lower case, whitespace folded, `component:` prefixes removed ("hook preemption
    timer support"), so that a maintainer's rewording of the prefix does not break a match.
    """

    raw: str
    title: str
    norm: str
    is_reply: bool = False
    is_patch: bool = False
    version: int = 1
    number: int | None = None
    total: int | None = None
    rfc: bool = False
    resend: bool = False
    # Remaining tags, as written, in order ("LTP", "liburing", "net-next", ...).
    tags: tuple[str, ...] = ()


@dataclass(slots=True)
class ParsedMail:
    """A message reduced to what linking, threading and series need.

    `author_*` is the patch author: the in-body `From:` line if present, else the header
    From with DMARC list rewrites ("X via ltp <ltp@lists.linux.it>") undone through
    Reply-To or the name. `sender_*` is the header From as it arrived.
    """

    message_id: str
    message_id_generated: bool
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: SubjectInfo
    author_name: str
    author_email: str
    sender_name: str
    sender_email: str
    date: int | None
    date_tz: str | None
    list_id: str | None
    # The commit message part: text after headers (and after in-body From/Subject lines),
    # before the `---` separator or the diff.
    message: str
    # Text between `---` and the diff: the changelog notes of a revision and the diffstat.
    notes: str
    # The unified diff as text ('' when the message carries none).
    diff: str
    trailers: tuple[tuple[str, str], ...] = ()
    change_id: str | None = None
    base_commit: str | None = None
    # Problems met while decoding that did not stop the parse ("unknown charset x-foo").
    problems: tuple[str, ...] = field(default_factory=tuple)
    # `file_diffs(diff)`, read in the same pass that found where the diff ends.
    files: tuple[FileDiff, ...] = ()

    @property
    def is_patch(self) -> bool:
        return bool(self.diff)


class MailError(ValueError):
    """Raised only when input holds nothing usable as a message (no bytes, no header block).

    Everything short of that is parsed as far as it goes and reported in
    `ParsedMail.problems`, so one bad message never stops an import.
    """
