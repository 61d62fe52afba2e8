"""The README's main command on the bundled corpus, and blind linking of every demo commit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from patchtrail.corpus.demo import SERIES_APPLIED, DemoCorpus, build_demo

V4 = {
    "seed_rename": "[PATCH V4 1/4] Rename the vmx_pre/post_block to pi_pre/post_block",
    "seed_hook": "[PATCH V4 2/4] Utilize the vmx preemption timer",
    "seed_separate": "[PATCH V4 3/4] Separate the start_sw_tscdeadline",
    "seed_tscdeadline": "[PATCH V4 4/4] Utilize the vmx preemption timer for tsc deadline timer",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patchtrail", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("demo") / "d"
    return root, run("demo", "--dir", str(root))


def test_demo_prints_the_four_commits_in_applied_order(demo) -> None:
    root, proc = demo
    assert proc.returncode == 0, proc.stderr
    assert (root / "repo" / ".git").is_dir() and (root / "archive" / "git" / "0.git").is_dir()
    assert (root / "patchtrail.db").is_file()
    positions = [proc.stdout.index(V4[label]) for label in SERIES_APPLIED]
    assert positions == sorted(positions)
    # posted 3/4, 4/4, 1/4, 2/4: the applied order of the seed
    assert [V4[label][10:13] for label in SERIES_APPLIED] == ["3/4", "4/4", "1/4", "2/4"]
    assert "lore.kernel.org/kvm/1465852801-6684-3-git-send-email-yunhong.jiang@linux.intel.com/" in proc.stdout
    assert "fuzzy-diff" in proc.stdout  # the patch Paolo edited on apply
    assert "PATCHTRAIL_DB=" in proc.stdout


def test_demo_refuses_a_non_empty_dir(demo) -> None:
    root, _ = demo
    proc = run("demo", "--dir", str(root))
    assert proc.returncode == 2 and "not an empty directory" in proc.stderr


def test_blind_dig_links_every_demo_commit(tmp_path: Path) -> None:
    """Each of the ~340 commits: the expected mail, or none for those that came from none."""
    corpus: DemoCorpus = build_demo(tmp_path)
    db = tmp_path / "x.db"
    proc = run("index", "--db", str(db), "--repo", str(corpus.repo), "--archive", str(corpus.archive), "-q")
    assert proc.returncode == 0, proc.stderr
    proc = run("dig", "--db", str(db), "--ignore-links", "--format", "jsonl", f"{corpus.commits['initial']}..master")
    results = {r["commit"]: r for r in map(json.loads, proc.stdout.splitlines())}
    wrong = []
    for label, oid in corpus.commits.items():
        if oid not in results:
            continue
        expected = corpus.expected_links.get(label)
        want = corpus.messages[expected] if expected else None
        if results[oid]["message_id"] != want:
            wrong.append((label, want, results[oid]["message_id"]))
    assert len(results) >= 300
    assert wrong == []
    # the edited patch and the applied revision, not v1..v3 with nearly the same diff
    hook = results[corpus.commits["seed_hook"]]
    assert hook["message_id"] == corpus.messages["v4_2"] and hook["method"] == "fuzzy-diff"
    assert {c["version"] for c in hook["candidates"]} >= {1, 2, 3}
