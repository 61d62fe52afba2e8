"""mbox files (mboxo or mboxrd, plain or gzip-compressed), split one message at a time.

A file starting with a ``From `` line, plain or gzip. Messages begin at a ``From `` line
at the start of the file or after a blank line. Lines ``>From ``, ``>>From ``... are
un-escaped by one ``>`` (mboxrd's rule). An mboxo file cannot be told apart from an
mboxrd one; mboxo escapes ``From `` only, so a body line that really began with
``>From `` comes out as ``From `` from an mboxo file, which is harmless, whereas not
un-escaping would leave a ``>`` in every escaped line of both formats. Key:
``"offset:<n>"``, the byte offset of the message's ``From `` line (of the uncompressed
data for ``.gz``). Cursor: JSON ``{"offset": <end of the last message>, "head": <sha1 of
the first min(4096, offset) bytes>}``; when those bytes changed (the file was rewritten),
reading starts over from 0.

`split_mbox` and `mboxrd_unescape` also split the mboxes a public-inbox server sends.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from patchtrail.sources.archive import MAX_MESSAGE_BYTES, MailSource
from patchtrail.sources.errors import SourceError
from patchtrail.sources.records import RawMail, SkipLog

__all__ = ["MboxSource", "mboxrd_unescape", "open_mbox", "split_mbox"]

_CHUNK = 1 << 20
_HEAD = 4096
_GZIP_MAGIC = b"\x1f\x8b"
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


def open_mbox(p: Path, name: str) -> MboxSource:
    """The mbox file `p`, plain or gzip; SourceError (one line) if it does not look like one."""
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
    return MboxSource(p, name, compressed)
