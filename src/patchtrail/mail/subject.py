"""Subject lines: reply prefixes, list and patch tags, and the title used for matching.

A subject is the only place a patch's revision ("v4") and position in its series ("2/4")
are written, and its title is the strongest link to the commit that applied it once a
maintainer has reworded the body. Both must come out right for every spelling that real
lists carry, while text that merely looks like a tag inside the title is left alone.
"""

from __future__ import annotations

import binascii
import re
from functools import lru_cache
from typing import NamedTuple

from patchtrail.mail.charset import decode_bytes
from patchtrail.mail.model import SubjectInfo

# Reply and forward prefixes as written by mail clients in several languages, with the
# optional counters some add ("Re[2]:", "Re^2:") and the full-width colon of CJK clients.
# Forwards count as replies: either way the message is not the original posting.
_REPLY = re.compile(
    r"(?:re|aw|sv|antw|odp|fwd?|回复|答复|回覆|转发)[ \t]*(?:\[\d+\]|\^\d+)?[ \t]*[:：][ \t]*",
    re.IGNORECASE,
)
_BRACKET = re.compile(r"\[([^\[\]]*)\][ \t]*")
_NUMBERED = re.compile(r"(\d+)/(\d+)")
_VERSION = re.compile(r"v(\d+)", re.IGNORECASE)
_PATCH_VERSION = re.compile(r"(patch|rfc)-?v(\d+)", re.IGNORECASE)
_TOKEN_SPLIT = re.compile(r"[\s,]+")
_WHITESPACE = re.compile(r"\s+")
_COMPONENT = re.compile(r"\S+:\s+(?=\S)")
_NON_WORD = re.compile(r"\W+")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")


# A third of an archive's subjects repeat one read shortly before (replies to one thread).
@lru_cache(maxsize=4096)
def parse_subject(raw: str) -> SubjectInfo:
    """Split a subject into reply state, patch tags and title.

    `raw` in the result is the subject unfolded, decoded and whitespace-collapsed, with its
    prefixes still in place, so it can be shown as the list showed it.
    """
    text = decode_header_text(raw) if "=?" in raw else raw
    text = _WHITESPACE.sub(" ", text).strip()
    rest = text
    is_reply = is_patch = rfc = resend = False
    version = 1
    number: int | None = None
    total: int | None = None
    tags: list[str] = []
    marked = False  # a patch tag was read: "fw: " after it is a component, not a forward
    while rest:
        m = None if marked else _REPLY.match(rest)
        if m:
            is_reply = True
            rest = rest[m.end():]
            continue
        m = _BRACKET.match(rest)
        if not m:
            break
        rest = rest[m.end():]
        tag = _classify_tag(m.group(1))
        if tag is None:
            content = m.group(1).strip()
            if content:
                tags.append(content)
            continue
        marked = True
        is_patch = is_patch or tag.is_patch
        rfc = rfc or tag.rfc
        resend = resend or tag.resend
        if tag.version is not None:
            version = tag.version
        if tag.number is not None:
            number, total = tag.number, tag.total
        tags.extend(tag.other)
    title = rest.strip()
    return SubjectInfo(
        raw=text,
        title=title,
        norm=normalize_title(title),
        is_reply=is_reply,
        is_patch=is_patch,
        version=version,
        number=number,
        total=total,
        rfc=rfc,
        resend=resend,
        tags=tuple(tags),
    )


def normalize_title(title: str) -> str:
    """Lower-case `title` without `component:` prefixes and with punctuation as single spaces.

    Prefixes are what maintainers reword most ("kvm: vmx:" becomes "KVM: VMX:", a test
    gains "syscalls/"), so they are dropped; stripping stops before the last word so a
    title that is nothing but a prefix still says something.
    """
    t = title.lower()
    while True:
        m = _COMPONENT.match(t)
        if m is None:
            break
        t = t[m.end():]
    return _NON_WORD.sub(" ", t).strip()


class _TagParts(NamedTuple):
    is_patch: bool
    version: int | None
    number: int | None
    total: int | None
    rfc: bool
    resend: bool
    other: list[str]


def _classify_tag(content: str) -> _TagParts | None:
    """Read one bracketed tag; None when it carries no patch marker (a plain list tag)."""
    is_patch = rfc = resend = False
    version: int | None = None
    number: int | None = None
    total: int | None = None
    other: list[str] = []
    marked = False
    for token in _TOKEN_SPLIT.split(content.strip()):
        if not token:
            continue
        upper = token.upper()
        if upper == "PATCH":
            is_patch = marked = True
        elif upper == "RFC":
            rfc = marked = True
        elif upper == "RESEND":
            resend = marked = True
        elif (m := _PATCH_VERSION.fullmatch(token)) is not None:
            marked = True
            if m.group(1).upper() == "PATCH":
                is_patch = True
            else:
                rfc = True
            version = int(m.group(2))
        elif (m := _VERSION.fullmatch(token)) is not None:
            marked = True
            version = int(m.group(1))
        elif (m := _NUMBERED.fullmatch(token)) is not None:
            marked = True
            number, total = int(m.group(1)), int(m.group(2))
        else:
            other.append(token)
    if not marked:
        return None
    if number is not None:
        is_patch = True
    return _TagParts(is_patch, version, number, total, rfc, resend, other)


def decode_header_text(value: str) -> str:
    """Decode RFC 2047 encoded words; never raises, whatever the encoded words contain."""
    return decode_header_text_ex(value)[0]


def decode_header_text_ex(value: str) -> tuple[str, list[str]]:
    """Like `decode_header_text`, also returning notes on what had to be guessed.

    This is a small decoder of its own rather than `email.header.decode_header`, which turns
    undeclared non-ASCII text between encoded words into `raw-unicode-escape` bytes and raises
    on broken base64. Adjacent words in one charset are joined before decoding because
    senders split multi-byte UTF-8 characters across encoded words.
    """
    if "=?" not in value:
        return value, []
    problems: list[str] = []
    pieces: list[tuple[str | None, bytes | str]] = []
    pos = 0
    for m in _ENCODED_WORD.finditer(value):
        between = value[pos:m.start()]
        last_encoded = bool(pieces) and pieces[-1][0] is not None
        if between and not (last_encoded and between.isspace()):
            pieces.append((None, between))
        pos = m.end()
        charset = m.group(1).split("*", 1)[0].lower()
        payload = m.group(3)
        try:
            if m.group(2) in "bB":
                data = _b_decode(payload)
            else:
                data = binascii.a2b_qp(payload.encode("utf-8", "surrogateescape"), header=True)
        except (binascii.Error, ValueError):
            problems.append("broken encoded word")
            pieces.append((None, m.group(0)))
            continue
        if pieces and pieces[-1][0] == charset:
            previous = pieces[-1][1]
            assert isinstance(previous, bytes)
            pieces[-1] = (charset, previous + data)
        else:
            pieces.append((charset, data))
    if pos < len(value):
        pieces.append((None, value[pos:]))
    out: list[str] = []
    for charset, piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        text, note = decode_bytes(piece, charset)
        if note:
            problems.append(f"header: {note}")
        out.append(text)
    return "".join(out), problems


def _b_decode(payload: str) -> bytes:
    """Base64 of an encoded word, tolerating missing padding and stray characters."""
    raw = re.sub(r"[^A-Za-z0-9+/]", "", payload).encode("ascii")
    raw = raw[: len(raw) - len(raw) % 4] if len(raw) % 4 == 1 else raw
    return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4))
