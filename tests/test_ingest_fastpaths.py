"""The fast paths of `patchtrail index` give what the plain ones give.

Workers reading public-inbox blobs themselves, cat-file reads without a writer thread,
hunk runs hashed in one go by patch_id, the header and date shortcuts: each one is checked
against the slow path it replaces, or against git itself, on real repositories.
"""

from __future__ import annotations

import calendar
import os
import sqlite3
import subprocess
import sys
from email.utils import parsedate_tz
from pathlib import Path

import pytest
from test_mail_patchid import git, git_patch_id, repo  # noqa: F401 - the fixture is used
from test_sources_archive import epoch_append, msg
from test_sources_catfile import blobs  # noqa: F401 - the fixture is used

from patchtrail.index.ingest import index_archive
from patchtrail.index.schema import bulk_indexes, missing_indexes
from patchtrail.index.store import Store
from patchtrail.index.workers import WorkerError, ordered_map
from patchtrail.mail.diff import patch_id, split_body
from patchtrail.mail.headers import parse_date, wanted_headers
from patchtrail.sources.archive import iter_mails, open_archive
from patchtrail.sources.catfile import CatFile, close_shared, iter_objects
from patchtrail.sources.errors import SourceError
from patchtrail.sources.records import SkipLog


def _inbox(tmp_path: Path) -> Path:
    """A v2 inbox whose second epoch holds a deletion and a commit without a message."""
    inbox = tmp_path / "ltp"
    (inbox / "git").mkdir(parents=True)
    epoch_append(inbox / "git" / "0.git", [("m", msg(i)) for i in range(40)])
    epoch_append(inbox / "git" / "1.git",
                 [("m", msg(40)), ("d", msg(1)), ("x", b"junk")] + [("m", msg(i)) for i in range(41, 80)])
    return inbox


def test_refs_read_by_workers_equal_iter_messages(tmp_path: Path) -> None:
    src = open_archive(_inbox(tmp_path))
    skips = SkipLog()
    mails = list(src.iter_messages(None, skips))
    refs = list(src.iter_refs(None))
    try:
        read = list(iter_mails(refs))
    finally:
        close_shared()
    assert [(m.key, m.data, m.cursor) for m in mails] == [
        (r.key, r.data, r.cursor) for r in read if r is not None]
    missing = [ref for ref, r in zip(refs, read) if r is None]
    ref_skips = SkipLog()
    src.skip_missing(missing, ref_skips)
    assert sorted((s.where, s.reason) for s in ref_skips.items) == sorted(
        (s.where, s.reason) for s in skips.items)
    # Resuming from a message's cursor lists exactly what came after it.
    keys = [r.key for r in refs]
    for mail in (mails[0], mails[39], mails[40], mails[41], mails[-1]):
        after = keys[keys.index(mail.key) + 1:]
        assert [r.key for r in src.iter_refs(mail.cursor)] == after


def _rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(messages)") if r[1] != "id"]
    return sorted(conn.execute(f"SELECT {','.join(cols)} FROM messages"))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_index_with_worker_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    inbox = _inbox(tmp_path)
    monkeypatch.setenv("PATCHTRAIL_JOBS", jobs)
    with Store.open(tmp_path / "refs.db") as store:
        summary = index_archive(store, inbox)
    assert summary.messages_read == 80 and summary.messages_stored == 80
    assert summary.skipped == {"deleted": 1, "no message blob": 1}
    # The same archive read by this process and handed over whole (the mbox path).
    mbox = tmp_path / "ltp.mbox"
    mbox.write_bytes(b"".join(b"From x Mon Jan  1 00:00:00 2024\n" + msg(i) + b"\n\n"
                              for i in range(80)))
    with Store.open(tmp_path / "mbox.db") as store:
        index_archive(store, mbox)
    strip = lambda rows: [r[:2] + r[4:] for r in rows]  # noqa: E731 - source_id, key differ
    assert strip(_rows(tmp_path / "refs.db")) == strip(_rows(tmp_path / "mbox.db"))


def test_iter_many_in_order_with_missing_and_big_objects(blobs) -> None:  # noqa: F811
    path, oids = blobs
    specs = []
    for i, oid in enumerate(oids):
        specs.append(oid)
        if i % 40 == 0:
            specs.append("f" * 40)
    want = [oids.get(s) for s in specs]
    with CatFile(path) as cat:
        assert list(cat.iter_many(specs)) == want
        assert list(cat.iter_many([])) == []
        assert cat.get(specs[0]) == want[0]  # the process is still in step
    try:
        assert list(iter_objects(str(path), specs[:100])) == want[:100]
        assert list(iter_objects(str(path), specs[100:])) == want[100:]  # the same process again
    finally:
        close_shared()


def test_iter_many_abandoned_halfway_leaves_the_next_call_in_step(blobs) -> None:  # noqa: F811
    path, oids = blobs
    specs = list(oids)
    with CatFile(path) as cat:
        answers = cat.iter_many(specs)
        assert next(answers) == oids[specs[0]]
        answers.close()  # unread answers are still in the pipe: the process must go
        assert list(cat.iter_many(specs[-3:])) == [oids[s] for s in specs[-3:]]


def _double_or_fail(x: int) -> int:
    if x == 13:
        raise ValueError("thirteen")
    return 2 * x


def _echo(data: bytes) -> bytes:
    return data[::-1]


def _die(x: int) -> int:
    if x == 5:
        os._exit(3)  # a worker killed mid-run (the OOM killer, kill -9)
    return x


def test_ordered_map_keeps_input_order_across_workers() -> None:
    jobs = list(range(1000))
    with ordered_map(_double_or_fail, (j for j in jobs if j != 13), chunksize=7, n=3) as out:
        assert list(out) == [2 * j for j in jobs if j != 13]


def test_ordered_map_big_jobs_and_results_do_not_deadlock() -> None:
    # Each job and each result is larger than a pipe's buffer, in both directions at once.
    jobs = [bytes([i]) * (3 << 20) for i in range(12)]
    with ordered_map(_echo, jobs, n=2, depth=4) as out:
        assert [r[:1] for r in out] == [bytes([i]) for i in range(12)]


def test_ordered_map_reports_a_failing_or_dying_worker() -> None:
    with pytest.raises(WorkerError, match="thirteen"), \
            ordered_map(_double_or_fail, range(20), n=2) as out:
        list(out)
    with pytest.raises(WorkerError, match="died"), ordered_map(_die, range(20), n=2) as out:
        list(out)


def _unreadable(x: int) -> int:
    if x == 5:
        raise SourceError("/srv/inbox/git/0.git", "git cat-file stopped unexpectedly")
    return x


def test_a_worker_error_is_a_bug_and_a_source_error_stays_one_line() -> None:
    from patchtrail.cli.errors import expected

    with pytest.raises(SourceError, match="^/srv/inbox/git/0.git: git cat-file stopped"), \
            ordered_map(_unreadable, range(20), n=2) as out:
        list(out)
    with pytest.raises(WorkerError) as failed, ordered_map(_double_or_fail, range(20), n=2) as out:
        list(out)
    assert not isinstance(failed.value, expected())  # a bug: the CLI shows its traceback
    assert "Traceback" in str(failed.value) and "_double_or_fail" in str(failed.value)
    with pytest.raises(WorkerError) as died, ordered_map(_die, range(20), n=2) as out:
        list(out)
    assert isinstance(died.value, expected())  # killed, not a bug: one line


def test_ordered_map_abandoned_with_results_in_flight_ends_quietly() -> None:
    # The writer fails after its first result while both workers are writing results
    # larger than the pipes: they must end on the broken pipe, without a traceback, and
    # not wait to be killed (a grace longer than the timeout makes waiting a failure).
    code = ("from patchtrail.index import workers\nworkers.GRACE = 600\n"
            "from patchtrail.index.workers import ordered_map\n"
            "def big(i):\n    return b'x' * (4 << 20)\n"
            "with ordered_map(big, range(100), n=2) as out:\n    next(out)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""


def test_bulk_load_builds_every_index_and_a_rerun_restores_a_missing_one(tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    with Store.open(tmp_path / "x.db") as store:
        want = set(bulk_indexes(store.conn))  # as the empty file was made
        assert len(want) == 10
        index_archive(store, inbox)
        have = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert want <= have
        # What a run killed during its bulk load leaves: the rows, not all the indexes.
        store.conn.execute("DROP INDEX messages_date")
        index_archive(store, inbox)
        plan = store.conn.execute("EXPLAIN QUERY PLAN SELECT id FROM messages WHERE date > 5").fetchall()
        assert "messages_date" in " ".join(str(tuple(r)) for r in plan)


# -- patch-id: runs of hunk lines hashed in one go must not change git's answer ------------


def _variants(diff: str) -> list[str]:
    lines = diff.split("\n")
    out = [diff,
           diff.replace("\n ", "\n", 2),  # a mailer dropped the space of blank context lines
           diff.replace("\n-", "\n\\ No newline at end of file\n-", 1),
           diff + "-- \n2.39.5\n",  # a signature after the last hunk
           diff.rstrip("\n"),
           "\n".join(lines[: len(lines) * 2 // 3]) + "\n",  # cut inside a hunk
           diff.replace("@@ -1,", "@@ -1,1", 1),  # counts larger than the hunk
           diff.replace("@@ -1,", "@@ -,", 1)]  # a header git reads its own way
    return out


def test_patch_id_fast_runs_match_git(repo) -> None:  # noqa: F811
    r, commits = repo
    for oid in commits[1:]:
        shown = git(r, "show", "--format=", oid).decode()
        for variant in _variants(shown):
            assert patch_id(variant) == git_patch_id(r, variant.encode()), (oid, variant)


# -- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "Tue, 4 Jun 2019 10:22:33 +0200", "4 Jun 2019 10:22:33 -0730", "Mon, 01 Jan 2024 00:00:00 -0000",
    "Wed, 31 Dec 2025 23:59:59 +1400 (CEST)", "Fri, 29 Feb 2008 12:00:00 +0099",
    "Thu, 1 Jan 1970 00:00:00 +0000 (GMT Standard Time)",
    # not the common form: read by email.utils as before
    "Tue,  4 Jun 2019 10:22:33 +0200", "4 June 2019 10:22 +0200", "Tue, 4 Jun 19 10:22:33 GMT",
    "2019-06-04 10:22:33", "", "Tue, 4 Jun 2019 10:22:33 CEST",
])
def test_parse_date_same_as_email_utils(value: str) -> None:
    parts = parsedate_tz(value)
    if parts is None:
        assert parse_date(value) == (None, None)
        return
    offset = parts[9] or 0
    stamp = calendar.timegm((*parts[:6], 0, 1, 0)) - offset
    minutes = abs(offset) // 60
    zone = f"{'-' if offset < 0 else '+'}{minutes // 60:02d}{minutes % 60:02d}"
    assert parse_date(value) == (stamp, zone)


def test_wanted_headers_any_case_values_as_written() -> None:
    block = (b"Received: from x\n\tby y\nSUBJECT: [PATCH] Mixed Case\nmessage-ID:  <a@B>\n"
             b"From : Ann <ann@x>\nX-Subject: no\nReferences: <1@x>\n <2@x>\nreferences: <3@x>\n")
    found = wanted_headers(block)
    assert found == {"subject": [b"[PATCH] Mixed Case"], "message-id": [b"<a@B>"],
                     "from": [b"Ann <ann@x>"], "references": [b"<1@x>\n <2@x>", b"<3@x>"]}


def test_split_body_finds_the_first_diff_line() -> None:
    body = ("Fix.\n\nSee --- a/x in the text; Index: y too.\n---\n a | 1 +\n\n"
            "Index: a\n===\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-x\n+y\n")
    message, notes, diff = split_body(body)
    assert message == "Fix.\n\nSee --- a/x in the text; Index: y too."
    assert notes == " a | 1 +"
    assert diff.startswith("Index: a\n") and diff.endswith("+y\n")


def test_a_query_after_a_killed_first_load_builds_the_missing_indexes(tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    db = tmp_path / "x.db"
    with Store.open(db) as store:
        index_archive(store, inbox)
        # What a first run killed during its bulk load leaves: rows, no secondary indexes.
        for name in bulk_indexes(store.conn):
            store.conn.execute(f"DROP INDEX {name}")
        assert missing_indexes(store.conn)
    with Store.open(db, create=False) as store:  # how dig, series, origin and story open it
        assert missing_indexes(store.conn) == []
        plan = store.conn.execute("EXPLAIN QUERY PLAN SELECT id FROM messages WHERE date > 5").fetchall()
        assert "messages_date" in " ".join(str(tuple(r)) for r in plan)


def test_repository_batches_end_early_on_many_identifier_rows() -> None:
    """A batch of commits is held whole by the writer: it ends at BATCH commits, or sooner
    when their identifier rows reach the cap (a few huge diffs), and loses nothing."""
    from patchtrail.index.ingest import _weighed

    weights = [1, 1, 5, 1, 1, 1, 9, 1]
    batches = list(_weighed(iter(weights), 3, 6, lambda w: w))
    assert batches == [[1, 1, 5], [1, 1, 1], [9], [1]]
    assert [w for b in batches for w in b] == weights
    assert list(_weighed(iter([]), 3, 6, lambda w: w)) == []
