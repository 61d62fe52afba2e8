"""The identifier index: what a diff adds and removes, and how the index stores it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from patchtrail.corpus.gitwrite import CommitSpec, Person, write_repo
from patchtrail.index.ingest import index_repo
from patchtrail.index.store import Store
from patchtrail.mail.idents import diff_idents, tokens
from patchtrail.mail.prose import prose
from patchtrail.sources.git import GitRepo
from patchtrail.sources.records import SkipLog

BOB = Person("Bob", "bob@example.org")
T0 = 1_600_000_000


def _diffs(repo: Path, ids: dict[str, str]) -> dict[str, str]:
    by_oid = {r.oid: r.diff or "" for r in GitRepo(repo).read_commits(list(ids.values()), SkipLog())}
    return {label: by_oid[oid] for label, oid in ids.items()}


def test_tokens() -> None:
    assert tokens("if (x && enable_preemption_timer) foo_bar(0x1f, 2abc, CONFIG_KVM);") == [
        "enable_preemption_timer", "foo_bar", "CONFIG_KVM"]
    assert tokens("a" * 81) == [] and tokens("été naïve") == ["été", "naïve"]


def test_diff_idents_counts_lines_renames_deletions(tmp_path: Path) -> None:
    old = "".join(f"int keep_{i};\n" for i in range(10))
    new = old.replace("int keep_3;\n", "int keep_3, fresh_name;\nint fresh_name_2; /* fresh_name */\n")
    ids = write_repo(tmp_path / "r", [
        CommitSpec("base", BOB, T0, files={"a.c": old, "gone.c": "int doomed;\n", "b.bin": "x\0y\n"},
                   name="base"),
        CommitSpec("edit", BOB, T0 + 1, files={"a.c": new, "gone.c": None, "b.bin": "z\0w\n"},
                   name="edit"),
        CommitSpec("rename", BOB, T0 + 2, renames={"a.c": "src/a.c"}, name="rename"),
    ])
    d = _diffs(tmp_path / "r", ids)
    edit = diff_idents(d["edit"])
    rows = {(p, t): (a, r, line) for p, t, a, r, line in edit.rows}
    assert rows[("a.c", "fresh_name")] == (2, 0, 4)
    assert rows[("a.c", "fresh_name_2")] == (1, 0, 5)
    assert rows[("a.c", "keep_3")] == (1, 1, 4)   # an edited line: removed and added
    assert ("a.c", "keep_4") not in rows          # context says nothing
    assert ("a.c", "int") in rows                 # every word-like token, not only C names
    assert edit.deleted == ["gone.c"]             # no rows for a deleted file, only its path
    assert not any(p in ("gone.c", "b.bin") for p, *_ in edit.rows)
    base = diff_idents(d["base"])
    assert {(p, t) for p, t, *_ in base.rows} >= {("a.c", "keep_9"), ("gone.c", "doomed")}
    assert not any(p == "b.bin" for p, *_ in base.rows)  # binary: nothing
    rename = diff_idents(d["rename"])
    assert rename.renames == [("a.c", "src/a.c")] and rename.rows == []


def _snapshot(db: Path) -> tuple[set[tuple], set[tuple]]:
    """The identifier index by names and oids (ids may differ between two builds)."""
    conn = sqlite3.connect(db)
    rows = set(conn.execute(
        "SELECT c.oid, p.path, i.name, x.added, x.removed, x.line FROM ident_changes x"
        " JOIN commits c ON c.id = x.commit_id JOIN paths p ON p.id = x.path_id"
        " JOIN idents i ON i.id = x.ident_id"))
    changes = set(conn.execute(
        "SELECT c.oid, p.path, x.kind, o.path FROM path_changes x JOIN commits c ON c.id = x.commit_id"
        " JOIN paths p ON p.id = x.path_id LEFT JOIN paths o ON o.id = x.other_id"))
    conn.close()
    return rows, changes


def _history() -> list[CommitSpec]:
    specs = [CommitSpec("base", BOB, T0, files={"m.c": "int base_value;\n"}, name="c0")]
    text = "int base_value;\n"
    for i in range(1, 12):
        text += f"int value_{i} = base_value + {i};\n"
        files: dict[str, str | None] = {"m.c": text}
        if i == 5:
            files["n.c"] = "int value_5;\n"
        if i == 8:
            files["n.c"] = None
        specs.append(CommitSpec(f"step {i}", BOB, T0 + i, files=files, name=f"c{i}"))
    specs.append(CommitSpec("rename", BOB, T0 + 20, renames={"m.c": "lib/m.c"}, name="c12"))
    return specs


@pytest.mark.parametrize("batch", ["500", "2"])
def test_incremental_index_equals_fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        batch: str) -> None:
    monkeypatch.setenv("PATCHTRAIL_BATCH", batch)
    ids = write_repo(tmp_path / "r", _history())
    fresh, step = tmp_path / "fresh.db", tmp_path / "step.db"
    with Store.open(fresh) as store:
        index_repo(store, tmp_path / "r")
    with Store.open(step) as store:
        index_repo(store, tmp_path / "r", (ids["c4"],))
        index_repo(store, tmp_path / "r", (ids["c9"],))
        index_repo(store, tmp_path / "r")
        index_repo(store, tmp_path / "r")  # nothing new: nothing changes
    assert _snapshot(step) == _snapshot(fresh)
    rows, changes = _snapshot(fresh)
    assert (ids["c3"], "m.c", "value_3", 1, 0, 4) in rows
    assert (ids["c8"], "n.c", "D", None) in changes
    assert (ids["c12"], "lib/m.c", "R", "m.c") in changes and (ids["c12"], "m.c", "r", "lib/m.c") in changes


def test_prose_leaves_quotes_out() -> None:
    text = prose("Re: why enable_preemption_timer?",
                 "On Monday X wrote:\n> quoted_name here\n  > nested_quote\nmy_answer is here", "notes_word")
    assert "quoted_name" not in text and "nested_quote" not in text
    assert "my_answer" in text and "notes_word" in text and "enable_preemption_timer" in text
    # Quoted lines first and last, and nothing but quotes.
    edges = prose("", "> first_quoted\nkept_word\n> last_quoted", "")
    assert edges.split() == ["kept_word"]
    assert prose("", "> only_quoted\n>> nested", "").split() == []


def test_two_builds_of_one_history_give_the_same_ids(tmp_path: Path) -> None:
    """Names and paths get ids in order of first sight, not in a set's order, which moves
    with each process's hash seed: two runs of `patchtrail index` write the same rows."""
    import os
    import subprocess
    import sys

    files = {f"dir{i}/file{i}.c": "".join(f"int name_{i}_{j};\n" for j in range(30)) for i in range(12)}
    write_repo(tmp_path / "r", [
        CommitSpec("base", BOB, T0, files=files, name="base"),
        CommitSpec("move", BOB, T0 + 1, renames={f"dir{i}/file{i}.c": f"new{i}.c" for i in range(12)},
                   name="move"),
    ])
    dumps = []
    for seed in ("1", "2"):
        db = tmp_path / f"{seed}.db"
        subprocess.run([sys.executable, "-m", "patchtrail", "index", "-q", "--db", str(db),
                        "--repo", str(tmp_path / "r")], check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        with sqlite3.connect(db) as c:
            dumps.append([c.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
                          for t in ("idents", "paths", "ident_changes", "path_changes")])
    assert dumps[0] == dumps[1]
