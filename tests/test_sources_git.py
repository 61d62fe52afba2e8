"""patchtrail.sources.git against real repositories built here with plain git commands."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from patchtrail.sources.errors import SourceError
from patchtrail.sources.git import GitRepo
from patchtrail.sources.records import SkipLog

ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ann Author",
    "GIT_AUTHOR_EMAIL": "ann@example.org",
    "GIT_COMMITTER_NAME": "Carl Committer",
    "GIT_COMMITTER_EMAIL": "carl@example.org",
}


def git(repo: Path, *args: str, input: bytes | None = None, env: dict | None = None) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], input=input, env={**ENV, **(env or {})},
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return out.stdout.decode("utf-8", "surrogateescape").strip()


def commit(repo: Path, message: str, when: int, tz: str = "+0200") -> str:
    date = f"{when} {tz}"
    git(repo, "commit", "-q", "--allow-empty", "-m", message,
        env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": f"{when + 60} +0000"})
    return git(repo, "rev-parse", "HEAD")


def write(repo: Path, name: str, data: bytes | str) -> None:
    p = repo / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    git(repo, "add", "--", name)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A small history: root, edits, a rename, a binary file, a branch and a merge."""
    r = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(r)], check=True, env=ENV)
    write(r, "a.c", "".join(f"int a{i};\n" for i in range(40)))
    commit(r, "root: add a.c", 1_600_000_000)
    write(r, "a.c", "".join(f"int a{i};\n" for i in range(41)))
    commit(r, "a: one more\n\nBody line.\n\nSigned-off-by: Ann Author <ann@example.org>", 1_600_000_100)
    git(r, "mv", "a.c", "b.c")
    write(r, "b.c", "".join(f"int a{i};\n" for i in range(42)))
    commit(r, "rename a.c to b.c", 1_600_000_200, "-0700")
    write(r, "bin.dat", b"\x00\x01\x02binary\xff" * 10)
    write(r, "dir with space/f\xe9.txt".encode("utf-8").decode("utf-8"), "caf\xe9\n")
    write(r, "latin1.txt", b"caf\xe9 latin-1\n")
    commit(r, "binary, a space and non-ASCII names", 1_600_000_300)
    git(r, "checkout", "-q", "-b", "side")
    write(r, "side.txt", "side\n")
    commit(r, "side work", 1_600_000_400)
    git(r, "checkout", "-q", "main")
    write(r, "b.c", "".join(f"int a{i};\n" for i in range(43)))
    commit(r, "main work", 1_600_000_500)
    git(r, "merge", "-q", "--no-ff", "-m", "Merge branch side", "side",
        env={"GIT_AUTHOR_DATE": "1600000600 +0000", "GIT_COMMITTER_DATE": "1600000600 +0000"})
    return r


def history(r: Path) -> list[str]:
    return git(r, "rev-list", "--reverse", "--topo-order", "HEAD").split()


# -- opening, resolving ---------------------------------------------------------------


def test_open_worktree_and_bare(repo: Path, tmp_path: Path) -> None:
    g = GitRepo(repo)
    assert g.path == str(repo.resolve())
    assert g.git_dir == str((repo / ".git").resolve())
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True, env=ENV)
    b = GitRepo(str(bare))
    assert b.path == str(bare.resolve()) and b.git_dir == str(bare.resolve())
    assert b.rev_list(["HEAD"]) == g.rev_list(["HEAD"])
    # One identity per repository, wherever it is opened from: what the index keys on.
    (repo / "sub" / "deeper").mkdir(parents=True, exist_ok=True)
    inner = GitRepo(repo / "sub" / "deeper")
    in_git_dir = GitRepo(repo / ".git")
    assert (g.top, g.name) == (inner.top, inner.name) == (in_git_dir.top, in_git_dir.name) \
        == (str(repo.resolve()), repo.name)
    assert (b.top, b.name) == (str(bare.resolve()), "bare")


@pytest.mark.parametrize("kind", ["missing", "plain-dir", "file"])
def test_open_not_a_repo_is_one_line(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "x"
    if kind == "plain-dir":
        p.mkdir()
    elif kind == "file":
        p.write_text("hello")
    with pytest.raises(SourceError) as err:
        GitRepo(p)
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(p.resolve()))
    if kind == "plain-dir":
        assert text == f"{p.resolve()}: not a git repository"


def test_resolve(repo: Path) -> None:
    g = GitRepo(repo)
    head = git(repo, "rev-parse", "HEAD")
    assert g.resolve("HEAD") == head
    assert g.resolve(head[:10]) == head
    git(repo, "tag", "-a", "-m", "annotated", "v1", "HEAD~1")
    assert g.resolve("v1") == git(repo, "rev-parse", "HEAD~1")
    with pytest.raises(SourceError) as err:
        g.resolve("no-such-branch")
    assert str(err.value).startswith("no-such-branch: unknown revision")
    assert "\n" not in str(err.value)
    blob = git(repo, "rev-parse", "HEAD:b.c")
    with pytest.raises(SourceError):
        g.resolve(blob)


def test_expand_commits_and_ranges(repo: Path) -> None:
    g = GitRepo(repo)
    all_ = history(repo)
    head = all_[-1]
    root = all_[0]
    assert g.expand(["HEAD"]) == [head]
    rng = g.expand([f"{root}..HEAD"])
    assert rng == all_[1:]  # oldest first, parents before children
    assert g.expand(["HEAD~2..HEAD~1"]) == [git(repo, "rev-parse", "HEAD~1")]
    assert g.expand(["HEAD~1..", "HEAD"]) == g.expand(["HEAD~1..HEAD"]) + [head]
    sym = g.expand(["main...side"])
    assert sorted(sym) == sorted(git(repo, "rev-list", "main...side").split())
    for bad in ["nope", "HEAD..nope", "nope..HEAD", "-all", ""]:
        with pytest.raises(SourceError) as err:
            g.expand(["HEAD", bad])
        assert "\n" not in str(err.value)
        if bad:
            assert str(err.value).startswith(bad + ":")


def test_rev_list_order_exclude_and_all(repo: Path) -> None:
    g = GitRepo(repo)
    all_ = g.rev_list([])
    assert all_ == history(repo)
    pos = {o: i for i, o in enumerate(all_)}
    for o in all_:
        for p in git(repo, "rev-list", "--parents", "-n1", o).split()[1:]:
            assert pos[p] < pos[o]
    tip = git(repo, "rev-parse", "HEAD~1")
    newer = g.rev_list(["HEAD"], exclude=[tip, "0" * 40, "deleted-branch"])
    assert newer == git(repo, "rev-list", "--reverse", f"{tip}..HEAD").split()
    assert g.rev_list(["HEAD"], exclude=[git(repo, "rev-parse", "HEAD")]) == []
    git(repo, "checkout", "-q", "--orphan", "lonely")
    commit(repo, "orphan", 1_600_001_000)
    git(repo, "checkout", "-q", "main")
    everything = g.rev_list(["--all"])
    assert set(everything) == set(git(repo, "rev-list", "--all").split())
    assert len(everything) == len(all_) + 1
    with pytest.raises(SourceError) as err:
        g.rev_list(["HEAD", "gone"])
    assert str(err.value).startswith("gone: unknown revision")


# -- reading commits ------------------------------------------------------------------


def test_read_commits_fields(repo: Path) -> None:
    g = GitRepo(repo)
    oids = history(repo)
    skips = SkipLog()
    recs = list(g.read_commits(oids, skips))
    assert [r.oid for r in recs] == oids
    assert skips.items == []
    by_msg = {r.message.split("\n")[0]: r for r in recs}
    root = by_msg["root: add a.c"]
    assert root.parents == () and root.diff and root.diff.startswith("diff --git a/a.c b/a.c\n")
    assert (root.author_name, root.author_email) == ("Ann Author", "ann@example.org")
    assert (root.committer_name, root.committer_email) == ("Carl Committer", "carl@example.org")
    assert (root.author_time, root.author_tz, root.committer_time) == (1_600_000_000, "+0200", 1_600_000_060)
    body = by_msg["a: one more"]
    assert body.message == "a: one more\n\nBody line.\n\nSigned-off-by: Ann Author <ann@example.org>\n"
    ren = by_msg["rename a.c to b.c"]
    assert ren.author_tz == "-0700"
    assert "rename from a.c\nrename to b.c\n" in ren.diff
    binary = by_msg["binary, a space and non-ASCII names"]
    assert "Binary files /dev/null and b/bin.dat differ" in binary.diff
    assert '"b/dir with space/f\\303\\251.txt"' in binary.diff  # quoted, as format-patch does
    merge = by_msg["Merge branch side"]
    assert merge.is_merge and merge.diff is None and merge.diff_error is None


def test_read_commits_order_duplicates_and_unknown(repo: Path) -> None:
    g = GitRepo(repo)
    oids = history(repo)
    skips = SkipLog()
    wanted = [oids[3], oids[0], oids[3], "f" * 40, oids[1], git(repo, "rev-parse", "HEAD:b.c")]
    recs = list(g.read_commits(iter(wanted), skips))
    assert [r.oid for r in recs] == [oids[3], oids[0], oids[1]]
    assert [s.reason for s in skips.items] == ["not a commit in repository"] * 2
    assert list(g.read_commits([], skips)) == []


def _patch_id(text: bytes) -> str:
    out = subprocess.run(["git", "patch-id", "--stable"], input=text, stdout=subprocess.PIPE,
                         check=True, env=ENV).stdout.decode().split()
    return out[0] if out else ""


def test_diff_has_format_patch_patch_id_despite_local_config(repo: Path) -> None:
    oids = [o for o in history(repo)
            if len(git(repo, "rev-list", "--parents", "-n1", o).split()) <= 2]
    expected = {}
    for o in oids:
        mail = subprocess.run(["git", "-C", str(repo), "format-patch", "-1", "--stdout", o],
                              stdout=subprocess.PIPE, check=True, env=ENV).stdout
        expected[o] = _patch_id(mail)
    assert all(expected.values())
    # A user's configuration must not change what is read.
    for key, value in [("diff.noprefix", "true"), ("color.ui", "always"), ("diff.renames", "false"),
                       ("core.quotePath", "false"), ("diff.algorithm", "histogram"),
                       ("diff.context", "5"), ("log.showSignature", "false")]:
        git(repo, "config", key, value)
    g = GitRepo(repo)
    for rec in g.read_commits(oids, SkipLog()):
        data = rec.diff.encode("utf-8", "surrogateescape")
        assert _patch_id(b"commit " + rec.oid.encode() + b"\n" + data) == expected[rec.oid], rec.message
    latin = [r for r in g.read_commits(oids, SkipLog()) if "latin1.txt" in (r.diff or "")][0]
    assert b"+caf\xe9 latin-1\n" in latin.diff.encode("utf-8", "surrogateescape")


# -- missing objects ------------------------------------------------------------------


def _loose_repo(tmp_path: Path, n: int) -> tuple[Path, list[str]]:
    r = tmp_path / "loose"
    subprocess.run(["git", "init", "-q", "-b", "main", str(r)], check=True, env=ENV)
    git(r, "config", "gc.auto", "0")
    oids = []
    for i in range(n):
        write(r, f"f{i}.txt", f"content of file {i}\n" * (i + 1))
        oids.append(commit(r, f"commit {i}", 1_600_000_000 + i))
    return r, oids


def _drop_blob(r: Path, spec: str) -> str:
    blob = git(r, "rev-parse", spec)
    path = r / ".git" / "objects" / blob[:2] / blob[2:]
    assert path.exists(), "expected a loose object"
    path.chmod(0o644)
    path.unlink()
    return blob


@pytest.mark.parametrize("batch", [10000, 2])
@pytest.mark.parametrize("broken", [[3], [0], [9], [3, 4], [2, 7]])
def test_missing_blob_marks_commit_and_continues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 batch: int, broken: list[int]) -> None:
    monkeypatch.setattr(GitRepo, "LOG_BATCH", batch)
    r, oids = _loose_repo(tmp_path, 10)
    blobs = {oids[i]: _drop_blob(r, f"{oids[i]}:f{i}.txt") for i in broken}
    # plain git log dies on it
    assert subprocess.run(["git", "-C", str(r), "log", "-p"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=ENV).returncode != 0
    skips = SkipLog()
    recs = list(GitRepo(r).read_commits(oids, skips))
    assert [x.oid for x in recs] == oids  # none lost, none twice, order kept
    for i, rec in enumerate(recs):
        assert rec.message == f"commit {i}\n"
        assert rec.author_time == 1_600_000_000 + i
        if rec.oid in blobs:
            assert rec.diff is None
            assert rec.diff_error == f"unreadable object {blobs[rec.oid]}"
        else:
            assert rec.diff_error is None
            assert f"+++ b/f{i}.txt\n" in rec.diff
    assert [(s.where, s.reason) for s in skips.items] == [(o, "unreadable object") for o in oids
                                                          if o in blobs]


def test_missing_blob_in_rename_detection(tmp_path: Path) -> None:
    """Rename detection reads blobs before git prints the commit: it dies between commits."""
    r, oids = _loose_repo(tmp_path, 3)
    git(r, "mv", "f1.txt", "g1.txt")
    write(r, "g1.txt", "content of file 1\ncontent of file 1\nmore\n")
    moved = commit(r, "move", 1_600_000_100)
    write(r, "h.txt", "after\n")
    after = commit(r, "after", 1_600_000_200)
    blob = _drop_blob(r, f"{moved}:g1.txt")
    skips = SkipLog()
    recs = list(GitRepo(r).read_commits([*oids, moved, after], skips))
    assert [x.oid for x in recs] == [*oids, moved, after]
    assert recs[3].diff is None and recs[3].diff_error == f"unreadable object {blob}"
    assert all(x.diff for x in recs if x.oid != moved)
    assert len(skips.items) == 1


def test_one_git_source_whichever_command_registers_it(repo: Path, tmp_path: Path) -> None:
    from patchtrail.index.ingest import index_repo
    from patchtrail.index.store import Store
    from patchtrail.link.remote import attach_repository

    (repo / "sub").mkdir(exist_ok=True)
    with Store.open(tmp_path / "x.db") as store:
        attach_repository(store, repo / "sub")    # `dig --remote`, run in a subdirectory
        index_repo(store, repo)                   # then `patchtrail index --repo .` at the top
        index_repo(store, repo / "sub")           # or from the subdirectory again
        assert [(s.path, s.name) for s in store.sources("git")] == [(str(repo.resolve()), repo.name)]
