"""`patchtrail dig` on a world whose answers are known, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from worlds import ALICE, BASE_FILES, DAY, LIST_ADDR, LIST_ID, MAINT, T0, World

from patchtrail.corpus.archives import write_public_inbox_v2
from patchtrail.corpus.gitwrite import CommitSpec, format_patches, write_repo
from patchtrail.corpus.mails import patch_mail, render_mail


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patchtrail", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def indexed(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dig")
    inbox = write_public_inbox_v2(root / "inbox", world.mails, "test", LIST_ADDR)
    db = root / "x.db"
    proc = run("index", "--db", str(db), "--repo", str(world.repo), "--archive", str(inbox), "-q")
    assert proc.returncode == 0, proc.stderr
    return db


def dig_json(db: Path, *revs: str, ignore_links: bool = True) -> list[dict]:
    args = ["dig", "--db", str(db), "--format", "jsonl", *(["--ignore-links"] if ignore_links else []), *revs]
    proc = run(*args)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.mark.parametrize("label", ["exact", "reroll", "edited", "linked"])
def test_each_commit_links_to_its_mail_blind(world: World, indexed: Path, label: str) -> None:
    [result] = dig_json(indexed, world.commits[label])
    assert result["commit"] == world.commits[label]
    assert result["message_id"] == world.msgids[world.expected[label]]
    assert result["url"].endswith(f"/test/{result['message_id']}/")
    assert result["score"] >= 0.5


def test_methods_say_how_it_was_decided(world: World, indexed: Path) -> None:
    by = {r["commit"]: r for r in dig_json(indexed, world.commits["exact"], world.commits["edited"],
                                            world.commits["reroll"])}
    assert by[world.commits["exact"]]["method"] == "patch-id+date"
    assert by[world.commits["edited"]]["method"] == "fuzzy-diff"
    reroll = by[world.commits["reroll"]]
    assert reroll["method"] == "patch-id+date"
    # the earlier revision with the same diff is a runner-up, not the answer
    assert world.msgids["reroll-v1"] in [c["message_id"] for c in reroll["candidates"]]


def test_link_trailer_wins_when_not_ignored(world: World, indexed: Path) -> None:
    [result] = dig_json(indexed, world.commits["linked"], ignore_links=False)
    assert result["method"] == "link" and result["link_ids"] == [world.msgids["linked"]]


def test_merge_and_mailless_commits_find_nothing(world: World, indexed: Path) -> None:
    results = dig_json(indexed, world.commits["merge"], world.commits["nomail"])
    assert [r["message_id"] for r in results] == [None, None]
    assert "merge" in results[0]["note"]
    proc = run("dig", "--db", str(indexed), world.commits["nomail"])
    assert proc.returncode == 1


def test_range_is_expanded_oldest_first(world: World, indexed: Path) -> None:
    results = dig_json(indexed, f"{world.commits['base']}..{world.commits['linked']}")
    assert [r["commit"] for r in results] == [world.commits[k] for k in ("exact", "reroll", "edited", "linked")]
    assert all(r["message_id"] for r in results)


def test_text_and_json_formats(world: World, indexed: Path) -> None:
    proc = run("dig", "--db", str(indexed), world.commits["edited"][:12])
    assert proc.returncode == 0
    assert "edited@example.org" in proc.stdout
    proc = run("dig", "--db", str(indexed), "--format", "json", world.commits["exact"])
    data = json.loads(proc.stdout)
    assert data[0]["message_id"] == "exact@example.org"


def test_unknown_revision_is_one_line_exit_2(indexed: Path) -> None:
    proc = run("dig", "--db", str(indexed), "no-such-rev")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no-such-rev" in proc.stderr


def test_a_later_alike_repost_does_not_replace_the_exact_posting(tmp_path: Path) -> None:
    """The commit carries v2's diff byte for byte and v2's date; the same change posted
    again later inside another series, on another base (a context line differs, so not
    the same patch-id), must not replace it (seen on LTP: process_vm01)."""
    base = dict(BASE_FILES)
    changed = dict(base, **{"lib/beta.c": base["lib/beta.c"].replace(
        "return 10;", "return 1000;").replace("return 11;", "return 1100;").replace(
        "return 12;", "return 1200;")})
    spec = [CommitSpec("Initial import", MAINT, T0, files=base, name="base"),
            CommitSpec("beta: widen beta_10 to beta_12", ALICE, T0 + 5 * DAY, files=changed,
                       name="change")]
    ids = write_repo(tmp_path / "posted", spec)
    patch = format_patches(tmp_path / "posted", ["--root", "master"])[ids["change"]]
    far = " int beta_14(void) { return 14; }"
    assert far in patch
    repost = patch.replace(far, " int beta_14(void) { return -14; }")
    kw = dict(signed_off_by=[ALICE], list_id=LIST_ID, list_address=LIST_ADDR)
    mails = [patch_mail("v2@example.org", "[PATCH v2] beta: widen beta_10 to beta_12", ALICE,
                        T0 + 5 * DAY, "Widen them.", patch, **kw),
             patch_mail("repost@example.org", "[PATCH 3/4] beta: widen beta_10 to beta_12", ALICE,
                        T0 + 7 * DAY, "Part of a larger series.", repost, **kw)]
    real = [spec[0], CommitSpec("beta: widen beta_10 to beta_12", ALICE, T0 + 5 * DAY,
                                body="Widen them.", committer=MAINT, committer_time=T0 + 9 * DAY,
                                files=changed, name="change")]
    commits = write_repo(tmp_path / "repo", real)
    inbox = write_public_inbox_v2(tmp_path / "inbox", [render_mail(m) for m in mails], "test", LIST_ADDR)
    db = tmp_path / "x.db"
    proc = run("index", "--db", str(db), "--repo", str(tmp_path / "repo"), "--archive", str(inbox), "-q")
    assert proc.returncode == 0, proc.stderr
    [result] = dig_json(db, commits["change"])
    assert (result["message_id"], result["method"]) == ("v2@example.org", "patch-id+date")
    assert "repost@example.org" in [c["message_id"] for c in result["candidates"]]
