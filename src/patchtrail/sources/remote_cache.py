"""A disk cache of public-inbox answers, so that asking again does not load the server.

What is cached is the body exactly as received (gzip for mboxes), and only once it was
read whole and decoded: a truncated answer is never stored. Files are written to a
temporary name and renamed, so a reader never sees half a file even after kill -9.

Lifetimes: a message's raw text never changes once archived, so `/raw` answers are kept
for ever; a search or a thread grows as mail arrives, so those expire (a day by default).
"No results" is cached too (as an empty file with the `.none` suffix): asking the same
empty question for every commit of a range would otherwise cost a request each time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

__all__ = ["FOREVER", "ResponseCache"]

FOREVER = -1.0


class ResponseCache:
    """Answers by request (method, URL), under `root`; `None` root disables the cache."""

    def __init__(self, root: Path | None, ttl: float = 86400.0) -> None:
        self.root = root
        self.ttl = ttl

    @staticmethod
    def _key(method: str, url: str) -> str:
        return hashlib.sha256(f"{method} {url}".encode()).hexdigest()

    def _path(self, method: str, url: str) -> Path:
        assert self.root is not None
        key = self._key(method, url)
        return self.root / key[:2] / key

    def get(self, method: str, url: str, ttl: float | None = None) -> tuple[bool, bytes | None]:
        """(hit, body): body None means the server said "no such thing" (404 / no results)."""
        if self.root is None:
            return False, None
        base = self._path(method, url)
        for path, empty in ((base.with_suffix(".body"), False), (base.with_suffix(".none"), True)):
            try:
                st = path.stat()
            except OSError:
                continue
            # "Not there" may change (a message arrives): it never lives longer than the
            # default, even for answers that are otherwise kept for ever.
            life = self.ttl if empty or ttl is None else ttl
            if life != FOREVER and time.time() - st.st_mtime > life:
                continue
            if empty:
                return True, None
            try:
                return True, path.read_bytes()
            except OSError:
                return False, None
        return False, None

    def put(self, method: str, url: str, body: bytes | None) -> None:
        """Store an answer read whole; failures to write are ignored (it is only a cache)."""
        if self.root is None:
            return
        base = self._path(method, url)
        final = base.with_suffix(".none" if body is None else ".body")
        stale = base.with_suffix(".body" if body is None else ".none")
        try:
            base.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=base.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(body or b"")
            os.replace(tmp, final)
            stale.unlink(missing_ok=True)
        except OSError:
            return
