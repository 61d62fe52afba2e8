"""Mail archives as streams of raw messages: public-inbox (v2 inboxes and single epochs),
mbox (mboxo/mboxrd, optionally gzip-compressed) and Maildir.

`open_archive(path)` recognises the kind and returns a `MailSource`; its
`iter_messages(cursor, skips)` yields `RawMail`s in archive order, each with a `key` that
names the message in this archive for ever and a `cursor` to resume after it. What keys
and cursors are for each kind is told where that kind is read: `sources.public_inbox`,
`sources.mbox` and `sources.maildir`. This module holds what they share and what the
index sees: the `MailSource` interface, `MailRef`s for workers that read messages
themselves, and the recognising of an archive from its path.

Memory: one message at a time. A message over `MAX_MESSAGE_BYTES` in an mbox or Maildir
is skipped ("message too large") without being held in memory (an mbox whose ``From ``
lines were mangled must not become one multi-gigabyte message).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from patchtrail.sources.catfile import SEQUENTIAL_READ, iter_objects
from patchtrail.sources.errors import SourceError
from patchtrail.sources.records import RawMail, SkipLog

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MailRef",
    "MailSource",
    "iter_mails",
    "open_archive",
]

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
_GENERIC_NAMES = {"repo", "git", "mirror", "archive", "inbox", "all", "public-inbox", ""}
_EPOCH_NAME = re.compile(r"^(\d+)(?:\.git)?$")
_EPOCH_SUFFIX = re.compile(r"\.(\d+)(?:\.git)?$")


class MailSource(ABC):
    """A mail archive: what kind it is, where, the list name it suggests, its messages."""

    kind: str = ""

    def __init__(self, path: str | Path, name: str) -> None:
        self.path = str(path)
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r}, kind={self.kind!r}, name={self.name!r})"

    @abstractmethod
    def iter_messages(self, cursor: str | None, skips: SkipLog) -> Iterator[RawMail]:
        """Every message after `cursor` (all of them for None), oldest first."""

    def estimate(self, cursor: str | None) -> int | None:
        """How many messages `iter_messages(cursor)` will yield, roughly; None if unknown."""
        return None

    def iter_refs(self, cursor: str | None) -> Iterator[MailRef] | None:
        """Like `iter_messages`, for sources whose messages other processes can read
        themselves (`iter_mails`): where each message is, not its bytes. None when this
        kind of source cannot. A message that turns out to be missing is handed to
        `skip_missing`."""
        return None

    def skip_missing(self, refs: list[MailRef], skips: SkipLog) -> None:
        """Record why each of `refs` (which `iter_mails` found missing) had no message."""
        for ref in refs:
            skips.add(ref.key, "no message blob")


class MailRef(NamedTuple):
    """A message not read yet: `key` and `cursor` as in RawMail, and the object `spec`
    (`<tree>:m`, the tree of the commit the key names) in the git repository `repo` that
    holds it. A named tuple: 35,000 of them are pickled to the workers per LTP epoch, and
    a dataclass pickles slowly."""

    key: str
    repo: str
    spec: str
    cursor: str | None


def iter_mails(refs: list[MailRef]) -> Iterator[RawMail | None]:
    """The messages `refs` name (None for each missing one), one at a time, read by this
    process's own `git cat-file` (kept open between calls, see `catfile.iter_objects`):
    git reads the next ones while the caller parses this one."""
    start = 0
    while start < len(refs):
        repo = refs[start].repo
        end = start
        while end < len(refs) and refs[end].repo == repo:
            end += 1
        group = refs[start:end]
        datas = iter_objects(repo, [r.spec for r in group], SEQUENTIAL_READ)
        # The answers first and strict: the reader must be run to its end, or it would
        # take the process down with it (see CatFile.iter_many).
        for d, r in zip(datas, group, strict=True):
            yield RawMail(r.key, d, r.cursor) if d is not None else None
        start = end


# -- recognising an archive -----------------------------------------------------------


def _list_name(path: Path) -> str:
    """A list name guess from a path: 'ltp' for /x/ltp, /x/ltp.lists.linux.it.0, ..."""
    p = path
    for _ in range(4):
        stem = p.name.removesuffix(".git")
        if stem and not stem.isdigit() and stem.lower() not in _GENERIC_NAMES:
            break
        if p.parent == p:
            break
        p = p.parent
    stem = p.name.removesuffix(".git").removesuffix(".gz").removesuffix(".mbox")
    stem = stem.rsplit("+", 1)[-1].lstrip(".")  # mirrors "<owner>+<name>", Maildir++ ".folder"
    label = stem.split(".", 1)[0]
    return label or stem or "mail"


def _epoch_number(path: Path) -> int:
    p = path
    for _ in range(2):
        m = _EPOCH_NAME.match(p.name) or _EPOCH_SUFFIX.search(p.name)
        if m:
            return int(m.group(1))
        if p.name.removesuffix(".git").lower() not in _GENERIC_NAMES:
            break
        p = p.parent
    return 0


def _is_bare_repo(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def open_archive(path: str | Path) -> MailSource:
    """The mail source at `path`; SourceError (one line) if it is not a known archive."""
    # The kinds are imported here, not at the top: their sources subclass MailSource.
    from patchtrail.sources.maildir import MaildirSource
    from patchtrail.sources.mbox import open_mbox
    from patchtrail.sources.public_inbox import PublicInboxSource, check_epoch, v2_epochs

    p = Path(path).expanduser()
    try:
        p = p.resolve()
    except OSError:
        p = p.absolute()
    if not p.exists():
        raise SourceError(str(p), "no such file or directory")
    if p.is_file():
        return open_mbox(p, _list_name(p))
    if not p.is_dir():
        raise SourceError(str(p), "not a file or directory")
    if (p / "cur").is_dir() or (p / "new").is_dir():
        return MaildirSource(p, _list_name(p))
    epochs = v2_epochs(p)
    if epochs:
        return PublicInboxSource(p, _list_name(p), "public-inbox-v2", epochs)
    if _is_bare_repo(p):
        check_epoch(p)
        return PublicInboxSource(p, _list_name(p), "public-inbox-epoch",
                                 [(_epoch_number(p), str(p))])
    raise SourceError(str(p), "not a mail archive (expected an mbox file, a Maildir with cur/"
                              " and new/, a public-inbox v2 inbox or a public-inbox epoch)")

