"""Write real git repositories from declarative commit lists, and read real patches back.

Tests and the demo need repositories whose commit ids are stable from run to run and whose
dates are exactly what the scenario says (author dates matter: `git am` copies the mail's
Date into the commit). Driving `git commit` once per commit would be slow and would need
environment tricks for every date, so the whole history is written as ONE `git fast-import`
stream: exact dates, deterministic ids, and a few milliseconds per hundred commits.

`format_patch` / `format_patches` return what `git format-patch` really prints after the
commit message (the `---` line, the diffstat and the diff), so patch mails built from them
carry diffs that real git produced and that `git apply` / `git patch-id` accept.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Person",
    "CommitSpec",
    "GitError",
    "git",
    "git_env",
    "write_repo",
    "format_patch",
    "format_patches",
    "fast_import",
]


class GitError(RuntimeError):
    """A git command this module ran failed; the message carries git's stderr."""


@dataclass(frozen=True, slots=True)
class Person:
    """A name and an address, as in an ident line or a From: header."""

    name: str
    email: str

    def ident(self) -> str:
        """The `Name <email>` form git and mail headers use."""
        return f"{self.name} <{self.email}>"


@dataclass(slots=True)
class CommitSpec:
    """One commit to write.

    `files` maps a path to its new full content (None deletes it); `renames` maps an old
    path to a new one, keeping the content unless the new path is also in `files`.
    `branch` is the branch the commit goes on; a branch not yet written starts from `base`
    (a label or branch name) or, without one, from the current tip of `master`. `merge_of`
    (a branch name or label) makes the commit a merge: its tree is the first parent's tree
    plus `files`/`renames`, so the caller states the merged content explicitly, exactly as
    a merge commit records it. `name` is a label to find the commit's id afterwards.
    """

    subject: str
    author: Person
    author_time: int
    body: str = ""
    author_tz: str = "+0000"
    committer: Person | None = None
    committer_time: int | None = None
    committer_tz: str | None = None
    files: dict[str, str | None] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)
    merge_of: str | None = None
    branch: str = "master"
    base: str | None = None
    name: str | None = None

    def message(self) -> str:
        """The full commit message: subject, blank line, body, one trailing newline."""
        body = self.body.strip("\n")
        return f"{self.subject}\n\n{body}\n" if body else f"{self.subject}\n"


def git_env() -> dict[str, str]:
    """An environment that ignores the user's and system's git configuration.

    A user's `diff.algorithm`, `format.signature` or `init.defaultBranch` would otherwise
    change diffs and ids; the corpus must come out identical on every machine.
    """
    env = dict(os.environ)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        env.pop(key, None)
    return env


def git(args: Sequence[str], cwd: str | Path | None = None, input: bytes | None = None,
        check: bool = True) -> bytes:
    """Run git with a neutral configuration and return its stdout as bytes."""
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True,
                          env=git_env())
    if check and proc.returncode != 0:
        raise GitError(f"git {' '.join(args[:3])}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def _quote_path(path: str) -> bytes:
    """A path as fast-import accepts it: C-style quoted when it needs to be."""
    if re.search(r'[\s"\\]|^"', path) or not path.isascii():
        esc = path.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n")
        return b'"' + esc + b'"'
    return path.encode()


def _ident(person: Person, when: int, tz: str) -> bytes:
    return f"{person.name} <{person.email}> {when} {tz}".encode()


def fast_import(git_dir: str | Path, stream: bytes) -> dict[int, str]:
    """Feed one fast-import stream into `git_dir`; return mark number -> object id."""
    with tempfile.NamedTemporaryFile(prefix="marks-", delete=False) as tmp:
        marks_path = tmp.name
    try:
        git(["--git-dir", str(git_dir), "fast-import", "--quiet", "--done",
             f"--export-marks={marks_path}"], input=stream)
        marks: dict[int, str] = {}
        for line in Path(marks_path).read_text().splitlines():
            mark, oid = line.split()
            marks[int(mark[1:])] = oid
        return marks
    finally:
        os.unlink(marks_path)


def _commit_stream(commits: Sequence[CommitSpec]) -> tuple[bytes, list[int]]:
    """Build the fast-import stream; return it and the mark of every commit, in order."""
    out: list[bytes] = []
    tips: dict[str, int] = {}      # branch -> mark of its tip
    labels: dict[str, int] = {}    # label -> mark
    marks: list[int] = []

    def resolve(ref: str) -> int:
        if ref in labels:
            return labels[ref]
        if ref in tips:
            return tips[ref]
        raise ValueError(f"unknown branch or label {ref!r}")

    for i, spec in enumerate(commits):
        mark = i + 1
        marks.append(mark)
        committer = spec.committer or spec.author
        ctime = spec.committer_time if spec.committer_time is not None else spec.author_time
        ctz = spec.committer_tz or spec.author_tz
        out.append(b"commit refs/heads/%s\nmark :%d\n" % (spec.branch.encode(), mark))
        out.append(b"author " + _ident(spec.author, spec.author_time, spec.author_tz) + b"\n")
        out.append(b"committer " + _ident(committer, ctime, ctz) + b"\n")
        out.append(_data(spec.message().encode()))
        if spec.branch in tips:
            parent: int | None = tips[spec.branch]
        elif spec.base is not None:
            parent = resolve(spec.base)
        else:
            parent = tips.get("master")
        if parent is not None:
            out.append(b"from :%d\n" % parent)
        if spec.merge_of is not None:
            if parent is None:
                raise ValueError(f"merge commit {spec.subject!r} has no first parent")
            out.append(b"merge :%d\n" % resolve(spec.merge_of))
        for old, new in spec.renames.items():
            out.append(b"R " + _quote_path(old) + b" " + _quote_path(new) + b"\n")
        for path, content in spec.files.items():
            if content is None:
                out.append(b"D " + _quote_path(path) + b"\n")
            else:
                out.append(b"M 100644 inline " + _quote_path(path) + b"\n")
                out.append(_data(content.encode()))
        out.append(b"\n")
        tips[spec.branch] = mark
        if spec.name is not None:
            if spec.name in labels:
                raise ValueError(f"duplicate commit label {spec.name!r}")
            labels[spec.name] = mark
    out.append(b"done\n")
    return b"".join(out), marks


def write_repo(path: str | Path, commits: Sequence[CommitSpec], bare: bool = False) -> dict[str, str]:
    """Create a git repository at `path` holding exactly `commits`; return their ids.

    The result maps every label (`CommitSpec.name`) and every position (`"#0"`, `"#1"`,
    ... in list order) to the commit id. A non-bare repository gets `master` checked out,
    so `git blame` works on it as on any clone.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    init = ["init", "--quiet", "--initial-branch=master"] + (["--bare"] if bare else [])
    git([*init, str(path)])
    git_dir = path if bare else path / ".git"
    stream, order = _commit_stream(commits)
    marks = fast_import(git_dir, stream)
    ids: dict[str, str] = {}
    for i, (spec, mark) in enumerate(zip(commits, order)):
        ids[f"#{i}"] = marks[mark]
        if spec.name is not None:
            ids[spec.name] = marks[mark]
    if not bare and commits:
        git(["reset", "--quiet", "--hard", "master"], cwd=path)
    return ids


_FP_START = re.compile(rb"^From ([0-9a-f]{40}) Mon Sep 17 00:00:00 2001$", re.M)


def _patch_part(chunk: str) -> str:
    """The `---`, diffstat and diff of one format-patch message ('' when it has no diff)."""
    diff_at = chunk.find("\ndiff --git ")
    if diff_at < 0:
        return ""
    sep = chunk.rfind("\n---\n", 0, diff_at + 1)
    if sep < 0:
        return ""
    # format-patch separates messages with a blank line; the patch part ends at the diff.
    return chunk[sep + 1:].rstrip("\n") + "\n"


def format_patches(repo_path: str | Path, revs: Iterable[str]) -> dict[str, str]:
    """Run `git format-patch --stdout` ONCE over `revs`; return commit id -> patch part.

    `revs` are passed as rev-list arguments (e.g. `["--root", "master"]`, or tips followed
    by `--not` and bases). The patch part starts at the `---` line and ends after the diff;
    the signature is left out (`--no-signature`) so the caller can add the git version its
    scenario needs. Merges are skipped by format-patch itself.
    """
    out = git(["-C", str(repo_path), "format-patch", "--stdout", "--no-signature",
               "--no-numbered", "--keep-subject", *revs])
    starts = list(_FP_START.finditer(out))
    result: dict[str, str] = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(out)
        chunk = out[m.start():end].decode("utf-8")
        result[m.group(1).decode()] = _patch_part(chunk)
    return result


def format_patch(repo_path: str | Path, oid: str) -> str:
    """What `git format-patch --stdout -1 <oid>` prints from the `---` line to the diff's end."""
    got = format_patches(repo_path, ["-1", oid])
    return next(iter(got.values()), "")


def commit_ids(mapping: Mapping[str, str]) -> list[str]:
    """The ids of a `write_repo` result in commit order (its `#N` keys)."""
    return [mapping[f"#{i}"] for i in range(sum(1 for k in mapping if k.startswith("#")))]
