"""The identifiers a diff adds and removes, per file: what "where was X born" is asked of.

A commit adds an identifier when a `+` line carries it and removes it when a `-` line
does; context lines say nothing. Counting occurrences (not lines) keeps the running sum
over a linear history equal to the number of occurrences in the tree, which is what tells
a deletion from a move. Each added identifier also keeps the first new-file line it is on,
the answer to "the line it was born on".

Tokens are word-like runs (letters, digits, `_`) that do not start with a digit, 3 to
`MAX_LEN` characters: C, shell, Python, Kconfig, make and prose alike. Shorter ones (`i`,
`fd`, `if`) are never asked about and would make most of the index; longer ones are
base64 or generated data. Binary files carry no lines and give nothing.

A deleted file gives no identifier rows, only its path: the file's identifiers are what
the earlier rows of that path added and did not remove, so the index can say what a
deletion removed without storing it again (on LTP, 30 % of all rows were deletions).

Speed: this runs over every changed line of a repository's history, so it works on bytes,
where one `translate` + `split` per line tokenizes at C speed (3x the regex below).
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain
from typing import NamedTuple

from patchtrail.mail.difffiles import git_line_paths, header_path, unquote_path

MIN_LEN = 3
MAX_LEN = 80
# What a token is, for a text: a word boundary, a letter or underscore, word characters.
# `0x1f` gives nothing; `CONFIG_KVM_INTEL` and `enable_preemption_timer` are whole.
TOKEN = re.compile(rf"\b[^\W\d]\w{{{MIN_LEN - 1},{MAX_LEN - 1}}}\b")
_HUNK = re.compile(rb"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
# Bytes that are not word characters become spaces; UTF-8 sequences stay inside words
# (non-ASCII tokens are checked against TOKEN once per distinct token).
_WORD_BYTES = bytes(c if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c == 95 or c >= 128)
                    else 32 for c in range(256))

# Words already judged by `_token`, per process: a history repeats the same few hundred
# thousand words millions of times.
_NAMES: dict[bytes, str | None] = {}

# One file's identifiers: path (the post-image path), identifier, occurrences added,
# occurrences removed, first new-file line it was added on (None when none was added).
IdentRow = tuple[str, str, int, int, "int | None"]


class DiffIdents(NamedTuple):
    """What one commit's diff did to identifiers and paths."""

    rows: list[IdentRow]
    renames: list[tuple[str, str]]  # (old path, new path)
    deleted: list[str]              # paths of deleted files (their identifiers: see above)


def tokens(text: str) -> list[str]:
    """The identifiers of a text, in order, repeated as often as they occur."""
    return TOKEN.findall(text)


def diff_idents(diff: str) -> DiffIdents:
    """The identifier rows, renames and deleted files of a `git log -p` diff.

    Only git's own diff format is read (the repository side of the index always has it);
    mail diffs go through `difffiles`. A rename with edits puts its identifiers under the
    new path; the rename pair is returned so that a path's history can be followed.
    """
    out = DiffIdents([], [], [])
    data = diff.encode("utf-8", "surrogateescape")
    start = 0 if data.startswith(b"diff --git ") else data.find(b"\ndiff --git ") + 1
    if start == 0 and not data.startswith(b"diff --git "):
        return out
    for section in data[start:].split(b"\ndiff --git "):
        _file_idents(section.removeprefix(b"diff --git "), out)
    return out


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _file_idents(section: bytes, out: DiffIdents) -> None:
    lines = section.split(b"\n")
    old, new = git_line_paths(_text(lines[0]))
    rename_from: str | None = None
    rename_to: str | None = None
    i = 1
    while i < len(lines) and not lines[i].startswith(b"@@ "):
        line = lines[i]
        if line.startswith(b"rename from "):
            rename_from = unquote_path(_text(line[12:]))
        elif line.startswith(b"rename to "):
            rename_to = unquote_path(_text(line[10:]))
        elif line.startswith(b"--- "):
            old = header_path(_text(line[4:]), True)  # type: ignore[assignment]
        elif line.startswith(b"+++ "):
            new = header_path(_text(line[4:]), True)  # type: ignore[assignment]
        elif line.startswith(b"deleted file mode "):
            new = None  # type: ignore[assignment]
        elif line.startswith((b"Binary files ", b"GIT binary patch")):
            return
        i += 1
    if rename_from is not None and rename_to is not None:
        old, new = rename_from, rename_to
        out.renames.append((rename_from, rename_to))
    if new is None:
        if old:
            out.deleted.append(old)
        return
    added, numbers, removed = _changed_lines(lines, i)
    per_line = [ln.translate(_WORD_BYTES).split() for ln in added]
    counts = Counter(chain.from_iterable(per_line))
    first: dict[bytes, int] = {}
    for k in range(len(per_line) - 1, -1, -1):  # backwards: the first line wins
        if per_line[k]:
            first.update(dict.fromkeys(per_line[k], numbers[k]))
    gone = Counter(b"\n".join(removed).translate(_WORD_BYTES).split()) if removed else Counter()
    rows = out.rows
    names = _NAMES
    if len(names) > 1_000_000:
        names.clear()
    for tok, n in counts.items():
        name = names.get(tok, False)
        if name is False:
            name = names[tok] = _token(tok)
        if name is not None:
            rows.append((new, name, n, gone.pop(tok, 0), first[tok]))  # type: ignore[arg-type]
    for tok, n in gone.items():
        name = names.get(tok, False)
        if name is False:
            name = names[tok] = _token(tok)
        if name is not None:
            rows.append((new, name, 0, n, None))  # type: ignore[arg-type]


def _changed_lines(lines: list[bytes], i: int) -> tuple[list[bytes], list[int] | range, list[bytes]]:
    """(added lines, their new-file line numbers, removed lines) of the hunks from `i`."""
    if i + 1 < len(lines) and lines[i].startswith(b"@@ -0,0 +1"):  # a new file: one hunk
        added = [ln for ln in lines[i + 1:] if ln[:1] == b"+"]
        return added, range(1, len(added) + 1), []
    added: list[bytes] = []  # type: ignore[no-redef]
    numbers: list[int] = []
    removed: list[bytes] = []
    lineno = 0
    for line in lines[i:]:
        c = line[:1]
        if c == b"+":
            added.append(line)
            numbers.append(lineno)
            lineno += 1
        elif c == b"-":
            removed.append(line)
        elif c == b" ":
            lineno += 1
        elif c == b"@":
            m = _HUNK.match(line)
            if m is not None:
                lineno = int(m.group(1))
    return added, numbers, removed


def _token(tok: bytes) -> str | None:
    """The identifier a word is, or None (too short or long, starts with a digit, not a word)."""
    if not MIN_LEN <= len(tok) <= MAX_LEN * 4 or 48 <= tok[0] <= 57:
        return None
    if tok.isascii():
        return tok.decode("ascii") if len(tok) <= MAX_LEN else None
    name = tok.decode("utf-8", "replace")
    return name if TOKEN.fullmatch(name) else None
