"""Splitting a patch body into message, notes and diff, and git's patch-id of the diff.

The split follows `git am`: the message ends at the first `---` line, the diff begins at
the first diff header. Where the diff ends is decided by counting hunk lines, as `git
apply` does, because the signature separator `-- ` is also a perfectly valid removed line
inside a hunk and only the counts tell them apart.
"""

from __future__ import annotations

import hashlib
import re

from patchtrail.mail.difffiles import FileDiff, diff_files, file_diffs, read_diff
from patchtrail.mail.footer import strip_list_footer

__all__ = [
    "FileDiff",
    "diff_files",
    "file_diffs",
    "patch_id",
    "split_body",
    "split_patch",
]

# The first line of a diff: a git header, or a `---`/`+++` pair optionally introduced by a
# `diff -u ...` command line or an `Index:` banner (quilt, svn, CVS).
_DIFF_START = re.compile(
    r"^(?:diff --git \S"
    r"|(?:diff [^\n]*\n)?(?:Index: [^\n]*\n(?:=+\n)?)?--- [^\n]+\n\+\+\+ )",
    re.MULTILINE,
)
_DIFF_OPENERS = ("diff ", "Index: ", "--- ")  # the lines _DIFF_START can match at
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


def split_body(text: str) -> tuple[str, str, str]:
    """(message, notes, diff) of a patch mail body or any text that may carry a diff.

    List footers are removed first; message and notes lose leading blank lines and
    trailing whitespace; the diff is returned line-exact, ending in a newline, or ''.
    """
    message, notes, diff, _files = split_patch(text)
    return message, notes, diff


def split_patch(text: str) -> tuple[str, str, str, list[FileDiff]]:
    """`split_body` and the diff's `file_diffs`, read in the same pass as its end."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A git diff header found by plain substring search bounds the search to the text
    # before, which is short (the message), not the whole diff.
    git_start = text.find("\ndiff --git ")
    if text.startswith("diff --git "):
        m = _DIFF_START.match(text)
    else:
        end = git_start + len("\ndiff --git ") + 1 if git_start >= 0 else len(text)
        m = _first_match(_DIFF_START, text, _DIFF_OPENERS, end)
    files: list[FileDiff] = []
    if m is None:
        # Footers are only looked for where no diff is: after a diff, the hunk counts end
        # it, and a footer search there could take a removed `-- ` line for a separator.
        head, diff = strip_list_footer(text), ""
    else:
        head = text[: m.start()]
        diff, files = _cut_diff(text[m.start():])
    sep = _first_match(_SEPARATOR, head, ("---",), len(head))
    if sep is None:
        message, notes = head, ""
    else:
        message, notes = head[: sep.start()], head[sep.end() + 1:]
    return _trim(message), _trim(notes), diff, files


def _first_match(pattern: re.Pattern[str], text: str, openers: tuple[str, ...],
                 end: int) -> re.Match[str] | None:
    """`pattern.search(text, 0, end)` for a line-anchored pattern that can only match at
    a line starting with one of `openers`: those lines are found with `str.find`, which
    is many times faster than the regular expression trying every position."""
    best: re.Match[str] | None = None
    for opener in openers:
        pos = 0 if text.startswith(opener) else text.find("\n" + opener, 0, end) + 1 or -1
        while pos >= 0 and (best is None or pos < best.start()):
            m = pattern.match(text, pos, end)
            if m is not None:
                best = m
                break
            pos = text.find("\n" + opener, pos, end) + 1 or -1
    return best


def _trim(text: str) -> str:
    return text.rstrip().lstrip("\n")


def _cut_diff(text: str) -> tuple[str, list[FileDiff]]:
    """The diff at the start of `text`, up to where it ends, and its files."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    end, files = read_diff(lines, strict=True)
    return ("\n".join(lines[:end]) + "\n" if end else ""), files


# git's isspace(): space, tab, LF, CR only (not VT/FF).
_GIT_SPACE = b" \t\n\r"
_MASK_160 = (1 << 160) - 1
_HEX40 = re.compile(rb"[0-9a-fA-F]{40}")
_HEX_FIRST = frozenset(b"0123456789abcdefABCDEF")  # spares most lines the expression
# The first bytes of hunk lines (' ', '+', '-'), and the start of the first line that is not one.
_HUNK_FIRST = frozenset(b" +-")
_HUNK_RUN_END = re.compile(rb"\n[^ +\-]")
# A well-formed hunk header, which `_scan_hunk_header` would read the same way; whatever
# does not match (`-,3`, `+7,x`) is left to that port of git's reading.
_HUNK_COUNTS = re.compile(rb"@@ -\d+(?:,(\d+))?(?![\d,]) \+\d+(?:,(\d+))?(?![\d,])")
# A file's usual start, read at once: the `diff --git` line and any mode, similarity and
# rename lines (hashed), the `index` line (not hashed; its ids are kept for a binary file
# that names none), `---`/`+++` (hashed) and the first hunk header (counted). Five lines
# the port would take one at a time, a fifth of the lines it read line by line.
_FILE_START = re.compile(
    rb"diff --git [^\n\0]*\n"
    rb"(?:(?:old mode|new mode|new file mode|deleted file mode|similarity index"
    rb"|dissimilarity index|rename from|rename to|copy from|copy to) [^\n\0]*\n)*"
    rb"index (?P<pre>[0-9a-f]+)\.\.(?P<post>[0-9a-f]+)(?: [0-9]+)?\n"
    rb"(?P<names>--- [^\n\0]*\n\+\+\+ [^\n\0]*\n)"
    rb"@@ -\d+(?:,(?P<before>\d+))?(?![\d,]) \+\d+(?:,(?P<after>\d+))?(?![\d,])[^\n\0]*\n"
)


def patch_id(diff: str) -> str | None:
    """The `git patch-id --stable` of the first patch in `diff`, or None if it has no diff.

    A port of git's builtin/patch-id.c so that ids computed here equal ids computed by git
    on the same text, quirks included: whitespace is dropped from every hashed line, `index`
    lines are only used for binary files, hunk headers are counted but not hashed, and each
    file's SHA-1 is added into a 160-bit little-endian sum so that file order does not
    matter. git reads line by line; here a run of hunk lines that the hunk's counts wholly
    take is hashed as one block (SHA-1 of the lines one after the other is SHA-1 of their
    concatenation, and the newlines between them are whitespace, dropped either way), which
    is what makes it fast; anything unusual goes through the line-by-line port.
    """
    data = _to_bytes(diff)
    n = len(data)
    if data.startswith(b"diff "):
        first = 0
    else:
        first = data.find(b"\ndiff ") + 1
        if first == 0:
            return None
    total = 0
    patchlen = 0
    ctx = hashlib.sha1()
    before = after = -1
    is_binary = False
    pre_oid = post_oid = b""
    pos = first
    slow_until = 0  # a run the counts do not wholly take is read line by line
    while pos < n:
        if ((before == after == 0 or pos == first) and not is_binary
                and data.startswith(b"diff --git ", pos)):
            m = _FILE_START.match(data, pos)
            if m is not None:
                if pos != first:  # the previous file's hash joins the sum
                    total = (total + int.from_bytes(ctx.digest(), "little")) & _MASK_160
                    ctx = hashlib.sha1()
                head = data[pos:m.start("pre") - len(b"index ")].translate(None, _GIT_SPACE)
                names = m["names"].translate(None, _GIT_SPACE)
                ctx.update(head)
                ctx.update(names)
                patchlen += len(head) + len(names)
                pre_oid, post_oid = m["pre"][:64], m["post"][:64]
                before = int(m["before"]) if m["before"] is not None else 1
                after = int(m["after"]) if m["after"] is not None else 1
                pos = m.end()
                continue
        if (pos >= slow_until and before >= 0 and (before or after) and not is_binary
                and data[pos] in _HUNK_FIRST):
            # Inside a hunk: take the run of lines that all start with ' ', '+' or '-'.
            m = _HUNK_RUN_END.search(data, pos)
            stop = m.start() + 1 if m is not None else n
            minus = data.count(b"\n-", pos, stop) + (data[pos] == 45)
            plus = data.count(b"\n+", pos, stop) + (data[pos] == 43)
            lines = data.count(b"\n", pos, stop) + (data[stop - 1] != 10)
            left_before = before - (lines - plus)
            left_after = after - (lines - minus)
            # Counts that stay >= 0 reach (0, 0) at the run's last line or not at all, as
            # every line lowers one of them; a NUL needs git's C-string quirk, line by line.
            if left_before >= 0 and left_after >= 0 and data.find(b"\0", pos, stop) < 0:
                squeezed = data[pos:stop].translate(None, _GIT_SPACE)
                patchlen += len(squeezed)
                ctx.update(squeezed)
                before, after = left_before, left_after
                pos = stop
                continue
            slow_until = stop
        end = data.find(b"\n", pos)
        if end < 0:
            end = next_pos = n
            newline = False
        else:
            next_pos = end + 1
            newline = True
        line = data[pos:end]
        at = pos
        pos = next_pos
        if b"\0" in line:  # C string functions stop at NUL, newline included
            line = line[: line.index(b"\0")]
            newline = False
        if line.startswith(b"\\ ") and len(line) + newline > 12:
            continue
        if at > first:
            oid = line
            if oid.startswith(b"commit "):
                oid = oid[7:]
            elif oid.startswith(b"From "):
                oid = oid[5:]
            if len(oid) >= 40 and oid[0] in _HEX_FIRST and _HEX40.match(oid):
                break  # the next patch of a series starts here
        if before == -1:
            if line.startswith((b"GIT binary patch", b"Binary files")):
                is_binary = True
                before = 0
                ctx.update(pre_oid)
                ctx.update(post_oid)
                total = (total + int.from_bytes(ctx.digest(), "little")) & _MASK_160
                ctx = hashlib.sha1()
                continue
            if line.startswith(b"index "):
                full = line + b"\n" if newline else line
                dots = full.find(b"..")
                if dots >= 0:
                    stop = full.find(b" ", dots)
                    if stop < 0:
                        stop = len(full) - 1
                    pre_oid = full[6:dots][:64]
                    post_oid = full[dots + 2: max(stop, dots + 2)][:64]
                continue
            if line.startswith(b"--- "):
                before = after = 1
            elif not line[:1].isalpha():
                break
        if is_binary:
            if line.startswith(b"diff "):
                is_binary = False
                before = -1
            continue
        if before == 0 and after == 0:
            if line.startswith(b"@@ -"):
                m = _HUNK_COUNTS.match(line)
                if m is not None:
                    before = int(m.group(1)) if m.group(1) is not None else 1
                    after = int(m.group(2)) if m.group(2) is not None else 1
                else:
                    before, after = _scan_hunk_header(line, before, after)
                continue
            if not line.startswith(b"diff "):
                break
            total = (total + int.from_bytes(ctx.digest(), "little")) & _MASK_160
            ctx = hashlib.sha1()
            before = after = -1
        first_char = line[:1]
        if first_char == b"-" or first_char == b" ":
            before -= 1
        if first_char == b"+" or first_char == b" ":
            after -= 1
        squeezed = line.translate(None, _GIT_SPACE)
        patchlen += len(squeezed)
        ctx.update(squeezed)
    total = (total + int.from_bytes(ctx.digest(), "little")) & _MASK_160
    if not patchlen:
        return None
    return total.to_bytes(20, "little").hex()


def _to_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _digits(line: bytes, pos: int) -> int:
    n = 0
    while pos + n < len(line) and 48 <= line[pos + n] <= 57:
        n += 1
    return n


def _scan_count(line: bytes, q: int) -> tuple[int, int, int]:
    """git's reading of one side's `START[,COUNT]` at `q`: (count, where its digits
    start, how many digits); the count is 1 when there is no `,COUNT`."""
    n = _digits(line, q)
    if line[q + n: q + n + 1] != b",":
        return 1, q, n
    q += n + 1
    n = _digits(line, q)
    return int(line[q: q + n] or b"0"), q, n


def _scan_hunk_header(line: bytes, before: int, after: int) -> tuple[int, int]:
    """git's scan_hunk_header(), including that it may set `before` and then give up."""
    before, q, n = _scan_count(line, 4)
    if n == 0 or line[q + n: q + n + 2] != b" +":
        return before, after
    after, _, _ = _scan_count(line, q + n + 2)
    return before, after
