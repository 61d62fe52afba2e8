"""One raw message (bytes) or one commit message (text) to the patch model.

`parse_message` reads the common case, a single-part text/plain mail in 7bit or 8bit, with
`headers.py` alone: two regular expressions over the header block, a decode of the body,
and the body split. MIME messages (multipart, base64, quoted-printable) go through a small
walker of our own rather than the stdlib `email` package: that parser reads and copies
every part, which for a 50 MB attachment costs seconds and hundreds of megabytes, while
here parts are located with `bytes.find` and only the parts that can carry the patch are
decoded, each under a size cap.

Nothing here raises on bad input except `MailError` for input that is not a message at
all (no bytes, no header block); everything else is parsed as far as it goes and the
trouble is written to `ParsedMail.problems`.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace

from patchtrail.mail.charset import decode_bytes
from patchtrail.mail.diff import split_patch
from patchtrail.mail.headers import (
    content_type,
    header_text,
    list_id,
    message_ids,
    parse_address,
    parse_date,
    plain_header,
    single_message_id,
    split_addresses,
    split_header_block,
    wanted_headers,
)
from patchtrail.mail.model import MailError, ParsedMail, SubjectInfo
from patchtrail.mail.subject import decode_header_text_ex, parse_subject
from patchtrail.mail.trailers import parse_trailers

__all__ = ["parse_message", "parse_commit_message", "MAX_PART_BYTES"]

# Largest encoded part decoded (body text or patch attachment). Bigger text parts are cut
# to this size; bigger attachments are skipped, and both are noted as problems.
MAX_PART_BYTES = 16 * 1024 * 1024
_MAX_DEPTH = 8
_MAX_PARTS = 256
_MAX_PROBLEMS = 32

_PATCH_TYPES = frozenset(
    {"text/x-patch", "text/x-diff", "text/patch", "text/diff", "application/x-patch",
     "application/x-diff", "text/x-log"}
)
_PATCH_NAME = re.compile(r"\.(?:patch|diff|patch\.txt|diff\.txt)$", re.IGNORECASE)
_IDENTITY_CTE = frozenset({"", "7bit", "8bit", "binary", "7-bit", "8-bit"})
_MBOX_FROM = re.compile(rb"From [^\n]*\n")
_INBODY = re.compile(r"(from|subject|date)[ \t]*:[ \t]?(.*)", re.IGNORECASE)
_VIA = re.compile(r"^['\"]?(.*?)['\"]?\s+via\s+\S.*$", re.IGNORECASE | re.DOTALL)
_CHANGE_ID = re.compile(r"^change-id[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
_BASE_COMMIT = re.compile(r"^base-commit[ \t]*:[ \t]*([0-9a-fA-F]{7,64})\b", re.MULTILINE)
_DIFF_HINTS = ("diff ", "--- ", "Index: ")  # a line starting so says "this may be a diff"


# --------------------------------------------------------------------------- public API


def parse_message(data: bytes) -> ParsedMail:
    """Parse one RFC 5322 message. Raises `MailError` only when `data` is empty or has no
    header block; any other trouble ends up in `problems` of a best-effort result."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MailError(f"message must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if not data or data.isspace():  # not strip(): that copies the whole message
        raise MailError("empty message")
    try:
        text = _normalise(data)
        block, body = split_header_block(text)
    except Exception as exc:  # noqa: BLE001 - hostile input must not escape
        raise MailError(f"unreadable message: {type(exc).__name__}") from None
    if not block:
        raise MailError("no header block")
    try:
        return _parse(data, block, body)
    except MailError:
        raise
    except BaseException as exc:  # noqa: BLE001 - RecursionError, MemoryError, bugs
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        return _fallback(data, f"parser error: {type(exc).__name__}: {str(exc)[:80]}")


def parse_commit_message(msg: str) -> tuple[SubjectInfo, str, list[tuple[str, str]]]:
    """(subject, body, trailers) of a commit message.

    The subject is the first paragraph with its lines joined by single spaces, which is
    what git's `%s` shows; the body is the rest without leading blank lines and trailing
    whitespace; trailers are read from the body.
    """
    if "\r" in msg:
        msg = msg.replace("\r\n", "\n").replace("\r", "\n")
    lines = msg.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    subject_lines: list[str] = []
    while i < len(lines) and lines[i].strip():
        subject_lines.append(lines[i].strip())
        i += 1
    body = "\n".join(lines[i:]).strip("\n").rstrip()
    subject = parse_subject(" ".join(subject_lines))
    return subject, body, parse_trailers(body)


# --------------------------------------------------------------------------- internals


def _normalise(data: bytes) -> bytes:
    """LF line ends, no leading blank lines, no mbox `From ` separator line."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    data = data.lstrip(b"\r\n")
    if data.startswith(b"From ") and (m := _MBOX_FROM.match(data)) is not None:
        data = data[m.end():].lstrip(b"\n")
    return data


class _Problems(list):
    """A problem list that stays short whatever the input does."""

    def append(self, item: str) -> None:  # type: ignore[override]
        if len(self) < _MAX_PROBLEMS and item not in self:
            super().append(item)

    def extend(self, items) -> None:  # type: ignore[override]
        for item in items:
            self.append(item)


def _first(headers: dict[str, list[bytes]], name: str) -> bytes | None:
    values = headers.get(name)
    return values[0] if values else None


def _parse(data: bytes, block: bytes, body: bytes) -> ParsedMail:
    problems = _Problems()
    headers = wanted_headers(block)

    # Identity and threading.
    msgid = None
    raw_ids = headers.get("message-id", [])
    if raw_ids:
        msgid = single_message_id(plain_header(raw_ids[0]))
        if len(raw_ids) > 1:
            problems.append("duplicate Message-ID header; first one used")
    generated = msgid is None
    if generated:
        msgid = f"patchtrail-{hashlib.sha1(data).hexdigest()}@generated"
        problems.append("no Message-ID; generated one")
    in_reply_to = None
    raw_irt = _first(headers, "in-reply-to")
    if raw_irt is not None:
        ids = message_ids(plain_header(raw_irt))
        in_reply_to = ids[0] if ids else None
    references: list[str] = []
    for raw in headers.get("references", []):
        for ref in message_ids(plain_header(raw)):
            if ref not in references:
                references.append(ref)
    raw_list = _first(headers, "list-id")
    lid = list_id(header_text(raw_list, problems)) if raw_list is not None else None

    # Date.
    date = date_tz = None
    raw_date = _first(headers, "date")
    if raw_date is not None:
        date, date_tz = parse_date(plain_header(raw_date))
        if date is None:
            problems.append("unparseable Date header")

    # Subject: keep RFC 2047 words for parse_subject to decode exactly once.
    raw_subject = _first(headers, "subject")
    subject_text = _header_raw_text(raw_subject, problems) if raw_subject is not None else ""
    if "=?" in subject_text:
        problems.extend(decode_header_text_ex(subject_text)[1])
    subject = parse_subject(subject_text)

    # Body text and patch attachments.
    text, extra_diffs = _body_text(block, headers, body, problems)
    text, inbody = _inbody_headers(text)
    message, notes, diff, files = split_patch(text)
    for att in extra_diffs:
        _, _, att_diff, att_files = split_patch(att)
        if att_diff:
            diff = diff + att_diff if diff else att_diff
            files = files + att_files

    # People.
    sender_name, sender_email = _address(_first(headers, "from"), problems)
    author_name, author_email = _author(headers, sender_name, sender_email, lid, problems)
    if "from" in inbody:
        name, email_addr = _address_text(inbody["from"])
        # Some senders' in-body From is itself the list's DMARC rewrite (a copy of the
        # header they received); it names the list, not the author.
        rewritten = bool(email_addr) and email_addr.lower() == sender_email.lower() != author_email.lower()
        if (name or email_addr) and not rewritten:
            author_name, author_email = name, email_addr
    if "subject" in inbody:
        inner = parse_subject(inbody["subject"])
        if inner.title:
            subject = replace(subject, title=inner.title, norm=inner.norm)

    trailers = parse_trailers(message)
    change_id = None
    for key, value in trailers:
        if key == "Change-Id" and value.strip():
            change_id = value.split()[0]
    # Substring prechecks: the case-insensitive multi-line searches cost more than the
    # rest of a typical parse, and almost no message has either line.
    if change_id is None and ("hange-" in message or "hange-" in notes or "HANGE-" in message
                              or "HANGE-" in notes):
        m = _CHANGE_ID.search(message + "\n" + notes)
        if m is not None:
            change_id = m.group(1)
    m = _BASE_COMMIT.search(text) if "base-commit" in text else None
    base_commit = m.group(1).lower() if m is not None else None

    return ParsedMail(
        message_id=msgid,
        message_id_generated=generated,
        in_reply_to=in_reply_to,
        references=tuple(references),
        subject=subject,
        author_name=author_name,
        author_email=author_email,
        sender_name=sender_name,
        sender_email=sender_email,
        date=date,
        date_tz=date_tz,
        list_id=lid,
        message=message,
        notes=notes,
        diff=diff,
        files=tuple(files),
        trailers=tuple(trailers),
        change_id=change_id,
        base_commit=base_commit,
        problems=tuple(problems),
    )


def _fallback(data: bytes, problem: str) -> ParsedMail:
    """What is left when the parser itself failed: an addressable, empty message."""
    return ParsedMail(
        message_id=f"patchtrail-{hashlib.sha1(data).hexdigest()}@generated",
        message_id_generated=True,
        in_reply_to=None,
        references=(),
        subject=SubjectInfo(raw="", title="", norm=""),
        author_name="",
        author_email="",
        sender_name="",
        sender_email="",
        date=None,
        date_tz=None,
        list_id=None,
        message="",
        notes="",
        diff="",
        problems=(problem,),
    )


def _header_raw_text(raw: bytes, problems: list[str]) -> str:
    """Unfolded header text with RFC 2047 words left encoded."""
    raw = raw.replace(b"\n", b"").strip()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append("undeclared 8-bit header decoded as latin-1")
        return raw.decode("latin-1")


def _address(raw: bytes | None, problems: list[str]) -> tuple[str, str]:
    if raw is None:
        return "", ""
    return _address_text(_header_raw_text(raw, problems))


def _address_text(value: str) -> tuple[str, str]:
    parts = split_addresses(value)
    if not parts:
        return "", ""
    return parse_address(parts[0])


def _is_list_address(addr: str, sender_email: str, lid: str | None) -> bool:
    addr = addr.lower()
    if not addr or addr == sender_email.lower():
        return True
    if lid and addr.replace("@", ".") == lid.lower():
        return True
    return False


def _author(
    headers: dict[str, list[bytes]],
    sender_name: str,
    sender_email: str,
    lid: str | None,
    problems: list[str],
) -> tuple[str, str]:
    """The header From with DMARC list rewrites undone."""
    raw_orig = _first(headers, "x-original-from")
    if raw_orig is not None:
        name, addr = _address(raw_orig, problems)
        if addr and addr.lower() != sender_email.lower():
            return name or _unvia(sender_name) or sender_name, addr
    via = _VIA.match(sender_name)
    if via is None:
        return sender_name, sender_email
    name = via.group(1).strip()
    addr = sender_email
    raw_reply = _first(headers, "reply-to")
    if raw_reply is not None:
        candidates = [
            parse_address(p) for p in split_addresses(_header_raw_text(raw_reply, problems))
        ]
        personal = [c for c in candidates if "@" in c[1] and not _is_list_address(c[1], sender_email, lid)]
        if len(personal) == 1:
            addr = personal[0][1]
            name = name or personal[0][0]
    return name or sender_name, addr


def _unvia(name: str) -> str:
    m = _VIA.match(name)
    return m.group(1).strip() if m else name


def _inbody_headers(text: str) -> tuple[str, dict[str, str]]:
    """Remove `From:`/`Subject:`/`Date:` lines opening the body, as `git am` reads them."""
    if not text:
        return text, {}
    start = 0
    n = len(text)
    while start < n and text[start] == "\n":
        start += 1
    head = text[start:start + 6].lower()
    if not (head.startswith("from") or head.startswith("subjec") or head.startswith("date")):
        return text, {}
    found: dict[str, str] = {}
    pos = start
    last: str | None = None
    while pos < n:
        end = text.find("\n", pos)
        if end < 0:
            end = n
        line = text[pos:end]
        if line[:1] in (" ", "\t") and last is not None and line.strip():
            found[last] = f"{found[last]} {line.strip()}".strip()
            pos = end + 1
            continue
        m = _INBODY.fullmatch(line.rstrip())
        if m is None:
            break
        last = m.group(1).lower()
        if last in found:  # a second From: is message text, not a header
            break
        found[last] = m.group(2).strip()
        pos = end + 1
    if not found:
        return text, {}
    rest = text[pos:] if pos < n else ""
    if rest.startswith("\n"):
        rest = rest[1:]
    for key, value in list(found.items()):
        if "=?" in value:
            found[key] = decode_header_text_ex(value)[0]
    return rest, found


# --------------------------------------------------------------------------- MIME


def _body_text(
    block: bytes, headers: dict[str, list[bytes]], body: bytes, problems: list[str]
) -> tuple[str, list[str]]:
    """The body's text part and the decoded texts of patch attachments."""
    ctype_raw = _first(headers, "content-type")
    cte_raw = _first(headers, "content-transfer-encoding")
    ctype, params = content_type(plain_header(ctype_raw)) if ctype_raw else ("text/plain", {})
    cte = plain_header(cte_raw).lower().strip() if cte_raw else ""
    if ctype == "text/plain" and cte in _IDENTITY_CTE:  # the fast path
        return _decode_text(body, "", params.get("charset"), problems, "body"), []
    walker = _Walker(problems)
    walker.walk(block, body, 0)
    return walker.result()


class _Walker:
    """Finds the body text part and patch attachments of a MIME tree, decoding only them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.text: str | None = None
        self.fallback: str | None = None  # first non-plain text part, if no text/plain
        self.extras: list[str] = []
        self.parts = 0

    def result(self) -> tuple[str, list[str]]:
        text = self.text if self.text is not None else (self.fallback or "")
        return text, self.extras

    def walk(self, block: bytes, body: bytes, depth: int) -> None:
        self.parts += 1
        if self.parts > _MAX_PARTS:
            if self.parts == _MAX_PARTS + 1:
                self.problems.append(f"more than {_MAX_PARTS} MIME parts; rest ignored")
            return
        headers = wanted_headers(block) if block else {}
        ctype_raw = _first(headers, "content-type")
        ctype, params = content_type(plain_header(ctype_raw)) if ctype_raw else ("text/plain", {})
        cte_raw = _first(headers, "content-transfer-encoding")
        cte = plain_header(cte_raw).lower().strip() if cte_raw else ""
        disp_raw = _first(headers, "content-disposition")
        disposition, disp_params = (
            content_type("x/" + plain_header(disp_raw)) if disp_raw else ("x/inline", {})
        )
        disposition = disposition[2:]
        filename = disp_params.get("filename") or params.get("name") or ""

        if ctype.startswith("multipart/"):
            if depth >= _MAX_DEPTH:
                self.problems.append("MIME nesting too deep; inner parts ignored")
                return
            boundary = params.get("boundary", "")
            if not boundary:
                self.problems.append("multipart without boundary; read as text")
                self._leaf("text/plain", cte, params, filename, "inline", body)
                return
            parts = _split_multipart(body, boundary, self.problems)
            if parts is None:
                self.problems.append("multipart boundary never found; read as text")
                self._leaf("text/plain", cte, params, filename, "inline", body)
                return
            for part in parts:
                sub_block, sub_body = _split_part(part)
                self.walk(sub_block, sub_body, depth + 1)
            return
        self._leaf(ctype, cte, params, filename, disposition, body)

    def _leaf(
        self, ctype: str, cte: str, params: Mapping[str, str], filename: str,
        disposition: str, body: bytes,
    ) -> None:
        named_patch = bool(filename) and _PATCH_NAME.search(filename) is not None
        if ctype in _PATCH_TYPES or (named_patch and (ctype.startswith("text/") or ctype in (
                "application/octet-stream", "application/x-patch", "application/x-diff"))):
            text = self._decoded(body, cte, params.get("charset"), filename or ctype, attachment=True)
            if text is not None:
                self.extras.append(text)
            return
        if ctype == "text/plain":
            if self.text is None and disposition != "attachment":
                self.text = self._decoded(body, cte, params.get("charset"), "body", attachment=False) or ""
                return
            # A second text part: list software adds its footer this way, some clients
            # put the patch there. Only keep it when it looks like a diff.
            if len(body) <= MAX_PART_BYTES:
                text = self._decoded(body, cte, params.get("charset"), filename or "text part",
                                     attachment=True)
                if text and _has_diff_hint(text):
                    self.extras.append(text)
            return
        if ctype.startswith("text/") and ctype != "text/html" and self.fallback is None \
                and disposition != "attachment":
            self.fallback = self._decoded(body, cte, params.get("charset"), ctype, attachment=False)

    def _decoded(
        self, body: bytes, cte: str, charset: str | None, what: str, attachment: bool
    ) -> str | None:
        if len(body) > MAX_PART_BYTES:
            if attachment:
                self.problems.append(f"{what[:60]}: {len(body)} bytes, too large; skipped")
                return None
            self.problems.append(f"{what[:60]}: {len(body)} bytes, cut to {MAX_PART_BYTES}")
            body = body[:MAX_PART_BYTES]
        return _decode_text(body, cte, charset, self.problems, what)


def _has_diff_hint(text: str) -> bool:
    return text.startswith(_DIFF_HINTS) or any("\n" + h in text for h in _DIFF_HINTS)


def _split_multipart(body: bytes, boundary: str, problems: list[str]) -> list[bytes] | None:
    """The parts between `--boundary` delimiter lines; None when no delimiter occurs."""
    delim = b"--" + boundary.encode("latin-1", "replace")
    data = b"\n" + body
    parts: list[bytes] = []
    start: int | None = None
    pos = 0
    closed = False
    needle = b"\n" + delim
    while True:
        at = data.find(needle, pos)
        if at < 0:
            break
        line_end = data.find(b"\n", at + 1)
        if line_end < 0:
            line_end = len(data)
        tail = data[at + len(needle): line_end]
        is_close = tail.startswith(b"--")
        if (tail[2:] if is_close else tail).strip(b" \t"):
            pos = at + 1  # a longer boundary sharing our prefix, or text
            continue
        if start is not None:
            parts.append(data[start:at])
        if is_close:
            closed = True
            break
        start = line_end + 1
        pos = line_end
        if len(parts) > _MAX_PARTS:
            break
    if start is None:
        return None
    if not closed and len(parts) <= _MAX_PARTS:
        problems.append("unterminated multipart; last part read to the end")
        parts.append(data[start:])
    return parts


def _split_part(part: bytes) -> tuple[bytes, bytes]:
    """Header block and body of one MIME part; a part opening with a blank line has none."""
    if part.startswith(b"\n"):
        return b"", part[1:]
    block, body = split_header_block(part)
    if not block:
        return b"", part
    return block, body


def _decode_text(
    body: bytes, cte: str, charset: str | None, problems: list[str], what: str
) -> str:
    cte = cte.strip().strip('"').lower()
    if cte == "base64":
        raw = _b64(body, problems, what)
    elif cte == "quoted-printable":
        try:
            raw = binascii.a2b_qp(body)
        except (binascii.Error, ValueError):
            problems.append(f"{what[:60]}: broken quoted-printable; read as is")
            raw = body
    else:
        if cte not in _IDENTITY_CTE:
            problems.append(f"{what[:60]}: unknown transfer encoding {cte[:30]!r}; read as is")
        raw = body
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n")
    text, note = decode_bytes(raw, (charset or "")[:64])
    if note:
        problems.append(f"{what[:60]}: {note}")
    return text


_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def _b64(body: bytes, problems: list[str], what: str) -> bytes:
    with suppress(binascii.Error, ValueError):
        return binascii.a2b_base64(body)
    # Not valid as sent: drop what is not base64 and pad, as mail readers do.
    clean = _B64_JUNK.sub(b"", body)
    clean = clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean
    problems.append(f"{what[:60]}: broken base64 repaired")
    try:
        return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
    except (binascii.Error, ValueError):
        problems.append(f"{what[:60]}: undecodable base64; dropped")
        return b""
