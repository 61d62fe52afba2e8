"""Indexing real repositories and real archives in every format, incrementally."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pytest
from worlds import LIST_ADDR, World

from patchtrail.corpus.archives import (
    append_public_inbox_v2,
    write_epoch,
    write_maildir,
    write_mbox,
    write_public_inbox_v2,
)
from patchtrail.index.ingest import index_archive, index_repo
from patchtrail.index.store import Store

MESSAGE_COLUMNS = ("msgid", "subject", "title", "version", "number", "total", "is_patch",
                   "author_name", "author_email", "date", "in_reply_to", "patch_id", "files",
                   "trailers", "change_id")


def messages(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    cols = ",".join(MESSAGE_COLUMNS)
    return sorted(conn.execute(f"SELECT {cols} FROM messages"))


def _archive(kind: str, root: Path, mails: list[bytes]) -> Path:
    if kind == "public-inbox-v2":
        return write_public_inbox_v2(root / "inbox", mails, "test", LIST_ADDR, epoch_size=3)
    if kind == "public-inbox-epoch":
        write_epoch(root / "test.0.git", mails, "test", LIST_ADDR)
        return root / "test.0.git"
    if kind == "mbox":
        return write_mbox(root / "test.mbox", mails, "mboxrd")
    if kind == "mboxo":
        return write_mbox(root / "test.mbox", mails, "mboxo")
    if kind == "mbox.gz":
        plain = write_mbox(root / "plain.mbox", mails)
        gz = root / "test.mbox.gz"
        gz.write_bytes(gzip.compress(plain.read_bytes(), mtime=0))
        return gz
    write_maildir(root / "maildir", mails[:3], "cur")
    write_maildir(root / "maildir", mails[3:], "new")
    return root / "maildir"


KINDS = ["public-inbox-v2", "public-inbox-epoch", "mbox", "mboxo", "mbox.gz", "maildir"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_archive_format_gives_the_same_messages(world: World, tmp_path: Path, kind: str) -> None:
    reference = tmp_path / "ref.db"
    with Store.open(reference) as store:
        index_archive(store, _archive("public-inbox-v2", tmp_path / "ref", world.mails))
    db = tmp_path / "x.db"
    with Store.open(db) as store:
        summary = index_archive(store, _archive(kind, tmp_path, world.mails))
    assert summary.messages_stored == len(world.mails)
    assert messages(db) == messages(reference)
    assert len(messages(db)) == len(world.mails)


def test_parsed_fields_of_a_patch_mail(world: World, tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with Store.open(db) as store:
        index_archive(store, _archive("mbox", tmp_path, world.mails))
        row = store.conn.execute("SELECT * FROM messages WHERE msgid=?", ("edited@example.org",)).fetchone()
        assert row["number"] == 1 and row["total"] == 1 and row["is_patch"] == 1
        # The DMARC rewrite is undone: the author is Alice, not "Alice via test".
        assert row["author_email"] == "alice@example.org"
        assert row["author_name"] == "Alice Author"
        assert row["files"] == "lib/gamma.c"
        assert row["list"] == "test"
        review = store.conn.execute("SELECT * FROM messages WHERE msgid=?", ("review@example.org",)).fetchone()
        assert review["is_reply"] == 1 and review["in_reply_to"] == "exact@example.org"
        assert "Reviewed-by" in review["trailers"]


def test_repository_index_and_incremental_rerun(world: World, tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with Store.open(db) as store:
        first = index_repo(store, world.repo, ["master"])
        assert first.commits_stored == 8
        again = index_repo(store, world.repo, ["master"])
        assert again.commits_read == 0
        row = store.conn.execute("SELECT * FROM commits WHERE oid=?", (world.commits["merge"],)).fetchone()
        assert len(row["parents"].split()) == 2 and row["patch_id"] is None
        exact = store.conn.execute("SELECT * FROM commits WHERE oid=?", (world.commits["exact"],)).fetchone()
        assert exact["subject"] == "alpha: return 100 from alpha_1"
        assert exact["files"] == "lib/alpha.c"
        assert exact["patch_id"]


def test_archive_incremental_reads_only_new_messages(world: World, tmp_path: Path) -> None:
    inbox = write_public_inbox_v2(tmp_path / "inbox", world.mails[:4], "test", LIST_ADDR, epoch_size=2)
    db = tmp_path / "x.db"
    with Store.open(db) as store:
        first = index_archive(store, inbox)
        assert first.messages_stored == 4
        append_public_inbox_v2(inbox, world.mails[4:])
        second = index_archive(store, inbox)
        assert second.messages_stored == len(world.mails) - 4
        assert second.messages_read == len(world.mails) - 4
        third = index_archive(store, inbox)
        assert third.messages_read == 0 and third.messages_stored == 0


def test_maildir_rerun_dedupes_by_key(world: World, tmp_path: Path) -> None:
    maildir = _archive("maildir", tmp_path, world.mails)
    db = tmp_path / "x.db"
    with Store.open(db) as store:
        index_archive(store, maildir)
        again = index_archive(store, maildir)
        assert again.messages_stored == 0
        assert store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == len(world.mails)


def test_same_message_in_two_archives_is_stored_once(world: World, tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with Store.open(db) as store:
        index_archive(store, _archive("mbox", tmp_path, world.mails))
        other = index_archive(store, _archive("maildir", tmp_path, world.mails))
        assert other.messages_stored == 0
        assert other.skipped.get("duplicate Message-ID (already indexed)") == len(world.mails)


def test_all_refs_include_side_branches(world: World, tmp_path: Path) -> None:
    with Store.open(tmp_path / "x.db") as store:
        summary = index_repo(store, world.repo, ["--all"])
        assert summary.commits_stored == 8  # master holds the side branch through the merge
        assert index_repo(store, world.repo, ["--all"]).commits_read == 0
