"""Turning parsed commits and messages into index rows.

Runs in worker processes during `patchtrail index` (parsing is the CPU-bound part), so
everything here is a top-level function of picklable values, and returns plain tuples.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from operator import itemgetter
from typing import NamedTuple

# Message bodies are compressed with zstd rather than the stdlib's zlib: at level 1 it
# takes less than half zlib's fastest level's CPU for the same size, and decompresses
# three times as fast; both run once per message on the index's hot paths.
import zstandard

from patchtrail.mail.diff import diff_files, file_diffs, patch_id
from patchtrail.mail.fingerprint import fingerprint
from patchtrail.mail.idents import DiffIdents, diff_idents
from patchtrail.mail.message import parse_commit_message, parse_message
from patchtrail.mail.model import MailError, ParsedMail
from patchtrail.mail.prose import prose
from patchtrail.sources.records import CommitRecord, RawMail

# lore.kernel.org names a few lists differently from their List-Id's first label.
_LORE_NAMES = {
    "linux-kernel.vger.kernel.org": "lkml",
    "linux-kernel@vger.kernel.org": "lkml",
}


def lore_list_name(list_id: str | None, fallback: str) -> str:
    """The short list name lore.kernel.org uses in URLs ('ltp', 'kvm', 'lkml')."""
    if not list_id:
        return fallback
    lid = list_id.strip().strip("<>").lower()
    if lid in _LORE_NAMES:
        return _LORE_NAMES[lid]
    return lid.split(".", 1)[0] or fallback


class MessageRow(NamedTuple):
    """One message as the writer stores it, prepared in full by the parse worker.

    Everything derived from the message is computed here, in parallel, so that the single
    writer process only binds values: it is the part of `patchtrail index` that cannot be
    spread over cores. A named tuple, because the row crosses a pipe: a dataclass pickles
    through a per-object `fields()` walk that cost the writer a tenth of its time.
    """

    key: str
    cursor: str | None
    values: tuple[object, ...] | None  # in MESSAGE_COLUMNS order; None when skipped
    files: list[str]
    reason: str | None
    refs: Sequence[str] = ()  # In-Reply-To and References, sorted
    fts_subject: str | None = None  # subject_norm, for subjects_fts, on patches only
    prose: str = ""  # what the sender wrote, for prose_fts (patchtrail.mail.prose)


COMMIT_COLUMNS = (
    "oid", "source_id", "parents", "author_name", "author_email", "author_time", "author_tz",
    "committer_name", "committer_email", "committer_time", "subject", "subject_norm", "message",
    "patch_id", "fingerprint", "files", "diff_error",
)


# The message row as `message_values` fills it, in insert order.
MESSAGE_COLUMNS = (
    "msgid", "generated_id", "source_id", "key", "list", "subject", "title", "subject_norm",
    "is_reply", "is_patch", "has_tag", "version", "number", "total", "rfc", "resend", "tags",
    "author_name", "author_email", "sender_name", "sender_email", "date", "date_tz",
    "in_reply_to", "refs", "change_id", "base_commit", "patch_id", "fingerprint", "files",
    "trailers", "problems", "body",
)
# The row's values in that order, taken from the dict `message_values` builds, in one call.
_IN_COLUMN_ORDER = itemgetter(*MESSAGE_COLUMNS)


def commit_values(rec: CommitRecord, source_id: int) -> tuple[object, ...]:
    subject, _body, _trailers = parse_commit_message(rec.message)
    diff = rec.diff or ""
    fds = file_diffs(diff) if diff else []
    files = diff_files(fds)
    return (
        rec.oid, source_id, " ".join(rec.parents), rec.author_name, rec.author_email,
        rec.author_time, rec.author_tz, rec.committer_name, rec.committer_email,
        rec.committer_time, subject.title, subject.norm, rec.message,
        patch_id(diff) if diff and not rec.is_merge else None,
        fingerprint(fds) if diff and not rec.is_merge else None,
        "\n".join(files), rec.diff_error,
    )


def commit_job(job: tuple[CommitRecord, int]) -> tuple[tuple[object, ...], str | None, DiffIdents]:
    """One commit's row, its diff error and its identifier changes, for the worker pool.

    The identifiers are read here, from the diff the commit row is made of, so that the
    identifier index costs no second pass over history.
    """
    rec, source_id = job
    idents = diff_idents(rec.diff) if rec.diff and not rec.is_merge else DiffIdents([], [], [])
    return commit_values(rec, source_id), rec.diff_error, idents


def message_values(mail: ParsedMail, list_name: str, key: str,
                   source_id: int) -> tuple[tuple[object, ...], list[str]]:
    """The message row in MESSAGE_COLUMNS order, and the paths its diff touches."""
    s = mail.subject
    body = "\0".join((mail.message.replace("\0", ""), mail.notes.replace("\0", ""),
                      mail.diff.replace("\0", ""))).encode("utf-8", "surrogatepass")
    paths = diff_files(mail.files)
    values = {
        "msgid": mail.message_id,
        "generated_id": int(mail.message_id_generated),
        "source_id": source_id,
        "key": key,
        "list": list_name,
        "subject": s.raw,
        "title": s.title,
        "subject_norm": s.norm,
        "is_reply": int(s.is_reply),
        "is_patch": int(mail.is_patch),
        "has_tag": int(s.is_patch),
        "version": s.version,
        "number": s.number,
        "total": s.total,
        "rfc": int(s.rfc),
        "resend": int(s.resend),
        "tags": " ".join(s.tags),
        "author_name": mail.author_name,
        "author_email": mail.author_email.lower(),
        "sender_name": mail.sender_name,
        "sender_email": mail.sender_email.lower(),
        "date": mail.date,
        "date_tz": mail.date_tz,
        "in_reply_to": mail.in_reply_to,
        "refs": " ".join(mail.references),
        "change_id": mail.change_id,
        "base_commit": mail.base_commit,
        "patch_id": patch_id(mail.diff) if mail.diff else None,
        "fingerprint": fingerprint(mail.files) if mail.diff else None,
        "files": "\n".join(paths),
        "trailers": json.dumps(list(mail.trailers)) if mail.trailers else "[]",
        "problems": "\n".join(mail.problems),
        "body": _compressor().compress(body),
    }
    return _IN_COLUMN_ORDER(values), paths


def parse_raw(job: tuple[RawMail, str, int]) -> MessageRow:
    """Parse one raw message into a row; any failure becomes a skip with a short reason.

    Mail archives are hostile: whatever the parser meets, the index run goes on, and the
    summary counts the message under a reason instead of dying on a traceback.
    """
    raw, fallback_list, source_id = job
    if not raw.data or raw.data.isspace():  # strip() would copy the whole message
        return MessageRow(raw.key, raw.cursor, None, [], "empty message")
    try:
        mail = parse_message(raw.data)
    except MailError as exc:
        return MessageRow(raw.key, raw.cursor, None, [], f"unreadable message: {_short(exc)}")
    except (RecursionError, MemoryError, ValueError, LookupError, TypeError,
            UnicodeError, AttributeError, IndexError) as exc:
        return MessageRow(raw.key, raw.cursor, None, [], f"parser error: {type(exc).__name__}")
    values, files = message_values(mail, lore_list_name(mail.list_id, fallback_list), raw.key,
                                   source_id)
    refs = set(mail.references)
    if mail.in_reply_to:
        refs.add(mail.in_reply_to)
    text = prose(mail.subject.raw, mail.message, mail.notes)
    return MessageRow(
        raw.key, raw.cursor, values, files, None, sorted(refs),
        mail.subject.norm if mail.is_patch or mail.subject.is_patch else None,
        text if text.strip() else "",
    )


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:80]


# zstd contexts may not be used by two threads at once (the web UI answers in threads);
# one per thread, and so one per forked worker too.
_ZSTD = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    """Level 1: ingest is CPU-bound, and higher levels gain little on mail."""
    if not hasattr(_ZSTD, "c"):
        _ZSTD.c = zstandard.ZstdCompressor(level=1)
    return _ZSTD.c


def _decompressor() -> zstandard.ZstdDecompressor:
    if not hasattr(_ZSTD, "d"):
        _ZSTD.d = zstandard.ZstdDecompressor()
    return _ZSTD.d


def body_parts(blob: bytes) -> tuple[str, str, str]:
    """The (message, notes, diff) stored for a message."""
    parts = _decompressor().decompress(blob).decode("utf-8", "surrogatepass").split("\0")
    while len(parts) < 3:
        parts.append("")
    return parts[0], parts[1], parts[2]
