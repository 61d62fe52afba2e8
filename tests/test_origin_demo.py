"""The issue's expectations of `patchtrail origin` on the demo corpus (the seed's story)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from patchtrail.corpus.demo import (
    FOLLOWUP_APPLIED,
    SERIES_APPLIED,
)
from patchtrail.corpus.gitwrite import git
from patchtrail.index.store import Store
from patchtrail.sources.git import GitRepo
from patchtrail.story.model import MOVE, RENAME, OriginStory
from patchtrail.story.origin import parse_target, tell


@pytest.fixture(scope="module")
def demo(demo_indexed):
    """The shared demo index (tests/conftest.py)."""
    return demo_indexed

def _story(demo, target: str, path: str | None = None) -> OriginStory:
    corpus, db = demo
    t = parse_target(target)
    t.path = path if t.symbol else t.path
    with Store.open(db, create=False) as store:
        return tell(store, t, GitRepo(corpus.repo), None)


def test_every_labelled_symbol_is_born_where_the_corpus_says(demo) -> None:
    corpus, _ = demo
    for symbol, label in corpus.symbols.items():
        o = _story(demo, symbol).origin
        assert o.birth is not None, symbol
        assert o.birth.commit.oid == corpus.commits[label], (symbol, o.birth.commit.subject)


def test_the_seed_symbols_name_the_same_origin_series(demo) -> None:
    corpus, _ = demo
    hook = _story(demo, "enable_preemption_timer")
    tsc = _story(demo, "hv_timer_in_use")
    assert hook.origin.birth.commit.oid == corpus.commits["seed_hook"]
    assert tsc.origin.birth.commit.oid == corpus.commits["seed_tscdeadline"]
    assert hook.origin.email.message_id == corpus.messages["v4_2"]
    assert tsc.origin.email.message_id == corpus.messages["v4_4"]
    for story in (hook, tsc):
        assert story.origin.email.series_key == corpus.messages["v4_0"]
        assert story.origin.email.series_title == corpus.story["series_title"]
        assert [c.oid for c in story.series_commits] == [corpus.commits[x] for x in SERIES_APPLIED]
    # born on the module parameter's line
    (place,) = hook.origin.birth.places
    text = git(["show", f"{corpus.commits['seed_hook']}:{place.path}"], cwd=corpus.repo).decode()
    assert "enable_preemption_timer" in text.splitlines()[place.line - 1]


def test_followup_series_with_its_five_commits(demo) -> None:
    corpus, _ = demo
    for symbol in ("enable_preemption_timer", "hv_timer_in_use"):
        story = _story(demo, symbol)
        groups = {g.title: g for g in story.followups}
        fu = groups[corpus.story["followup_title"]]
        assert [c.commit.oid for c in fu.commits] == [corpus.commits[x] for x in FOLLOWUP_APPLIED]
        assert fu.key == corpus.messages["fu_v3_0"]
        # the origin series' own commits are not follow-ups
        later = {c.commit.oid for g in story.followups for c in g.commits}
        assert not later & {corpus.commits[x] for x in SERIES_APPLIED}


def test_the_2019_discussion(demo) -> None:
    corpus, _ = demo
    for symbol in ("enable_preemption_timer", "hv_timer_in_use"):
        story = _story(demo, symbol)
        keys = [d.root_key for d in story.discussions]
        assert corpus.messages[corpus.story["why_thread"]] in keys, symbol
        # neither the series' own threads nor the follow-up's count as later discussions
        assert corpus.messages["v4_0"] not in keys and corpus.messages["fu_v3_0"] not in keys
    why = next(d for d in _story(demo, "enable_preemption_timer").discussions
               if d.root_key == corpus.messages["why_0"])
    assert "symbol" in why.matched and "commit subject" in why.matched


def test_moved_symbol_keeps_its_real_birth(demo) -> None:
    corpus, _ = demo
    move = corpus.moves["cpu_has_vmx_preemption_timer"]
    rename = corpus.renames["arch/x86/kvm/vmx.c"]
    for path in (None, move["to"]):
        o = _story(demo, "cpu_has_vmx_preemption_timer", path=path).origin
        assert o.birth is not None and o.birth.commit.oid == corpus.commits[move["birth"]], path
        kinds = [(e.kind, e.commit.oid, e.moved_from, e.moved_to) for e in o.moves]
        assert (RENAME, corpus.commits[rename["commit"]], ["arch/x86/kvm/vmx.c"], [rename["to"]]) in kinds
        assert (MOVE, corpus.commits[move["move"]], [move["from"]], [move["to"]]) in kinds
    # git log -S on the file the helper lives in now takes the move for its birth
    pickaxe = git(["log", "-S", "cpu_has_vmx_preemption_timer", "--reverse", "--format=%H", "--",
                   move["to"]], cwd=corpus.repo).decode().split()
    assert pickaxe[0] == corpus.commits[move["move"]]


def test_renamed_file_line(demo) -> None:
    corpus, _ = demo
    rename = corpus.renames["arch/x86/kvm/vmx.c"]
    text = git(["show", f"master:{rename['to']}"], cwd=corpus.repo).decode().splitlines()
    line = next(i for i, t in enumerate(text, 1) if "enable_preemption_timer = 1" in t)
    o = _story(demo, f"{rename['to']}:{line}").origin
    assert o.birth.commit.oid == corpus.commits["seed_hook"]
    assert o.line.origin_path == "arch/x86/kvm/vmx.c"


def test_cli_json_on_the_demo(demo) -> None:
    corpus, db = demo
    proc = subprocess.run([sys.executable, "-m", "patchtrail", "origin", "--db", str(db), "--format",
                           "json", "hv_timer_in_use"], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["birth"]["commit"]["oid"] == corpus.commits["seed_tscdeadline"]
    assert data["series"]["title"] == corpus.story["series_title"]
    assert any(g["title"] == corpus.story["followup_title"] and len(g["commits"]) == 5
               for g in data["followups"])
    assert any(d["thread"] == corpus.messages["why_0"] for d in data["discussions"])
