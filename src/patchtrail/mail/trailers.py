"""Trailers, review tags in replies, and the Message-IDs hidden in Link URLs.

Trailers are where a commit says who reviewed it and, through `Link:`, which message it
was applied from; review replies are where those tags were first given. Both are parsed
the way git and b4 read them, so that what we find agrees with what maintainers' tools
wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote

_CANONICAL = {
    key.lower(): key
    for key in (
        "Signed-off-by", "Reviewed-by", "Acked-by", "Tested-by", "Reported-by",
        "Suggested-by", "Co-developed-by", "Nacked-by", "Reviewed-and-tested-by",
        "Requested-by", "Debugged-by", "Analyzed-by", "Bisected-by", "Helped-by",
        "Originally-by", "Cc", "Link", "Closes", "Fixes", "Change-Id", "base-commit",
        "Message-ID", "BugLink", "Bug", "Stable-dep-of", "Upstream-Status",
    )
}
_CANONICAL["message-id"] = "Message-ID"
# Keys git itself or the kernel process writes; one of them lets a block hold prose too.
_WELL_KNOWN = frozenset(
    {"signed-off-by", "reviewed-by", "acked-by", "tested-by", "reported-by", "suggested-by",
     "co-developed-by", "fixes", "link", "closes", "cc", "change-id"}
)
_REVIEW_KEYS = ("Reviewed-by", "Acked-by", "Tested-by", "Reported-by", "Suggested-by", "Nacked-by")

_TRAILER = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)")
_CHERRY_PICK = re.compile(r"\(cherry picked from commit [0-9a-f]+\)")
_REPLY_TRAILER = re.compile(
    r"^[ \t]*(" + "|".join(_REVIEW_KEYS) + r")[ \t]*:[ \t]*(.*?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# Where an unquoted copy of the original message starts in top-posted replies.
_ORIGINAL_MESSAGE = re.compile(
    r"^(?:-{2,}[ \t]*Original Message[ \t]*-{2,}|_{10,}\s*\n(?:From|发件人)[:：])",
    re.IGNORECASE | re.MULTILINE,
)
_EMAIL_IN_VALUE = re.compile(r"[^\s<>@]+@[^\s<>@]+")

_URL = re.compile(r"https?://([^/\s<>\"')\]]+)(/[^\s<>\"')\]]*)?", re.IGNORECASE)
_REVISION_LINE = re.compile(
    r"^[ \t]*(?:[-*•][ \t]*)?(?:link[ \t]+to[ \t]+)?\[?v(\d+)\]?"
    r"(?:[ \t]+(?:link|patch|series|thread))?[ \t]*[:=-]?[ \t]*<?(https?://\S+)",
    re.IGNORECASE | re.MULTILINE,
)
_LINKISH_LINE = re.compile(r"^[ \t]*(?:link|change-id|message-id)[ \t]*:", re.IGNORECASE)


def canonical_key(key: str) -> str:
    return _CANONICAL.get(key.lower(), key)


def parse_trailers(text: str) -> list[tuple[str, str]]:
    """The trailer block at the end of `text`, as (canonical key, value) pairs in order.

    Follows git interpret-trailers: the last paragraph is a trailer block if every line is
    a trailer, or if it holds a well-known trailer and at least a quarter of its lines are
    trailers (so "[ backport note ]" lines do not hide a Signed-off-by). Unlike git,
    directly preceding paragraphs made only of trailers with a well-known key are
    included too, because authors often put `Fixes:` one blank line above the sign-offs.
    """
    found: list[list[tuple[str, str]]] = []
    for index, paragraph in enumerate(_paragraphs_from_end(text)):
        entries, others = _read_block(paragraph)
        if not entries:
            break
        known = any(key.lower() in _WELL_KNOWN for key, _ in entries)
        if index == 0:
            if others and not (known and len(entries) * 3 >= others):
                break
        elif others or not known:
            break
        found.append(entries)
    result: list[tuple[str, str]] = []
    for entries in reversed(found):
        result.extend(entries)
    return result


def _paragraphs_from_end(text: str) -> Iterator[list[str]]:
    """The paragraphs of `text` (runs of non-blank lines), last first, each read only when
    asked for: the trailer block is at the end, and a long message is mostly prose above it
    (a reply, mostly quotes), so lines are cut off the end one at a time, not all split."""
    if "\r" in text:
        text = text.replace("\r", "")
    paragraph: list[str] = []
    end = len(text)
    while True:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if line.strip():
            paragraph.append(line)
        elif paragraph:
            paragraph.reverse()
            yield paragraph
            paragraph = []
        if not start:
            break
        end = start - 1
    if paragraph:
        paragraph.reverse()
        yield paragraph


def _read_block(lines: list[str]) -> tuple[list[tuple[str, str]], int]:
    """Trailer entries of one paragraph and the number of lines that were not trailers."""
    entries: list[tuple[str, str]] = []
    others = 0
    continuable = False
    for line in lines:
        if line[0] in " \t":
            if continuable:
                key, value = entries[-1]
                entries[-1] = (key, f"{value} {line.strip()}".strip())
            else:
                others += 1
            continue
        # The substring tests skip the regular expressions on the lines (most) that
        # cannot match them.
        m = _TRAILER.fullmatch(line.rstrip()) if ":" in line else None
        if m and m.group(2) and not m.group(2).startswith("//"):
            entries.append((canonical_key(m.group(1)), m.group(2)))
            continuable = True
        else:
            continuable = False
            if not ("(cherry picked from commit " in line and _CHERRY_PICK.fullmatch(line.strip())):
                others += 1
    return entries, others


def reply_trailers(body: str) -> list[tuple[str, str]]:
    """Review tags a reply gives: the six review keys on unquoted lines, with an address.

    Quoted lines are skipped because they repeat tags of the patch under review, and the
    unquoted copy of the original below an Outlook "Original Message" marker is cut off
    for the same reason. A value must carry an e-mail address, as b4 requires, so prose
    such as "Tested-by: works for me" is not taken for a tag.
    """
    cut = _ORIGINAL_MESSAGE.search(body)
    if cut:
        body = body[: cut.start()]
    found: list[tuple[str, str]] = []
    for m in _REPLY_TRAILER.finditer(body):
        value = m.group(2)
        if not _EMAIL_IN_VALUE.search(value):
            continue
        entry = (canonical_key(m.group(1)), value)
        if entry not in found:
            found.append(entry)
    return found


def link_message_ids(values: Iterable[str]) -> list[str]:
    """Message-IDs named by lore, lkml, patch.msgid.link and patchwork URLs in `values`.

    Other hosts count only when a path segment, once percent-decoded, is itself shaped like
    a Message-ID (public-inbox mirrors); a URL that names no message gives nothing.
    """
    found: list[str] = []
    for value in values:
        for m in _URL.finditer(value):
            msgid = _url_message_id(m.group(1).lower(), m.group(2) or "")
            if msgid and msgid not in found:
                found.append(msgid)
    return found


def _url_message_id(host: str, path: str) -> str | None:
    segments = [s for s in path.split("#", 1)[0].split("?", 1)[0].split("/") if s]
    if host == "patch.msgid.link":
        candidates = segments[:1]
    elif host == "lkml.kernel.org" and segments[:1] == ["r"]:
        candidates = segments[1:2]
    elif host == "lore.kernel.org":
        candidates = segments[:2]
    elif host.startswith("patchwork.") and len(segments) >= 4 and segments[2] in ("patch", "cover"):
        candidates = segments[3:4]
    else:
        candidates = segments
    for segment in candidates:
        msgid = _as_message_id(segment)
        if msgid:
            return msgid
    return None


def _as_message_id(segment: str) -> str | None:
    msgid = unquote(segment, errors="replace").strip().strip("<>").rstrip(".,;:")
    if "@" not in msgid or any(c.isspace() for c in msgid):
        return None
    local, _, domain = msgid.rpartition("@")
    if not local or not domain:
        return None
    return msgid


def revision_links(text: str) -> list[tuple[int, str]]:
    """(version, Message-ID) from lines like "Link to v3: <url>", "- v2: <url>", "[v1] <url>".

    Cover letters and change notes use these to chain the revisions of a series; a line
    whose URL names no message is skipped rather than guessed.
    """
    found: list[tuple[int, str]] = []
    for m in _REVISION_LINE.finditer(text):
        for msgid in link_message_ids([m.group(2)]):
            entry = (int(m.group(1)), msgid)
            if entry not in found:
                found.append(entry)
    return found


def strip_link_lines(text: str) -> str:
    """`text` without the lines that name messages outright: Link and Message-ID trailers,
    revision links and change-id lines.

    This is the blind mode's input: linking must then work from content alone, as it has
    to for trees that never record where a patch came from.
    """
    kept = [
        line
        for line in text.split("\n")
        if not _LINKISH_LINE.match(line) and not _REVISION_LINE.match(line)
    ]
    return "\n".join(kept)
