"""Trailer blocks, review tags in replies, Link URLs naming messages."""

from __future__ import annotations

from patchtrail.mail.message import parse_commit_message
from patchtrail.mail.trailers import (
    canonical_key,
    link_message_ids,
    parse_trailers,
    reply_trailers,
    revision_links,
    strip_link_lines,
)

BODY = """\
The timer was never armed when the guest
wrote the MSR.

Fixes: 0123456789ab ("kvm: vmx: add timer")

Reported-by: Bob <bob@example.org>
Cc: stable@vger.kernel.org # 5.10+
Link: https://lore.kernel.org/r/20230101120000.1234-1-ann@example.org
Closes: https://bugzilla.kernel.org/show_bug.cgi?id=1
Reviewed-by: Carol Long-Name
  <carol@example.org>
signed-off-by: Ann Dev <ann@example.org>
(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)
Change-Id: I0123456789abcdef0123456789abcdef01234567
"""


def test_trailer_block_all_kinds():
    t = parse_trailers(BODY)
    assert t == [
        ("Fixes", '0123456789ab ("kvm: vmx: add timer")'),
        ("Reported-by", "Bob <bob@example.org>"),
        ("Cc", "stable@vger.kernel.org # 5.10+"),
        ("Link", "https://lore.kernel.org/r/20230101120000.1234-1-ann@example.org"),
        ("Closes", "https://bugzilla.kernel.org/show_bug.cgi?id=1"),
        ("Reviewed-by", "Carol Long-Name <carol@example.org>"),
        ("Signed-off-by", "Ann Dev <ann@example.org>"),
        ("Change-Id", "I0123456789abcdef0123456789abcdef01234567"),
    ]


def test_trailers_need_last_paragraph():
    assert parse_trailers("Fixes: abc\n\nJust prose at the end.\n") == []
    assert parse_trailers("Only: one paragraph") == [("Only", "one paragraph")]
    assert parse_trailers("") == []
    # Prose with a URL is not a trailer; a well-known key lets a block carry prose.
    text = "Body.\n\n[ backport: adjusted context ]\nSigned-off-by: A <a@x>\n"
    assert parse_trailers(text) == [("Signed-off-by", "A <a@x>")]
    assert parse_trailers("Body.\n\nsee https://example.org/x\n") == []


def test_base_commit_and_change_id_lines():
    text = "Notes.\n\nbase-commit: 0123456789abcdef0123456789abcdef01234567\nchange-id: 20230101-foo-abc123\n"
    assert parse_trailers(text) == [
        ("base-commit", "0123456789abcdef0123456789abcdef01234567"),
        ("Change-Id", "20230101-foo-abc123"),
    ]
    assert canonical_key("SIGNED-OFF-BY") == "Signed-off-by"
    assert canonical_key("X-Custom") == "X-Custom"


def test_reply_trailers():
    reply = """\
On Mon, Ann wrote:
> Signed-off-by: Ann <ann@example.org>
> Reviewed-by: Quoted <q@example.org>

Looks good.

Reviewed-by: Dan Reviewer <dan@example.org>
Tested-by: works for me
Acked-by: Eve <eve@example.org>

-----Original Message-----
Tested-by: Hidden <hidden@example.org>
"""
    assert reply_trailers(reply) == [
        ("Reviewed-by", "Dan Reviewer <dan@example.org>"),
        ("Acked-by", "Eve <eve@example.org>"),
    ]


def test_link_message_ids():
    values = [
        "https://lore.kernel.org/r/20230101.1-1-ann@example.org",
        "https://lore.kernel.org/ltp/20230102.2-1-ann@example.org/",
        "https://lore.kernel.org/all/abc%40example.org/T/#u",
        "https://patch.msgid.link/20230103.3-ann@example.org",
        "https://lkml.kernel.org/r/4711@example.org",
        "https://patchwork.ozlabs.org/project/ltp/patch/5555@example.org/",
        "https://bugzilla.kernel.org/show_bug.cgi?id=1",
        "https://mirror.example.net/list/6666@example.org",
    ]
    assert link_message_ids(values) == [
        "20230101.1-1-ann@example.org",
        "20230102.2-1-ann@example.org",
        "abc@example.org",
        "20230103.3-ann@example.org",
        "4711@example.org",
        "5555@example.org",
        "6666@example.org",
    ]


def test_revision_links_and_strip():
    notes = """\
Changes in v3:
- fix it
- Link to v2: https://lore.kernel.org/r/v2-id@example.org
[v1] https://lore.kernel.org/ltp/v1-id@example.org/
v0: https://example.org/no-message-here
"""
    assert revision_links(notes) == [(2, "v2-id@example.org"), (1, "v1-id@example.org")]
    text = "Body\n\nLink: https://lore.kernel.org/r/x@y\nchange-id: 1-a\nSigned-off-by: A <a@x>"
    assert strip_link_lines(text) == "Body\n\nSigned-off-by: A <a@x>"


def test_parse_commit_message():
    subject, body, trailers = parse_commit_message(
        "kvm: vmx: hook preemption\ntimer support\n\n" + BODY
    )
    assert subject.title == "kvm: vmx: hook preemption timer support"
    assert subject.norm == "hook preemption timer support"
    assert body.startswith("The timer was never armed")
    assert ("Signed-off-by", "Ann Dev <ann@example.org>") in trailers
    subject, body, trailers = parse_commit_message("only a subject\n")
    assert subject.title == "only a subject" and body == "" and trailers == []
    subject, body, trailers = parse_commit_message("")
    assert subject.title == "" and body == "" and trailers == []
    subject, _, _ = parse_commit_message("\r\nsubject line\r\n\r\nbody\r\n")
    assert subject.title == "subject line"
