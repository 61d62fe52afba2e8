"""Hostile archives: every message is indexed or skipped with a reason, never a traceback."""

from __future__ import annotations

import base64
import random
import sqlite3
from pathlib import Path

from patchtrail.corpus.archives import write_maildir, write_public_inbox_v2
from patchtrail.index.ingest import index_archive
from patchtrail.index.store import Store

PATCH = """\
---
 a.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/a.c b/a.c
index 1111111..2222222 100644
--- a/a.c
+++ b/a.c
@@ -1 +1 @@
-int a;
+int b;
"""


def _mail(msgid: str | None, subject: str, body: str | bytes, extra: str = "",
          content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = "From: Hostile Sender <h@example.org>\nDate: Mon, 1 Jun 2020 10:00:00 +0000\n"
    if msgid is not None:
        head += f"Message-ID: <{msgid}>\n"
    head += f"Subject: {subject}\nContent-Type: {content_type}\n{extra}\n"
    return head.encode() + (body if isinstance(body, bytes) else body.encode())


def hostile_set() -> dict[str, bytes]:
    rnd = random.Random(7)
    big = base64.encodebytes(rnd.randbytes(50 * 1024 * 1024 // 4 * 3)).decode()
    boundary = "XyZ"
    return {
        "plain": _mail("ok@x", "[PATCH] fine patch", "msg\n" + PATCH),
        "broken-mime": _mail("broken@x", "[PATCH] broken mime",
                             f"--{boundary}\nContent-Type: text/plain\n\nhello\n" + PATCH,
                             content_type=f'multipart/mixed; boundary="{boundary}"'),
        "unknown-charset": _mail("charset@x", "[PATCH] =?x-klingon?q?caf=E9?=",
                                 "caf\xe9\n".encode("latin-1") + PATCH.encode(),
                                 content_type="text/plain; charset=x-klingon"),
        "no-message-id": _mail(None, "[PATCH] no id", "msg\n" + PATCH.replace("int b", "int c")),
        "duplicate-id-1": _mail("dup@x", "first with this id", "hello\n"),
        "duplicate-id-2": _mail("dup@x", "second with this id", "hello again\n"),
        "two-id-headers": _mail("twice-a@x", "two ids", "body\n", extra="Message-ID: <twice-b@x>\n"),
        "empty-body": _mail("empty@x", "empty body", ""),
        "huge-attachment": _mail(
            "huge@x", "[PATCH] with a 50 MB attachment",
            f"--{boundary}\nContent-Type: text/plain\n\nmsg\n{PATCH}\n--{boundary}\n"
            "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n"
            f'Content-Disposition: attachment; filename="core.bin"\n\n{big}\n--{boundary}--\n',
            content_type=f'multipart/mixed; boundary="{boundary}"'),
        "garbage": rnd.randbytes(4096),
        "nul-bytes": b"\0" * 1000,
        "only-headers": b"Subject: nothing else\n",
        "bad-date": _mail("date@x", "bad date", "x\n", extra="").replace(
            b"Mon, 1 Jun 2020 10:00:00 +0000", b"the day after tomorrow"),
    }


def test_hostile_maildir_is_indexed_with_reasons(tmp_path: Path) -> None:
    mails = hostile_set()
    write_maildir(tmp_path / "md", list(mails.values()))
    db = tmp_path / "x.db"
    with Store.open(db) as store:
        summary = index_archive(store, tmp_path / "md")
        assert summary.messages_read == len(mails)
        stored = {r[0] for r in store.conn.execute("SELECT msgid FROM messages")}
        skipped = sum(summary.skipped.values())
        assert summary.messages_stored + skipped == len(mails)
        # what must have survived, and been understood
        for msgid in ("ok@x", "broken@x", "charset@x", "empty@x", "huge@x", "date@x", "twice-a@x"):
            assert msgid in stored, msgid
        assert "dup@x" in stored
        assert summary.skipped.get("duplicate Message-ID (already indexed)") == 1
        generated = store.conn.execute("SELECT msgid FROM messages WHERE generated_id=1").fetchall()
        assert any(r[0].endswith("@generated") for r in generated)
        huge = store.conn.execute("SELECT is_patch, files FROM messages WHERE msgid='huge@x'").fetchone()
        assert huge[0] == 1 and huge[1] == "a.c"
        charset = store.conn.execute("SELECT problems, is_patch FROM messages WHERE msgid='charset@x'").fetchone()
        assert charset[1] == 1 and "charset" in charset[0]
        # nothing vanished silently: every key is in `seen`, stored or with a reason
        rows = store.conn.execute("SELECT message_id, reason FROM seen").fetchall()
        assert len(rows) == len(mails)
        assert all((mid is None) == (reason is not None) or reason for mid, reason in rows)


def test_hostile_public_inbox_through_the_cli(tmp_path: Path, capsys) -> None:
    from patchtrail.cli.main import main

    mails = hostile_set()
    del mails["huge-attachment"]  # covered above; keeps this one quick
    inbox = write_public_inbox_v2(tmp_path / "inbox", list(mails.values()), "hostile", "h@lists.x")
    db = tmp_path / "x.db"
    try:
        main(["index", "--db", str(db), "--archive", str(inbox), "-q"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM seen").fetchone()[0] == len(mails)
