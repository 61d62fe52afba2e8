"""Body split (message / notes / diff), list footers, and the diff fingerprint."""

from __future__ import annotations

from patchtrail.mail.diff import split_body
from patchtrail.mail.fingerprint import containment, file_similarity, fingerprint, similarity
from patchtrail.mail.footer import strip_list_footer

DIFF = """\
diff --git a/mm/foo.c b/mm/foo.c
index 1111111..2222222 100644
--- a/mm/foo.c
+++ b/mm/foo.c
@@ -1,4 +1,4 @@
 a
--- 
+x
 c
 d
"""


def test_split_signature_vs_removed_dash_dash_line():
    body = "Fix it.\n\nSigned-off-by: A <a@x>\n---\n foo.c | 2 +-\n\n" + DIFF + "-- \n2.39.5\n\n"
    message, notes, diff = split_body(body)
    assert message == "Fix it.\n\nSigned-off-by: A <a@x>"
    assert notes == " foo.c | 2 +-"
    assert diff == DIFF  # the removed "-- " line stays, the signature goes


def test_split_no_separator_no_diff():
    assert split_body("just text\n\n") == ("just text", "", "")
    assert split_body("") == ("", "", "")
    message, notes, diff = split_body("msg\n---\nv2: changed\n")
    assert (message, notes, diff) == ("msg", "v2: changed", "")


def test_split_crlf_and_quilt_diff():
    body = "msg\r\n\r\nIndex: a/x.c\r\n===================\r\n--- a/x.c\r\n+++ b/x.c\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\ntrailing prose\r\n"
    message, notes, diff = split_body(body)
    assert message == "msg"
    assert diff.startswith("Index: a/x.c\n") and diff.endswith("+b\n")


def test_split_strips_list_footer_without_diff():
    body = "A cover letter.\n\nThanks\n\n-- \nMailing list info: https://lists.linux.it/listinfo/ltp\n"
    assert split_body(body) == ("A cover letter.\n\nThanks", "", "")


def test_list_footer_after_diff_is_not_diff():
    body = "msg\n---\n" + DIFF + "\n-- \nMailing list info: https://lists.linux.it/listinfo/ltp\n"
    assert split_body(body)[2] == DIFF


def test_footer_keeps_human_signature():
    text = "Thanks\n-- \nAnn Dev\nKernel hacker\n"
    assert strip_list_footer(text) == text
    mailman = "Body\n_______________________________________________\nkvm mailing list\nkvm@x\nhttps://x/mailman/listinfo/kvm\n"
    assert strip_list_footer(mailman) == "Body\n"


def test_footer_found_at_either_end_of_its_window():
    footer = "-- \nMailing list info: https://lists.linux.it/listinfo/ltp\n"
    # The footer is the whole text: nothing is left.
    assert strip_list_footer(footer) == ""
    assert strip_list_footer("\n\n" + footer + "\n\n") == ""
    # A long text (the footer window is its last 1,500 characters): only the footer goes,
    # and the text before it is kept to the character.
    long_body = "".join(f"line {i} of a long cover letter\n" for i in range(200))
    assert strip_list_footer(long_body + "\n" + footer) == long_body
    assert strip_list_footer(long_body + footer + "  \n") == long_body
    # A rule of underscores far up in a long text is not looked at, one near the end is.
    # Far up by characters, not lines: six long lines are within the window's line count.
    rule = "_" * 30 + "\nltp mailing list\nhttps://lists.linux.it/listinfo/ltp\n"
    wide = "".join(f"{i} " + "x" * 300 + "\n" for i in range(6))
    assert strip_list_footer(long_body + rule) == long_body
    assert strip_list_footer(rule + wide) == rule + wide


def _diff(lines_removed, lines_added, path="drivers/x.c"):
    hunk = "".join(f"-{x}\n" for x in lines_removed) + "".join(f"+{x}\n" for x in lines_added)
    return (f"diff --git a/{path} b/{path}\nindex 1..2 100644\n--- a/{path}\n+++ b/{path}\n"
            f"@@ -1,{len(lines_removed)} +1,{len(lines_added)} @@\n{hunk}")


def test_fingerprint_similarity():
    added = [f"\tcall_{i}(arg, {i});" for i in range(40)]
    removed = [f"\told_{i}();" for i in range(10)]
    base = fingerprint(_diff(removed, added))
    assert len(base) % 8 == 0
    assert similarity(base, base) == 1.0
    # Rebased: other line numbers and whitespace only changes keep the fingerprint.
    rebased = _diff(removed, [a.replace("\t", "        ") for a in added]).replace("@@ -1,", "@@ -90,")
    assert similarity(base, fingerprint(rebased)) == 1.0
    # A maintainer reworded three lines.
    edited = list(added)
    edited[3] = "\tcall_3(arg, 33);"
    edited[7] = "\tcall_seven(arg);"
    edited[20] = "\t/* comment */"
    s = similarity(base, fingerprint(_diff(removed, edited)))
    assert 0.85 < s < 1.0
    # Unrelated patch to the same file.
    other = fingerprint(_diff(["x"], [f"unrelated {i}" for i in range(30)]))
    assert similarity(base, other) < 0.1
    assert file_similarity(base, other) == 1.0
    # Half the patch applied (split series): containment sees it.
    half = fingerprint(_diff(removed[:5], added[:20]))
    assert containment(half, base) == 1.0
    assert similarity(half, base) < 0.8


def test_fingerprint_empty_and_mode_only():
    assert fingerprint("") == b""
    assert similarity(b"", b"") == 0.0
    mode = "diff --git a/s.sh b/s.sh\nold mode 100644\nnew mode 100755\n"
    fp = fingerprint(mode)
    assert similarity(fp, fp) == 1.0


def _one_liner(func: str, guard: str, call: str) -> str:
    return (f"diff --git a/pmu.c b/pmu.c\n--- a/pmu.c\n+++ b/pmu.c\n"
            f"@@ -408,6 +408,7 @@ static int {func}(struct kvm_vcpu *vcpu, u32 nr)\n"
            f" \tif ({guard})\n \t\treturn -EINVAL;\n \n+\t/* The helper validates the rest. */\n"
            f" \tr = {call}(vcpu, nr);\n \tif (r)\n \t\tgoto out;\n")


def test_fingerprint_anchors_tell_the_same_line_in_two_functions_apart():
    a = fingerprint(_one_liner("pmu_get_regs", "nr >= 4", "pmu_get_do_regs"))
    b = fingerprint(_one_liner("pmu_read_page", "idx >= 8", "pmu_read_do_page"))
    moved = fingerprint(_one_liner("pmu_get_regs", "nr >= 4", "pmu_get_do_regs").replace("@@ -408,6 +408,7", "@@ -500,6 +500,7"))
    assert similarity(a, moved) == 1.0
    assert similarity(a, b) <= 0.6  # the line matches, one anchor of three does
