"""Subject tags, titles and RFC 2047 decoding as real lists write them."""

from __future__ import annotations

import pytest

from patchtrail.mail.subject import decode_header_text, decode_header_text_ex, normalize_title, parse_subject


def test_plain_patch():
    s = parse_subject("[PATCH] kvm: vmx: hook preemption timer support")
    assert s.is_patch and not s.is_reply
    assert s.version == 1 and s.number is None and s.total is None
    assert s.title == "kvm: vmx: hook preemption timer support"
    assert s.norm == "hook preemption timer support"
    assert s.tags == ()


@pytest.mark.parametrize("tag", ["[PATCH v4 2/4]", "[PATCH V4 2/4]", "[PATCH v4, 2/4]", "[PATCHv4 2/4]"])
def test_version_and_number(tag):
    s = parse_subject(f"{tag} foo: bar")
    assert (s.is_patch, s.version, s.number, s.total) == (True, 4, 2, 4)
    assert s.title == "foo: bar"


def test_patchv3_glued():
    s = parse_subject("[PATCHv3] net: fix it")
    assert s.is_patch and s.version == 3 and s.title == "net: fix it"


def test_rfc_patch():
    s = parse_subject("[RFC PATCH v2 0/7] mm: something")
    assert s.rfc and s.is_patch and s.version == 2 and (s.number, s.total) == (0, 7)
    s = parse_subject("[RFC] mm: idea")
    assert s.rfc and not s.is_patch and s.title == "mm: idea"


def test_resend():
    s = parse_subject("[PATCH RESEND] foo: bar")
    assert s.resend and s.is_patch
    s = parse_subject("[RESEND PATCH v3 1/2] foo: bar")
    assert s.resend and s.version == 3 and s.number == 1


def test_list_tag_then_patch_tag():
    s = parse_subject("[LTP] [PATCH v2 1/3] syscalls/fork: add test")
    assert s.tags == ("LTP",)
    assert (s.version, s.number, s.total) == (2, 1, 3)
    assert s.title == "syscalls/fork: add test"
    assert s.norm == "add test"


def test_project_word_inside_patch_tag():
    s = parse_subject("[PATCH liburing 3/5] test: add thing")
    assert s.tags == ("liburing",) and s.number == 3 and s.total == 5
    s = parse_subject("[PATCH net-next v3 05/12] tcp: foo")
    assert s.tags == ("net-next",) and s.version == 3 and s.number == 5


def test_reply_forms():
    for prefix in ("Re: ", "RE: ", "Re: Re: ", "Aw: ", "Re[2]: ", "Fwd: ", "回复："):
        s = parse_subject(f"{prefix}[PATCH v2 1/2] foo: bar")
        assert s.is_reply, prefix
        assert s.is_patch and s.version == 2 and s.title == "foo: bar"
    s = parse_subject("[LTP] Re: [PATCH] foo")
    assert s.is_reply and s.tags == ("LTP",) and s.title == "foo"


def test_component_named_like_reply_prefix_after_patch_tag():
    s = parse_subject("[PATCH] fw: load firmware earlier")
    assert not s.is_reply and s.title == "fw: load firmware earlier"
    s = parse_subject("Re: [PATCH] sv: fix it")
    assert s.is_reply and s.title == "sv: fix it"


def test_title_brackets_after_text_stay():
    s = parse_subject("[PATCH] foo: handle [x] in bar")
    assert s.title == "foo: handle [x] in bar"
    s = parse_subject("Revert \"[PATCH] foo\"")
    assert not s.is_patch and s.title == 'Revert "[PATCH] foo"'


def test_not_a_patch():
    s = parse_subject("Announcing LTP release")
    assert not s.is_patch and s.version == 1 and s.title == "Announcing LTP release"


def test_rfc2047_and_tab_fold():
    raw = "=?UTF-8?q?=5BPATCH_v2=5D_foo=3A_fix_na=C3=AFve?=\n\t=?UTF-8?q?_handling?="
    s = parse_subject(raw)
    assert s.raw == "[PATCH v2] foo: fix naïve handling"
    assert s.version == 2 and s.title == "foo: fix naïve handling"
    s = parse_subject("[PATCH 1/2] a very long subject that was\n\tfolded by the client")
    assert s.title == "a very long subject that was folded by the client"


def test_rfc2047_split_multibyte_and_base64():
    # One UTF-8 character split across two encoded words must be rejoined.
    raw = "=?utf-8?b?W1BBVENIXSDDpA==?= =?utf-8?b?w7Y=?="
    assert decode_header_text(raw) == "[PATCH] äö"
    # Different charsets, and undecoded text between words.
    assert decode_header_text("x =?iso-8859-1?q?caf=E9?= y") == "x café y"


def test_rfc2047_broken_never_raises():
    for raw in ("=?utf-8?b?!!!?=", "=?x-nonsense?q?abc?=", "=?utf-8?q?=ZZ?=", "=?base64?b?YWJj?=",
                "=?utf-8?", "=??b??="):
        text, problems = decode_header_text_ex(raw)
        assert isinstance(text, str)
    text, problems = decode_header_text_ex("=?x-nonsense?q?caf=E9?=")
    assert text == "café" and problems


def test_normalize_title():
    assert normalize_title("KVM: VMX: Hook  Preemption-Timer support.") == "hook preemption timer support"
    assert normalize_title("kvm:") == "kvm"
    assert normalize_title("") == ""
