"""`patchtrail series` on the demo corpus: the seed's series, its follow-up, and every other
series the corpus posted, all chained blind (links and change-ids hidden)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from patchtrail.corpus.demo import (
    FOLLOWUP_APPLIED,
    SERIES_APPLIED,
)
from patchtrail.index.store import Store
from patchtrail.link.series import build_series
from patchtrail.link.series_model import Series


@pytest.fixture(scope="module")
def demo(demo_indexed):
    """The shared demo index (tests/conftest.py)."""
    return demo_indexed

def series_of(db: Path, target: str) -> Series:
    with Store.open(db, create=False) as store:
        return build_series(store, target, ignore_links=True)


def test_the_seed_series_from_any_commit_or_message(demo) -> None:
    corpus, db = demo
    first = series_of(db, corpus.commits["seed_hook"])
    want = [(r.version, r.posting.key) for r in first.revisions]
    assert [v for v, _ in want] == [1, 2, 3, 4]
    assert want[3][1] == corpus.messages["v4_0"]
    targets = [corpus.commits[label] for label in SERIES_APPLIED]
    targets += [corpus.messages[f"v{v}_{n}"] for v in (1, 2, 3, 4) for n in range(5)]
    targets += [corpus.messages["v4_1_radim"], corpus.messages["v4_0_paolo"]]
    for target in targets:
        assert [(r.version, r.posting.key) for r in series_of(db, target).revisions] == want, target


def test_the_seed_series_applied_reordered_reworded_and_edited(demo) -> None:
    corpus, db = demo
    s = series_of(db, corpus.messages["v2_3"])
    assert s.title == "Utilizing VMX preemption for timer virtualization"
    assert s.revisions[0].posting.rfc and s.missing_versions == []
    a = s.applied
    assert a is not None and a.version == 4
    assert a.posted_order == [1, 2, 3, 4] and a.applied_order == [3, 4, 1, 2]
    assert [c.oid for c in a.commits] == [corpus.commits[label] for label in SERIES_APPLIED]
    assert all(c.reworded for c in a.commits)
    edited = [c for c in a.commits if c.edited]
    assert [c.oid for c in edited] == [corpus.commits["seed_hook"]]
    assert any("CONFIG_X86_64" in line for line in edited[0].delta.sample)
    reached = {(t.number, tuple(t.reached)) for t in s.review.tags if t.key == "Reviewed-by"}
    assert reached == {(1, (corpus.commits["seed_rename"],)), (3, (corpus.commits["seed_separate"],))}
    assert "Radim Krčmář <rkrcmar@redhat.com>" in dict(s.review.participants)
    assert "Changes since v3" in s.diffs[2].changelog


def test_the_follow_up_grows_from_one_patch_to_five_with_v2_missing(demo) -> None:
    corpus, db = demo
    for target in (corpus.messages["fu_v1"], corpus.messages["fu_v3_4"], corpus.commits["fu_periodic"]):
        s = series_of(db, target)
        assert [(r.version, len(r.posting.patches)) for r in s.revisions] == [(1, 1), (3, 5)]
        assert s.missing_versions == [2]
        assert s.applied is not None and s.applied.applied_order == [1, 2, 3, 4, 5]
        assert [c.oid for c in s.applied.commits] == [corpus.commits[x] for x in FOLLOWUP_APPLIED]


def test_every_demo_series_chains_to_its_own_revisions_blind(demo) -> None:
    corpus, db = demo
    groups: dict[str, dict[int, str]] = defaultdict(dict)
    for name, labels in corpus.series.items():
        m = re.fullmatch(r"(.*)_v(\d+)", name)
        assert m, name
        groups[m.group(1)][int(m.group(2))] = corpus.messages[labels[0]]
    wrong = []
    for group, revisions in sorted(groups.items()):
        got = {r.version: r.posting.key for r in series_of(db, revisions[min(revisions)]).revisions}
        if got != revisions:
            wrong.append((group, revisions, got))
    assert not wrong, wrong[:5]
    assert len(groups) > 200

