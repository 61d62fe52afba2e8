"""Header blocks, addresses, Message-IDs, dates and MIME parameters, read without `email`.

The stdlib parser builds a full object tree and decodes every header; a patch mail has
dozens of Received/ARC/DKIM lines and we need about ten headers. A regular expression
over the raw block finds those ten in C, and only they are unfolded and decoded.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from email.utils import parsedate_tz
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import unquote_to_bytes

from patchtrail.mail.charset import decode_bytes
from patchtrail.mail.subject import decode_header_text_ex

# The header block ends at the first line that is neither a continuation nor `Name:`,
# blank or not, as the stdlib parser also decides; searching for that line is one C scan.
_FIRST_HEADER = re.compile(rb"[!-9;-~]+[ \t]*:")
_END_OF_HEADERS = re.compile(rb"\n(?![ \t]|[!-9;-~]+[ \t]*:)")
# Matched against the lower-cased block (bytes.lower() keeps every offset): a
# case-sensitive pattern runs faster than the same one with IGNORECASE.
_WANTED = re.compile(
    rb"\n(message-id|in-reply-to|re(?:ferences|ply-to)|date|list-id|subject|from|"
    rb"x-original-from|content-(?:type|transfer-encoding|disposition))"
    rb"[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)"
)
_ANGLE_ID = re.compile(r"<([^<>]*)>")
# `Tue, 4 Jun 2019 10:22:33 +0200`, optionally followed by a `(CEST)` comment.
_RFC5322_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) "
    r"(\d\d):(\d\d):(\d\d) ([+-]\d{4})(?: \([A-Za-z ]{1,40}\))?"
)
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)')


def split_header_block(data: bytes) -> tuple[bytes, bytes]:
    """(header block, body) of a message or MIME part whose line ends are LF.

    The block keeps its final newline; it is empty when the data does not start with a
    header line at all.
    """
    if not _FIRST_HEADER.match(data):
        return b"", data
    m = _END_OF_HEADERS.search(data)
    if m is None:
        return data + b"\n", b""
    end = m.start() + 1
    # The blank line that ends the block belongs to neither part (one copy of the body).
    return data[:end], data[end + 1:] if data.startswith(b"\n", end) else data[end:]


def wanted_headers(block: bytes) -> dict[str, list[bytes]]:
    """The raw values (folds kept) of the headers this package reads, in order of
    appearance, by lower-case name."""
    found: dict[str, list[bytes]] = {}
    data = b"\n" + block
    for m in _WANTED.finditer(data.lower()):
        start, end = m.span(2)
        found.setdefault(m.group(1).decode("ascii"), []).append(data[start:end])
    return found


def header_text(raw: bytes, problems: list[str]) -> str:
    """A header value unfolded and decoded (undeclared 8-bit text as UTF-8, else latin-1),
    RFC 2047 words included."""
    raw = raw.replace(b"\n", b"").strip()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        problems.append("undeclared 8-bit header decoded as latin-1")
    if "=?" in text:
        text, notes = decode_header_text_ex(text)
        problems.extend(notes)
    return text


def plain_header(raw: bytes) -> str:
    """A structured header value (ids, types, dates) unfolded, without RFC 2047 decoding."""
    return raw.replace(b"\n", b"").strip().decode("latin-1")


def message_ids(value: str) -> list[str]:
    """Message-IDs in a References/In-Reply-To value, in order, without duplicates.

    Clients that forget the angle brackets still separate ids by whitespace, so bare
    tokens with an `@` are accepted when no bracketed id is present.
    """
    ids = ["".join(m.split()) for m in _ANGLE_ID.findall(value)]
    if not ids:
        ids = [t.strip("<>,;") for t in value.split() if "@" in t]
    out: list[str] = []
    for msgid in ids:
        if msgid and msgid not in out:
            out.append(msgid)
    return out


def single_message_id(value: str) -> str | None:
    """The id of a Message-ID header: the bracketed part, else the first token."""
    m = _ANGLE_ID.search(value)
    msgid = "".join(m.group(1).split()) if m else (value.split() or [""])[0]
    return msgid or None


def list_id(value: str) -> str | None:
    m = _ANGLE_ID.search(value)
    found = (m.group(1) if m else value).strip()
    return found or None


def parse_date(value: str) -> tuple[int | None, str | None]:
    """Unix time and `+HHMM` offset of a Date header; (None, None) when unparseable.

    A missing or unknown zone counts as UTC rather than local time (`mktime_tz` would use
    the local zone of whoever runs the import), so results do not depend on the machine.
    """
    m = _RFC5322_DATE.fullmatch(value)
    if m is not None:  # what nearly every mailer writes; parsedate_tz reads it the same way
        day, month, year, hh, mm, ss, zone = m.groups()
        offset = (int(zone[1:3]) * 3600 + int(zone[3:]) * 60) * (-1 if zone[0] == "-" else 1)
        stamp = calendar.timegm(
            (int(year), _MONTHS[month.lower()], int(day), int(hh), int(mm), int(ss), 0, 1, 0)
        ) - offset
        return stamp, _zone(offset)
    try:
        parts = parsedate_tz(value)
        if parts is None:
            return None, None
        offset = parts[9] or 0
        stamp = calendar.timegm((*parts[:6], 0, 1, 0)) - offset
    except (ValueError, TypeError, OverflowError, IndexError):
        return None, None
    return stamp, _zone(offset)


def _zone(offset: int) -> str:
    sign = "-" if offset < 0 else "+"
    minutes = abs(offset) // 60
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


@lru_cache(maxsize=512)
def content_type(value: str) -> tuple[str, Mapping[str, str]]:
    """(lower-case type/subtype, parameters) with text/plain as the default for garbage.

    RFC 2231 forms are read too: `name*=utf-8''a%20b` and continuations `name*0`,
    `name*1*`, joined in order. Remembered: three values make up nine tenths of an
    archive's Content-Types, and the parameters come back read-only, being shared.
    """
    head = value.split(";", 1)[0].strip().lower()
    ctype = head if "/" in head and " " not in head else "text/plain"
    if ";" not in value:  # no parameters (a parameter needs its `;`)
        return ctype, _NO_PARAMS
    params: dict[str, str] = {}
    pieces: dict[str, list[tuple[int, str, bool]]] = {}
    for m in _PARAM.finditer(value):
        name = m.group(1).lower()
        extended = name.endswith("*")
        key = name.rstrip("*")
        index = -1
        if "*" in key:
            key, _, number = key.partition("*")
            index = int(number) if number.isdigit() and len(number) < 6 else 0
        raw = m.group(2).strip()
        if raw.startswith('"'):
            raw = raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]
            raw = raw.replace('\\"', '"').replace("\\\\", "\\")
        if index >= 0:
            pieces.setdefault(key, []).append((index, raw, extended))
        elif extended:
            params.setdefault(key, _rfc2231(raw, key))
        else:
            params.setdefault(key, raw)
    for key, parts in pieces.items():
        if key in params:
            continue
        parts.sort(key=lambda p: p[0])
        charset = ""
        out = bytearray()
        for index, raw, extended in parts:
            if extended:
                if index == 0 and raw.count("'") >= 2:
                    charset, _, raw = raw.split("'", 2)
                out += unquote_to_bytes(raw)
            else:
                out += raw.encode("utf-8", "replace")
        params[key] = _decode_param(bytes(out), charset)
    return ctype, MappingProxyType(params)


def _rfc2231(raw: str, key: str) -> str:
    if raw.count("'") < 2:
        return unquote_to_bytes(raw).decode("utf-8", "replace")
    charset, _, text = raw.split("'", 2)
    if key == "charset":
        return unquote_to_bytes(text).decode("latin-1")
    return _decode_param(unquote_to_bytes(text), charset)


def _decode_param(raw: bytes, charset: str) -> str:
    return decode_bytes(raw, charset[:64])[0]


def parse_address(value: str) -> tuple[str, str]:
    """(display name, address) of one mailbox, RFC 2047 names decoded.

    Handles `Name <addr>`, `"Quoted, Name" <addr>`, the old `addr (Name)` and a bare
    address; anything else becomes a name with an empty address.
    """
    value = value.strip()
    lt = value.rfind("<")
    if lt >= 0 and value.find(">", lt) > lt:
        email = value[lt + 1: value.find(">", lt)].strip()
        name = value[:lt].strip()
    else:
        m = re.fullmatch(r"(\S+@\S+)\s*\((.*)\)", value)
        if m:
            email, name = m.group(1), m.group(2).strip()
        elif "@" in value and " " not in value:
            email, name = value, ""
        else:
            email, name = "", value
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if "=?" in name:
        name = decode_header_text_ex(name)[0]
    return " ".join(name.split()).strip('"').strip(), email.strip().strip("<>")


def split_addresses(value: str) -> list[str]:
    """Split an address list at commas outside quotes and angle brackets."""
    if "," not in value:  # one address, the common case
        value = value.strip()
        return [value] if value else []
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    escaped = False
    for c in value:
        if escaped:
            escaped = False
        elif c == "\\" and quoted:
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif not quoted and c == "<":
            depth += 1
        elif not quoted and c == ">" and depth:
            depth -= 1
        elif c == "," and not quoted and not depth:
            parts.append("".join(current))
            current = []
            continue
        current.append(c)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]
