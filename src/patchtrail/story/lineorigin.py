"""FILE:LINE[@REV]: the commit that wrote a line's content, looking past trivial commits.

`git blame -w -M -C -C` already looks through whitespace changes and code moved or copied
between files. What it cannot see through is a reflow: a statement or a comment split
over two lines, or two lines joined, is new text to blame. So after each blame the hunk
of the blamed commit around the line is compared with what it replaced; when the two
sides hold the same characters once whitespace and comment decoration (`*`, `//`, `#`
at line starts) are set aside, the commit only reshaped the text, and the line is blamed
again at the parent, on the replaced line that shares the most words with it.
"""

from __future__ import annotations

import re

from patchtrail.sources.blame import BlameLine, Hunk, blame_line, diff_hunks, line_log

MAX_STEPS = 30
_DECORATION = re.compile(r"^\s*(?:\*+|//+|#+|;+|--)?")
_WORDS = re.compile(r"\w+")


def _shape_free(lines: list[str]) -> str:
    """The text of `lines` without whitespace and comment decoration: what a reflow keeps."""
    return "".join("".join(_DECORATION.sub("", ln, count=1).split()) for ln in lines)


def is_trivial(h: Hunk) -> bool:
    return bool(h.old_lines) and _shape_free(h.old_lines) == _shape_free(h.new_lines)


def _covering(hunks: list[Hunk], line: int) -> Hunk | None:
    for h in hunks:
        if h.new_start <= line < h.new_start + len(h.new_lines):
            return h
    return None


def _closest_old_line(h: Hunk, content: str) -> int:
    """The replaced line sharing the most words with `content` (the first on a tie)."""
    words = set(_WORDS.findall(content))
    best, best_n = 0, -1
    for i, ln in enumerate(h.old_lines):
        n = len(words & set(_WORDS.findall(ln)))
        if n > best_n:
            best, best_n = i, n
    return h.old_start + best


def trace_line(repo: str, rev: str, path: str, line: int) -> tuple[BlameLine, list[str]]:
    """The blame of the line past trivial commits, and the trivial commits looked through."""
    b = blame_line(repo, rev, path, line)
    skipped: list[str] = []
    for _ in range(MAX_STEPS):
        if b.previous is None:
            break
        h = _covering(diff_hunks(repo, b.previous, (b.commit, b.path)), b.line)
        if h is None or not is_trivial(h):
            break
        skipped.append(b.commit)
        parent, parent_path = b.previous
        b = blame_line(repo, parent, parent_path, _closest_old_line(h, b.content))
    return b, skipped


def chain_since(repo: str, rev: str, path: str, line: int, origin: str) -> list[str]:
    """Commits that changed the line after `origin`, newest first (`git log -L`)."""
    out: list[str] = []
    for oid in line_log(repo, rev, path, line):
        if oid == origin:
            break
        out.append(oid)
    return out
