"""`patchtrail series` on a world holding every shape of series (see series_world.py)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from series_world import SeriesWorld, build_series_world
from worlds import LIST_ADDR

from patchtrail.corpus.archives import write_public_inbox_v2
from patchtrail.index.store import Store
from patchtrail.link import msgstore
from patchtrail.link.applied import candidate_commits
from patchtrail.link.msgstore import SqlMessages
from patchtrail.link.series import build_series
from patchtrail.link.series_model import Msg, Series
from patchtrail.link.threads import load_msgs


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patchtrail", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory) -> tuple[SeriesWorld, Path]:
    root = tmp_path_factory.mktemp("series")
    world = build_series_world(root)
    inbox = write_public_inbox_v2(root / "inbox", world.mails, "test", LIST_ADDR)
    db = root / "x.db"
    proc = run("index", "--db", str(db), "--repo", str(world.repo), "--archive", str(inbox), "-q")
    assert proc.returncode == 0, proc.stderr
    return world, db


def series_of(db: Path, target: str, ignore_links: bool = True) -> Series:
    with Store.open(db, create=False) as store:
        return build_series(store, target, ignore_links=ignore_links)


def keys(s: Series) -> list[tuple[int, str]]:
    return [(r.version, r.posting.key) for r in s.revisions]


# ----------------------------------------------------------------------------- threads
def test_thread_keeps_ghosts_late_parents_and_broken_references(sw) -> None:
    world, db = sw
    with Store.open(db, create=False) as store:
        thread = SqlMessages(store.conn).thread(world.msgids["alpha_v1_ghostchild"])
    m = world.msgids
    assert thread.root == m["alpha_v1_0"]
    assert "alpha-lost@example.org" in thread.ghosts  # named, never archived
    assert thread.parent["alpha-lost@example.org"] == m["alpha_v1_carol"]  # placed by References
    # stored before its parent, and with In-Reply-To only: still under patch 1
    assert thread.parent[m["alpha_v1_answer"]] == m["alpha_v1_question"]
    below_patch1 = {x.msgid for x in thread.descendants(m["alpha_v1_1"])}
    assert below_patch1 == {m["alpha_v1_question"], m["alpha_v1_answer"]}


# ----------------------------------------------------------------------------- series
def test_any_message_or_commit_gives_the_same_series(sw) -> None:
    world, db = sw
    m, c = world.msgids, world.commits
    want = keys(series_of(db, m["alpha_v4_2"]))
    assert [v for v, _ in want] == [1, 2, 4]
    for target in (m["alpha_v1_0"], m["alpha_v1_3"], m["alpha_v2_4"], m["alpha_v1_rb"],
                   m["alpha_v1_ghostchild"], c["alpha_1"], c["alpha_2"][:12]):
        assert keys(series_of(db, target)) == want, target


def test_untagged_v1_spellings_reworded_cover_and_missing_version(sw) -> None:
    world, db = sw
    s = series_of(db, world.msgids["alpha_v2_0"])
    assert keys(s) == [(1, world.msgids["alpha_v1_0"]), (2, world.msgids["alpha_v2_0"]),
                       (4, world.msgids["alpha_v4_0"])]  # untagged, PATCHv2, V4
    assert s.missing_versions == [3]
    assert s.revisions[0].posting.title == "lib: rework alpha"  # the cover subject changed
    assert all(r.link and r.link.method == "content" and r.link.confidence >= 0.55 for r in s.revisions[1:])


def test_unthreaded_set_threaded_without_cover_and_partial_reroll(sw) -> None:
    world, db = sw
    m = world.msgids
    s = series_of(db, m["beta_v1_2"])
    v1, v2, v3 = (r.posting for r in s.revisions)
    assert [p.msgid for p in v1.patches] == [m["beta_v1_1"], m["beta_v1_2"]]  # sent unthreaded
    assert v2.cover is None and [p.number for p in v2.patches] == [1, 2]
    assert v3.partial_of == m["beta_v2_1"] and [p.number for p in v3.patches] == [2]
    assert v3.missing == []  # a partial reroll is not an incomplete series
    assert [(c.status, c.old.number if c.old else None) for c in s.diffs[1].changes] == \
        [("modified", 2), ("carried", 1)]
    assert s.applied is not None and s.applied.applied_order == [1, 2]
    assert [c.version for c in s.applied.commits] == [2, 3]


def test_rfc_and_resend_are_attributes_not_revisions(sw) -> None:
    world, db = sw
    s = series_of(db, world.msgids["gamma_resend_1"])
    assert [r.version for r in s.revisions] == [1, 2]
    first = s.revisions[0]
    assert first.posting.rfc and first.posting.key == world.msgids["gamma_v1_1"]
    assert [p.key for p in first.resends] == [world.msgids["gamma_resend_1"]]
    assert first.resends[0].resend


def test_incomplete_series_and_change_id(sw) -> None:
    world, db = sw
    m = world.msgids
    s = series_of(db, m["delta_v2_0"], ignore_links=False)
    assert keys(s) == [(1, m["delta_v1_0"]), (2, m["delta_v2_0"])]
    assert s.revisions[1].link.method == "change-id"
    assert s.revisions[0].posting.missing == [2]
    assert any("never reached the archive" in n for n in s.notes)


def test_a_chain_never_joins_two_authors(sw) -> None:
    world, db = sw
    s = series_of(db, world.msgids["erin_v2_0"])  # Dana's v1 title, Erin's own work
    assert keys(s) == [(2, world.msgids["erin_v2_0"])]
    assert s.missing_versions == [1]
    dana = series_of(db, world.msgids["delta_v1_0"])
    assert world.msgids["erin_v2_0"] not in [k for _, k in keys(dana)]


# ----------------------------------------------------------------------------- changes
def test_changelog_and_range_diff(sw) -> None:
    world, db = sw
    s = series_of(db, world.msgids["alpha_v4_0"])
    d12 = s.diffs[0]
    assert "add the fourth patch" in d12.changelog
    assert [(c.status, c.new.number if c.new else None) for c in d12.changes] == \
        [("unchanged", 1), ("modified", 2), ("unchanged", 3), ("added", 4)]
    modified = d12.changes[1]
    assert modified.title_changed and modified.delta is not None
    assert modified.delta.added == 1 and modified.delta.removed == 1
    assert any("1100" in line for line in modified.delta.sample)
    beta = series_of(db, world.msgids["beta_v2_1"])
    assert "v2: reworded" in beta.diffs[0].changelog  # notes below ---


# ----------------------------------------------------------------------------- applied
def test_applied_order_reword_edit_squash_and_never_applied(sw) -> None:
    world, db = sw
    a = series_of(db, world.msgids["alpha_v1_1"]).applied
    assert a is not None and a.version == 4
    assert a.posted_order == [1, 2, 3, 4] and a.applied_order == [2, 1] and a.reordered
    by_number = {c.number: c for c in a.commits}
    assert by_number[2].oid == world.commits["alpha_2"] and by_number[2].edited
    assert by_number[2].delta and any("1111" in s for s in by_number[2].delta.sample)
    assert not by_number[2].reworded
    assert by_number[1].reworded and by_number[1].posted_title == "alpha: tidy the first helpers"
    assert by_number[1].squashed == [3]
    assert [p.number for p in a.never_applied] == [4]


def test_split_on_apply(sw) -> None:
    world, db = sw
    a = series_of(db, world.msgids["gamma_v2_1"]).applied
    assert a is not None
    assert sorted(a.split[1]) == sorted([world.commits["gamma_a"], world.commits["gamma_b"]])


def test_never_applied_series_has_no_applied_section(sw) -> None:
    world, db = sw
    s = series_of(db, world.msgids["erin_v2_1"])
    assert s.applied is None and s.review.applied is None


# ----------------------------------------------------------------------------- review
def test_review_trail(sw) -> None:
    world, db = sw
    m = world.msgids
    s = series_of(db, m["alpha_v2_0"])
    r = s.review
    assert [x.msgid for x in r.replies[(1, 2)]] == [m["alpha_v1_rb"]]
    assert {x.msgid for x in r.replies[(1, 0)]} == {m["alpha_v1_carol"], m["alpha_v1_ghostchild"]}
    assert [x.msgid for x in r.replies[(1, 1)]] == [m["alpha_v1_question"], m["alpha_v1_answer"]]
    [tag] = r.tags
    assert (tag.key, tag.version, tag.number) == ("Reviewed-by", 1, 2)
    assert "rita@example.com" in tag.value and tag.reached == [world.commits["alpha_2"]]
    who = dict(r.participants)
    assert who["Alice Author <alice@example.org>"] >= 11 and "Rita Reviewer <rita@example.com>" in who
    assert r.first_posted == s.revisions[0].posting.date
    assert r.applied == max(c.committed for c in s.applied.commits)


# ----------------------------------------------------------------------------- reads
@pytest.mark.parametrize("ignore_links", [False, True])
def test_a_build_reads_each_body_once_and_each_message_once(sw, monkeypatch, ignore_links: bool) -> None:
    world, db = sw
    bodies: Counter[int] = Counter()
    decoded: Counter[bytes] = Counter()
    by_msgid: list[list[str]] = []
    read_body, read_msgs, decode = SqlMessages.body, SqlMessages.by_msgid, msgstore.body_parts

    def body(self: SqlMessages, msg: Msg) -> bytes | None:
        bodies[msg.id] += 1
        return read_body(self, msg)

    def msgs(self: SqlMessages, msgids: list[str]) -> dict[str, Msg]:
        by_msgid.append(list(msgids))
        return read_msgs(self, msgids)

    def parts(blob: bytes) -> tuple[str, str, str]:
        decoded[blob] += 1
        return decode(blob)

    monkeypatch.setattr(SqlMessages, "body", body)
    monkeypatch.setattr(SqlMessages, "by_msgid", msgs)
    monkeypatch.setattr(msgstore, "body_parts", parts)
    target = world.msgids["alpha_v4_2"]
    s = series_of(db, target, ignore_links)
    assert s.applied is not None and s.review.replies and s.diffs  # every reader of bodies ran
    assert bodies and max(bodies.values()) == 1 and sum(decoded.values()) == len(bodies)
    # The message named is looked up; the postings the chain builds are not read again
    # (with links, the postings "Link to vN:" lines name are looked up too).
    assert by_msgid[0] == [target]
    if ignore_links:
        assert len(by_msgid) == 1


def _one_patch_at_a_time(conn: sqlite3.Connection, patches: list[Msg]) -> set[str]:
    """What the lookups of `candidate_commits` find, asked the plain way: per patch."""
    day = 86400
    out: set[str] = set()

    def add(sql: str, *args: object) -> None:
        out.update(r[0] for r in conn.execute(sql + " LIMIT 200", args))

    for m in patches:
        if m.patch_id:
            add("SELECT oid FROM commits WHERE patch_id=?", m.patch_id)
        if m.date is None:
            continue
        add("SELECT oid FROM commits WHERE author_time=?", m.date)
        if m.norm:
            add("SELECT oid FROM commits WHERE subject_norm=? AND committer_time BETWEEN ? AND ? ORDER BY id",
                m.norm, m.date - 2 * day, m.date + 2 * 365 * day)
        rows = conn.execute(
            "SELECT oid, files FROM commits WHERE author_time BETWEEN ? AND ? AND lower(author_email)=?"
            " AND committer_time >= ? LIMIT 200",
            (m.date - 120 * day, m.date + 2 * day, m.author_email, m.date - 2 * day))
        out.update(oid for oid, f in rows if set(m.files) & set((f or "").split("\n")))
    return out


def test_candidate_commits_of_every_patch_in_a_few_statements(sw) -> None:
    _world, db = sw
    with Store.open(db, create=False) as store:
        patches = load_msgs(store.conn, "is_patch AND NOT is_reply")
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        found = candidate_commits(store.conn, patches)
        store.conn.set_trace_callback(None)
        assert found and found == _one_patch_at_a_time(store.conn, patches)
    assert len(patches) > 20 and len(statements) <= 6


# ----------------------------------------------------------------------------- CLI
def test_cli_json_and_text(sw) -> None:
    world, db = sw
    proc = run("series", "--db", str(db), "--format", "json", f"<{world.msgids['alpha_v1_2']}>")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["schema"] == 1 and [r["version"] for r in data["revisions"]] == [1, 2, 4]
    assert data["missing_versions"] == [3]
    assert data["applied"]["applied_order"] == [2, 1]
    assert data["revisions"][0]["patches"][0]["url"].startswith("https://lore.kernel.org/test/")
    text = run("series", "--db", str(db), f"https://lore.kernel.org/test/{world.msgids['alpha_v4_3']}/")
    assert text.returncode == 0, text.stderr
    assert "applied order 2, 1" in text.stdout and "never applied" in text.stdout


@pytest.mark.parametrize("target, words", [
    ("nobody@nowhere.example", "not in the index"),
    ("alpha-carol@example.net", None),  # a reply: answered through its posting
    ("deadbeefdead", "unknown revision"),
])
def test_cli_errors_are_one_line(sw, target: str, words: str | None) -> None:
    _world, db = sw
    proc = run("series", "--db", str(db), target)
    if words is None:
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 2
    assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
