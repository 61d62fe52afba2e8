"""Small checks of the corpus building blocks: gitwrite, mails, archives, cedit."""

from __future__ import annotations

import email
import email.policy
import mailbox
from pathlib import Path

import pytest

from patchtrail.corpus.archives import (
    append_public_inbox_v2,
    envelope,
    write_maildir,
    write_mbox,
    write_public_inbox_v2,
)
from patchtrail.corpus.cedit import EditError, find_function, insert_after, replace_in
from patchtrail.corpus.gitwrite import CommitSpec, Person, format_patch, git, write_repo
from patchtrail.corpus.mails import (
    MailSpec,
    cover_letter,
    patch_mail,
    patch_subject,
    render_mail,
    reply,
    send_email_id,
)

ANN = Person("Ann Ex", "ann@example.com")
RADIM = Person("Radim Krčmář", "rkrcmar@redhat.com")


def _repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    commits = [
        CommitSpec("first", ANN, 1_000_000_000, files={"a.c": "int a;\n"}, name="one"),
        CommitSpec("second", ANN, 1_000_000_100, author_tz="-0700", committer=RADIM,
                   committer_time=1_000_000_200, files={"a.c": "int a;\nint b;\n"}, name="two"),
        CommitSpec("move", ANN, 1_000_000_300, renames={"a.c": "b.c"}, name="three"),
    ]
    return tmp_path / "r", write_repo(tmp_path / "r", commits)


def test_write_repo_exact_metadata_and_determinism(tmp_path: Path) -> None:
    path, ids = _repo(tmp_path)
    again = write_repo(tmp_path / "again", [
        CommitSpec("first", ANN, 1_000_000_000, files={"a.c": "int a;\n"})])
    assert again["#0"] == ids["one"]
    out = git(["-C", str(path), "show", "-s", "--format=%an|%at %ad|%cn|%ct", "--date=raw", ids["two"]])
    assert out.decode().strip() == "Ann Ex|1000000100 1000000100 -0700|Radim Krčmář|1000000200"
    assert (path / "b.c").read_text() == "int a;\nint b;\n"


def test_format_patch_is_git_output(tmp_path: Path) -> None:
    path, ids = _repo(tmp_path)
    patch = format_patch(path, ids["two"])
    assert patch.startswith("---\n a.c | 1 +\n") and "\n+int b;\n" in patch
    assert "-- \n" not in patch
    rename = format_patch(path, ids["three"])
    assert "rename from a.c\nrename to b.c" in rename


def test_render_mail_headers_and_variants() -> None:
    spec = MailSpec("x@y", patch_subject("Fix the thing", 4, 2, 4, v="V"), RADIM, 1465852801,
                    "body\n", tz="+0200", dmarc_via="kvm@vger.kernel.org", transfer_encoding="base64")
    msg = email.message_from_bytes(render_mail(spec), policy=email.policy.default)
    assert str(msg["Subject"]) == "[PATCH V4 2/4] Fix the thing"
    assert str(msg["From"]) == "Radim Krčmář via kvm <kvm@vger.kernel.org>"
    assert str(msg["Reply-To"]) == "Radim Krčmář <rkrcmar@redhat.com>"
    assert msg["Content-Transfer-Encoding"] == "base64" and msg.get_content() == "body\n"
    assert msg["Date"].datetime.utcoffset().total_seconds() == 7200
    assert render_mail(spec) == render_mail(spec)
    assert patch_subject("T", 1, 0, 4, rfc=True) == "[RFC PATCH 0/4] T"
    assert send_email_id(1465852801, 6684, 1, "a@b") == "1465852801-6684-1-git-send-email-a@b"


def test_patch_mail_attachment_and_reply(tmp_path: Path) -> None:
    path, ids = _repo(tmp_path)
    spec = patch_mail("p@y", "[PATCH] second", ANN, 1_000_000_100, "Adds b.", format_patch(path, ids["two"]),
                      signed_off_by=[ANN], in_body_from=RADIM, attachment_patch=True)
    msg = email.message_from_bytes(render_mail(spec), policy=email.policy.default)
    parts = [p for p in msg.walk() if not p.is_multipart()]
    assert parts[0].get_content().startswith("From: Radim Krčmář <rkrcmar@redhat.com>\n\nAdds b.")
    assert parts[1].get_content_type() == "text/x-patch" and "+int b;" in parts[1].get_content()
    r = reply(spec, "r@y", RADIM, 1_000_100_000, "Fine.", tags=("Reviewed-by",))
    assert r.subject == "Re: [PATCH] second" and r.in_reply_to == "p@y" and r.references == ["p@y"]
    assert "Reviewed-by: Radim Krčmář <rkrcmar@redhat.com>" in r.body and "> Adds b." in r.body
    c = cover_letter("c@y", "[PATCH 0/1] x", ANN, 1, "Blurb.", shortlog=["second"])
    assert "Ann Ex (1):\n  second\n" in c.body


def _mails() -> list[bytes]:
    return [render_mail(MailSpec(f"m{i}@y", f"subject {i}", RADIM if i % 2 else ANN, 1_000_000_000 + i,
                                 "From here on\n>From there\n", tz="-0800")) for i in range(3)]


def test_public_inbox_v2(tmp_path: Path) -> None:
    root = write_public_inbox_v2(tmp_path / "inbox", _mails()[:2], "kvm", "kvm@vger.kernel.org")
    new = append_public_inbox_v2(root, _mails()[2:])
    epoch = root / "git" / "0.git"
    log = git(["--git-dir", str(epoch), "log", "--format=%H|%an|%ad|%s|%cn", "--date=raw"]).decode().splitlines()
    assert len(log) == 3 and log[0].split("|")[0] == new[0]
    assert log[1].split("|")[1:] == ["Radim Krčmář", "1000000001 -0800", "subject 1", "kvm.0"]
    blob = git(["--git-dir", str(epoch), "show", "master:m"])
    assert blob == _mails()[2]
    assert envelope(blob).subject == "subject 2"


def test_mbox_and_maildir(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "x.mbox", _mails())
    assert len(mailbox.mbox(str(path))) == 3
    assert path.read_bytes().count(b"\n>From here on\n>>From there\n") == 3
    names = write_maildir(tmp_path / "md", _mails(), subdir="cur")
    assert len(names) == 3 and all(n.endswith(":2,S") for n in names)
    assert len(mailbox.Maildir(str(tmp_path / "md"), create=False)) == 3


def test_cedit_anchors() -> None:
    text = "static int f(int a)\n{\n\treturn a;\n}\n\nstatic int g(void)\n{\n\treturn 1;\n}\n"
    assert text[slice(*find_function(text, "g"))].startswith("static int g(void)")
    assert "h(void)" in insert_after(text, "f", "static int h(void)\n{\n\treturn 2;\n}\n")
    with pytest.raises(EditError):
        replace_in(text, "f", "missing", "x")
    with pytest.raises(EditError):
        find_function(text, "nope")
