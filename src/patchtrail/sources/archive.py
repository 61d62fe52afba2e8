"""Mail archives as streams of raw messages: public-inbox (v2 inboxes and single epochs),
mbox (mboxo/mboxrd, optionally gzip-compressed) and Maildir.

`open_archive(path)` recognises the kind and returns a `MailSource`; its
`iter_messages(cursor, skips)` yields `RawMail`s in archive order, each with a `key` that
names the message in this archive for ever and a `cursor` to resume after it.

Kinds, keys and cursors:

* ``public-inbox-v2``: a directory with ``git/0.git``, ``git/1.git``, ... (epochs read in
  numeric order). ``public-inbox-epoch``: one bare epoch repository. Every message is a
  commit on the epoch's HEAD (``master``) whose tree holds the message as blob ``m``;
  public-inbox deletes a message with a commit that holds ``d`` instead, which is skipped
  ("deleted"), as is a commit with neither ("no message blob"). Commits are listed oldest
  first with ONE ``git rev-list --reverse`` per epoch and the blobs read through ONE
  ``git cat-file --batch`` per epoch. Key: ``"<epoch>:<commit id>"``; the epoch number of a
  lone epoch comes from its name (``3.git``, ``ltp.lists.linux.it.3``), else 0. Cursor:
  JSON ``{"<epoch>": "<last commit read>"}``; the next read lists ``tip ^last``. When the
  last commit no longer exists (history rewritten and pruned) the epoch is read again
  from the start: the indexer drops keys it has seen.
* ``mbox``: a file starting with a ``From `` line, plain or gzip. Messages begin at a
  ``From `` line at the start of the file or after a blank line. Lines ``>From ``,
  ``>>From ``... are un-escaped by one ``>`` (mboxrd's rule). An mboxo file cannot be told
  apart from an mboxrd one; mboxo escapes ``From `` only, so a body line that really began
  with ``>From `` comes out as ``From `` from an mboxo file, which is harmless, whereas
  not un-escaping would leave a ``>`` in every escaped line of both formats. Key:
  ``"offset:<n>"``, the byte offset of the message's ``From `` line (of the uncompressed
  data for ``.gz``). Cursor: JSON ``{"offset": <end of the last message>, "head": <sha1 of
  the first min(4096, offset) bytes>}``; when those bytes changed (the file was rewritten),
  reading starts over from 0.
* ``maildir``: a directory with ``cur/`` and/or ``new/`` (``tmp/`` is ignored); files are
  read in the order of their unique names. Key: the unique name (the file name without
  its ``:2,flags`` info). Cursor: None; every read lists the whole Maildir, and the indexer
  drops keys it has seen.

Memory: one message at a time. A message over `MAX_MESSAGE_BYTES` in an mbox or Maildir
is skipped ("message too large") without being held in memory (an mbox whose ``From ``
lines were mangled must not become one multi-gigabyte message).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from patchtrail.sources._proc import run_git
from patchtrail.sources.catfile import SEQUENTIAL_READ, CatFile, iter_objects
from patchtrail.sources.errors import SourceError
from patchtrail.sources.records import RawMail, SkipLog

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MailSource",
    "MaildirSource",
    "MboxSource",
    "PublicInboxSource",
    "open_archive",
]

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 20
_HEAD = 4096
_GZIP_MAGIC = b"\x1f\x8b"
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
    (`<commit>:m`) in the git repository `repo` that holds it. A named tuple: 35,000 of
    them are pickled to the workers per LTP epoch, and a dataclass pickles slowly."""

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


# -- public-inbox ---------------------------------------------------------------------


class PublicInboxSource(MailSource):
    """A public-inbox v2 inbox (its epochs in order) or a single epoch repository."""

    def __init__(self, path: str | Path, name: str, kind: str,
                 epochs: list[tuple[int, str]]) -> None:
        super().__init__(path, name)
        self.kind = kind
        self.epochs = epochs  # (number, absolute path), in numeric order
        # The new commits of the first epoch to read, listed by `estimate` and handed on
        # to the read that follows it: one walk of that history instead of two.
        self._listed: tuple[str, tuple[str, ...], list[str]] | None = None

    @staticmethod
    def _load_cursor(cursor: str | None) -> dict[str, str]:
        if not cursor:
            return {}
        try:
            value = json.loads(cursor)
        except ValueError:
            return {}
        if not isinstance(value, dict):
            return {}
        return {str(k): str(v) for k, v in value.items()
                if isinstance(v, str) and re.fullmatch(r"[0-9a-f]{40}(?:[0-9a-f]{24})?", v)}

    @staticmethod
    def _range(epoch: str, last: str | None) -> list[str] | None:
        """rev-list arguments for what is new in `epoch` after `last`; None if it is empty."""
        tip_specs = ["HEAD^{commit}", "refs/heads/master^{commit}"]
        specs = tip_specs + ([f"{last}^{{commit}}"] if last else [])
        data = "".join(s + "\n" for s in specs).encode()
        out = run_git(epoch, ["cat-file", "--batch-check=%(objectname)"], input=data)
        answers = out.stdout.decode().split("\n")
        found = [a if re.fullmatch(r"[0-9a-f]{40,64}", a) else None for a in answers[:len(specs)]]
        tip = found[0] or found[1]
        if tip is None:
            return None
        args = [tip]
        if last and found[2]:
            args.append("^" + found[2])
        return args

    def estimate(self, cursor: str | None) -> int | None:
        state = self._load_cursor(cursor)
        total = 0
        for n, epoch in self.epochs:
            rng = self._range(epoch, state.get(str(n)))
            if rng is None:
                continue
            if self._listed is None and not total:
                commits = self._new_commits(epoch, rng)
                self._listed = (epoch, tuple(rng), commits)
                total += len(commits)
                continue
            out = run_git(epoch, ["rev-list", "--count", *rng, "--"])
            total += int(out.stdout.strip() or 0)
        return total

    @staticmethod
    def _new_commits(epoch: str, rng: list[str]) -> list[str]:
        """The commits of `rng`, oldest first."""
        out = run_git(epoch, ["rev-list", "--reverse", *rng, "--"])
        return out.stdout.decode("ascii").split()

    def iter_messages(self, cursor: str | None, skips: SkipLog) -> Iterator[RawMail]:
        for n, epoch, commits, head, tail in self._epochs_to_read(cursor):
            missing: list[str] = []
            with CatFile(epoch, SEQUENTIAL_READ) as cat:
                for spec, data in cat.stream(c + ":m" for c in commits):
                    commit = spec[:-2]
                    if data is None:
                        missing.append(commit)
                        continue
                    yield RawMail(f"{n}:{commit}", data, f'{head}"{commit}"{tail}')
            if missing:
                self._skip_missing(n, epoch, missing, skips)

    def iter_refs(self, cursor: str | None) -> Iterator[MailRef] | None:
        for n, epoch, commits, head, tail in self._epochs_to_read(cursor):
            for c in commits:
                yield MailRef(f"{n}:{c}", epoch, c + ":m", f'{head}"{c}"{tail}')

    def skip_missing(self, refs: list[MailRef], skips: SkipLog) -> None:
        for n, epoch in self.epochs:
            commits = [r.spec[:-2] for r in refs if r.repo == epoch]
            if commits:
                self._skip_missing(n, epoch, commits, skips)

    def _epochs_to_read(self, cursor: str | None) -> Iterator[tuple[int, str, list[str], str, str]]:
        """Per epoch with something new: (number, path, its new commits oldest first, and
        the two halves of the cursor JSON that a commit id completes)."""
        state = self._load_cursor(cursor)
        for n, epoch in self.epochs:
            rng = self._range(epoch, state.get(str(n)))
            if rng is None:
                continue
            listed, self._listed = self._listed, None
            if listed is not None and listed[:2] == (epoch, tuple(rng)):
                commits = listed[2]
            else:
                commits = self._new_commits(epoch, rng)
            del listed
            ekey = str(n)
            head, tail = json.dumps({**state, ekey: "@"}, sort_keys=True).split('"@"')
            if commits:
                state[ekey] = commits[-1]
            yield n, epoch, commits, head, tail

    @staticmethod
    def _skip_missing(n: int, epoch: str, commits: list[str], skips: SkipLog) -> None:
        """Why a commit had no `m`: a deletion (`d`) or nothing at all."""
        data = "".join(f"{c}:d\n" for c in commits).encode()
        out = run_git(epoch, ["cat-file", "--batch-check=%(objecttype)"], input=data)
        answers = out.stdout.decode().split("\n")
        for c, a in zip(commits, answers):
            skips.add(f"{n}:{c}", "deleted" if a == "blob" else "no message blob")


# -- mbox -----------------------------------------------------------------------------

_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.M)


def mboxrd_unescape(data: bytes) -> bytes:
    if b">From " not in data:
        return data
    return _ESCAPED_FROM.sub(rb"\1", data)


def _strip_separator(data: bytes) -> bytes:
    """Remove the blank line that ends a message in an mbox."""
    if data.endswith(b"\r\n\r\n"):
        return data[:-2]
    if data.endswith(b"\n\n"):
        return data[:-1]
    return data


class MboxSource(MailSource):
    kind = "mbox"

    def __init__(self, path: str | Path, name: str, compressed: bool) -> None:
        super().__init__(path, name)
        self.compressed = compressed

    def _open(self):  # type: ignore[no-untyped-def]
        if self.compressed:
            return gzip.open(self.path, "rb")
        return open(self.path, "rb")

    def _head(self, n: int) -> str:
        with self._open() as f:
            return hashlib.sha1(f.read(min(n, _HEAD))).hexdigest()

    def _start(self, cursor: str | None) -> int:
        """Where to resume: the cursor's offset if the file still begins the same way."""
        if not cursor:
            return 0
        try:
            value = json.loads(cursor)
            offset = int(value["offset"])
            head = str(value["head"])
        except (ValueError, TypeError, KeyError):
            return 0
        if offset <= 0:
            return 0
        if not self.compressed and offset > os.path.getsize(self.path):
            return 0
        try:
            if self._head(offset) != head:
                return 0
        except (OSError, EOFError, zlib.error):
            return 0
        return offset

    def _cursor(self, offset: int, heads: dict[int, str]) -> str:
        n = min(offset, _HEAD)
        if n not in heads:
            heads[n] = self._head(n)
        return json.dumps({"offset": offset, "head": heads[n]})

    def estimate(self, cursor: str | None) -> int | None:
        return None

    def iter_messages(self, cursor: str | None, skips: SkipLog) -> Iterator[RawMail]:
        start = self._start(cursor)
        heads: dict[int, str] = {}
        try:
            with self._open() as f:
                first = b""
                if start:
                    f.seek(start)
                    first = f.read(256)
                    rest = first.lstrip(b"\r\n")
                    if len(rest) < 5 and b"From ".startswith(rest):
                        return  # nothing new (or only the start of a From line) yet
                    if not rest.startswith(b"From "):  # the cursor points at no message
                        f.seek(0)
                        start, first = 0, b""
                for offset, data, end in split_mbox(f, start, first):
                    key = f"offset:{offset}"
                    if data is None:
                        skips.add(key, "message too large")
                        continue
                    yield RawMail(key, mboxrd_unescape(data), self._cursor(end, heads))
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceError(self.path, f"cannot read: {exc}") from exc


def split_mbox(f, base: int, first: bytes = b"") -> Iterator[tuple[int, bytes | None, int]]:  # type: ignore[no-untyped-def]
    """Split an mbox read from `f`, whose next byte is at offset `base` (`first`, already
    read, comes before it): (offset of the From line, message or None when larger than
    MAX_MESSAGE_BYTES, offset after the message). All offsets are absolute.
    """
    buf = bytearray(first)
    bb = base  # offset of buf[0]
    msg: int | None = None  # offset of the current message's From line
    body: int | None = None  # offset of the line after it
    dropped = False
    scan = base  # where the search for "\nFrom " goes on (all before it was searched)
    eof = False
    while True:
        if not eof:
            chunk = f.read(_CHUNK)
            if chunk:
                buf += chunk
            else:
                eof = True
        end = bb + len(buf)
        if msg is None:  # between messages: skip blank lines, expect a From line
            i = scan - bb
            while i < len(buf) and buf[i] in b"\r\n":
                i += 1
            scan = bb + i
            if i >= len(buf):
                if eof:
                    return
                continue
            msg = scan
        if body is None:
            nl = buf.find(b"\n", msg - bb)
            if nl < 0:
                if eof:
                    return  # an unterminated From line and nothing else
                continue
            body, scan = bb + nl + 1, bb + nl
        while True:
            at = buf.find(b"\nFrom ", scan - bb)
            if at < 0:
                scan = max(scan, end - 5)
                break
            blank = buf[at - 1] == 0x0A or (at >= 2 and buf[at - 2:at] == b"\n\r")
            if not blank or bb + at < body:
                scan = bb + at + 1
                continue
            data = None if dropped else _strip_separator(bytes(buf[body - bb:at + 1]))
            yield msg, data, bb + at + 1
            msg, body, dropped = bb + at + 1, None, False
            nl = buf.find(b"\n", at + 1)
            if nl < 0:
                scan = msg
                break
            body, scan = bb + nl + 1, bb + nl
        if eof:
            if body is not None:
                data = None if dropped else _strip_separator(bytes(buf[body - bb:]))
                yield msg, data, end
            return
        # Keep memory bounded: drop what was yielded (keeping 2 bytes before `scan` for the
        # blank-line test), and all but the tail of a message that is too large.
        keep = min(body if body is not None else msg, scan - 2)
        if body is not None and not dropped and end - body > MAX_MESSAGE_BYTES:
            dropped = True
        if dropped:
            keep = max(keep, end - 8)
        cut = keep - bb
        if cut > 0:
            del buf[:cut]
            bb += cut


# -- Maildir --------------------------------------------------------------------------


class MaildirSource(MailSource):
    kind = "maildir"

    def _entries(self) -> list[tuple[str, Path]]:
        """(unique name, file) of every message, sorted by unique name; cur/ before new/."""
        found: dict[str, Path] = {}
        for sub in ("cur", "new"):
            d = Path(self.path) / sub
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise SourceError(str(d), f"cannot list: {exc.strerror or exc}") from exc
            for name in names:
                if name.startswith("."):
                    continue
                key = name.split(":", 1)[0]
                found.setdefault(key, d / name)
        return sorted(found.items())

    def estimate(self, cursor: str | None) -> int | None:
        return len(self._entries())

    def iter_messages(self, cursor: str | None, skips: SkipLog) -> Iterator[RawMail]:
        for key, path in self._entries():
            try:
                if path.is_dir():
                    continue
                if path.stat().st_size > MAX_MESSAGE_BYTES:
                    skips.add(key, "message too large")
                    continue
                data = path.read_bytes()
            except FileNotFoundError:
                data = self._moved(key)
                if data is None:
                    skips.add(key, "message file vanished")
                    continue
            except OSError as exc:
                skips.add(key, f"unreadable file: {exc.strerror or type(exc).__name__}")
                continue
            yield RawMail(key, data, None)

    def _moved(self, key: str) -> bytes | None:
        """A mail client moved the file (new/ -> cur/, flags changed) while we listed."""
        for sub in ("cur", "new"):
            d = Path(self.path) / sub
            try:
                for name in os.listdir(d):
                    if name.split(":", 1)[0] == key:
                        return (d / name).read_bytes()
            except OSError:
                continue
        return None


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


def _v2_epochs(path: Path) -> list[tuple[int, str]]:
    for d in (path / "git", path):
        if not d.is_dir():
            continue
        found = []
        for child in d.iterdir():
            m = re.fullmatch(r"(\d+)\.git", child.name)
            if m and child.is_dir():
                found.append((int(m.group(1)), str(child)))
        if found:
            return sorted(found)
    return []


def _is_bare_repo(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def _check_epoch(path: Path) -> None:
    """A bare repository is an epoch if its last commit holds `m` (or `d`), or it has none."""
    specs = b"HEAD^{commit}\nHEAD:m\nHEAD:d\nrefs/heads/master:m\nrefs/heads/master:d\n"
    out = run_git(str(path), ["cat-file", "--batch-check=%(objecttype)"], input=specs,
                  check=False)
    if out.returncode != 0:
        raise SourceError(str(path), "not a readable git repository")
    tip, hm, hd, mm, md = (out.stdout.decode().split("\n") + [""] * 5)[:5]
    if tip != "commit" and mm != "blob" and md != "blob":
        return  # no commits yet: an empty epoch
    if "blob" not in (hm, hd, mm, md):
        raise SourceError(str(path), "a git repository, but not a public-inbox epoch"
                                     " (its last commit has no blob 'm')")


def open_archive(path: str | Path) -> MailSource:
    """The mail source at `path`; SourceError (one line) if it is not a known archive."""
    p = Path(path).expanduser()
    try:
        p = p.resolve()
    except OSError:
        p = p.absolute()
    if not p.exists():
        raise SourceError(str(p), "no such file or directory")
    if p.is_file():
        return _open_mbox(p)
    if not p.is_dir():
        raise SourceError(str(p), "not a file or directory")
    if (p / "cur").is_dir() or (p / "new").is_dir():
        return MaildirSource(p, _list_name(p))
    epochs = _v2_epochs(p)
    if epochs:
        return PublicInboxSource(p, _list_name(p), "public-inbox-v2", epochs)
    if _is_bare_repo(p):
        _check_epoch(p)
        return PublicInboxSource(p, _list_name(p), "public-inbox-epoch",
                                 [(_epoch_number(p), str(p))])
    raise SourceError(str(p), "not a mail archive (expected an mbox file, a Maildir with cur/"
                              " and new/, a public-inbox v2 inbox or a public-inbox epoch)")


def _open_mbox(p: Path) -> MboxSource:
    try:
        with open(p, "rb") as f:
            magic = f.read(2)
            if not magic:
                raise SourceError(str(p), "empty file, not a mail archive")
            compressed = magic == _GZIP_MAGIC
        if compressed:
            with gzip.open(p, "rb") as g:
                head = g.read(_HEAD)
            if not head:
                raise SourceError(str(p), "empty mbox (nothing inside the gzip data)")
        else:
            with open(p, "rb") as f:
                head = f.read(_HEAD)
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, OSError) and exc.strerror:
            raise SourceError(str(p), f"cannot read: {exc.strerror}") from exc
        raise SourceError(str(p), f"cannot read: {' '.join(str(exc).split()) or 'corrupt gzip data'}") from exc
    if not head.lstrip(b"\r\n").startswith(b"From "):
        what = "gzip file" if compressed else "file"
        raise SourceError(str(p), f"not an mbox (the {what} does not start with a 'From ' line)")
    return MboxSource(p, _list_name(p), compressed)
