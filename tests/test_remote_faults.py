"""The remote source against a server of the tests' own that misbehaves on purpose.

One small http.server on 127.0.0.1 plays, by the first segment of the path: a healthy
public-inbox answering every search with the test world's mails (`ok`), a missing inbox
(`missing`), a truncated gzip (`trunc`), a server that is not public-inbox (`html`), one
too slow to answer (`slow`), one rate-limiting once (`busy`: 429 then 200), one
overloaded for good (`down`), one asking to come back in an hour (`late`), one that
drops the connection mid-answer (`cut`), and one that answers the first search and
truncates the second (`half`). The real public-inbox-httpd is in test_remote_httpd.
"""

from __future__ import annotations

import gzip
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from worlds import World

from patchtrail import __version__
from patchtrail.sources.remote import PublicInboxClient, RemoteError
from patchtrail.sources.remote_query import phrase

_MSGID = re.compile(rb"^Message-I[Dd]:\s*<([^>]+)>", re.MULTILINE)


def _mbox(mails: list[bytes]) -> bytes:
    out = b"".join(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
                   + re.sub(rb"^(>*From )", rb">\1", m, flags=re.MULTILINE).rstrip(b"\n") + b"\n\n"
                   for m in mails)
    return gzip.compress(out)


class Faulty(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mails: list[bytes]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mails = mails
        self.hits: Counter[str] = Counter()
        self.agents: list[str] = []
        self.lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # a client that gave up (timeout, cut) is what these tests provoke

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Faulty

    def log_message(self, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _send(self, status: int, body: bytes, ctype: str = "application/gzip",
              headers: dict[str, str] | None = None, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        segs = parts.path.strip("/").split("/")
        kind = segs[0]
        with self.server.lock:
            self.server.hits[kind] += 1
            self.server.agents.append(self.headers.get("User-Agent", ""))
            n = self.server.hits[kind]
        mails = self.server.mails
        is_search = len(segs) == 1 and "q=" in parts.query
        if kind == "missing":
            return self._send(404, b"Not Found\n", "text/plain")
        if kind == "html":
            return self._send(200, b"<!DOCTYPE html><html><body>hello</body></html>", "text/html")
        if kind == "trunc" or (kind == "half" and n > 1):
            body = _mbox(mails)
            return self._send(200, body[: len(body) // 2])
        if kind == "slow":
            time.sleep(3)
        if kind == "busy" and n == 1:
            return self._send(429, b"slow down\n", "text/plain", {"Retry-After": "1"})
        if kind == "down":
            return self._send(503, b"overloaded\n", "text/plain", {"Retry-After": "0"})
        if kind == "late":
            return self._send(503, b"maintenance\n", "text/plain", {"Retry-After": "3600"})
        if kind == "cut":
            return self._send(200, _mbox(mails)[:50], length=100000)
        if is_search:
            return self._send(200, _mbox(mails))
        msgid = unquote(segs[1]) if len(segs) > 2 else ""
        hit = [m for m in mails if msgid and (b"<" + msgid.encode() + b">") in m]
        if not hit:
            return self._send(404, b"Not Found\n", "text/plain")
        if segs[-1] == "raw":
            return self._send(200, hit[0], "text/plain")
        return self._send(200, _mbox(hit))


@pytest.fixture(scope="module")
def faulty(world: World) -> Iterator[Faulty]:
    server = Faulty(world.mails)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patchtrail", *args], capture_output=True,
                          text=True, cwd=cwd, check=False)


def dig_remote(world: World, db: Path, url: str, label: str = "exact", *extra: str) -> subprocess.CompletedProcess[str]:
    return run("dig", "--db", str(db), "--remote", url, "--timeout", "0.5", *extra,
               world.commits[label], cwd=world.repo)


def stored(db: Path, asked: str = "ask:") -> tuple[int, int]:
    """(messages, questions remembered as asked) in an index file."""
    conn = sqlite3.connect(db)
    try:
        msgs = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        n = conn.execute("SELECT count(*) FROM seen WHERE key LIKE ?", (asked + "%",)).fetchone()[0]
        return msgs, n
    finally:
        conn.close()


def _one_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("kind, problem", [
    ("missing", "404 Not Found"),
    ("trunc", "truncated gzip"),
    ("html", "not a public-inbox server"),
    ("slow", "timed out after 0.5s"),
    ("down", "HTTP 503 Service Unavailable, still after 4 retries"),
    ("late", "asks to wait 3600s"),
    ("cut", "connection broken"),
])
def test_each_fault_is_one_line_exit_2_and_nothing_stored(world: World, faulty: Faulty, tmp_path: Path,
                                                           kind: str, problem: str) -> None:
    db = tmp_path / "x.db"
    url = f"{faulty.base}/{kind}/"
    _one_line(dig_remote(world, db, url), url, problem)
    assert stored(db) == (0, 0)


def test_unreachable_server(world: World, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/kvm/"
    _one_line(dig_remote(world, tmp_path / "x.db", url), url, "cannot connect", "refused")


def test_a_failure_midway_keeps_whole_answers_only_and_asks_again(world: World, faulty: Faulty,
                                                                  tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    url = f"{faulty.base}/half/"
    # "edited" has no patch-id match: the first search is answered, the second truncated
    _one_line(dig_remote(world, db, url, "edited", "--ignore-links"), "truncated gzip")
    # the whole first answer is stored, but the commit is not remembered as asked
    assert stored(db, "ask:q") == (len(world.mails), 1)
    assert stored(db, "ask:dig") == (len(world.mails), 0)
    faulty.hits["half"] = 0
    proc = dig_remote(world, db, url, "edited", "--ignore-links", "--no-cache")
    assert proc.returncode == 2  # asked again (and failed again), not answered from a marker


def test_429_then_200_waits_and_retries_naming_patchtrail(world: World, faulty: Faulty) -> None:
    waits: list[float] = []
    with PublicInboxClient.open(f"{faulty.base}/busy/", sleep=waits.append) as client:
        mails = client.search(phrase("s", "alpha"))
    assert len(mails) == len(world.mails)
    assert waits == [1.0] and client.traffic.retries == 1 and client.traffic.requests == 2
    assert f"patchtrail/{__version__}" in faulty.agents


def test_429_then_200_through_the_command(world: World, faulty: Faulty, tmp_path: Path) -> None:
    faulty.hits["busy"] = 0
    proc = dig_remote(world, tmp_path / "x.db", f"{faulty.base}/busy/", "exact", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert world.msgids["exact"] in proc.stdout
    assert "1 retried" in proc.stderr


def test_answers_are_cached_beside_the_index_and_no_cache_asks_again(world: World, faulty: Faulty,
                                                                     tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = faulty.hits["ok"]
    for _ in range(2):
        with PublicInboxClient.open(f"{faulty.base}/ok/", cache) as client:
            assert len(client.search(phrase("s", "beta"))) == len(world.mails)
    assert faulty.hits["ok"] == before + 1 and client.traffic.cache_hits == 1
    db = tmp_path / "x.db"
    assert dig_remote(world, db, f"{faulty.base}/ok/", "reroll").returncode == 0
    assert (tmp_path / "x.http-cache").is_dir()
    before = faulty.hits["ok"]
    assert dig_remote(world, db, f"{faulty.base}/ok/", "reroll").returncode == 0
    assert faulty.hits["ok"] == before  # remembered in the index: no request at all
    assert dig_remote(world, db, f"{faulty.base}/ok/", "reroll", "--no-cache").returncode == 0
    assert faulty.hits["ok"] > before


def test_link_trailer_fetches_the_linked_thread(world: World, faulty: Faulty, tmp_path: Path) -> None:
    proc = dig_remote(world, tmp_path / "x.db", f"{faulty.base}/ok/", "linked", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert '"method": "link"' in proc.stdout and world.msgids["linked"] in proc.stdout


def test_client_errors_name_the_url(faulty: Faulty) -> None:
    with PublicInboxClient.open(f"{faulty.base}/missing/") as client:
        assert client.raw("nothere@x") == []  # a message the server lacks is no error
        with pytest.raises(RemoteError, match=r"/missing/\?q=.*404"):
            client.search(phrase("s", "x"))
    with pytest.raises(ValueError):
        PublicInboxClient.open(f"{faulty.base}/ok/").search("  ")


def test_remote_outside_a_repository_leaves_no_index_behind(faulty: Faulty, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PATCHTRAIL_DB"}
    proc = subprocess.run([sys.executable, "-m", "patchtrail", "dig", "--remote", f"{faulty.base}/ok/", "HEAD"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, check=False)
    _one_line(proc, "not a git repository")
    assert not list(tmp_path.iterdir())
