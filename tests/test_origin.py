"""`patchtrail origin` on a small real repository that holds every hard case once.

History (master unless said otherwise):
  base     lib/a.c, lib/x.c, doc/notes.txt
  born     alpha_helper() in lib/a.c
  renamed  lib/a.c -> lib/core/a.c (pure rename)
  beta     beta_func() in lib/x.c
  moved    beta_func() moved from lib/x.c to lib/y.c
  gamma    gamma_state in lib/g.c (new file)
  gone     lib/g.c deleted (gamma_state disappears)
  again    gamma_state re-added in lib/h.c
  side     (branch side) delta_side in lib/side.c;  merge: merges side
  long     a long call in lib/r.c;  reflow: that call split over two lines
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from patchtrail.corpus.gitwrite import CommitSpec, Person, git, write_repo
from patchtrail.index.ingest import index_repo
from patchtrail.index.store import Store
from patchtrail.sources.git import GitRepo
from patchtrail.story.model import BIRTH, DELETION, MOVE, REBIRTH, RENAME
from patchtrail.story.origin import TargetError, parse_target, tell

ANN = Person("Ann Dev", "ann@example.org")
T0 = 1_500_000_000
DAY = 86400

A_C = "int main_loop(void)\n{\n\treturn 0;\n}\n"
ALPHA = "\nstatic int alpha_helper(int x)\n{\n\treturn x + 1;\n}\n"
X_C = "int x_init(void)\n{\n\treturn 1;\n}\n"
BETA = "\nint beta_func(int v)\n{\n\treturn v * 2;\n}\n"
R_ONE = "void run(void)\n{\n\tresult = compute_value(first_argument, second_argument, third_argument);\n}\n"
R_TWO = ("void run(void)\n{\n\tresult = compute_value(first_argument, second_argument,\n"
         "\t\t\t       third_argument);\n}\n")


def _history() -> list[CommitSpec]:
    t = iter(range(T0, T0 + 100 * DAY, DAY))
    c = lambda subject, name, **kw: CommitSpec(subject, ANN, next(t), name=name, **kw)  # noqa: E731
    return [
        c("base", "base", files={"lib/a.c": A_C, "lib/x.c": X_C, "doc/notes.txt": "notes\n"}),
        c("lib: add alpha_helper", "born", files={"lib/a.c": A_C + ALPHA}),
        c("lib: move a.c into core/", "renamed", renames={"lib/a.c": "lib/core/a.c"}),
        c("lib: add beta_func", "beta", files={"lib/x.c": X_C + BETA}),
        c("lib: move beta_func to y.c", "moved", files={"lib/x.c": X_C, "lib/y.c": "/* y */" + BETA}),
        c("lib: add gamma", "gamma", files={"lib/g.c": "int gamma_state;\n"}),
        c("lib: drop g.c", "gone", files={"lib/g.c": None}),
        c("lib: bring gamma back", "again", files={"lib/h.c": "long gamma_state;\n"}),
        c("side: add delta_side", "side", branch="side", files={"lib/side.c": "int delta_side;\n"}),
        c("Merge branch 'side'", "merge", merge_of="side", files={"lib/side.c": "int delta_side;\n"}),
        c("run: compute", "long", files={"lib/r.c": R_ONE}),
        c("run: reflow the long call", "reflow", files={"lib/r.c": R_TWO}),
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("origin")
    ids = write_repo(root / "repo", _history())
    db = root / "o.db"
    with Store.open(db) as store:
        index_repo(store, root / "repo")
    return root / "repo", db, ids


def _tell(world, target: str, path: str | None = None):
    repo, db, _ = world
    t = parse_target(target)
    t.path = path if t.symbol else t.path
    with Store.open(db, create=False) as store:
        return tell(store, t, GitRepo(repo), None)


def test_rename_is_followed_not_a_birth(world) -> None:
    _, _, ids = world
    o = _tell(world, "alpha_helper").origin
    assert o.birth is not None and o.birth.commit.oid == ids["born"]
    assert [(p.path, p.line) for p in o.birth.places] == [("lib/a.c", 6)]
    assert [(e.kind, e.commit.oid, e.moved_from, e.moved_to) for e in o.moves] == [
        (RENAME, ids["renamed"], ["lib/a.c"], ["lib/core/a.c"])]
    limited = _tell(world, "alpha_helper", path="lib/core/a.c").origin
    assert limited.birth is not None and limited.birth.commit.oid == ids["born"]


def test_move_between_files_is_not_a_birth(world) -> None:
    repo, _, ids = world
    o = _tell(world, "beta_func").origin
    assert o.birth is not None and o.birth.commit.oid == ids["beta"]
    assert [(e.kind, e.commit.oid, e.moved_from, e.moved_to) for e in o.moves] == [
        (MOVE, ids["moved"], ["lib/x.c"], ["lib/y.c"])]
    # What `git log -S` says when asked about the file the function lives in now:
    pickaxe = git(["log", "-S", "beta_func", "--reverse", "--format=%H", "--", "lib/y.c"], cwd=repo)
    assert pickaxe.decode().split()[0] == ids["moved"]
    limited = _tell(world, "beta_func", path="lib/y.c").origin
    assert limited.birth is not None and limited.birth.commit.oid == ids["beta"]
    assert [e.commit.oid for e in limited.moves] == [ids["moved"]]


def test_born_twice(world) -> None:
    _, _, ids = world
    o = _tell(world, "gamma_state").origin
    assert o.birth is not None and o.birth.commit.oid == ids["gamma"]
    # The deletion is a deleted file: reconstructed from what lib/g.c held.
    assert [(e.kind, e.commit.oid) for e in o.deletions] == [(DELETION, ids["gone"])]
    assert [(p.path, p.removed) for p in o.deletions[0].places] == [("lib/g.c", 1)]
    assert [(e.kind, e.commit.oid) for e in o.rebirths] == [(REBIRTH, ids["again"])]
    assert [e.kind for e in o.events] == [BIRTH, DELETION, REBIRTH]
    assert o.alive


def test_merge_gives_the_side_commit(world) -> None:
    _, db, ids = world
    o = _tell(world, "delta_side").origin
    assert o.birth is not None and o.birth.commit.oid == ids["side"]
    assert [e.commit.oid for e in o.events] == [ids["side"]]
    with Store.open(db, create=False) as store:
        merge_rows = store.conn.execute(
            "SELECT count(*) FROM ident_changes i JOIN commits c ON c.id = i.commit_id WHERE c.oid=?",
            (ids["merge"],)).fetchone()[0]
    assert merge_rows == 0  # merges carry no diff in the index


def test_never_existed(world) -> None:
    o = _tell(world, "no_such_identifier").origin
    assert o.birth is None and not o.events
    assert "never existed" in (o.note or "")


def test_reflowed_line_looks_through_the_reflow(world) -> None:
    repo, _, ids = world
    for line in (3, 4):  # both halves of the reflowed call
        o = _tell(world, f"lib/r.c:{line}").origin
        assert o.birth is not None and o.birth.commit.oid == ids["long"], line
        assert o.line is not None
        assert [c.oid for c in o.line.skipped] == [ids["reflow"]]
        assert (o.line.origin_path, o.line.origin_line) == ("lib/r.c", 3)
        assert [c.oid for c in o.line.chain] == [ids["reflow"]]
    # Plain blame stops at the reflow.
    blame = git(["blame", "--porcelain", "-w", "-M", "-C", "-C", "-L", "4,4", "HEAD", "--", "lib/r.c"],
                cwd=repo)
    assert blame.decode().split()[0] == ids["reflow"]


def test_line_of_an_older_revision(world) -> None:
    _, _, ids = world
    o = _tell(world, f"lib/r.c:3@{ids['long']}").origin
    assert o.birth is not None and o.birth.commit.oid == ids["long"] and o.line is not None
    assert o.line.skipped == [] and o.line.chain == []


@pytest.mark.parametrize("bad", ["a b", "x", "9lives", "lib/r.c:0", ""])
def test_bad_targets(bad: str) -> None:
    with pytest.raises(TargetError):
        parse_target(bad)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patchtrail", *args], check=False, capture_output=True, text=True)


def test_cli_exit_codes(world) -> None:
    repo, db, ids = world
    found = run("origin", "--db", str(db), "--format", "json", "beta_func")
    assert found.returncode == 0, found.stderr
    data = json.loads(found.stdout)
    assert data["schema"] == 1 and data["found"] and data["birth"]["commit"]["oid"] == ids["beta"]
    assert data["moves"][0]["moved_to"] == ["lib/y.c"]
    missing = run("origin", "--db", str(db), "no_such_identifier")
    assert missing.returncode == 1
    assert "no_such_identifier" in missing.stdout and "never existed" in missing.stdout
    for args, word in ((["a b"], "not an identifier"), (["lib/r.c:99"], "lib/r.c:99"),
                       (["lib/nope.c:1"], "nope.c"), (["lib/r.c:1@nosuchrev"], "nosuchrev"),
                       (["--path", "lib", "lib/r.c:1"], "--path")):
        bad = run("origin", "--db", str(db), "--repo", str(repo), *args)
        assert bad.returncode == 2, (args, bad.stdout, bad.stderr)
        assert bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1, bad.stderr
        assert word in bad.stderr and "Traceback" not in bad.stderr
    text = run("origin", "--db", str(db), "--repo", str(repo), "lib/r.c:4")
    assert text.returncode == 0 and ids["long"][:12] in text.stdout and "reflow" in text.stdout
