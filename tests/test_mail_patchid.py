"""patch_id must equal `git patch-id --stable` on diffs written by real git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from patchtrail.mail.diff import patch_id, split_body
from patchtrail.mail.difffiles import diff_files, file_diffs
from patchtrail.mail.message import parse_message

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Ann Dev",
    "GIT_AUTHOR_EMAIL": "ann@example.org",
    "GIT_COMMITTER_NAME": "Ann Dev",
    "GIT_COMMITTER_EMAIL": "ann@example.org",
    "GIT_AUTHOR_DATE": "1700000000 +0100",
    "GIT_COMMITTER_DATE": "1700000000 +0100",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, env=ENV, check=True,
        capture_output=True,
    ).stdout


def git_patch_id(repo: Path, diff: bytes) -> str | None:
    out = git(repo, "patch-id", "--stable", stdin=diff).decode()
    return out.split()[0] if out.strip() else None


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").decode().strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> tuple[Path, list[str]]:
    """A repository whose commits cover the diff shapes patch-id must get right."""
    r = tmp_path_factory.mktemp("repo")
    git(r, "init", "-q")
    git(r, "config", "core.autocrlf", "false")
    (r / "src").mkdir()
    (r / "src" / "a.c").write_text("".join(f"int a{i} = {i};\n" for i in range(40)))
    (r / "src" / "b.c").write_text("void b(void)\n{\n\treturn;\n}\n")
    (r / "old_name.txt").write_text("".join(f"line {i}\n" for i in range(30)))
    (r / "script.sh").write_text("#!/bin/sh\necho hi\n")
    (r / "blob.bin").write_bytes(bytes(range(256)) * 4)
    commits = [commit(r, "initial")]

    # multi-file, several hunks
    a = (r / "src" / "a.c").read_text().splitlines(keepends=True)
    a[3] = "int a3 = 333;\n"
    a[30] = "int a30 = 3030;\n"
    a.insert(20, "/* new comment */\n")
    (r / "src" / "a.c").write_text("".join(a))
    (r / "src" / "b.c").write_text("void b(void)\n{\n\tb2();\n\treturn;\n}\n")
    commits.append(commit(r, "multi: touch two files\n\nBody.\n\nSigned-off-by: Ann Dev <ann@example.org>"))

    # rename with a small edit
    text = (r / "old_name.txt").read_text().replace("line 5\n", "line five\n")
    (r / "old_name.txt").unlink()
    (r / "new name.txt").write_text(text)
    commits.append(commit(r, "rename: move file"))

    # binary change
    (r / "blob.bin").write_bytes(bytes(range(255, -1, -1)) * 4)
    commits.append(commit(r, "binary: flip blob"))

    # new file plus mode change only
    (r / "src" / "c.c").write_text("int c;\n")
    os.chmod(r / "script.sh", 0o755)
    commits.append(commit(r, "new file and mode change"))

    # whitespace-only and whitespace-bearing context, removed "-- " line, no trailing newline
    (r / "src" / "b.c").write_text("void b(void)\n{\n    b2();\n\treturn;\n}\n-- \nend")
    commits.append(commit(r, "whitespace: reindent"))

    # delete a file
    (r / "src" / "c.c").unlink()
    commits.append(commit(r, "delete c.c"))
    return r, commits


def test_patch_id_matches_git_show(repo):
    r, commits = repo
    for oid in commits[1:]:
        shown = git(r, "show", "--format=commit %H%n%n%B", oid)
        ours = patch_id(shown.decode("utf-8"))
        assert ours is not None
        assert ours == git_patch_id(r, shown), oid


def test_patch_id_matches_git_show_binary_full_index(repo):
    r, commits = repo
    for oid in commits[1:]:
        shown = git(r, "show", "--binary", "--full-index", "--format=commit %H%n%n%B", oid)
        assert patch_id(shown.decode("utf-8")) == git_patch_id(r, shown), oid


def test_patch_id_of_format_patch_mail_diff(repo):
    """The diff split out of a real `git format-patch` mail has the commit's patch-id."""
    r, commits = repo
    for oid in commits[1:]:
        mail = git(r, "format-patch", "-1", "--stdout", oid)
        parsed = parse_message(mail)
        assert parsed.diff, oid
        assert patch_id(parsed.diff) == git_patch_id(r, mail), oid
        # format-patch writes binary patches, as `git show --binary` does.
        shown = git(r, "show", "--binary", oid)
        assert patch_id(parsed.diff) == git_patch_id(r, shown)


def test_patch_id_ignores_context_whitespace_and_line_numbers(repo):
    r, commits = repo
    shown = git(r, "show", "--format=", commits[1]).decode()
    shifted = shown.replace("@@ -1,", "@@ -101,").replace("@@ -18,", "@@ -118,")
    shifted = shifted.replace("int a3 = 333;", "int  a3\t= 333;")
    assert patch_id(shifted) == patch_id(shown)
    assert patch_id(shifted) == git_patch_id(r, shifted.encode())


def test_patch_id_is_order_independent_across_files(repo):
    r, commits = repo
    shown = git(r, "show", "--format=", commits[1]).decode()
    first, second = shown.split("diff --git a/src/b.c")
    swapped = "diff --git a/src/b.c" + second + first
    assert patch_id(swapped) == patch_id(shown) == git_patch_id(r, swapped.encode())


def test_patch_id_none_without_diff():
    assert patch_id("") is None
    assert patch_id("just a message\n") is None
    assert patch_id("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n") is None  # git needs "diff "


def test_diff_files_on_real_diffs(repo):
    r, commits = repo
    shown = {i: git(r, "show", "--format=", oid).decode() for i, oid in enumerate(commits)}
    assert diff_files(shown[1]) == ["src/a.c", "src/b.c"]
    assert diff_files(shown[2]) == ["old_name.txt", "new name.txt"]
    assert diff_files(shown[3]) == ["blob.bin"]
    assert file_diffs(shown[3])[0].binary
    assert sorted(diff_files(shown[4])) == ["script.sh", "src/c.c"]
    deleted = file_diffs(shown[6])[0]
    assert deleted.old_path == "src/c.c" and deleted.new_path is None
    added = [fd for fd in file_diffs(shown[4]) if fd.path == "src/c.c"][0]
    assert added.old_path is None and added.added == ["int c;"]


def test_split_body_keeps_removed_signature_line(repo):
    """A hunk line `-- ` (or `+-- `) is diff; the format-patch `-- ` signature is not."""
    r, commits = repo
    mail = git(r, "format-patch", "-1", "--stdout", commits[5]).decode()
    message, notes, diff = split_body(mail.split("\n\n", 1)[1])
    assert "+-- \n" in diff
    assert "2.39" not in diff and not diff.rstrip().endswith("-- ")
    assert diff.endswith("\n")
    assert "b.c" in notes
