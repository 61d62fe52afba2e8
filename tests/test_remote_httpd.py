"""The remote source against a real public-inbox-httpd serving the demo corpus.

The tests build a public-inbox v2 inbox with public-inbox-init, give it the demo
archive's epoch (plus a few messages whose Message-IDs need escaping), index it with
public-inbox-index (and /all/ with public-inbox-extindex), start public-inbox-httpd on a
free port of 127.0.0.1, and check that digging through it gives exactly the answers the
local archive gives, that the next question is local, and that `patchtrail mirror`
clones, resumes and updates.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from patchtrail.corpus.archives import append_public_inbox_v2, write_public_inbox_v2
from patchtrail.corpus.demo import SERIES_APPLIED, DemoCorpus
from patchtrail.index.store import Store
from patchtrail.link.series import build_series
from patchtrail.report import origin as origin_report
from patchtrail.report import series as series_report
from patchtrail.report import story_json
from patchtrail.sources.remote import PublicInboxClient, default_remote_url
from patchtrail.sources.remote_query import all_of, phrase
from patchtrail.story.origin import parse_target, tell
from patchtrail.story.story import tell_story

pytestmark = pytest.mark.skipif(shutil.which("public-inbox-httpd") is None,
                                reason="public-inbox is not installed (scripts/test.sh installs it)")

KVM_LIST = "kvm.vger.kernel.org"
ODD_IDS = ["odd/slash+plus%pct@example.org", "q?u#e&r=y'x@example.org", "root-of-odd@example.org"]


def odd_mail(msgid: str, subject: str, when: int, parent: str | None = None) -> bytes:
    refs = f"In-Reply-To: <{parent}>\nReferences: <{parent}>\n" if parent else ""
    return (f"From: Odd Sender <odd@example.org>\nTo: kvm@vger.kernel.org\nSubject: {subject}\n"
            f"Date: {formatdate(when)}\nMessage-ID: <{msgid}>\n{refs}List-Id: <{KVM_LIST}>\n"
            f"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
            f"About {subject}.\n").encode()


ODD_MAILS = [
    odd_mail(ODD_IDS[2], "odd ids: the root", 1_700_000_000),
    odd_mail(ODD_IDS[0], "Re: odd ids: the root", 1_700_000_100, ODD_IDS[2]),
    odd_mail(ODD_IDS[1], "Re: odd ids: the root", 1_700_000_200, ODD_IDS[2]),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    root: Path
    env: dict[str, str]

    def url(self, inbox: str) -> str:
        return f"{self.base}/{inbox}/"

    def pi(self, *args: str) -> None:
        subprocess.run(list(args), env=self.env, check=True, capture_output=True)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def demo(demo_indexed: tuple[DemoCorpus, Path]) -> DemoCorpus:
    """The shared demo corpus (tests/conftest.py): read only here too."""
    return demo_indexed[0]


def pi_root(tmp_path_factory: pytest.TempPathFactory, name: str) -> Server:
    """An empty public-inbox configuration of its own (PI_CONFIG, HOME) in a temp dir."""
    root = tmp_path_factory.mktemp(name)
    (root / "home").mkdir()
    return Server("", root, dict(os.environ, PI_CONFIG=str(root / "config"), HOME=str(root / "home")))


def add_inbox(srv: Server, name: str, epoch: Path) -> Path:
    """public-inbox-init -V2, the epoch's history fetched in, public-inbox-index."""
    inbox = srv.root / name
    srv.pi("public-inbox-init", "-V2", name, str(inbox), f"http://127.0.0.1/{name}", f"{name}@example.org")
    git("--git-dir", str(inbox / "git/0.git"), "fetch", "-q", str(epoch), "+refs/heads/master:refs/heads/master")
    srv.pi("public-inbox-index", str(inbox))
    return inbox


@contextmanager
def httpd(srv: Server) -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen(["public-inbox-httpd", "-l", f"http://127.0.0.1:{port}"], env=srv.env,
                            stdout=subprocess.DEVNULL, stderr=(srv.root / "httpd.log").open("wb"))
    srv.base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    try:
        yield srv
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def server(demo: DemoCorpus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """kvm: the demo archive with the odd messages on top; /all/ as lore serves it."""
    srv = pi_root(tmp_path_factory, "pi")
    add_inbox(srv, "kvm", demo.archive / "git/0.git")
    append_public_inbox_v2(srv.root / "kvm", ODD_MAILS)
    srv.pi("public-inbox-index", str(srv.root / "kvm"))
    srv.pi("public-inbox-extindex", "--all", str(srv.root / "all"))
    srv.pi("git", "config", "-f", str(srv.root / "config"), "extindex.all.topdir", str(srv.root / "all"))
    with httpd(srv):
        yield srv


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """small: three messages, grown by the mirror test (no extindex: its manifest is live)."""
    srv = pi_root(tmp_path_factory, "pismall")
    write_public_inbox_v2(srv.root / "small-src", ODD_MAILS, "small", "small@example.org")
    add_inbox(srv, "small", srv.root / "small-src/git/0.git")
    with httpd(srv):
        yield srv


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patchtrail", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, check=False)


@pytest.fixture(scope="module")
def local_db(demo_indexed: tuple[DemoCorpus, Path]) -> Path:
    """The demo's repository and archive indexed (the shared index: read only)."""
    return demo_indexed[1]


@pytest.fixture(scope="module")
def git_db(demo: DemoCorpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's repository alone indexed: copied by each remote test, which starts with no mail."""
    db = tmp_path_factory.mktemp("gitonly") / "git.db"
    proc = run("index", "--db", str(db), "--repo", str(demo.repo), "-q")
    assert proc.returncode == 0, proc.stderr
    return db


def remote_db(git_db: Path, tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "remote.db"
    shutil.copy(git_db, db)
    return db


def dig_jsonl(db: Path, *args: str, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> tuple[dict[str, dict], str]:
    proc = run("dig", "--db", str(db), "--format", "jsonl", *args, cwd=cwd, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return {r["commit"]: r for r in map(json.loads, proc.stdout.splitlines())}, proc.stderr


MATCH_FIELDS = ("message_id", "subject", "list", "url", "score", "method", "evidence", "version",
                "number", "total", "note")


def answers(results: dict[str, dict]) -> dict[str, tuple]:
    return {oid: tuple(json.dumps(r[k], sort_keys=True) for k in MATCH_FIELDS) for oid, r in results.items()}


@pytest.mark.parametrize("blind", [True, False], ids=["blind", "with-links"])
def test_remote_dig_answers_exactly_as_the_local_archive(demo: DemoCorpus, server: Server, local_db: Path,
                                                         git_db: Path, tmp_path: Path, blind: bool) -> None:
    rng = f"{demo.commits['initial']}..master"
    flags = ["--ignore-links"] if blind else []
    local, _ = dig_jsonl(local_db, *flags, rng)
    db = remote_db(git_db, tmp_path)
    remote, err = dig_jsonl(db, "--remote", server.url("kvm"), *flags, rng)
    assert "requests" in err
    assert len(remote) == len(local) > 300
    assert answers(remote) == answers(local)
    for label in SERIES_APPLIED:
        r = remote[demo.commits[label]]
        assert r["message_id"] == demo.messages[demo.expected_links[label]], label
    linked = sum(1 for label, mail in demo.expected_links.items()
                 if mail and remote[demo.commits[label]]["message_id"] == demo.messages[mail])
    assert linked == sum(1 for mail in demo.expected_links.values() if mail)
    # the next question is local: no request at all, the same answers
    again, err = dig_jsonl(db, "--remote", server.url("kvm"), *flags, rng)
    assert "requests" not in err and answers(again) == answers(remote)
    conn = sqlite3.connect(db)
    kinds = dict(conn.execute("SELECT path, kind FROM sources WHERE kind <> 'git'"))
    assert kinds == {server.url("kvm"): "remote"}


def test_no_archive_indexed_means_remote_and_a_fresh_clone_needs_no_index(
        demo: DemoCorpus, server: Server, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(demo.repo), str(clone))
    git("-C", str(clone), "config", "b4.midmask", f"{server.url('kvm')}%s")
    assert default_remote_url(clone) == f"{server.url('kvm')}%s"
    env = {k: v for k, v in os.environ.items() if k not in ("PATCHTRAIL_REMOTE", "PATCHTRAIL_DB")}
    label = SERIES_APPLIED[0]
    oid = demo.commits[label]
    # `--remote` alone, in a clone with no index: b4.midmask names the server
    results, err = dig_jsonl(clone / ".git" / "patchtrail.db", "--remote", oid[:12], cwd=clone, env=env)
    assert results[oid]["message_id"] == demo.messages[demo.expected_links[label]]
    assert f"asked {server.url('kvm')}" in err
    # without --remote: the index holds no archive, so the server asked last is asked again
    label = SERIES_APPLIED[1]
    results, err = dig_jsonl(clone / ".git" / "patchtrail.db", demo.commits[label], cwd=clone, env=env)
    assert results[demo.commits[label]]["message_id"] == demo.messages[demo.expected_links[label]]
    assert "no mail archive indexed" in err
    # story reads the history from the index: it says how to get it rather than "never existed"
    proc = run("story", "--remote", "enable_preemption_timer", cwd=clone, env=env)
    assert proc.returncode == 2 and "history is not indexed yet" in proc.stderr
    assert "patchtrail index" in proc.stderr and proc.stderr.count("\n") == 1


def test_client_requests_escape_ids_and_quote_queries(demo: DemoCorpus, server: Server, local_db: Path) -> None:
    with PublicInboxClient.open(server.url("kvm")) as client:
        for msgid in ODD_IDS:
            [raw] = client.raw(msgid)
            assert f"<{msgid}>".encode() in raw
        assert len(client.thread(ODD_IDS[0])) == 3
        assert client.raw("no-such-message@example.org") == []
        assert client.thread("no-such-message@example.org") == []
        hits = client.search(all_of(phrase("s", 'Utilizing "VMX" (preemption) for -timer*'),
                                    phrase("f", "yunhong.jiang@linux.intel.com")))
        assert hits and all(b"preemption" in h for h in hits)
        assert client.search(phrase("s", "no such words anywhere zzqx")) == []
    # a thread from the server is the thread in the local archive
    seed = demo.messages[demo.expected_links[SERIES_APPLIED[0]]]
    conn = sqlite3.connect(local_db)
    root = conn.execute("SELECT refs FROM messages WHERE msgid=?", (seed,)).fetchone()[0].split()[0]
    local_thread = conn.execute("SELECT count(*) FROM messages WHERE msgid=? OR refs LIKE ?",
                                (root, f"{root}%")).fetchone()[0]
    with PublicInboxClient.open(server.url("kvm")) as client:
        assert len(client.thread(seed)) == local_thread


def test_all_inbox_of_the_server(demo: DemoCorpus, server: Server, git_db: Path, tmp_path: Path) -> None:
    db = remote_db(git_db, tmp_path)
    oids = [demo.commits[label] for label in SERIES_APPLIED]
    results, err = dig_jsonl(db, "--remote", server.base, *oids)  # a server alone means /all/
    assert f"asked {server.base}/all/" in err
    for label in SERIES_APPLIED:
        assert results[demo.commits[label]]["message_id"] == demo.messages[demo.expected_links[label]]
        assert results[demo.commits[label]]["list"] == "kvm"


# -- series, story and origin through the server -------------------------------------------


def requests_made(stderr: str) -> int:
    found = re.search(r"(\d+) requests", stderr)
    return int(found.group(1)) if found else 0


def remote_json(command: str, db: Path, url: str, *args: str) -> tuple[str, int]:
    """A command's JSON through the server, and how many requests it made."""
    proc = run(command, "--db", str(db), "--remote", url, "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, requests_made(proc.stderr)


def local_json(db: Path, command: str, target: str, blind: bool = False) -> str:
    """What the command prints from the local archive, computed in this process."""
    buf = io.StringIO()
    with Store.open(db, create=False) as store:
        if command == "series":
            series_report.write_json(build_series(store, target, ignore_links=blind), buf)
        elif command == "story":
            story_json.write_json(tell_story(store, target, ignore_links=blind), buf)
        else:
            origin_report.write_json(tell(store, parse_target(target), None, None), buf)
    return buf.getvalue()


def test_remote_series_answers_exactly_as_the_local_archive(demo: DemoCorpus, server: Server, local_db: Path,
                                                            git_db: Path, tmp_path: Path) -> None:
    """From each seed commit, a v2 message and the follow-up (a message and a commit):
    blind, and with links from two of them."""
    url = server.url("kvm")
    seed = [demo.commits[label] for label in SERIES_APPLIED] + [demo.messages["v2_3"]]
    follow = [demo.messages["fu_v1"], demo.commits["fu_periodic"]]
    asks = [(t, True) for t in seed + follow] + [(seed[3], False), (follow[0], False)]
    db = remote_db(git_db, tmp_path)
    requests = 0
    for target, blind in asks:
        out, n = remote_json("series", db, url, *(["--ignore-links"] if blind else []), target)
        assert out == local_json(local_db, "series", target, blind), (target, blind)
        requests += n
    assert [r["version"] for r in json.loads(out)["revisions"]] == [1, 3]  # the follow-up: v2 missing
    assert 0 < requests < 60
    # asked again, also through --remote TARGET ($PATCHTRAIL_REMOTE names the server): no request
    proc = run("series", "--db", str(db), "--format", "json", "--ignore-links", "--remote", seed[0],
               env=dict(os.environ, PATCHTRAIL_REMOTE=url))
    assert proc.returncode == 0 and requests_made(proc.stderr) == 0, proc.stderr
    assert proc.stdout == local_json(local_db, "series", seed[0], True)


def test_remote_story_answers_exactly_as_the_local_archive(demo: DemoCorpus, server: Server, local_db: Path,
                                                           git_db: Path, tmp_path: Path) -> None:
    url = server.url("kvm")
    db = remote_db(git_db, tmp_path)
    first, n_first = remote_json("story", db, url, "enable_preemption_timer")
    assert first == local_json(local_db, "story", "enable_preemption_timer")
    story = json.loads(first)
    assert story["series"]["applied"]["applied_order"] == [3, 4, 1, 2]
    assert story["followups"][0]["title"].startswith("KVM: x86: Support using the VMX")
    assert [d["subject"] for d in story["discussions"]] == ["Why are we using preemption timer on x86?"]
    # another symbol of the same series: only what differs is asked for
    second, n_second = remote_json("story", db, url, "hv_timer_in_use")
    assert second == local_json(local_db, "story", "hv_timer_in_use")
    assert 0 < n_second < n_first < 40
    # asked again, and without --remote (no archive: the server asked last): no request
    again, n_again = remote_json("story", db, url, "enable_preemption_timer")
    assert n_again == 0 and again == first
    proc = run("story", "--db", str(db), "--format", "json", "hv_timer_in_use")
    assert proc.returncode == 0 and requests_made(proc.stderr) == 0 and proc.stdout == second
    # blind, on a fresh index
    blind_db = remote_db(git_db, tmp_path / "blind")
    out, _ = remote_json("story", blind_db, url, "--ignore-links", "hv_timer_in_use")
    assert out == local_json(local_db, "story", "hv_timer_in_use", blind=True)


def test_remote_origin_names_the_birth_email(demo: DemoCorpus, server: Server, local_db: Path,
                                             git_db: Path, tmp_path: Path) -> None:
    db = remote_db(git_db, tmp_path)
    out, n = remote_json("origin", db, server.url("kvm"), "enable_preemption_timer")
    assert n > 0 and out == local_json(local_db, "origin", "enable_preemption_timer")
    assert json.loads(out)["email"]["message_id"] == demo.messages["v4_2"]
    # origin is whole without mail: an index that never asked a server stays local unasked
    proc = run("origin", "--db", str(git_db), "--format", "json", "enable_preemption_timer")
    assert proc.returncode == 0 and "asked" not in proc.stderr
    assert json.loads(proc.stdout)["email"] is None


def count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        conn.close()


def test_mirror_clones_resumes_and_updates(demo: DemoCorpus, server: Server, small_server: Server,
                                           local_db: Path, tmp_path: Path) -> None:
    target, db = tmp_path / "kvm", tmp_path / "m.db"
    proc = run("mirror", "--db", str(db), server.url("kvm"), str(target))
    assert proc.returncode == 0, proc.stderr
    assert "cloned" in proc.stderr and (target / "git/0.git").is_dir()
    assert count(db) == count(local_db) + len(ODD_MAILS)
    proc = run("mirror", "--db", str(db), server.url("kvm"), str(target))
    assert proc.returncode == 0 and "up to date" in proc.stderr and "stored 0 new" in proc.stderr

    small, sdb, srv = tmp_path / "small", tmp_path / "s.db", small_server
    (small / "git" / "0.git.partial" / "objects").mkdir(parents=True)  # a clone killed half-way
    assert run("mirror", "--db", str(sdb), srv.url("small"), str(small)).returncode == 0
    assert not (small / "git" / "0.git.partial").exists() and count(sdb) == len(ODD_MAILS)
    new = odd_mail("later@example.org", "a later message", 1_700_001_000)
    append_public_inbox_v2(srv.root / "small-src", [new])
    git("--git-dir", str(srv.root / "small/git/0.git"), "fetch", "-q",
        str(srv.root / "small-src/git/0.git"), "+refs/heads/master:refs/heads/master")
    srv.pi("public-inbox-index", str(srv.root / "small"))
    proc = run("mirror", "--db", str(sdb), srv.url("small"), str(small))
    assert proc.returncode == 0 and "fetched" in proc.stderr and count(sdb) == len(ODD_MAILS) + 1


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None


def test_mirror_without_manifest_probes_epochs_over_dumb_http(small_server: Server, tmp_path: Path) -> None:
    site = tmp_path / "site"
    epoch = site / "lists" / "small" / "git" / "0.git"
    git("clone", "-q", "--bare", str(small_server.root / "small-src/git/0.git"), str(epoch))
    git("--git-dir", str(epoch), "update-server-info")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietFiles, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/lists/small"
        proc = run("mirror", "--db", str(tmp_path / "d.db"), url, str(tmp_path / "copy"))
        assert proc.returncode == 0, proc.stderr
        assert count(tmp_path / "d.db") >= len(ODD_MAILS)
        proc = run("mirror", "--db", str(tmp_path / "d.db"), f"http://127.0.0.1:{httpd.server_address[1]}/nothing",
                   str(tmp_path / "none"))
        assert proc.returncode == 2 and "not a public-inbox v2 inbox" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    finally:
        httpd.shutdown()
        httpd.server_close()
