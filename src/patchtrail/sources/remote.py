"""A public-inbox server (lore.kernel.org, or any `public-inbox-httpd`) as a mail source.

Three requests are all patchtrail needs, the ones b4 uses too:

* search — `POST <inbox>/?q=QUERY&x=m` answers an mbox.gz of every hit (`&t=1`: of
  every hit's whole thread); "No results found" is a 404 with that text;
* one message — `GET <inbox>/<msgid>/raw`;
* one thread — `GET <inbox>/<msgid>/t.mbox.gz`.

`<inbox>` is one list (`https://lore.kernel.org/ltp/`) or every list (`.../all/`).
Message-IDs go into URLs escaped as public-inbox escapes them (PublicInbox::MID's
MID_ESC: everything but `A-Za-z0-9-._~!$&'()*+,;=:@` is %XX of its UTF-8 bytes, `/`
included).

Being a good client of a shared server: one connection, requests one after another; on
429 or a 5xx the request waits (the server's Retry-After when given, else 1, 2, 4 ... s)
and is retried a few times; the User-Agent names patchtrail and its version; answers are
cached on disk (see remote_cache). Every failure that makes an answer unusable — server
unreachable, timeout, a 404 for the inbox, a truncated gzip, a server that answers but
not as public-inbox does — is a `RemoteError`: one line naming the URL and the problem.
Answers are returned only once read and decoded whole, so callers never store half of one.
"""

from __future__ import annotations

import email.utils
import gzip
import io
import os
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Self
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from patchtrail import __version__
from patchtrail.sources._proc import run_git
from patchtrail.sources.archive import MailSource
from patchtrail.sources.errors import SourceError
from patchtrail.sources.mbox import mboxrd_unescape, split_mbox
from patchtrail.sources.records import RawMail, SkipLog
from patchtrail.sources.remote_cache import FOREVER, ResponseCache

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_URL",
    "REMOTE_ENV",
    "FetchedMessages",
    "PublicInboxClient",
    "RemoteError",
    "RemoteInbox",
    "default_remote_url",
    "mid_escape",
    "split_mbox_bytes",
]

DEFAULT_URL = "https://lore.kernel.org/all/"
REMOTE_ENV = "PATCHTRAIL_REMOTE"
USER_AGENT = f"patchtrail/{__version__}"
# public-inbox's MID_ESC leaves these unescaped (quote() always keeps A-Za-z0-9_.-~).
_MID_SAFE = "!$&'()*+,;=:@"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_BODY = 512 * 1024 * 1024
_NO_RESULTS = b"No results found"


class RemoteError(SourceError):
    """A public-inbox server that could not answer usefully; one line: URL: problem."""


def mid_escape(msgid: str) -> str:
    """A Message-ID as a URL path segment, escaped exactly as public-inbox does."""
    return quote(msgid, safe=_MID_SAFE, encoding="utf-8", errors="surrogateescape")


@dataclass(frozen=True, slots=True)
class RemoteInbox:
    """One inbox on a server: `url` ends with '/', `name` is its last path segment."""

    url: str
    name: str

    @classmethod
    def parse(cls, url: str) -> RemoteInbox:
        """An inbox from what a user types: a server (→ its `/all/`) or an inbox URL.

        `https://lore.kernel.org` → `https://lore.kernel.org/all/`;
        `https://lore.kernel.org/ltp` → `https://lore.kernel.org/ltp/`; a b4 midmask
        (`https://lore.kernel.org/all/%s`) loses its `%s`.
        """
        text = url.strip().replace("%s", "")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RemoteError(url, "not an http(s) URL of a public-inbox server")
        path = parts.path.rstrip("/")
        if not path:
            path = "/all"
        return cls(urlunsplit((parts.scheme, parts.netloc, path + "/", "", "")),
                   path.rsplit("/", 1)[-1])

    def message_url(self, msgid: str, tail: str = "") -> str:
        return f"{self.url}{mid_escape(msgid)}/{tail}"


def midmask(repo: str | Path | None) -> str | None:
    """b4's `b4.midmask` as git sees it in `repo` (its config, the user's, the system's)."""
    where = str(repo) if repo is not None else os.getcwd()
    try:
        proc = run_git(where, ["config", "--get", "b4.midmask"], check=False)
    except SourceError:
        return None
    value = proc.stdout.decode("utf-8", "replace").strip()
    return value or None


def default_remote_url(repo: str | Path | None = None) -> str:
    """$PATCHTRAIL_REMOTE, else b4's midmask in the repository, else lore.kernel.org/all/."""
    return os.environ.get(REMOTE_ENV) or midmask(repo) or DEFAULT_URL


def split_mbox_bytes(data: bytes) -> list[bytes]:
    """The messages of an mboxrd (what public-inbox serves), un-escaped."""
    out: list[bytes] = []
    for _offset, msg, _end in split_mbox(io.BytesIO(data), 0):
        if msg is not None and msg.strip():
            out.append(mboxrd_unescape(msg))
    return out


@dataclass(slots=True)
class Traffic:
    """What a client asked and received: for summaries and the benchmark."""

    requests: int = 0
    cache_hits: int = 0
    bytes: int = 0
    retries: int = 0
    seconds: float = 0.0


@dataclass
class PublicInboxClient:
    """A public-inbox inbox over HTTP(S). Use as a context manager (one connection)."""

    inbox: RemoteInbox
    cache: ResponseCache = field(default_factory=lambda: ResponseCache(None))
    timeout: float = 30.0
    retries: int = 4
    # The longest wait patchtrail accepts from a Retry-After before giving up.
    max_wait: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    traffic: Traffic = field(default_factory=Traffic)

    def __post_init__(self) -> None:
        # Imported here: httpx and httpcore cost ~0.1 s to import, which every local
        # command would pay otherwise.
        import httpx

        # Loading the CA bundle costs ~80 ms per process; a plain-http server (a local
        # public-inbox-httpd) needs none. Were it to redirect to https, that answer would
        # be no less trustworthy than the plain-http one asked for.
        secure = self.inbox.url.startswith("https:")
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            follow_redirects=True,
            verify=secure,
        )

    @classmethod
    def open(cls, url: str, cache_dir: Path | None = None, **kw: object) -> PublicInboxClient:
        return cls(RemoteInbox.parse(url), ResponseCache(cache_dir), **kw)  # type: ignore[arg-type]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the three requests ---------------------------------------------------------

    def search(self, query: str, threads: bool = False) -> list[bytes]:
        """Every message matching `query` (and their whole threads with `threads`)."""
        if not query.strip():
            # public-inbox answers an empty query with the whole inbox.
            raise ValueError("empty public-inbox query")
        params = {"q": query, "x": "m"}
        if threads:
            params["t"] = "1"
        url = f"{self.inbox.url}?{urlencode(params)}"
        data = self._fetch("POST", url, search=True, mbox=True)
        return [] if data is None else split_mbox_bytes(data)

    def raw(self, msgid: str) -> list[bytes]:
        """The message(s) with this Message-ID; [] when the server has none."""
        url = self.inbox.message_url(msgid, "raw")
        body = self._fetch("GET", url, ttl=FOREVER)
        if body is None:
            return []
        if body.startswith(b"From "):  # several messages share the id: an mbox
            return split_mbox_bytes(body)
        if body.lstrip()[:1] == b"<":
            raise RemoteError(url, "not a public-inbox server (answered HTML, not a raw message)")
        return [body]

    def thread(self, msgid: str) -> list[bytes]:
        """Every message of the thread holding this Message-ID; [] when unknown."""
        url = self.inbox.message_url(msgid, "t.mbox.gz")
        data = self._fetch("GET", url, mbox=True)
        return [] if data is None else split_mbox_bytes(data)

    def get(self, url: str, gzipped: bool = False) -> bytes | None:
        """Any URL on the server, uncached (manifests, probes): None for a 404."""
        status, body = self._request("GET", url)
        if status == 404:
            return None
        if status != 200:
            raise RemoteError(url, f"HTTP {status}{_reason(status)}")
        return gunzip(url, body) if gzipped else body

    # -- plumbing -------------------------------------------------------------------

    def _fetch(self, method: str, url: str, search: bool = False, mbox: bool = False,
               ttl: float | None = None) -> bytes | None:
        """The body of a 200 (gunzipped with `mbox`), None for "not found"; from the
        cache or the server."""
        hit, cached = self.cache.get(method, url, ttl)
        if hit:
            self.traffic.cache_hits += 1
            return decode_mbox(url, cached) if mbox and cached is not None else cached
        status, body = self._request(method, url)
        if status == 404:
            if search and not body.startswith(_NO_RESULTS):
                raise RemoteError(url, "404 Not Found (no such inbox on this server?)")
            self.cache.put(method, url, None)
            return None
        if status != 200:
            raise RemoteError(url, f"HTTP {status}{_reason(status)}")
        # A truncated or foreign answer raises here, before it can be cached.
        data = decode_mbox(url, body) if mbox else body
        self.cache.put(method, url, body)
        return data

    def _request(self, method: str, url: str) -> tuple[int, bytes]:
        attempt = 0
        while True:
            start = time.monotonic()
            try:
                status, headers, body = self._once(method, url)
            finally:
                self.traffic.seconds += time.monotonic() - start
            self.traffic.requests += 1
            self.traffic.bytes += len(body)
            if status not in RETRY_STATUS:
                return status, body
            if attempt >= self.retries:
                raise RemoteError(url, f"HTTP {status}{_reason(status)}, "
                                       f"still after {attempt} retries")
            wait = retry_after(headers.get("retry-after")) if headers.get("retry-after") else None
            if wait is None:
                wait = float(min(2 ** attempt, 60))
            if wait > self.max_wait:
                raise RemoteError(url, f"HTTP {status}{_reason(status)}; the server asks to wait "
                                       f"{wait:.0f}s, more than {self.max_wait:.0f}s")
            attempt += 1
            self.traffic.retries += 1
            self.sleep(wait)

    def _once(self, method: str, url: str) -> tuple[int, httpx.Headers, bytes]:
        import httpx

        try:
            with self._http.stream(method, url) as resp:
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():  # Content-Encoding undone, if any
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise RemoteError(url, f"answer larger than {MAX_BODY >> 20} MiB")
                    chunks.append(chunk)
                return resp.status_code, resp.headers, b"".join(chunks)
        except httpx.TimeoutException as exc:
            kind = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for an answer"
            raise RemoteError(url, f"timed out after {self.timeout:g}s {kind}") from None
        except httpx.ConnectError as exc:
            raise RemoteError(url, f"cannot connect ({_cause(exc)})") from None
        except httpx.DecodingError as exc:
            raise RemoteError(url, f"corrupt compressed answer ({_cause(exc)})") from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise RemoteError(url, "connection broken before the whole answer arrived"
                                   f" ({_cause(exc)})") from None
        except httpx.HTTPError as exc:
            raise RemoteError(url, f"{type(exc).__name__}: {_cause(exc)}") from None


def gunzip(url: str, body: bytes) -> bytes:
    """The data in a gzip body; a truncated or corrupt one is a RemoteError."""
    try:
        return gzip.decompress(body)
    except EOFError:
        raise RemoteError(url, "truncated gzip (the answer ended early)") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise RemoteError(url, f"corrupt gzip ({' '.join(str(exc).split())})") from None


def decode_mbox(url: str, body: bytes) -> bytes:
    """The mbox in a body: gunzipped (refusing a truncated gzip), or as is if plain."""
    data = gunzip(url, body) if body.startswith(b"\x1f\x8b") else body
    if data and not data.startswith(b"From "):
        head = data.lstrip()[:80].decode("latin-1").split("\n", 1)[0]
        raise RemoteError(url, f"not a public-inbox server (expected an mbox, got {head!r})")
    return data


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason(status: int) -> str:
    try:
        from http import HTTPStatus

        return f" {HTTPStatus(status).phrase}"
    except ValueError:
        return ""


def _cause(exc: BaseException) -> str:
    """The innermost readable reason ('Connection refused', 'Name or service not known')."""
    text = str(exc) or type(exc).__name__
    # httpx wraps OSError texts as "[Errno 111] Connection refused".
    if text.startswith("[Errno") and "] " in text:
        text = text.split("] ", 1)[1]
    return " ".join(text.split())[:120]


class FetchedMessages(MailSource):
    """Messages fetched from a server, as a source the index stage can ingest.

    The source is the inbox URL (kind 'remote'); each message's key is its URL on that
    inbox, which names it for ever, so fetching it again is recognised and skipped.
    """

    kind = "remote"

    def __init__(self, inbox: RemoteInbox, mails: list[RawMail]) -> None:
        super().__init__(inbox.url, inbox.name)
        self.mails = mails

    def iter_messages(self, cursor: str | None, skips: SkipLog) -> Iterator[RawMail]:
        yield from self.mails

    def estimate(self, cursor: str | None) -> int | None:
        return len(self.mails)
