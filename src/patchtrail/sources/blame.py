"""Who wrote a line: `git blame --porcelain` of one line, and the diff around it.

One git process per question: a line's origin takes a handful of steps (blame, then the
diff of each commit looked through), not one per object of the history. Blame runs with
`-w -M -C -C`: whitespace changes are ignored and lines moved or copied from other files
of the same commit are followed to where they were written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from patchtrail.sources._proc import run_git
from patchtrail.sources.errors import SourceError
from patchtrail.sources.git import config_args

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(slots=True)
class BlameLine:
    """The commit that last wrote a line, where the line was in it, and its parent side."""

    commit: str
    path: str                      # the file's path in `commit`
    line: int                      # the line's number in that file
    content: str
    previous: tuple[str, str] | None  # (parent commit, path there); None at a root/boundary


@dataclass(slots=True)
class Hunk:
    old_start: int
    old_lines: list[str]
    new_start: int
    new_lines: list[str]


def blame_line(repo: str, rev: str, path: str, line: int) -> BlameLine:
    """Blame one line of `path` at `rev`; SourceError naming the input when git refuses."""
    proc = run_git(repo, [*config_args(), "blame", "--porcelain", "-w", "-M", "-C", "-C",
                          "-L", f"{line},{line}", rev, "--", path],
                   where=f"{path}:{line}@{rev}")
    text = proc.stdout.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    head = lines[0].split()
    if len(head) < 3:
        raise SourceError(f"{path}:{line}", "git blame gave no answer")
    commit, orig_line = head[0], int(head[1])
    orig_path = path
    previous: tuple[str, str] | None = None
    content = ""
    for ln in lines[1:]:
        if ln.startswith("\t"):
            content = ln[1:]
            break
        if ln.startswith("filename "):
            orig_path = ln[9:]
        elif ln.startswith("previous "):
            parts = ln[9:].split(" ", 1)
            if len(parts) == 2:
                previous = (parts[0], parts[1])
    return BlameLine(commit, orig_path, orig_line, content, previous)


def diff_hunks(repo: str, old: tuple[str, str], new: tuple[str, str]) -> list[Hunk]:
    """Zero-context hunks between two file versions, each given as (commit, path)."""
    proc = run_git(repo, [*config_args(), "diff", "-U0", "--no-color", "--no-ext-diff",
                          "--no-textconv", f"{old[0]}:{old[1]}", f"{new[0]}:{new[1]}"],
                   where=f"{new[1]}@{new[0][:12]}")
    hunks: list[Hunk] = []
    current: Hunk | None = None
    for ln in proc.stdout.decode("utf-8", "surrogateescape").split("\n"):
        m = _HUNK.match(ln)
        if m is not None:
            current = Hunk(int(m.group(1)), [], int(m.group(3)), [])
            hunks.append(current)
        elif current is not None and ln.startswith("-"):
            current.old_lines.append(ln[1:])
        elif current is not None and ln.startswith("+"):
            current.new_lines.append(ln[1:])
    return hunks


def line_log(repo: str, rev: str, path: str, line: int, limit: int = 200) -> list[str]:
    """Commits that changed the line, newest first (`git log -L`), at most `limit`."""
    proc = run_git(repo, [*config_args(), "log", "--no-patch", f"--max-count={limit}",
                          "--format=%H", f"-L{line},{line}:{path}", rev, "--"],
                   where=f"{path}:{line}@{rev}")
    return [x for x in proc.stdout.decode("ascii", "replace").split() if len(x) >= 40]
