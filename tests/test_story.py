"""`patchtrail story` on the demo corpus: the seed's whole story, from any starting point,
in every format."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from patchtrail.corpus.demo import (
    FOLLOWUP_APPLIED,
    SERIES_APPLIED,
)
from patchtrail.index.store import Store
from patchtrail.link.commits import load_commits
from patchtrail.link.dig import best_match, dig_commit
from patchtrail.link.urls import message_url
from patchtrail.report.story_html import render as render_html
from patchtrail.report.story_json import series_story_dict, story_dict
from patchtrail.report.story_md import render as render_md
from patchtrail.report.story_text import write_text
from patchtrail.story import followups, series_groups
from patchtrail.story.emails import emails_of, group_key, message_by_msgid, series_title
from patchtrail.story.model import CommitRef, EmailRef
from patchtrail.story.origin import commit_refs_by_oid
from patchtrail.story.series_groups import Later, group_by_series
from patchtrail.story.story import tell_story
from patchtrail.story.story_model import Story

SEED_TITLE = "Utilizing VMX preemption for timer virtualization"
FU_TITLE = "KVM: x86: Support using the VMX preemption timer for APIC Timer periodic/oneshot mode"
WHY = "Why are we using preemption timer on x86?"


@pytest.fixture(scope="module")
def demo(demo_indexed):
    """The shared demo index (tests/conftest.py)."""
    return demo_indexed

def story_of(db: Path, target: str) -> Story:
    with Store.open(db, create=False) as store:
        return tell_story(store, target)


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patchtrail", "story", "--db", str(db), *args],
                          capture_output=True, text=True, check=False)


def test_the_seed_story_of_enable_preemption_timer(demo) -> None:
    corpus, db = demo
    s = story_of(db, "enable_preemption_timer")
    birth = s.start.origin.birth
    assert birth.commit.oid == corpus.commits["seed_hook"]
    assert [p.path for p in birth.places if p.added] == ["arch/x86/kvm/vmx.c"]
    assert s.start.email.message_id == corpus.messages["v4_2"]
    # the series, v1..v4 with their dates
    assert s.series.title == SEED_TITLE and s.series.missing_versions == []
    assert [r.version for r in s.series.revisions] == [1, 2, 3, 4]
    assert all(r.posting.date for r in s.series.revisions)
    # applied as 3, 4, 1, 2, every subject reworded, the hook edited
    a = s.series.applied
    assert [c.oid for c in a.commits] == [corpus.commits[label] for label in SERIES_APPLIED]
    assert a.applied_order == [3, 4, 1, 2] and a.reordered
    assert all(c.reworded for c in a.commits)
    assert [c.oid for c in a.commits if c.edited] == [corpus.commits["seed_hook"]]
    assert any("Radim" in t.value and t.key == "Reviewed-by" for t in s.series.review.tags)
    assert s.anchor.oid == corpus.commits["seed_hook"]
    # the follow-up series: one follow-up, v1 and v3 (two threads), v2 missing, five commits
    [fu] = [f for f in s.followups if f.group.title == FU_TITLE]
    assert [r.version for r in fu.revisions] == [1, 3] and fu.missing_versions == [2]
    assert [r.posting.key for r in fu.revisions] == [corpus.messages["fu_v1"], corpus.messages["fu_v3_0"]]
    assert [r.posting.thread_root for r in fu.revisions] == [corpus.messages["fu_v1"], corpus.messages["fu_v3_0"]]
    assert [c.commit.oid for c in fu.group.commits] == [corpus.commits[label] for label in FOLLOWUP_APPLIED]
    assert fu.group.key == corpus.messages["fu_v3_0"]
    # no other follow-up holds a message of either revision
    threads = {corpus.messages["fu_v1"], corpus.messages["fu_v3_0"]}
    for other in s.followups:
        if other is not fu:
            assert other.group.key not in threads
            assert not {c.email.series_key for c in other.group.commits if c.email} & threads
    # the 2019 discussion
    assert [d.subject for d in s.discussions] == [WHY]
    assert s.discussions[0].url.endswith(f"/{corpus.messages['why_0']}/")


def test_two_symbols_a_commit_and_a_message_tell_the_same_series_story(demo) -> None:
    corpus, db = demo
    first = story_of(db, "enable_preemption_timer")
    other = story_of(db, "hv_timer_in_use")
    assert other.start.origin.birth.commit.oid == corpus.commits["seed_tscdeadline"]
    assert series_story_dict(other) == series_story_dict(first)
    for target in (corpus.commits["seed_separate"][:12], corpus.messages["v2_3"],
                   f"<{corpus.messages['v4_1_radim']}>"):
        s = story_of(db, target)
        assert series_story_dict(s) == series_story_dict(first), target
    assert story_of(db, corpus.commits["seed_separate"][:12]).start.kind == "commit"
    assert story_of(db, corpus.messages["v2_3"]).start.kind == "msgid"


def test_a_line_tells_the_story_of_the_commit_that_wrote_it(demo) -> None:
    corpus, db = demo
    vmx = (corpus.repo / "arch/x86/kvm/vmx/vmx.c").read_text().splitlines()
    line = next(i for i, text in enumerate(vmx, 1) if "enable_preemption_timer" in text)
    proc = run(db, "--repo", str(corpus.repo), "--format", "json", f"arch/x86/kvm/vmx/vmx.c:{line}")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["start"]["kind"] == "line"
    assert d["start"]["origin"]["birth"]["commit"]["oid"] == corpus.commits["seed_hook"]
    assert d["title"] == SEED_TITLE


def test_json_is_versioned_and_complete(demo) -> None:
    _, db = demo
    proc = run(db, "--format", "json", "hv_timer_in_use")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["schema"] == 1 and d["start"]["query"] == "hv_timer_in_use"
    assert d == json.loads(json.dumps(story_dict(story_of(db, "hv_timer_in_use"))))
    assert d["series"]["applied"]["applied_order"] == [3, 4, 1, 2]
    assert [f["missing_versions"] for f in d["followups"] if f["title"] == FU_TITLE] == [[2]]
    assert [x["subject"] for x in d["discussions"]] == [WHY]


def test_markdown_links_every_message_and_tables_the_reorder(demo) -> None:
    corpus, db = demo
    proc = run(db, "--format", "markdown", "enable_preemption_timer")
    assert proc.returncode == 0, proc.stderr
    md = proc.stdout
    assert md.startswith("# The story of `enable_preemption_timer`")
    for label in ("v1_0", "v2_3", "v3_4", "v4_0", "v4_2", "why_0"):
        assert f"https://lore.kernel.org/kvm/{corpus.messages[label]}/" in md, label
    rows = [ln for ln in md.splitlines() if re.match(r"\| [1-4] \| `", ln)]
    assert [int(r.split("|")[3]) for r in rows] == [3, 4, 1, 2]
    assert "reworded, edited" in rows[-1]
    assert "v2 not in the archive" in md


def test_text_names_the_whole_story_without_colours_off_a_terminal(demo) -> None:
    corpus, db = demo
    proc = run(db, "enable_preemption_timer")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "\x1b[" not in out
    for want in (corpus.commits["seed_hook"][:12], "arch/x86/kvm/vmx.c:", SEED_TITLE, "(reordered)",
                 "applied order 3, 4, 1, 2", "Reviewed-by: Radim", FU_TITLE, "v2 not in the archive",
                 WHY, "2019-08-06"):
        assert want in out, want
    assert out.index("Origin") < out.index("Series") < out.index("Follow-ups") < out.index("Later discussions")


def test_html_is_self_contained_linked_and_escaped(demo, tmp_path: Path) -> None:
    corpus, db = demo
    out = tmp_path / "s.html"
    proc = run(db, "--format", "html", "-o", str(out), "enable_preemption_timer")
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert "<svg" in page and "<script" not in page and "<link" not in page
    assert not re.search(r'\ssrc=|url\(', page)  # nothing fetched: no images, fonts, styles
    for label in ("v1_0", "v4_2", "fu_v3_0", "why_0"):
        assert f'href="https://lore.kernel.org/kvm/{corpus.messages[label]}/"' in page, label
    for label in SERIES_APPLIED + FOLLOWUP_APPLIED:
        oid = corpus.commits[label]
        assert f'id="c-{oid}"' in page and f'href="#c-{oid}"' in page, label
    # mail text is untrusted: a hostile subject is escaped everywhere it appears
    s = copy.deepcopy(story_of(db, "enable_preemption_timer"))
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    s.series.revisions[0].posting.patches[0].subject = evil
    s.series.applied.commits[0].subject = evil
    s.discussions[0].subject = evil
    s.followups[0].group.title = evil
    page = render_html(s)
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
    md = render_md(s)
    assert "<script>" not in md and "<img" not in md


def test_bad_input_is_one_line_and_exit_2(demo) -> None:
    _, db = demo
    for target, message in (("not an id!", "not an identifier"),
                            ("nobody@example.invalid", "message not in the index"),
                            ("arch/x86/kvm/lapic.c:0", "line numbers start at 1")):
        proc = run(db, target)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    proc = run(db, "never_existed_anywhere")
    assert proc.returncode == 1 and "never existed" in proc.stdout


def _email_of_message(store: Store, msgid: str) -> EmailRef:
    row = message_by_msgid(store.conn, msgid)
    key = group_key(row)
    title, url = series_title(store.conn, key, row)
    return EmailRef(msgid, row["subject"], row["list"], message_url(row["list"], msgid), row["date"],
                    "patch-id", 1.0, key, title, url)


def test_commits_from_two_revisions_in_two_threads_are_one_follow_up(demo) -> None:
    """Had v1 been applied too (a commit from its thread) as well as v3: one follow-up with
    both revisions and the six commits, whichever commit comes first. With no chain looked
    up the two threads stay apart, and say so (`untold_followups`)."""
    corpus, db = demo
    five = [corpus.commits[label] for label in FOLLOWUP_APPLIED]
    with Store.open(db, create=False) as store:
        refs = commit_refs_by_oid(store, five)
        emails = emails_of(store, five)
        first = refs[five[0]]
        from_v1 = CommitRef("f" * 40, FU_TITLE, first.author, first.author_time - 1, first.committer_time - 1)
        emails[from_v1.oid] = _email_of_message(store, corpus.messages["fu_v1"])
        later = [Later(from_v1, [], False)] + [Later(refs[oid], [], False) for oid in five]
        for order in (later, later[1:] + later[:1]):
            [fu] = group_by_series(store, order, emails, set())
            assert [r.version for r in fu.revisions] == [1, 3] and fu.missing_versions == [2]
            assert {c.commit.oid for c in fu.group.commits} == {from_v1.oid, *five}
            assert fu.group.title == FU_TITLE and fu.group.key == corpus.messages["fu_v3_0"]
        apart = group_by_series(store, later, emails, set(), lookups=0)
        assert [len(f.group.commits) for f in apart] == [1, 5] and not any(f.revisions for f in apart)


def test_follow_ups_are_linked_with_digs_own_answers(demo) -> None:
    """`best_match` (what the story links follow-ups with) leaves out lookups and scoring
    that cannot change the answer: it is `patchtrail dig`'s answer, on every commit."""
    _, db = demo
    with Store.open(db, create=False) as store:
        oids = [r[0] for r in store.conn.execute("SELECT oid FROM commits ORDER BY id")]
        for ignore_links in (False, True):
            for commit in load_commits(store, oids):
                want = dig_commit(store, commit, ignore_links).match
                got = best_match(store, commit, ignore_links)
                assert (got and (got.message_id, got.score, got.method)) == \
                    (want and (want.message_id, want.score, want.method)), commit.oid


def test_what_a_cap_leaves_out_is_said_in_every_format(demo, monkeypatch) -> None:
    _, db = demo
    full = story_of(db, "enable_preemption_timer")
    total = sum(len(f.group.commits) for f in full.followups)
    monkeypatch.setattr(followups, "MAX_COMMITS", 3)
    monkeypatch.setattr(series_groups, "MAX_FOLLOWUP_SERIES", 0)
    s = story_of(db, "enable_preemption_timer")
    assert sum(len(f.group.commits) for f in s.followups) == 3 and s.followups_truncated == total - 3
    assert not any(f.revisions for f in s.followups)
    buf = io.StringIO()
    write_text(s, Console(file=buf, no_color=True, width=200))
    for page in (buf.getvalue(), render_md(s).replace("\\", ""), render_html(s)):
        assert f"and {total - 3} more later commit(s)" in page
        assert "grouped by thread, without their revisions" in page
    assert story_dict(s)["followups_truncated"] == total - 3
