"""Which files a diff touches and which lines it adds and removes in each.

Fuzzy matching and blame both work on changed lines, not on hunks: context lines and line
numbers change when a patch is rebased, the added and removed lines do not. Paths follow
git's conventions (`a/`/`b/` prefixes, C-quoted names, renames) and also the `-p1` diffs of
quilt and `diff -u` that older list patches still carry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_HUNK = re.compile(r"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass(slots=True)
class FileDiff:
    """One file's part of a diff. A path is None on the side where the file does not exist."""

    old_path: str | None
    new_path: str | None
    # The changed lines as the diff has them, sign included: folding each line's
    # whitespace here cost a third of reading a diff, and the fingerprint, which reads
    # them all, strips whitespace from all of them at once. `added`/`removed` fold.
    plus: list[str] = field(default_factory=list)
    minus: list[str] = field(default_factory=list)
    binary: bool = False
    git: bool = False
    # Where the changes sit: each hunk's section heading (the function git names after
    # `@@`) and the nearest non-blank context line before and after each run of changes.
    # Two one-line patches adding the same comment to different functions differ only here.
    anchors: list[str] = field(default_factory=list)

    @property
    def added(self) -> list[str]:
        """Added lines, whitespace-folded, in order."""
        return [fold(line[1:]) for line in self.plus]

    @property
    def removed(self) -> list[str]:
        """Removed lines, whitespace-folded, in order."""
        return [fold(line[1:]) for line in self.minus]

    @property
    def path(self) -> str:
        """The post-image path, or the pre-image path of a deleted file."""
        if self.new_path is not None:
            return self.new_path
        return self.old_path or ""


def fold(line: str) -> str:
    """Whitespace folded: trimmed, inner runs of spaces and tabs made one space."""
    return " ".join(line.split())


def file_diffs(diff: str) -> list[FileDiff]:
    """Per-file sections of `diff` (a diff git wrote, or a mail's diff as `split_body` cut
    it), with their added and removed lines; lines that fit no section are skipped."""
    return read_diff(diff.split("\n"))[1]


# What a mail's diff may hold between hunks (`read_diff(strict=True)`).
_HEADER_PREFIXES = (
    "diff ", "index ", "old mode ", "new mode ", "deleted file mode ", "new file mode ",
    "similarity index ", "dissimilarity index ", "rename from ", "rename to ", "copy from ",
    "copy to ", "rename old ", "rename new ", "Index: ", "===", "--- ", "+++ ",
)
_BASE85_LINE = re.compile(r"[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]*")
# Where the reader is: in file headers, in a hunk with counts, after a hunk, in a git
# binary patch, or in a hunk whose header gave no counts.
_HEADER, _HUNK_LINES, _AFTER_HUNK, _BINARY, _UNCOUNTED = range(5)


def read_diff(lines: list[str], strict: bool = False) -> tuple[int, list[FileDiff]]:
    """(how many of `lines` the diff takes, its per-file sections).

    Not strict, the lines are all diff (what git wrote) and a line that fits nowhere is
    skipped. Strict, they start at a diff header in a mail, and the diff ends at the
    first line that cannot belong to it, as `git apply` decides: by counting hunk lines
    (a `-- ` signature is also a valid removed line), and between hunks only file
    headers, `\\ No newline` and binary patch lines. One pass does both, because finding
    where a mail's diff ends and reading its files walked the same lines twice.
    """
    files: list[FileDiff] = []
    current: FileDiff | None = None
    fresh = False  # a git section whose ---/+++ and hunks have not been seen yet
    state = _HEADER
    before = after = 0
    # The nearest non-blank context line above the current position, as written (folded
    # only if it becomes an anchor: most never do).
    last = ""
    after_change = False  # a change run is open: the next non-blank context closes it
    added: list[str] = []
    removed: list[str] = []
    anchors: list[str] = []
    count = len(lines)
    i = 0
    while i < count:
        line = lines[i]
        if state == _HUNK_LINES or state == _UNCOUNTED:
            # A loop of its own for the hunk's lines: most lines of a diff are here.
            counted = state == _HUNK_LINES
            while i < count:
                line = lines[i]
                c = line[:1]
                if c == "+" or c == "-":
                    if not counted and (line == "-- " or line == "--"):  # a signature
                        if strict:
                            return i, files
                        state = _AFTER_HUNK
                        break
                    if not after_change:
                        if last:
                            anchors.append(" ".join(last[1:].split()))
                        after_change = True
                    if c == "+":
                        after -= 1
                        added.append(line)
                    else:
                        before -= 1
                        removed.append(line)
                elif c == " " or (counted and not c):
                    before -= 1
                    after -= 1
                    if c and not line.isspace():
                        if after_change:
                            anchors.append(" ".join(line[1:].split()))
                            after_change = False
                        last = line
                elif c != "\\":
                    # Out of the hunk; read the line again from outside, unless it ends
                    # the diff (in a counted hunk, or anything but a new hunk or file).
                    if strict and (counted or not line.startswith(("@@ ", "diff "))):
                        return i, files
                    state = _AFTER_HUNK
                    break
                i += 1
                if counted and before <= 0 and after <= 0:
                    state = _AFTER_HUNK
                    break
            continue
        if current is not None and line.startswith("@@ ") and not (strict and state == _BINARY):
            fresh = False
            m = _HUNK.match(line)
            last, after_change = "", False
            added, removed, anchors = current.plus, current.minus, current.anchors
            heading = fold(line[m.end():]) if m is not None else ""
            if heading:
                anchors.append("@@ " + heading)
            i += 1
            if m is None:
                state = _UNCOUNTED
                continue
            before = int(m.group(1)) if m.group(1) is not None else 1
            after = int(m.group(2)) if m.group(2) is not None else 1
            state = _HUNK_LINES if before > 0 or after > 0 else _AFTER_HUNK
            run = one_sided_run(lines, i, before, after)
            if run is not None:
                (added if after else removed).extend(run)
                state = _AFTER_HUNK
                i += len(run)
            continue
        if line.startswith("diff "):
            if line.startswith("diff --git "):
                old, new = git_line_paths(line[11:])
                current = FileDiff(old, new, git=True)
                files.append(current)
                fresh = True
            state = _HEADER
            i += 1
            continue
        if (line.startswith("--- ") and i + 1 < count and lines[i + 1].startswith("+++ ")
                and (not strict or state != _BINARY)):
            git = current is not None and current.git and fresh
            old = header_path(line[4:], git)
            new = header_path(lines[i + 1][4:], git)
            if git and current is not None:
                current.old_path, current.new_path = old, new
            else:
                current = FileDiff(old, new)
                files.append(current)
            fresh = False
            state = _HEADER
            i += 2
            continue
        if strict and not _between_hunks(state, line):
            return i, files
        if state == _HEADER:
            if line.startswith("GIT binary patch"):
                state = _BINARY
            elif line.startswith("Binary files "):
                state = _AFTER_HUNK
        elif state == _AFTER_HUNK and line.startswith("Index: "):
            state = _HEADER
        if current is not None and fresh:
            _git_extended_header(current, line)
        i += 1
    return count, files


def _between_hunks(state: int, line: str) -> bool:
    """Whether a line that starts no file and no hunk may stand here in a mail's diff."""
    if state == _HEADER:
        return line.startswith(_HEADER_PREFIXES) or line.startswith(
            ("GIT binary patch", "Binary files "))
    if state == _AFTER_HUNK:
        return line.startswith(("\\", "Index: "))
    # _BINARY: the patch's lines, base85, with `literal`/`delta` sizes and blank lines.
    return not line or line.startswith(("literal ", "delta ")) or \
        _BASE85_LINE.fullmatch(line) is not None


def one_sided_run(lines: list[str], start: int, before: int, after: int) -> list[str] | None:
    """The lines from `start` of a hunk that only adds (counts 0 and `after`) or only
    removes (`before` and 0), when they all carry its sign; else None.

    A third of the changed lines of a mailing list are new or deleted files: their hunks
    are taken whole, checked by one count over their joined text, not line by line.
    """
    if (before and after) or not (before or after):
        return None
    n, sign = (after, "+") if after else (before, "-")
    run = lines[start:start + n]
    if len(run) == n and run[0][:1] == sign and "\n".join(run).count("\n" + sign) == n - 1:
        return run
    return None


def _git_extended_header(current: FileDiff, line: str) -> None:
    if line.startswith(("rename from ", "copy from ")):
        current.old_path = unquote_path(line.split(" ", 2)[2])
    elif line.startswith(("rename to ", "copy to ")):
        current.new_path = unquote_path(line.split(" ", 2)[2])
    elif line.startswith("new file mode "):
        current.old_path = None
    elif line.startswith("deleted file mode "):
        current.new_path = None
    elif line.startswith(("Binary files ", "GIT binary patch")):
        current.binary = True


def diff_files(diff: str | Sequence[FileDiff]) -> list[str]:
    """Paths `diff` touches, in order: post-image path, pre-image path for deletions, and
    both for renames and copies. Takes the diff text or its `file_diffs` (parsed once)."""
    paths: list[str] = []
    for fd in file_diffs(diff) if isinstance(diff, str) else diff:
        if fd.old_path is not None and fd.new_path is not None and fd.old_path != fd.new_path:
            candidates = [fd.old_path, fd.new_path]
        else:
            candidates = [fd.path]
        for path in candidates:
            if path and path not in paths:
                paths.append(path)
    return paths


def _strip_prefix(path: str, git: bool) -> str:
    """Drop the `a/`-style prefix; for non-git diffs drop the first component, as `-p1`."""
    if git:
        if len(path) > 2 and path[1] == "/":
            return path[2:]
        return path
    head, sep, rest = path.partition("/")
    return rest if sep and rest else path


def header_path(text: str, git: bool) -> str | None:
    """The path of a `---`/`+++` line, without timestamp; None for /dev/null."""
    if text.startswith('"'):
        path, _ = _read_quoted(text)
    else:
        path = text.split("\t", 1)[0]
        if not git:
            path = path.rstrip()
    if path == "/dev/null":
        return None
    return _strip_prefix(path, git)


def git_line_paths(rest: str) -> tuple[str, str]:
    """Both paths of `diff --git a/X b/Y`, which is ambiguous when names contain spaces."""
    if rest.startswith('"'):
        old, tail = _read_quoted(rest)
        tail = tail.lstrip(" ")
        new = _read_quoted(tail)[0] if tail.startswith('"') else tail
        return _strip_prefix(old, True), _strip_prefix(new, True)
    if rest.endswith('"'):
        q = rest.find(' "')
        if q >= 0:
            return _strip_prefix(rest[:q], True), _strip_prefix(_read_quoted(rest[q + 1:])[0], True)
    # Same name on both sides: the two halves agree after their prefixes.
    half = (len(rest) - 1) // 2
    if len(rest) % 2 == 1 and rest[half] == " " and rest[2:half] == rest[half + 3:]:
        return _strip_prefix(rest[:half], True), _strip_prefix(rest[half + 1:], True)
    split = rest.find(" b/")
    if split < 0:
        split = rest.find(" ")
    if split < 0:
        return _strip_prefix(rest, True), _strip_prefix(rest, True)
    return _strip_prefix(rest[:split], True), _strip_prefix(rest[split + 1:], True)


def unquote_path(text: str) -> str:
    return _read_quoted(text)[0] if text.startswith('"') else text


def _read_quoted(text: str) -> tuple[str, str]:
    """A C-quoted name as git writes it (octal escapes are UTF-8 bytes) and what follows."""
    out = bytearray()
    i = 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return out.decode("utf-8", "replace"), text[i + 1:]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            digits = text[i + 1: i + 4]
            if len(digits) == 3 and all(d in "01234567" for d in digits):
                out.append(int(digits, 8) & 0xFF)
                i += 4
                continue
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
        try:
            out.extend(c.encode("utf-8", "surrogateescape"))
        except UnicodeEncodeError:
            out.extend(b"?")
        i += 1
    return out.decode("utf-8", "replace"), ""
