"""kill -9 at any point of `patchtrail index`, rerun, and the index is the uninterrupted one."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from patchtrail.corpus.archives import write_public_inbox_v2
from patchtrail.corpus.gitwrite import CommitSpec, Person, write_repo

N_MAILS = 3000
N_COMMITS = 600
WHO = Person("Crash Tester", "crash@example.org")


def _mail(i: int) -> bytes:
    body = (f"Change number {i}.\n\nSigned-off-by: Crash Tester <crash@example.org>\n---\n"
            f"diff --git a/f{i % 50}.c b/f{i % 50}.c\n--- a/f{i % 50}.c\n+++ b/f{i % 50}.c\n"
            f"@@ -1 +1 @@\n-int v{i};\n+int w{i};\n")
    return (f"From: Crash Tester <crash@example.org>\nDate: Tue, 2 Jun 2020 10:{i % 60:02d}:00 +0000\n"
            f"Message-ID: <m{i}@crash>\nSubject: [PATCH {1 + i % 3}/3] crash: change {i}\n"
            f"List-Id: <crash.lists.example.org>\n\n{body}").encode()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("crash")
    inbox = write_public_inbox_v2(root / "inbox", [_mail(i) for i in range(N_MAILS)], "crash",
                                  "crash@lists.example.org", epoch_size=1000)
    commits = [CommitSpec(f"commit {i}", WHO, 1_500_000_000 + i * 60,
                          files={f"d{i % 7}/f{i % 30}.c": f"int x = {i};\n"}) for i in range(N_COMMITS)]
    write_repo(root / "repo", commits, bare=True)
    return root / "repo", inbox


def _index(db: Path, repo: Path, inbox: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PATCHTRAIL_BATCH="40")
    return subprocess.Popen([sys.executable, "-m", "patchtrail", "index", "--db", str(db),
                             "--repo", str(repo), "--archive", str(inbox), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def dump(db: Path) -> dict[str, list[tuple]]:
    """The index's content, independent of row ids and of the order it was written in."""
    conn = sqlite3.connect(db)
    q = lambda sql: sorted(conn.execute(sql).fetchall(), key=repr)  # noqa: E731
    out = {
        "sources": q("SELECT kind, path, name, cursor FROM sources"),
        "commits": q("SELECT * FROM commits"),
        "messages": q("SELECT m.msgid, m.subject, m.patch_id, m.fingerprint, m.files, m.body, m.key,"
                      " m.date FROM messages m"),
        "files": q("SELECT m.msgid, f.path FROM message_files f JOIN messages m ON m.id=f.message_id"),
        "seen": q("SELECT s.key, m.msgid, s.reason FROM seen s LEFT JOIN messages m ON m.id=s.message_id"),
        "fts": q("SELECT m.msgid FROM subjects_fts_docsize d JOIN messages m ON m.id=d.id"),
    }
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return out


def _rows(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        return conn.execute("SELECT (SELECT count(*) FROM commits) + (SELECT count(*) FROM messages)").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_kill_9_then_rerun_equals_uninterrupted(sources: tuple[Path, Path], tmp_path: Path) -> None:
    repo, inbox = sources
    reference = tmp_path / "ref.db"
    proc = _index(reference, repo, inbox)
    assert proc.wait() == 0, proc.stderr.read()  # type: ignore[union-attr]
    expected = dump(reference)
    total = len(expected["commits"]) + len(expected["messages"])
    assert len(expected["messages"]) == N_MAILS and len(expected["commits"]) == N_COMMITS

    killed_mid_run = 0
    # Kill at several depths: early in the commits, in the messages, late.
    for fraction in (0.05, 0.3, 0.6, 0.9):
        db = tmp_path / f"crash-{fraction}.db"
        proc = _index(db, repo, inbox)
        deadline = time.monotonic() + 120
        while proc.poll() is None and _rows(db) < total * fraction and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed_mid_run += _rows(db) < total
        # Rerun (twice: the first rerun could itself be killed in real life; here it completes).
        rerun = _index(db, repo, inbox)
        assert rerun.wait() == 0, rerun.stderr.read()  # type: ignore[union-attr]
        assert dump(db) == expected, f"index differs after kill at {fraction:.0%}"
    assert killed_mid_run >= 2, "the index runs finished before they could be killed"
