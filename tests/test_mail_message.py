"""parse_message on real MIME built with the stdlib, and on hostile input."""

from __future__ import annotations

import random
import time
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import default as default_policy

import pytest

from patchtrail.mail.diff import patch_id
from patchtrail.mail.message import parse_message
from patchtrail.mail.model import MailError, ParsedMail

POLICY = default_policy.clone(linesep="\n")

DIFF = """\
diff --git a/lib/foo.c b/lib/foo.c
index 3b18e51..a4f2c1d 100644
--- a/lib/foo.c
+++ b/lib/foo.c
@@ -10,7 +10,7 @@ int foo(void)
 {
 \tint a = 1;
 
-\treturn a;
+\treturn a + 1; /* naïve */
 }
 
 int bar(void)
"""

COMMIT_MSG = """\
foo() returned the wrong value.

Link: https://lore.kernel.org/r/20230101.1-1-ann@example.org
Signed-off-by: Ann Dëv <ann@example.org>"""

BODY = COMMIT_MSG + "\n---\nv2: fix typo\n\n lib/foo.c | 2 +-\n\n" + DIFF + "-- \n2.39.5\n"


def make(body=BODY, *, cte="8bit", subject="[PATCH v2 1/3] lib: foo: return a + 1",
         sender='"Ann Dëv" <ann@example.org>', extra=(), msgid="<20230101.1-1-ann@example.org>"):
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = "ltp@lists.linux.it"
    msg["Subject"] = subject
    msg["Date"] = "Sun, 01 Jan 2023 12:00:00 +0100"
    if msgid:
        msg["Message-ID"] = msgid
    msg["In-Reply-To"] = "<cover.1@example.org>"
    msg["References"] = "<cover.0@example.org> <cover.1@example.org>"
    msg["List-Id"] = "Linux Test Project <ltp.lists.linux.it>"
    for k, v in extra:
        msg[k] = v
    msg.set_content(body, cte=cte)
    # Fold References the way clients do, with a tab.
    return msg.as_bytes().replace(b"<cover.0@example.org> <cover.1", b"<cover.0@example.org>\n\t<cover.1")


def check_common(m: ParsedMail) -> None:
    assert m.message_id == "20230101.1-1-ann@example.org" and not m.message_id_generated
    assert m.subject.version == 2 and (m.subject.number, m.subject.total) == (1, 3)
    assert m.subject.title == "lib: foo: return a + 1"
    assert m.in_reply_to == "cover.1@example.org"
    assert m.references == ("cover.0@example.org", "cover.1@example.org")
    assert m.date == 1672570800 and m.date_tz == "+0100"
    assert m.list_id == "ltp.lists.linux.it"
    assert m.author_name == "Ann Dëv" and m.author_email == "ann@example.org"
    assert m.message == COMMIT_MSG
    assert m.notes == "v2: fix typo\n\n lib/foo.c | 2 +-"
    assert m.diff == DIFF
    assert ("Link", "https://lore.kernel.org/r/20230101.1-1-ann@example.org") in m.trailers
    assert m.trailers[-1] == ("Signed-off-by", "Ann Dëv <ann@example.org>")


@pytest.mark.parametrize("cte", ["8bit", "quoted-printable", "base64"])
def test_plain_qp_base64(cte):
    data = make(cte=cte)
    if cte != "8bit":
        assert b"return a + 1" not in data.split(b"\n\n", 1)[1] or cte == "quoted-printable"
    m = parse_message(data)
    check_common(m)
    assert m.problems == ()


def test_crlf_and_mbox_from_line():
    data = b"From 9d2649d20e4a35830251bf886038ff8d25b837fd Mon Sep 17 00:00:00 2001\n" + make()
    check_common(parse_message(data.replace(b"\n", b"\r\n")))


def test_multipart_with_patch_attachment():
    outer = MIMEMultipart()
    outer["From"] = "Ann Dev <ann@example.org>"
    outer["Subject"] = "[PATCH] lib: foo: return a + 1"
    outer["Message-ID"] = "<att@example.org>"
    outer.attach(MIMEText(COMMIT_MSG + "\n", "plain", "utf-8"))
    att = MIMEText(DIFF, "x-patch", "utf-8")
    att.add_header("Content-Disposition", "attachment", filename="0001-foo.patch")
    outer.attach(att)
    octet = MIMEApplication(("From: x\n\n" + DIFF.replace("lib/foo.c", "lib/bar.c")).encode(), Name="0002-bar.diff")
    octet.add_header("Content-Disposition", "attachment", filename="0002-bar.diff")
    outer.attach(octet)
    png = MIMEApplication(b"\x89PNG" + bytes(range(256)) * 10, "png")
    png.add_header("Content-Disposition", "attachment", filename="screenshot.png")
    outer.attach(png)
    m = parse_message(outer.as_bytes())
    assert m.message == COMMIT_MSG
    assert m.diff == DIFF + DIFF.replace("lib/foo.c", "lib/bar.c")
    assert m.is_patch and patch_id(m.diff)


def test_mailman_footer_part_is_not_text():
    outer = MIMEMultipart()
    outer["From"] = "Ann Dev <ann@example.org>"
    outer["Subject"] = "[PATCH] x"
    outer.attach(MIMEText(BODY, "plain", "utf-8"))
    outer.attach(MIMEText("\n-- \nMailing list info: https://lists.linux.it/listinfo/ltp\n", "plain", "us-ascii"))
    m = parse_message(outer.as_bytes())
    assert m.diff == DIFF and m.message == COMMIT_MSG


def test_dmarc_rewrite_with_reply_to():
    data = make(sender="Ann Dev via ltp <ltp@lists.linux.it>",
                extra=[("Reply-To", "Ann Dev <ann@example.org>")])
    m = parse_message(data)
    assert (m.sender_name, m.sender_email) == ("Ann Dev via ltp", "ltp@lists.linux.it")
    assert (m.author_name, m.author_email) == ("Ann Dev", "ann@example.org")


def test_in_body_from_copying_the_dmarc_rewrite_is_not_the_author():
    # Seen on the LTP list: the in-body From repeats the list's rewritten header.
    data = make("From: Ann Dev via ltp <ltp@lists.linux.it>\n\n" + BODY,
                sender="Ann Dev via ltp <ltp@lists.linux.it>",
                extra=[("Reply-To", "Ann Dev <ann@example.org>")])
    m = parse_message(data)
    assert (m.author_name, m.author_email) == ("Ann Dev", "ann@example.org")


def test_dmarc_rewrite_reply_to_list_only():
    data = make(sender="'Ann Dev' via kasan-dev <kasan-dev@googlegroups.com>",
                extra=[("Reply-To", "kasan-dev@googlegroups.com")])
    m = parse_message(data)
    assert (m.author_name, m.author_email) == ("Ann Dev", "kasan-dev@googlegroups.com")


def test_dmarc_reply_to_list_and_person():
    data = make(sender="Ann Dev via ltp <ltp@lists.linux.it>",
                extra=[("Reply-To", "ltp@lists.linux.it, Ann Dev <ann@example.org>")])
    assert parse_message(data).author_email == "ann@example.org"


def test_x_original_from():
    data = make(sender="Ann Dev <ltp@lists.linux.it>",
                extra=[("X-Original-From", "Ann Dev <ann@example.org>")])
    m = parse_message(data)
    assert (m.author_name, m.author_email) == ("Ann Dev", "ann@example.org")
    assert m.sender_email == "ltp@lists.linux.it"


def test_in_body_from_subject_date():
    body = ("From: Real Author <real@example.org>\nSubject: [PATCH] lib: foo: better title\n"
            "Date: Mon, 2 Jan 2023 10:00:00 +0000\n\n" + BODY)
    m = parse_message(make(body, sender="Sender Person <sender@example.org>"))
    assert (m.author_name, m.author_email) == ("Real Author", "real@example.org")
    assert (m.sender_name, m.sender_email) == ("Sender Person", "sender@example.org")
    assert m.subject.title == "lib: foo: better title" and m.subject.version == 2
    assert m.message == COMMIT_MSG and m.diff == DIFF


def test_list_footer_on_cover_letter():
    body = "This series does things.\n\nAnn Dev (2):\n  a\n  b\n\n-- \nMailing list info: https://lists.linux.it/listinfo/ltp\n"
    m = parse_message(make(body, subject="[PATCH 0/2] things"))
    assert m.message == "This series does things.\n\nAnn Dev (2):\n  a\n  b"
    assert not m.is_patch


def test_b4_cover_letter_change_id_and_base_commit():
    body = ("Cover text.\n\n---\nAnn Dev (1):\n      lib: foo\n\n lib/foo.c | 2 +-\n\n"
            "base-commit: 0123456789abcdef0123456789abcdef01234567\n"
            "change-id: 20230101-foo-abc123\n\nBest regards,\n-- \nAnn Dev <ann@example.org>\n")
    m = parse_message(make(body, subject="[PATCH v2 0/1] foo"))
    assert m.change_id == "20230101-foo-abc123"
    assert m.base_commit == "0123456789abcdef0123456789abcdef01234567"
    # format-patch --base writes base-commit after the diff, before the signature.
    body = BODY.replace("-- \n2.39.5", "\nbase-commit: abcdef0123456789abcdef0123456789abcdef01\n-- \n2.39.5")
    m = parse_message(make(body))
    assert m.base_commit == "abcdef0123456789abcdef0123456789abcdef01" and m.diff == DIFF
    m = parse_message(make(BODY.replace("Link:", "Change-Id: I0abc\nLink:")))
    assert m.change_id == "I0abc"


def test_missing_message_id_generated():
    data = make(msgid=None)
    m = parse_message(data)
    assert m.message_id_generated
    assert m.message_id.startswith("patchtrail-") and m.message_id.endswith("@generated")
    assert parse_message(data).message_id == m.message_id


def test_duplicate_message_id_takes_first():
    data = make(msgid="<first@example.org>").replace(
        b"Message-ID: <first@example.org>\n", b"Message-ID: <first@example.org>\nMessage-ID: <second@example.org>\n")
    assert data.count(b"Message-ID") == 2
    m = parse_message(data)
    assert m.message_id == "first@example.org" and not m.message_id_generated


def test_unknown_charset():
    head = (b"From: A <a@x>\nSubject: [PATCH] x\nMessage-ID: <u@x>\n"
            b"Content-Type: text/plain; charset=x-nonsense-42\n\n")
    m = parse_message(head + "caf\u00e9 au lait\n".encode("latin-1"))
    assert m.message == "caf\u00e9 au lait"
    assert any("unknown charset" in p for p in m.problems)
    m = parse_message(head.replace(b"x-nonsense-42", b"base64") + b"plain\n")
    assert m.message == "plain"


def test_rfc2047_subject_tab_folded():
    data = (b"From: =?utf-8?q?J=C3=B6rg?= <j@x>\nMessage-ID: <s@x>\n"
            b"Subject: =?UTF-8?q?=5BPATCH_v3=5D_net=3A_fix?=\n\t=?UTF-8?q?_na=C3=AFve_thing?=\n\nbody\n")
    m = parse_message(data)
    assert m.subject.title == "net: fix naïve thing" and m.subject.version == 3
    assert m.author_name == "Jörg"


def test_broken_mime_unterminated_boundary():
    data = (b"From: A <a@x>\nSubject: [PATCH] x\nMessage-ID: <b@x>\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=\"XYZ\"\n\npreamble\n--XYZ\n"
            b"Content-Type: text/plain; charset=utf-8\n\n" + BODY.encode() + b"\n--XYZ\n"
            b"Content-Type: text/x-patch\nContent-Transfer-Encoding: base64\n\n!!!notbase64")
    m = parse_message(data)
    assert m.diff == DIFF and m.message == COMMIT_MSG
    assert any("unterminated" in p for p in m.problems)
    # A boundary that never occurs: the body is read as text.
    m = parse_message(data.replace(b"--XYZ", b"--ABC"))
    assert m.diff == DIFF and m.problems


def test_empty_body_and_headers_only():
    m = parse_message(b"From: A <a@x>\nSubject: hi\nMessage-ID: <e@x>\n\n")
    assert m.message == "" and m.diff == "" and m.subject.title == "hi"
    m = parse_message(b"Subject: hi")
    assert m.subject.title == "hi" and m.message_id_generated


def test_empty_and_no_headers_raise_mail_error():
    for data in (b"", b"   \n\n", b"no header here\n\nbody", b"\x00\x01\x02"):
        with pytest.raises(MailError):
            parse_message(data)


def test_50mb_attachment_is_not_decoded():
    outer = MIMEMultipart()
    outer["From"] = "Ann Dev <ann@example.org>"
    outer["Subject"] = "[PATCH] big"
    outer["Message-ID"] = "<big@example.org>"
    outer.attach(MIMEText(BODY, "plain", "utf-8"))
    big = MIMEApplication(random.Random(1).randbytes(38 * 1024 * 1024), "octet-stream")
    big.add_header("Content-Disposition", "attachment", filename="core.dump")
    outer.attach(big)
    data = outer.as_bytes()
    assert len(data) > 50 * 1024 * 1024
    start = time.perf_counter()
    m = parse_message(data)
    elapsed = time.perf_counter() - start
    assert m.diff == DIFF and m.message == COMMIT_MSG
    assert elapsed < 2.0, elapsed


def test_oversized_patch_attachment_skipped_with_problem():
    outer = MIMEMultipart()
    outer["From"] = "A <a@x>"
    outer["Subject"] = "[PATCH] big"
    outer.attach(MIMEText("msg\n", "plain", "utf-8"))
    att = MIMEApplication(b"x" * (17 * 1024 * 1024), "octet-stream")
    att.add_header("Content-Disposition", "attachment", filename="huge.patch")
    outer.attach(att)
    m = parse_message(outer.as_bytes())
    assert m.message == "msg" and m.diff == ""
    assert any("too large" in p for p in m.problems)


def test_random_garbage_never_raises_other_errors():
    rng = random.Random(7)
    for _ in range(200):
        data = rng.randbytes(rng.randint(1, 3000))
        try:
            assert isinstance(parse_message(data), ParsedMail)
        except MailError:
            pass
    # Garbage after a valid header block still parses.
    m = parse_message(b"Subject: x\n\n" + random.Random(3).randbytes(5000))
    assert isinstance(m, ParsedMail)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        op = rng.randrange(5)
        pos = rng.randrange(len(buf) + 1) if buf else 0
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = rng.choice([b"\n", b"\r\n", b"--", b":", b"=?", b"?=", b"=", b"@@ -1 +1 @@\n",
                                       b"diff --git a/x b/x\n", b"\nContent-Type: multipart/mixed; boundary=b\n",
                                       b"\n--b\n", b"Content-Transfer-Encoding: base64\n", b"\x00", b"\xff\xfe"])
        elif op == 2 and buf:
            del buf[pos:pos + rng.randint(1, 200)]
        elif op == 3 and buf:
            end = min(len(buf), pos + rng.randint(1, 300))
            buf[pos:pos] = buf[pos:end]
        else:
            buf = buf[: rng.randrange(len(buf) + 1)]
    return bytes(buf)


def test_fuzz_mutations_only_mail_error_escapes():
    outer = MIMEMultipart()
    outer["From"] = "=?utf-8?q?Ann_D=C3=ABv?= via ltp <ltp@lists.linux.it>"
    outer["Reply-To"] = "Ann <ann@example.org>"
    outer["Subject"] = "=?utf-8?q?=5BLTP=5D_=5BPATCH_v2_1/3=5D_foo?="
    outer["Message-ID"] = "<fuzz@example.org>"
    outer["Date"] = "Sun, 01 Jan 2023 12:00:00 +0100"
    outer.attach(MIMEText(BODY, "plain", "utf-8"))
    att = MIMEText(DIFF, "x-patch", "utf-8")
    outer.attach(att)
    seeds = [outer.as_bytes(), make(cte="quoted-printable"), make(cte="base64"), make()]
    rng = random.Random(12345)
    parsed = errors = 0
    for i in range(500):
        data = _mutate(rng, seeds[i % len(seeds)])
        try:
            m = parse_message(data)
        except MailError:
            errors += 1
            continue
        assert isinstance(m, ParsedMail)
        assert isinstance(m.diff, str) and isinstance(m.message, str)
        patch_id(m.diff)
        parsed += 1
    assert parsed > 400


def test_non_bytes_input_is_mail_error():
    with pytest.raises(MailError):
        parse_message("text")  # type: ignore[arg-type]


def test_nested_alternative_html_and_base64_text():
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText(BODY, "plain", "utf-8"))  # utf-8 MIMEText is base64
    alt.attach(MIMEText("<p>html copy</p>", "html", "utf-8"))
    outer = MIMEMultipart()
    outer["From"] = "Ann Dev <ann@example.org>"
    outer["Subject"] = "Re: [PATCH] x"
    outer["Message-ID"] = "<nested@example.org>"
    outer.attach(alt)
    data = outer.as_bytes()
    assert b"Content-Transfer-Encoding: base64" in data
    m = parse_message(data)
    assert m.subject.is_reply and m.message == COMMIT_MSG and m.diff == DIFF


def test_html_only_message_has_no_text():
    html = MIMEMultipart("alternative")
    html["From"] = "A <a@x>"
    html["Subject"] = "hello"
    html.attach(MIMEText("<p>hi</p>", "html"))
    m = parse_message(html.as_bytes())
    assert m.message == "" and m.diff == ""


def test_unparseable_date_and_missing_subject():
    m = parse_message(b"From: A <a@x>\nDate: yesterday-ish\n\nbody\n")
    assert m.date is None and m.date_tz is None and m.subject.title == ""
    assert any("Date" in p for p in m.problems)
