"""Build RFC 5322 messages as bytes, the way mail clients and git send-email write them.

The parser under test must cope with what real lists carry: RFC 2047 encoded names,
quoted-printable and base64 bodies, patches sent as attachments, DMARC-rewritten senders
("X via kvm"), in-body `From:` lines. Writing the MIME by hand would test the parser
against our own idea of MIME; building it with the stdlib `email` package makes every
message one a real mail reader accepts.

`patch_mail`, `cover_letter` and `reply` shape bodies the way `git format-patch`/`git
send-email` and ordinary reviewers do, so the corpus looks like a real list archive.
"""

from __future__ import annotations

import email.utils
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as _default_policy
from typing import Literal

from patchtrail.corpus.gitwrite import Person

__all__ = [
    "MailSpec",
    "render_mail",
    "patch_mail",
    "patch_subject",
    "cover_letter",
    "reply",
    "diffstat_of",
    "format_date",
    "send_email_id",
    "modern_send_email_id",
    "bare_id",
]

POLICY = _default_policy.clone(linesep="\n")
Encoding = Literal["8bit", "quoted-printable", "base64"]


def bare_id(message_id: str) -> str:
    """A Message-ID without its angle brackets, the form lore URLs and `Link:` use."""
    return message_id.strip().lstrip("<").rstrip(">")


def _tz(tz: str) -> timezone:
    sign = -1 if tz.startswith("-") else 1
    return timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])))


def format_date(when: int, tz: str = "+0000") -> str:
    """An RFC 5322 Date value for a Unix time shown in the sender's time zone."""
    return email.utils.format_datetime(datetime.fromtimestamp(when, _tz(tz)))


def send_email_id(when: int, pid: int, n: int, address: str) -> str:
    """A Message-ID as git send-email wrote them until 2.10: `<time>-<pid>-<n>-git-send-email-<addr>`."""
    return f"{when}-{pid}-{n}-git-send-email-{address}"


def modern_send_email_id(when: int, pid: int, n: int, address: str) -> str:
    """A Message-ID as later git send-email writes them: `<YYYYmmddHHMMSS>.<pid>-<n>-<addr>`."""
    stamp = datetime.fromtimestamp(when, timezone.utc).strftime("%Y%m%d%H%M%S")
    return f"{stamp}.{pid}-{n}-{address}"


@dataclass(slots=True)
class MailSpec:
    """One message to render.

    `dmarc_via` is the list address that rewrote the sender ("kvm@vger.kernel.org"): the
    From becomes "Name via kvm <kvm@vger.kernel.org>" and Reply-To keeps the real sender,
    as mailing lists do for senders whose domain publishes a strict DMARC policy.
    `attachment_patch` moves everything from the `---` line (or the first `diff --git`)
    into a text/x-patch attachment of a multipart/mixed message.
    """

    message_id: str
    subject: str
    sender: Person
    date: int
    body: str
    tz: str = "+0000"
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    list_id: str | None = None
    list_address: str | None = None
    to: list[Person] = field(default_factory=list)
    cc: list[Person] = field(default_factory=list)
    dmarc_via: str | None = None
    transfer_encoding: Encoding = "8bit"
    attachment_patch: bool = False
    attachment_name: str = "0001.patch"
    charset: str = "utf-8"
    mailer: str | None = None
    extra_headers: list[tuple[str, str]] = field(default_factory=list)


def _address(person: Person) -> Address:
    local, _, domain = person.email.partition("@")
    return Address(display_name=person.name, username=local, domain=domain)


def _split_attachment(body: str) -> tuple[str, str]:
    """Split a patch body into the inline text and the part that becomes the attachment."""
    lines = body.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.rstrip("\n") == "---" or line.startswith("diff --git "):
            return "".join(lines[:i]), "".join(lines[i:])
    return body, ""


def render_mail(spec: MailSpec) -> bytes:
    """The message as the bytes a list archive stores (LF line ends, real MIME)."""
    msg = EmailMessage(policy=POLICY)
    if spec.dmarc_via:
        list_name = spec.dmarc_via.partition("@")[0]
        msg["From"] = _address(Person(f"{spec.sender.name} via {list_name}", spec.dmarc_via))
        msg["Reply-To"] = _address(spec.sender)
    else:
        msg["From"] = _address(spec.sender)
    if spec.to:
        msg["To"] = [_address(p) for p in spec.to]
    if spec.cc:
        msg["Cc"] = [_address(p) for p in spec.cc]
    msg["Subject"] = spec.subject
    msg["Date"] = format_date(spec.date, spec.tz)
    msg["Message-ID"] = f"<{bare_id(spec.message_id)}>"
    if spec.mailer:
        msg["X-Mailer"] = spec.mailer
    if spec.in_reply_to:
        msg["In-Reply-To"] = f"<{bare_id(spec.in_reply_to)}>"
    if spec.references:
        msg["References"] = " ".join(f"<{bare_id(r)}>" for r in spec.references)
    for name, value in spec.extra_headers:
        msg[name] = value

    text, attached = _split_attachment(spec.body) if spec.attachment_patch else (spec.body, "")
    if not text.endswith("\n"):
        text += "\n"
    msg.set_content(text, charset=spec.charset, cte=spec.transfer_encoding)
    if attached:
        msg.add_attachment(attached, subtype="x-patch", charset=spec.charset, cte="8bit",
                           filename=spec.attachment_name)
        # The stdlib picks a random boundary; derive it from the Message-ID instead so
        # that the same corpus renders to the same bytes on every run.
        digest = hashlib.sha1(bare_id(spec.message_id).encode()).hexdigest()[:24]
        msg.set_boundary(f"=-=-={digest}=-=-=")
    if spec.list_id:
        address = spec.list_address or spec.list_id.replace(".", "@", 1)
        msg["Sender"] = f"{spec.list_id.split('.')[0]}-owner@{address.partition('@')[2]}"
        msg["Precedence"] = "bulk"
        msg["List-ID"] = f"<{spec.list_id}>"
        msg["X-Mailing-List"] = address
    return _git_fold_subject(msg.as_bytes(policy=POLICY))


def _git_fold_subject(data: bytes, width: int = 78) -> bytes:
    """Fold an ASCII Subject the way `git format-patch` does: at the last space that keeps
    a line within `width` columns, continuation lines starting with one space.

    The stdlib folds a long unstructured value by moving all of it onto a continuation
    line ("Subject:\n [PATCH ..."), which no mail client writes.
    """
    head, sep, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    for i, line in enumerate(lines):
        if not line.lower().startswith(b"subject:"):
            continue
        j = i + 1
        while j < len(lines) and lines[j][:1] in (b" ", b"\t"):
            j += 1
        value = b" ".join(ln.strip() for ln in lines[i:j])[len(b"subject:"):].strip()
        if b"=?" in value or not value.isascii():
            return data
        folded: list[bytes] = []
        cur = b"Subject:"
        for word in value.split(b" "):
            if len(cur) + 1 + len(word) > width and cur.strip() and cur != b"Subject:":
                folded.append(cur)
                cur = b" " + word
            else:
                cur = cur + b" " + word
        folded.append(cur)
        lines[i:j] = folded
        return b"\n".join(lines) + sep + body
    return data


def patch_subject(title: str, version: int = 1, number: int | None = None,
                  total: int | None = None, rfc: bool = False, resend: bool = False,
                  v: str = "v") -> str:
    """A `[PATCH ...]` subject as format-patch --subject-prefix/-v/--rfc produces it.

    `v` is the version letter as the author typed it ("V4" and "v3" both occur).
    """
    words = (["RFC"] if rfc else []) + ["PATCH"] + (["RESEND"] if resend else [])
    if version > 1:
        words.append(f"{v}{version}")
    if number is not None and total is not None:
        words.append(f"{number}/{total}")
    return f"[{' '.join(words)}] {title}"


def _is_trailer_block(paragraph: str) -> bool:
    lines = [ln for ln in paragraph.splitlines() if ln.strip()]
    return bool(lines) and all(
        ":" in ln and ln.split(":", 1)[0].replace("-", "").isalnum() and " " not in ln.split(":", 1)[0]
        for ln in lines)


def _with_trailers(message: str, trailers: Sequence[str]) -> str:
    """Append trailer lines to a commit message, joining an existing trailer block."""
    message = message.strip("\n")
    new = [t for t in trailers if t not in message.splitlines()]
    if not new:
        return message + "\n"
    last = message.rsplit("\n\n", 1)[-1]
    sep = "\n" if _is_trailer_block(last) and "\n\n" in message else "\n\n"
    return message + sep + "\n".join(new) + "\n"


def diffstat_of(patch: str) -> str:
    """The diffstat lines of a format-patch patch part (between `---` and the diff)."""
    lines = patch.splitlines(keepends=True)
    out: list[str] = []
    for line in lines[1:] if lines and lines[0].rstrip("\n") == "---" else lines:
        if line.startswith("diff --git ") or not line.strip():
            break
        out.append(line)
    return "".join(out)


def patch_mail(message_id: str, subject: str, sender: Person, date: int, message: str,
               patch: str, *, tz: str = "+0000", signed_off_by: Sequence[Person] = (),
               notes: str = "", in_body_from: Person | None = None,
               git_version: str = "2.7.4", in_reply_to: str | None = None,
               references: Sequence[str] = (), **extra: object) -> MailSpec:
    """A patch message exactly shaped like git send-email's.

    Body: optional in-body `From:` (patch sent on someone else's behalf), the commit
    message, `Signed-off-by:` lines, `---`, the changelog `notes` of this revision, the
    diffstat and diff from `patch` (a `format_patch` result), and the `-- ` signature with
    the git version. Remaining keyword arguments are MailSpec fields.
    """
    head = f"From: {in_body_from.ident()}\n\n" if in_body_from else ""
    msg = _with_trailers(message, [f"Signed-off-by: {p.ident()}" for p in signed_off_by])
    rest = patch[4:] if patch.startswith("---\n") else patch
    note = notes.strip("\n") + "\n\n" if notes.strip() else ""
    body = f"{head}{msg}---\n{note}{rest}-- \n{git_version}\n\n"
    return MailSpec(message_id=message_id, subject=subject, sender=sender, date=date,
                    body=body, tz=tz, in_reply_to=in_reply_to, references=list(references),
                    mailer=extra.pop("mailer", f"git-send-email {git_version}"),  # type: ignore[arg-type]
                    **extra)  # type: ignore[arg-type]


def cover_letter(message_id: str, subject: str, sender: Person, date: int, blurb: str, *,
                 shortlog: Sequence[str], diffstat: str = "", changelog: str = "",
                 tz: str = "+0000", git_version: str = "2.7.4", **extra: object) -> MailSpec:
    """A `[PATCH 0/N]` cover letter as format-patch --cover-letter lays it out.

    `shortlog` is the list of patch titles; `diffstat` the combined stat of the series.
    """
    parts = [blurb.strip("\n") + "\n"]
    if changelog.strip():
        parts.append(changelog.strip("\n") + "\n")
    parts.append(f"{sender.name} ({len(shortlog)}):\n" + "".join(f"  {t}\n" for t in shortlog))
    if diffstat:
        parts.append(diffstat)
    body = "\n".join(parts) + f"\n-- \n{git_version}\n\n"
    return MailSpec(message_id=message_id, subject=subject, sender=sender, date=date,
                    body=body, tz=tz, mailer=extra.pop("mailer", f"git-send-email {git_version}"),  # type: ignore[arg-type]
                    **extra)  # type: ignore[arg-type]


def _message_part(body: str) -> str:
    """The prose of a body: before the `---` line, the diff, quoted text or signature."""
    out: list[str] = []
    for line in body.splitlines():
        if line in ("---", "-- ") or line.startswith("diff --git "):
            break
        out.append(line)
    return "\n".join(out).strip("\n")


def _attribution(parent: MailSpec) -> str:
    when = datetime.fromtimestamp(parent.date, _tz(parent.tz))
    stamp = when.strftime("%a, %b %d, %Y at %I:%M:%S%p ") + parent.tz
    return f"On {stamp}, {parent.sender.name} wrote:"


def reply(parent: MailSpec, message_id: str, sender: Person, date: int, text: str, *,
          tz: str = "+0000", quote: str | None = None, quote_lines: int = 6,
          tags: Sequence[str] = (), **extra: object) -> MailSpec:
    """A reply in the usual bottom-posting style, threaded under `parent`.

    It quotes `quote` (or the first `quote_lines` lines of the parent's prose) with `> `,
    then says `text`, then adds one trailer per tag for the replier ("Reviewed-by" gives
    `Reviewed-by: Replier <addr>`). Subject, In-Reply-To, References, list and recipients
    follow the parent as a mail client sets them.
    """
    base = parent.subject
    while base.lower().startswith("re: "):
        base = base[4:]
    quoted_src = quote if quote is not None else "\n".join(
        _message_part(parent.body).splitlines()[:quote_lines])
    quoted = "\n".join(("> " + ln) if ln else ">" for ln in quoted_src.strip("\n").splitlines())
    body = f"{_attribution(parent)}\n{quoted}\n\n{text.strip()}\n"
    if tags:
        body += "\n" + "\n".join(f"{t}: {sender.ident()}" for t in tags) + "\n"
    refs = list(parent.references) + [parent.message_id]
    fields: dict[str, object] = {
        "list_id": parent.list_id, "list_address": parent.list_address,
        "to": [parent.sender], "cc": [p for p in [*parent.to, *parent.cc] if p != sender],
        "mailer": None,
    }
    fields.update(extra)
    return MailSpec(message_id=message_id, subject=f"Re: {base}", sender=sender, date=date,
                    body=body, tz=tz, in_reply_to=parent.message_id, references=refs,
                    **fields)  # type: ignore[arg-type]


def with_changes(spec: MailSpec, **changes: object) -> MailSpec:
    """A copy of `spec` with some fields changed (for resends and cross-posts)."""
    return replace(spec, **changes)  # type: ignore[arg-type]
