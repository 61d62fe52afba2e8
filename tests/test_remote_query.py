"""The pieces of the remote source that need no server: query quoting, Message-ID
escaping, URLs, Retry-After, the mbox split, the response cache."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import pytest

from patchtrail.link.model import CommitInfo
from patchtrail.link.remote import (
    cache_dir_for,
    commit_query,
    subject_words,
    telling_files,
)
from patchtrail.link.remote_series import END_OF_TIME, gaps, gate_terms
from patchtrail.link.series_model import PostedPatch, Posting
from patchtrail.sources.remote import (
    RemoteError,
    RemoteInbox,
    decode_mbox,
    mid_escape,
    retry_after,
    split_mbox_bytes,
)
from patchtrail.sources.remote_cache import FOREVER, ResponseCache
from patchtrail.sources.remote_query import (
    all_of,
    any_of,
    date_range,
    exact_time,
    phrase,
    time_range,
    token,
    word_prefix,
)
from patchtrail.story.discussions import search_terms
from patchtrail.story.model import CommitRef, Term
from patchtrail.story.remote import mention_asks


def test_phrases_drop_every_quote_and_keep_syntax_inert() -> None:
    q = phrase("s", 'fix "foo" (bar) AND \u201cbaz\u201d -x *')
    assert q == 's:"fix foo (bar) AND baz -x *"'
    assert q.count('"') == 2
    assert phrase("s", ' "" ') is None
    with pytest.raises(ValueError):
        phrase("patchid", "x")  # a boolean prefix takes a token, not a phrase


def test_tokens_are_checked_not_quoted() -> None:
    assert token("patchid", "0" * 40) == "patchid:" + "0" * 40
    with pytest.raises(ValueError):
        token("patchid", "abc OR d:..")


def test_boolean_structure_and_dates() -> None:
    q = any_of(token("patchid", "ab12"), None, all_of(phrase("f", "a@b.c"), date_range(0, 86400 * 2)))
    assert q == '(patchid:ab12 OR (f:"a@b.c" AND d:19700101..19700103))'
    assert any_of(None, None) is None
    assert all_of(phrase("s", "x")) == 's:"x"'
    # 2016-06-13 21:20:04 UTC, what `git am` copies from a Date header
    assert exact_time(1465852804) == "dt:20160613212004..20160613212004"
    assert date_range(None, 0) == "d:..19700101"


@pytest.mark.parametrize("msgid, escaped", [
    ("1465852801-6684-4-git-send-email-y@linux.intel.com", "1465852801-6684-4-git-send-email-y@linux.intel.com"),
    ("a/b@c", "a%2Fb@c"),
    ("x?y#z%w@h", "x%3Fy%23z%25w@h"),
    ("keep!$&'()*+,;=:~._-@h", "keep!$&'()*+,;=:~._-@h"),
    ("sp ace\"<>@h", "sp%20ace%22%3C%3E@h"),
    ("ünï@h", "%C3%BCn%C3%AF@h"),
])
def test_message_ids_are_escaped_as_public_inbox_does(msgid: str, escaped: str) -> None:
    assert mid_escape(msgid) == escaped


def test_inbox_urls_from_what_users_type() -> None:
    assert RemoteInbox.parse("https://lore.kernel.org").url == "https://lore.kernel.org/all/"
    assert RemoteInbox.parse("https://lore.kernel.org/ltp").url == "https://lore.kernel.org/ltp/"
    one = RemoteInbox.parse("https://lore.kernel.org/all/%s")  # a b4 midmask
    assert (one.url, one.name) == ("https://lore.kernel.org/all/", "all")
    prefixed = RemoteInbox.parse("http://127.0.0.1:8080/lists/kvm/")
    assert (prefixed.url, prefixed.name) == ("http://127.0.0.1:8080/lists/kvm/", "kvm")
    assert prefixed.message_url("a/b@c", "raw") == "http://127.0.0.1:8080/lists/kvm/a%2Fb@c/raw"
    with pytest.raises(RemoteError, match="not an http"):
        RemoteInbox.parse("lore.kernel.org/ltp")


def test_retry_after_seconds_or_date() -> None:
    assert retry_after("7") == 7.0
    soon = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= (retry_after(soon) or 0) <= 31
    assert retry_after("soon") is None and retry_after(None) is None


def test_mboxrd_split_unescapes_from_lines() -> None:
    data = (b"From mboxrd@z Thu Jan  1 00:00:00 1970\nMessage-ID: <a@x>\n\nbody\n>From here\n\n"
            b"From mboxrd@z Thu Jan  1 00:00:00 1970\nMessage-ID: <b@x>\n\n>>From two\n")
    mails = split_mbox_bytes(data)
    assert [m.split(b"\n")[0] for m in mails] == [b"Message-ID: <a@x>", b"Message-ID: <b@x>"]
    assert b"\nFrom here" in mails[0] and b"\n>From two" in mails[1]


def test_decode_refuses_truncated_gzip_and_foreign_bodies() -> None:
    good = gzip.compress(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n\nx\n")
    assert decode_mbox("u", good).startswith(b"From ")
    with pytest.raises(RemoteError, match="u: truncated gzip"):
        decode_mbox("u", good[:-9])
    with pytest.raises(RemoteError, match="not a public-inbox server"):
        decode_mbox("u", b"<!DOCTYPE html><html>")


def test_cache_keeps_whole_answers_and_expires(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c", ttl=60)
    assert cache.get("GET", "u") == (False, None)
    cache.put("GET", "u", b"body")
    cache.put("POST", "q", None)  # "no results" is an answer too
    assert cache.get("GET", "u") == (True, b"body")
    assert cache.get("POST", "q") == (True, None)
    for f in (tmp_path / "c").rglob("*.body"):
        os.utime(f, (time.time() - 120, time.time() - 120))
    assert cache.get("GET", "u") == (False, None)  # older than the 60 s ttl
    assert cache.get("GET", "u", ttl=FOREVER) == (True, b"body")
    for f in (tmp_path / "c").rglob("*.none"):
        os.utime(f, (time.time() - 120, time.time() - 120))
    assert cache.get("POST", "q", ttl=FOREVER) == (False, None)  # "not there" may change
    assert not list((tmp_path / "c").rglob(".tmp-*"))
    assert ResponseCache(None).get("GET", "u") == (False, None)
    assert cache_dir_for(Path("/x/.git/patchtrail.db")) == Path("/x/.git/patchtrail.http-cache")


def _commit(subject: str, files: tuple[str, ...] = ()) -> CommitInfo:
    return CommitInfo(oid="0" * 40, subject=subject, subject_norm=subject.lower(), message=subject,
                      author_name="A U", author_email="a@u.org", author_time=1_600_000_000,
                      committer_time=1_600_086_400, parents=("1" * 40,), patch_id="ab" * 20,
                      fingerprint=None, files=files)


def test_commit_query_prefers_identifiers_and_skips_build_glue() -> None:
    c = _commit("syscalls/dup06: Convert to new API", ("runtest/syscalls", "testcases/kernel/syscalls/dup/dup06.c"))
    assert subject_words(c)[0] == "dup06"
    assert "api" not in subject_words(c) and "convert" not in subject_words(c)
    assert telling_files(c) == ["testcases/kernel/syscalls/dup/dup06.c"]
    q = commit_query(c)
    assert q is not None
    assert "dt:20200913122640..20200913122640" in q
    assert '(s:"dup06" AND d:20180914..20200916)' in q
    assert 'dfn:"testcases/kernel/syscalls/dup/dup06.c"' in q
    assert "runtest" not in q


def test_time_ranges_and_word_prefixes() -> None:
    assert time_range(0, 7200) == "dt:19700101000000..19700101020000"
    assert word_prefix("nq", "2729da9c") == "nq:2729da9c*"
    for bad in ("a b", "x*", '"q"', "a:b"):
        with pytest.raises(ValueError):
            word_prefix("nq", bad)


def _posted(title: str, files: tuple[str, ...], number: int) -> PostedPatch:
    return PostedPatch(msgid=f"{number}@x", url="", subject=title, title=title, number=number, total=2,
                       date=1465852804, author="A <a@b.c>", patch_id=None, files=list(files),
                       is_cover=number == 0)


def test_gate_terms_ask_for_a_shared_file_or_a_telling_title_word() -> None:
    cover = _posted("Utilizing VMX preemption for timer virtualization", (), 0)
    patch = _posted("Separate the start_sw_tscdeadline", ("Makefile", "arch/x86/kvm/lapic.c"), 1)
    post = Posting(key="0@x", version=2, title=cover.title, date=1465852804, author_name="Yunhong Jiang",
                   author_email="yunhong.jiang@linux.intel.com", list="kvm", rfc=False, resend=False,
                   thread_root="0@x", cover=cover, patches=[patch], total=2)
    terms = gate_terms(post)
    assert terms[0] == 'dfn:"arch/x86/kvm/lapic.c"' and not any("Makefile" in t for t in terms)
    assert 's:"start_sw_tscdeadline"' in terms and 's:"preemption"' in terms


def test_gaps_are_what_earlier_questions_left_uncovered() -> None:
    assert gaps([], 10, 20) == [(10, 20)]
    assert gaps([(0, 12), (15, 16)], 10, 20) == [(13, 14), (17, 20)]
    assert gaps([(5, 25)], 10, 20) == []
    assert gaps([(21, 30), (0, 9)], 10, 20) == [(10, 20)]


def test_mention_asks_mirror_the_local_full_text_terms() -> None:
    commit = CommitRef("2729da9c3018eb1fded3b02ebaa7fe195b65133e", "kvm: vmx: hook preemption timer support",
                       "A <a@b.c>", 0, 0)
    asks = mention_asks([(search_terms('say "hi"', [commit], "Fix typo"), 86400)])
    assert {(lo, hi) for _q, lo, hi in asks} == {(86400, END_OF_TIME)}
    queries = [q for q, _lo, _hi in asks]
    assert '(s:"say hi" OR nq:"say hi")' in queries
    assert "(s:2729da9c* OR nq:2729da9c*)" in queries
    assert '(s:"kvm vmx hook preemption timer support" OR nq:"kvm vmx hook preemption timer support")' in queries
    assert len(queries) == 3  # "Fix typo": two words name nothing, locally too
    # a term that cannot be asked is left out, never asked as "anything since"
    assert mention_asks([([Term("commit id", "a-b", prefix=True)], 0)]) == []
