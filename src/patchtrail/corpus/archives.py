"""Write mail archives in the on-disk formats patchtrail reads: public-inbox v2, mbox, Maildir.

The public-inbox layout is copied from what lore.kernel.org serves (see a real epoch with
`git cat-file -p master` and `git show master:m`): `<inbox>/git/<N>.git` are bare epoch
repositories; every message is one commit on `master` whose tree holds exactly one blob,
`m`, with the raw message. The author is the message's sender and date (a DMARC rewrite
"X via list" is undone through Reply-To, as lore's importer does), the committer is
`<list>.<N> <list address>`, and the commit message is the Subject — RFC 2047 words
decoded, a plain folded Subject kept with its fold, and no trailing newline; the author
zone is the Date's own (see `lore_tz`). Each epoch is
written with ONE `git fast-import`, so a corpus of thousands of messages takes well under
a second.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.header import decode_header, make_header
from pathlib import Path
from typing import Literal

from patchtrail.corpus.gitwrite import fast_import, git

__all__ = [
    "EnvelopeInfo",
    "envelope",
    "lore_tz",
    "write_epoch",
    "write_public_inbox_v2",
    "append_public_inbox_v2",
    "write_mbox",
    "write_maildir",
]


@dataclass(frozen=True, slots=True)
class EnvelopeInfo:
    """What an archive needs from a message: who, when, and the subject line."""

    name: str
    email: str
    time: int
    tz: str
    subject: str


def _clean_ident(text: str) -> str:
    return re.sub(r"[<>\n\r]", "", text).strip()


def _decode(raw: str) -> str:
    if "=?" not in raw:
        return raw
    try:
        return str(make_header(decode_header(raw)))
    except (UnicodeDecodeError, LookupError, ValueError):
        return raw


def envelope(data: bytes, list_name: str = "") -> EnvelopeInfo:
    """Read the sender, date and subject of a raw message the way the archive importer does."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    name, addr = email.utils.parseaddr(_decode(str(msg.get("From", ""))))
    via = f" via {list_name}" if list_name else " via "
    reply_to = msg.get("Reply-To")
    if reply_to and via in name:
        rname, raddr = email.utils.parseaddr(_decode(str(reply_to)))
        if raddr:
            name, addr = rname or name.split(via)[0], raddr
    name = _clean_ident(name) or _clean_ident(addr)
    when, tz = 0, "+0000"
    date = msg.get("Date")
    if date:
        try:
            parsed = email.utils.parsedate_to_datetime(str(date))
        except (TypeError, ValueError):
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            when = int(parsed.timestamp())
            off = int(parsed.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
            tz = f"{'-' if off < 0 else '+'}{abs(off) // 60:02d}{abs(off) % 60:02d}"
    subject = _decode(str(msg.get("Subject", "")))
    return EnvelopeInfo(name, _clean_ident(addr), when, tz, subject)


def lore_tz(tz: str) -> str:
    """The zone an epoch commit records for a Date zone: the Date's own zone.

    public-inbox passes the sender's zone through to `git fast-import` (clamping bogus
    offsets beyond +-1400 to +0000, which fast-import would reject); readers should still
    take the date from the message's Date header rather than from the epoch commit.
    """
    if len(tz) != 5 or tz[0] not in "+-" or not tz[1:].isdigit() or int(tz[1:]) >= 1400:
        return "+0000"
    return tz


def _epoch_stream(messages: Sequence[bytes], list_name: str, ident: str, parent: str | None,
                  last_time: int) -> bytes:
    out: list[bytes] = []
    for i, data in enumerate(messages):
        env = envelope(data, list_name)
        last_time = max(last_time, env.time)
        subject = env.subject.encode()
        out.append(b"commit refs/heads/master\nmark :%d\n" % (i + 1))
        out.append(f"author {env.name} <{env.email}> {env.time} {lore_tz(env.tz)}\n".encode())
        out.append(f"committer {ident} {last_time} +0000\n".encode())
        out.append(b"data %d\n%s\n" % (len(subject), subject))
        if i == 0 and parent is not None:
            out.append(f"from {parent}\n".encode())
        out.append(b"M 100644 inline m\ndata %d\n%s\n\n" % (len(data), data))
    out.append(b"done\n")
    return b"".join(out)


def write_epoch(path: str | Path, messages: Sequence[bytes], list_name: str,
                list_address: str, epoch: int = 0) -> list[str]:
    """Write one bare epoch repository holding `messages` in order; return the commit ids."""
    path = Path(path)
    if not (path / "HEAD").exists():
        git(["init", "--quiet", "--bare", "--initial-branch=master", str(path)])
    return _append_epoch(path, messages, list_name, f"{list_name}.{epoch} <{list_address}>")


def _append_epoch(path: Path, messages: Sequence[bytes], list_name: str, ident: str) -> list[str]:
    if not messages:
        return []
    tip = git(["--git-dir", str(path), "rev-parse", "--verify", "-q", "refs/heads/master"],
              check=False).decode().strip() or None
    last_time = 0
    if tip:
        last_time = int(git(["--git-dir", str(path), "log", "-1", "--format=%ct", tip]).strip())
    marks = fast_import(path, _epoch_stream(messages, list_name, ident, tip, last_time))
    return [marks[i + 1] for i in range(len(messages))]


def write_public_inbox_v2(dir: str | Path, messages: Sequence[bytes], list_name: str,
                          list_address: str, epoch_size: int | None = None) -> Path:
    """Write a public-inbox v2 inbox at `dir`: `git/0.git`, `git/1.git`, ... and `inbox.lock`.

    `epoch_size` is the number of messages per epoch (public-inbox rolls over at ~1 GB;
    counting messages keeps tests small); None puts everything into `0.git`.
    """
    root = Path(dir)
    (root / "git").mkdir(parents=True, exist_ok=True)
    (root / "inbox.lock").touch()  # public-inbox recognises a v2 inbox by this file
    size = epoch_size or max(1, len(messages))
    chunks = [messages[i:i + size] for i in range(0, len(messages), size)] or [[]]
    for n, chunk in enumerate(chunks):
        write_epoch(root / "git" / f"{n}.git", chunk, list_name, list_address, epoch=n)
    return root


def _epochs(root: Path) -> list[Path]:
    found = [p for p in (root / "git").glob("*.git") if p.name[:-4].isdigit()]
    return sorted(found, key=lambda p: int(p.name[:-4]))


def append_public_inbox_v2(dir: str | Path, messages: Sequence[bytes]) -> list[str]:
    """Add messages to the newest epoch of an existing inbox, as a live archive grows.

    The list name and address are taken from the epoch's last committer ident; committer
    times never go backwards. Returns the new commit ids.
    """
    epochs = _epochs(Path(dir))
    if not epochs:
        raise FileNotFoundError(f"{dir}: no public-inbox v2 epochs under git/")
    last = epochs[-1]
    ident = git(["--git-dir", str(last), "log", "-1", "--format=%cn <%ce>", "master"]).decode().strip()
    list_name = ident.split(" <", 1)[0].rsplit(".", 1)[0]
    return _append_epoch(last, messages, list_name, ident)


def _from_line(data: bytes) -> bytes:
    env = envelope(data)
    stamp = datetime.fromtimestamp(env.time, timezone.utc).strftime("%a %b %e %H:%M:%S %Y")
    return f"From {env.email or 'MAILER-DAEMON'} {stamp}\n".encode()


_MBOXRD = re.compile(rb"^(>*From )", re.M)
_MBOXO = re.compile(rb"^(From )", re.M)


def write_mbox(path: str | Path, messages: Sequence[bytes],
               variant: Literal["mboxrd", "mboxo"] = "mboxrd") -> Path:
    """Write an mbox file: a `From ` line before each message, body lines escaped.

    mboxrd quotes every `>*From ` line with one more `>` (reversible); mboxo quotes only
    `From ` lines (so `>From ` in a body becomes ambiguous — the reason mboxrd exists).
    """
    pattern = _MBOXRD if variant == "mboxrd" else _MBOXO
    if variant not in ("mboxrd", "mboxo"):
        raise ValueError(f"unknown mbox variant {variant!r}")
    out: list[bytes] = []
    for data in messages:
        data = data.replace(b"\r\n", b"\n")
        if not data.endswith(b"\n"):
            data += b"\n"
        out.append(_from_line(data))
        out.append(pattern.sub(rb">\1", data))
        out.append(b"\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(out))
    return path


def write_maildir(path: str | Path, messages: Sequence[bytes], subdir: str = "new") -> list[str]:
    """Write a Maildir (`cur`, `new`, `tmp`); return the unique file names used.

    Names follow the Maildir convention `<time>.<unique>.<host>` and are derived from the
    message position and content, so they are unique and the same on every run. Files put
    in `cur` get the `:2,S` (seen) info suffix a mail reader would add.
    """
    root = Path(path)
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for i, data in enumerate(messages):
        env = envelope(data)
        digest = hashlib.sha1(data).hexdigest()[:12]
        name = f"{env.time}.M{i:06d}Q{digest}.patchtrail"
        if subdir == "cur":
            name += ":2,S"
        (root / subdir / name).write_bytes(data)
        names.append(name)
    return names
