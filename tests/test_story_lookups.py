"""What `patchtrail story` reads to tell a story, on the demo corpus: each thing once, and
no more of it than it needs (the answers themselves are test_story.py's)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from patchtrail.index.store import Store
from patchtrail.link import series as link_series
from patchtrail.mail.subject import parse_subject
from patchtrail.story import emails as story_emails
from patchtrail.story import story as story_story
from patchtrail.story.discussions import discussions, search_terms
from patchtrail.story.events import commit_refs
from patchtrail.story.model import Term
from patchtrail.story.origin import commit_refs_by_oid, parse_target, tell
from patchtrail.story.remote import mention_asks
from patchtrail.story.story import tell_story


@pytest.fixture(scope="module")
def demo(demo_indexed):
    """The shared demo index (tests/conftest.py)."""
    return demo_indexed


@contextmanager
def statements(conn: sqlite3.Connection) -> Iterator[list[str]]:
    """The SQL statements `conn` runs inside the block, values bound (not SQLite's own,
    like FTS5's)."""
    seen: list[str] = []
    conn.set_trace_callback(lambda sql: None if sql.startswith("--") else seen.append(sql))
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def _count(monkeypatch: pytest.MonkeyPatch, calls: Counter[str], module: object, name: str,
           when: Callable[..., bool] = lambda *a: True) -> None:
    real = getattr(module, name)

    def counted(*args: object, **kwargs: object) -> object:
        if when(*args):
            calls[name] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


def test_a_commit_is_resolved_and_linked_once(demo, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, db = demo
    oid = corpus.commits["seed_separate"]
    calls: Counter[str] = Counter()
    for module in (story_story, link_series):
        _count(monkeypatch, calls, module, "expand_revisions")
    for module in (story_emails, link_series):
        _count(monkeypatch, calls, module, "best_match", lambda _store, commit, *_: commit.oid == oid)
    with Store.open(db, create=False) as store:
        s = tell_story(store, oid[:12])
    assert calls == {"expand_revisions": 1, "best_match": 1}
    assert s.start.kind == "commit" and s.start.commit.oid == oid
    assert s.series.start == oid  # named by the commit, as `patchtrail series COMMIT` names it
    assert s.start.email is not None


def test_the_searches_are_kept_for_the_remote_story(demo) -> None:
    """What story.remote asks a server for is what the discussions were searched with."""
    _, db = demo
    with Store.open(db, create=False) as store:
        s = tell_story(store, "enable_preemption_timer")
        applied = sorted(s.series.applied.commits, key=lambda c: c.position)
        refs = commit_refs_by_oid(store, [c.oid for c in applied])
        o = tell(store, parse_target("enable_preemption_timer"), None, None)
    assert s.searches == [
        (search_terms(None, [refs[c.oid] for c in applied], s.series.title), s.anchor.committer_time),
        (search_terms("enable_preemption_timer", [], None), s.start.commit.committer_time)]
    assert mention_asks(s.searches)
    title = o.origin.email.series_title
    assert o.searches == [(search_terms("enable_preemption_timer", o.series_commits, title),
                           o.origin.birth.commit.committer_time)]


def test_discussion_roots_are_read_together_and_titled_as_indexed(demo) -> None:
    _, db = demo
    with Store.open(db, create=False) as store:
        terms = [Term("word", "queued")]  # replies: their roots match nothing
        with statements(store.conn) as seen:
            found, _ = discussions(store.conn, terms, 0, set(), set())
        assert any(d.root_key not in d.url for d in found)
        roots = [q for q in seen if "FROM messages WHERE msgid" in q]
        assert len(roots) == 1 and "msgid IN (" in roots[0]
        # a thread whose root's title (Re:, [PATCH vN] and list tags set aside) is excluded
        # is left out, whatever its root's prefixes
        first = found[0]
        title = parse_subject(first.subject).title.lower()
        again, _ = discussions(store.conn, terms, 0, set(), {title})
        assert first.root_key not in {d.root_key for d in again}
        assert {d.root_key for d in again} < {d.root_key for d in found}


def test_commit_refs_read_their_columns_and_git_for_what_the_index_lacks(demo, tmp_path: Path) -> None:
    corpus, db = demo
    copy = tmp_path / "lacking.db"
    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    oids = [corpus.commits["seed_hook"], corpus.commits["seed_separate"]]
    with Store.open(db, create=False) as store:
        with statements(store.conn) as seen:
            want = commit_refs_by_oid(store, oids)
        ids = dict(store.conn.execute(
            f"SELECT oid, id FROM commits WHERE oid IN ({','.join('?' * len(oids))})", oids).fetchall())
        by_id = commit_refs(store.conn, ids.values(), None)
    assert list(want) == oids
    assert not [q for q in seen if "SELECT *" in q]
    assert want == {oid: by_id[ids[oid]] for oid in oids}  # the same as read by id
    conn = sqlite3.connect(copy)
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("DELETE FROM commits WHERE oid=?", (oids[0],))
    conn.execute("UPDATE commits SET author_email=upper(author_email) WHERE oid=?", (oids[1],))
    conn.commit()
    conn.close()
    with Store.open(copy, create=False) as store:
        # the first read from the repository; the address folded as CommitInfo folds it
        assert commit_refs_by_oid(store, oids) == want
        assert commit_refs_by_oid(store, ["0" * 40]) == {}


def test_emails_are_read_together_and_titled_by_their_roots(demo) -> None:
    _, db = demo
    with Store.open(db, create=False) as store:
        oids = [r[0] for r in store.conn.execute("SELECT oid FROM commits ORDER BY id")]
        with statements(store.conn) as seen:
            found = story_emails.emails_of(store, oids)
        assert len(found) > 100
        ours = [q for q in seen if q.startswith(f"SELECT {story_emails.MESSAGE_COLUMNS} FROM")]
        assert len(ours) == 2 and all("msgid IN (" in q for q in ours)
        for email in found.values():
            row = story_emails.message_by_msgid(store.conn, email.message_id)
            assert email.series_key == story_emails.group_key(row)
            title = story_emails.series_title(store.conn, email.series_key, row)
            assert (email.series_title, email.series_url) == title


def _patch_mail(msgid: str, subject: str, path: str, headers: str = "") -> str:
    return (f"From: Ann Dev <ann@example.org>\nSubject: {subject}\nMessage-ID: <{msgid}>\n"
            f"Date: Mon, 3 Jun 2024 10:00:00 +0000\n{headers}\nA change.\n\n"
            f"Signed-off-by: Ann Dev <ann@example.org>\n---\n"
            f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-old\n+new\n")


def test_a_series_holds_the_patches_that_only_reference_it(tmp_path: Path) -> None:
    from patchtrail.index.ingest import index_archive

    mbox = tmp_path / "list.mbox"
    mbox.write_text("".join("From MAILER-DAEMON Mon Jun  3 10:00:00 2024\n" + m + "\n" for m in (
        _patch_mail("root@x", "[PATCH 0/2] lib: two", "lib/a.c"),
        # In-Reply-To lost by the mailer: only References ties it to the series.
        _patch_mail("p1@x", "[PATCH 1/2] lib: one", "lib/b.c", "References: <root@x>\n"),
        _patch_mail("p2@x", "[PATCH 2/2] lib: two", "lib/c.c", "In-Reply-To: <root@x>\n"),
        # Below p1 only (its parent is not the root), References naming p1 alone.
        _patch_mail("p3@x", "Re: [PATCH 1/2] lib: one", "lib/d.c", "References: <p1@x>\n"),
        _patch_mail("other@x", "[PATCH] other", "lib/e.c"),
    )))
    with Store.open(tmp_path / "x.db") as store:
        index_archive(store, mbox)
        found = {r["msgid"] for r in story_emails.thread_patches(store.conn, "root@x")}
    assert found == {"root@x", "p1@x", "p2@x", "p3@x"}
