"""patchtrail.sources.archive (and the kinds it opens: public_inbox, mbox, maildir) against
archives built here with plain git and file writes."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest

import patchtrail.sources.maildir as maildir_source
import patchtrail.sources.mbox as mbox_source
import patchtrail.sources.public_inbox as public_inbox
from patchtrail.sources.archive import open_archive
from patchtrail.sources.errors import SourceError
from patchtrail.sources.records import SkipLog

ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def msg(i: int, body: str = "") -> bytes:
    return (f"From: Sender {i} <s{i}@example.org>\nSubject: [PATCH] change {i}\n"
            f"Message-ID: <m{i}@example.org>\nDate: Mon, 1 Jan 2024 00:00:{i % 60:02d} +0000\n\n"
            f"Body of message {i}.\n{body}").encode()


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], input=input, env=ENV, check=True,
                          stdout=subprocess.PIPE).stdout.decode().strip()


def epoch_append(path: Path, items: list[tuple[str, bytes]]) -> list[str]:
    """Add one commit per item to a bare epoch with ONE fast-import, as public-inbox does:
    ("m", data) a message, ("d", data) a deletion, ("x", data) a commit with neither."""
    if not (path / "HEAD").exists():
        subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=master", str(path)],
                       check=True, env=ENV)
    tip = subprocess.run(["git", "--git-dir", str(path), "rev-parse", "-q", "--verify",
                          "refs/heads/master"], env=ENV, stdout=subprocess.PIPE).stdout.strip()
    out = bytearray()
    for n, (name, data) in enumerate(items, 1):
        out += b"commit refs/heads/master\nmark :%d\n" % n
        out += b"committer list.0 <list@example.org> %d +0000\ndata 3\nmsg\n" % (1_700_000_000 + n)
        if n == 1 and tip:
            out += b"from " + tip + b"\n"
        out += b"deleteall\nM 100644 inline %s\ndata %d\n%s\n" % (name.encode(), len(data), data)
    out += b"done\n"
    marks = path / "test-marks"
    subprocess.run(["git", "--git-dir", str(path), "fast-import", "--quiet", "--done",
                    f"--export-marks={marks}"], input=bytes(out), check=True, env=ENV)
    found = dict(line.split() for line in marks.read_text().split("\n") if line)
    marks.unlink()
    return [found[f":{n}"] for n in range(1, len(items) + 1)]


def read(src, cursor=None):
    skips = SkipLog()
    mails = list(src.iter_messages(cursor, skips))
    return mails, skips


# -- public-inbox ---------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1024, 2])  # a read in batches that split the epochs
def test_v2_inbox_two_epochs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    monkeypatch.setattr(public_inbox, "_READ_BATCH", batch)
    inbox = tmp_path / "ltp"
    git_dir = inbox / "git"
    git_dir.mkdir(parents=True)
    e0 = epoch_append(git_dir / "0.git", [("m", msg(i)) for i in range(3)])
    e1 = epoch_append(git_dir / "1.git", [("m", msg(3)), ("d", msg(1)), ("x", b"junk"), ("m", msg(4))])
    e10 = epoch_append(git_dir / "10.git", [("m", msg(5))])
    src = open_archive(inbox)
    assert (src.kind, src.path, src.name) == ("public-inbox-v2", str(inbox.resolve()), "ltp")
    assert src.estimate(None) == 8
    mails, skips = read(src)
    assert [m.data for m in mails] == [msg(i) for i in range(6)]
    assert [m.key for m in mails] == [f"0:{o}" for o in e0] + [f"1:{e1[0]}", f"1:{e1[3]}", f"10:{e10[0]}"]
    assert [(s.where, s.reason) for s in skips.items] == [
        (f"1:{e1[1]}", "deleted"), (f"1:{e1[2]}", "no message blob")]
    assert json.loads(mails[-1].cursor) == {"0": e0[-1], "1": e1[-1], "10": e10[0]}
    assert json.loads(mails[1].cursor) == {"0": e0[1]}
    # resuming from any message's cursor yields exactly what came after it
    for i, m in enumerate(mails):
        again, _ = read(src, m.cursor)
        assert [x.key for x in again] == [x.key for x in mails[i + 1:]]
        assert src.estimate(m.cursor) >= len(again)


def test_epoch_incremental_and_rewritten(tmp_path: Path) -> None:
    ep = tmp_path / "ltp.lists.linux.it.3"
    first = epoch_append(ep, [("m", msg(i)) for i in range(4)])
    src = open_archive(ep)
    assert (src.kind, src.name) == ("public-inbox-epoch", "ltp")
    mails, _ = read(src)
    assert [m.key for m in mails] == [f"3:{o}" for o in first]
    cursor = mails[-1].cursor
    assert read(src, cursor)[0] == [] and src.estimate(cursor) == 0
    more = epoch_append(ep, [("m", msg(10)), ("m", msg(11))])
    new, _ = read(src, cursor)
    assert [m.key for m in new] == [f"3:{o}" for o in more]
    assert [m.data for m in new] == [msg(10), msg(11)]
    assert src.estimate(cursor) == 2
    # history rewritten, the old last commit gone: the epoch is read again from the start
    gone = json.dumps({"3": "0123456789abcdef0123456789abcdef01234567"})
    assert len(read(src, gone)[0]) == 6
    assert len(read(src, "not json")[0]) == 6


def test_epoch_names(tmp_path: Path) -> None:
    a = tmp_path / "kvm" / "git" / "7.git"
    a.parent.mkdir(parents=True)
    oid = epoch_append(a, [("m", msg(1))])[0]
    src = open_archive(a)
    assert (src.kind, src.name) == ("public-inbox-epoch", "kvm")
    assert read(src)[0][0].key == f"7:{oid}"
    b = tmp_path / "owner+linux-mm.0" / "repo"
    b.parent.mkdir()
    oid = epoch_append(b, [("m", msg(1))])[0]
    src = open_archive(b)
    assert src.name == "linux-mm" and read(src)[0][0].key == f"0:{oid}"
    v2 = open_archive(tmp_path / "kvm")
    assert (v2.kind, v2.name) == ("public-inbox-v2", "kvm")


def test_epoch_big_message(tmp_path: Path) -> None:
    big = msg(1, "A" * 76 + "\n") + (b"QUFB" * 19 + b"\n") * (50 * 1024 * 1024 // 57)  # ~70 MB
    ep = tmp_path / "big.git"
    epoch_append(ep, [("m", msg(0)), ("m", big), ("m", msg(2))])
    mails, _ = read(open_archive(ep))
    assert [len(m.data) for m in mails] == [len(msg(0)), len(big), len(msg(2))]
    assert mails[1].data == big


def test_empty_epoch_and_other_git_repo(tmp_path: Path) -> None:
    empty = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", str(empty)], check=True, env=ENV)
    src = open_archive(empty)
    assert read(src)[0] == [] and src.estimate(None) == 0
    other = tmp_path / "code.git"
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=master", str(other)], check=True, env=ENV)
    stream = (b"commit refs/heads/master\ncommitter a <a@b> 1 +0000\ndata 2\nc\n"
              b"M 100644 inline README\ndata 3\nhi\n\ndone\n")
    git(other, "fast-import", "--quiet", "--done", input=stream)
    with pytest.raises(SourceError) as err:
        open_archive(other)
    assert str(err.value).startswith(f"{other.resolve()}: a git repository, but not a public-inbox epoch")


# -- mbox -----------------------------------------------------------------------------


def mbox_bytes(messages: list[bytes]) -> bytes:
    out = bytearray()
    for i, m in enumerate(messages):
        out += b"From s%d@example.org Mon Jan  1 00:00:00 2024\n" % i + m
        if not m.endswith(b"\n"):
            out += b"\n"
        out += b"\n"
    return bytes(out)


ESCAPED = (b"From: a <a@b>\nSubject: escapes\n\n"
           b">From the start of a line\n>>From twice\nnot From here\n"
           b"From inside a paragraph\n\n>From after a blank line\n")
UNESCAPED = (b"From: a <a@b>\nSubject: escapes\n\n"
             b"From the start of a line\n>From twice\nnot From here\n"
             b"From inside a paragraph\n\nFrom after a blank line\n")


@pytest.mark.parametrize("compressed", [False, True])
def test_mbox_split_unescape_and_keys(tmp_path: Path, compressed: bool) -> None:
    raw = mbox_bytes([msg(0), ESCAPED, msg(2, "last line\n")])
    path = tmp_path / ("ltp.mbox.gz" if compressed else "ltp.mbox")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    src = open_archive(path)
    assert (src.kind, src.name, src.path) == ("mbox", "ltp", str(path.resolve()))
    mails, skips = read(src)
    assert skips.items == []
    assert [m.data for m in mails] == [msg(0), UNESCAPED, msg(2, "last line\n")]
    starts = [i for i in range(len(raw)) if raw.startswith(b"From s", i)]
    assert [m.key for m in mails] == [f"offset:{n}" for n in starts]
    assert [json.loads(m.cursor)["offset"] for m in mails] == starts[1:] + [len(raw)]


@pytest.mark.parametrize("compressed", [False, True])
def test_mbox_incremental(tmp_path: Path, compressed: bool) -> None:
    path = tmp_path / "list.mbox"

    def put(data: bytes) -> None:
        path.write_bytes(gzip.compress(data) if compressed else data)

    first = mbox_bytes([msg(i) for i in range(3)])
    put(first)
    src = open_archive(path)
    mails, _ = read(src)
    cursor = mails[-1].cursor
    assert read(src, cursor)[0] == []
    put(first + mbox_bytes([msg(3), msg(4)]))
    new, _ = read(src, cursor)
    assert [m.data for m in new] == [msg(3), msg(4)]
    assert new[0].key == f"offset:{len(first)}"
    # resuming after each message
    every, _ = read(src)
    for i, m in enumerate(every):
        assert [x.key for x in read(src, m.cursor)[0]] == [x.key for x in every[i + 1:]]
    # the file was rewritten (its beginning changed): read from the start again
    put(mbox_bytes([msg(7), msg(8), msg(9), msg(10)]))
    again, _ = read(src, cursor)
    assert [m.data for m in again] == [msg(7), msg(8), msg(9), msg(10)]


def test_mbox_crlf_and_big_message(tmp_path: Path) -> None:
    crlf = mbox_bytes([msg(0), msg(1)]).replace(b"\n", b"\r\n")
    p = tmp_path / "crlf.mbox"
    p.write_bytes(crlf)
    mails, _ = read(open_archive(p))
    assert [m.data for m in mails] == [msg(0).replace(b"\n", b"\r\n"), msg(1).replace(b"\n", b"\r\n")]
    big = msg(1) + (b"QUFB" * 19 + b"\n") * (50 * 1024 * 1024 // 57)  # 50 MB of base64
    p = tmp_path / "big.mbox"
    p.write_bytes(mbox_bytes([msg(0), big, msg(2)]))
    mails, _ = read(open_archive(p))
    assert [len(m.data) for m in mails] == [len(msg(0)), len(big), len(msg(2))]
    assert mails[1].data == big


def test_mbox_too_large_message_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mbox_source, "MAX_MESSAGE_BYTES", 100_000)
    monkeypatch.setattr(mbox_source, "_CHUNK", 4096)
    huge = msg(1) + b"x" * 75 + b"\n" + (b"y" * 99 + b"\n") * 5000
    p = tmp_path / "l.mbox"
    raw = mbox_bytes([msg(0), huge, msg(2)])
    p.write_bytes(raw)
    mails, skips = read(open_archive(p))
    assert [m.data for m in mails] == [msg(0), msg(2)]
    start = raw.index(b"From s1@")
    assert [(s.where, s.reason) for s in skips.items] == [(f"offset:{start}", "message too large")]


def test_mbox_small_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Boundaries falling across read chunks are found all the same."""
    messages = [msg(i, "From x\n" * (i % 3)) for i in range(40)]
    raw = mbox_bytes(messages)
    p = tmp_path / "m.mbox"
    p.write_bytes(raw)
    expected, _ = read(open_archive(p))
    for chunk in (1, 2, 3, 5, 7, 64):
        monkeypatch.setattr(mbox_source, "_CHUNK", chunk)
        got, _ = read(open_archive(p))
        assert [(m.key, m.data, m.cursor) for m in got] == [(m.key, m.data, m.cursor) for m in expected]
    assert len(expected) == 40


# -- Maildir --------------------------------------------------------------------------


def test_maildir(tmp_path: Path) -> None:
    md = tmp_path / "patches"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    (md / "cur" / "1700000002.M1P1.host:2,S").write_bytes(msg(2))
    (md / "new" / "1700000001.M1P1.host").write_bytes(msg(1))
    (md / "cur" / "1700000003.M1P1.host:2,RS").write_bytes(msg(3))
    (md / "tmp" / "1700000000.M1P1.host").write_bytes(msg(0))
    src = open_archive(md)
    assert (src.kind, src.name, src.path) == ("maildir", "patches", str(md.resolve()))
    assert src.estimate(None) == 3
    mails, skips = read(src)
    assert [m.key for m in mails] == ["1700000001.M1P1.host", "1700000002.M1P1.host",
                                      "1700000003.M1P1.host"]
    assert [m.data for m in mails] == [msg(1), msg(2), msg(3)]
    assert all(m.cursor is None for m in mails) and skips.items == []
    # a flag change renames the file; the key stays the same
    os.rename(md / "new" / "1700000001.M1P1.host", md / "cur" / "1700000001.M1P1.host:2,S")
    assert [m.key for m in read(src)[0]] == [m.key for m in mails]


def test_maildir_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maildir_source, "MAX_MESSAGE_BYTES", 1000)
    md = tmp_path / "md"
    (md / "new").mkdir(parents=True)
    (md / "new" / "a").write_bytes(msg(0))
    (md / "new" / "b").write_bytes(msg(1) + b"x" * 2000)
    mails, skips = read(open_archive(md))
    assert [m.key for m in mails] == ["a"]
    assert [(s.where, s.reason) for s in skips.items] == [("b", "message too large")]


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind, problem", [
    ("missing", "no such file or directory"),
    ("empty", "empty file, not a mail archive"),
    ("text", "not an mbox (the file does not start with a 'From ' line)"),
    ("badgz", "cannot read"),
    ("dir", "not a mail archive"),
    ("emptygz", "empty mbox"),
])
def test_errors_are_one_line(tmp_path: Path, kind: str, problem: str) -> None:
    p = tmp_path / "thing"
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_bytes(b"Subject: hello\n\nnot an mbox\n")
    elif kind == "badgz":
        p.write_bytes(b"\x1f\x8b\x08\x00garbage")
    elif kind == "dir":
        (p / "sub").mkdir(parents=True)
    elif kind == "emptygz":
        p.write_bytes(gzip.compress(b""))
    with pytest.raises(SourceError) as err:
        open_archive(p)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{p.resolve()}: {problem}")
