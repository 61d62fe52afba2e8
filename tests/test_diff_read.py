"""One pass over a mail's diff finds where it ends and what each file changes.

`read_diff(strict=True)` replaced a separate walk (`diff_length`) followed by
`file_diffs` on the cut text; these check that the two readings agree on the shapes that
decide where a diff ends, and what the fast paths (one-sided hunks, whitespace dropped
in bulk for the fingerprint) must keep.
"""

from __future__ import annotations

import pytest

from patchtrail.mail.diff import file_diffs, split_body, split_patch
from patchtrail.mail.difffiles import read_diff
from patchtrail.mail.fingerprint import fingerprint, similarity
from patchtrail.mail.message import parse_message

NEW_FILE = (
    "diff --git a/t/new.c b/t/new.c\n"
    "new file mode 100644\n"
    "index 0000000..1111111\n"
    "--- /dev/null\n"
    "+++ b/t/new.c\n"
    "@@ -0,0 +1,3 @@\n"
    "+int a;\n"
    "+\tint  b;\n"
    "+\n"
)
EDIT = (
    "diff --git a/lib/x.c b/lib/x.c\n"
    "index 2222222..3333333 100644\n"
    "--- a/lib/x.c\n"
    "+++ b/lib/x.c\n"
    "@@ -10,4 +10,3 @@ static int f(void)\n"
    " \tint r;\n"
    "-\tr = 1;\n"
    "+\tr = 2;\n"
    "-- \n"
    " \treturn r;\n"
)


def _key(files):
    return [(f.old_path, f.new_path, f.added, f.removed, f.binary, f.anchors) for f in files]


@pytest.mark.parametrize("tail", [
    "-- \n2.43.0\n\n",                      # the signature after the last hunk
    "\\ No newline at end of file\n-- \nx\n",
    "Thanks,\nme\n",                         # prose after the diff
    "",
])
def test_strict_read_ends_where_the_hunk_counts_end(tail: str) -> None:
    body = "Subject text\n\nSigned-off-by: A <a@x>\n---\n t/new.c | 3 +++\n\n" + NEW_FILE + EDIT + tail
    message, notes, diff, files = split_patch(body)
    assert diff == NEW_FILE + EDIT + ("\\ No newline at end of file\n" if tail.startswith("\\") else "")
    assert _key(files) == _key(file_diffs(diff))
    assert [f.path for f in files] == ["t/new.c", "lib/x.c"]
    assert files[0].added == ["int a;", "int b;", ""]
    # `-- ` inside the counted hunk is a removed line, not the signature.
    assert files[1].removed == ["r = 1;", "-"]
    assert (message, split_body(body)[2]) == ("Subject text\n\nSigned-off-by: A <a@x>", diff)


def test_tolerant_read_skips_what_strict_stops_at() -> None:
    lines = (NEW_FILE + "some words between files\n" + EDIT).split("\n")
    end, strict = read_diff(lines, strict=True)
    assert lines[end] == "some words between files"
    assert [f.path for f in strict] == ["t/new.c"]
    assert [f.path for f in read_diff(lines)[1]] == ["t/new.c", "lib/x.c"]


@pytest.mark.parametrize("hunk", [
    "@@ -0,0 +0,0 @@\n",                      # empty counts: no lines to take
    "@@ -0,0 +1,5 @@\n+a\n+b\n",              # truncated: fewer lines than counted
    "@@ -0,0 +1,3 @@\n+a\n\n+b\n",            # a bare blank line inside: not one-sided
    "@@ -1,2 +0,0 @@\n-a\n-b\n",              # a deletion, taken whole
])
def test_one_sided_hunks_read_as_line_by_line(hunk: str) -> None:
    diff = "diff --git a/f b/f\n--- a/f\n+++ b/f\n" + hunk
    lines = diff.split("\n")[:-1]
    end, files = read_diff(lines, strict=True)
    assert end == len(lines)
    plus = [line for line in lines[4:] if line.startswith("+")]
    minus = [line for line in lines[4:] if line.startswith("-")]
    assert (files[0].plus, files[0].minus) == (plus, minus)


def test_parsed_mail_files_cover_body_and_patch_attachment() -> None:
    raw = (
        b"From: A <a@x>\nSubject: [PATCH] two files\nMessage-ID: <1@x>\n"
        b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
        b"--B\nContent-Type: text/plain\n\nmessage\n---\n" + NEW_FILE.encode() +
        b"--B\nContent-Type: text/x-patch\nContent-Disposition: attachment; filename=\"e.patch\"\n\n"
        + EDIT.encode() + b"--B--\n"
    )
    mail = parse_message(raw)
    assert [f.path for f in mail.files] == ["t/new.c", "lib/x.c"]
    assert _key(mail.files) == _key(file_diffs(mail.diff))


def test_fingerprint_ignores_reindenting_not_content() -> None:
    base = file_diffs(EDIT)
    reindented = file_diffs(EDIT.replace("+\tr = 2;", "+    r  =  2;"))
    edited = file_diffs(EDIT.replace("+\tr = 2;", "+\tr = 3;"))
    assert fingerprint(base) == fingerprint(reindented)
    assert fingerprint(base) != fingerprint(edited)
    assert 0 < similarity(fingerprint(base), fingerprint(edited)) < 1
