"""Maildir folders: every message file of ``cur/`` and ``new/``.

A directory with ``cur/`` and/or ``new/`` (``tmp/`` is ignored); files are read in the
order of their unique names. Key: the unique name (the file name without its
``:2,flags`` info). Cursor: None; every read lists the whole Maildir, and the indexer
drops keys it has seen.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from patchtrail.sources.archive import MAX_MESSAGE_BYTES, MailSource
from patchtrail.sources.errors import SourceError
from patchtrail.sources.records import RawMail, SkipLog

__all__ = ["MaildirSource"]


class MaildirSource(MailSource):
    kind = "maildir"

    def _entries(self) -> list[tuple[str, Path]]:
        """(unique name, file) of every message, sorted by unique name; cur/ before new/."""
        found: dict[str, Path] = {}
        for sub in ("cur", "new"):
            d = Path(self.path) / sub
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise SourceError(str(d), f"cannot list: {exc.strerror or exc}") from exc
            for name in names:
                if name.startswith("."):
                    continue
                key = name.split(":", 1)[0]
                found.setdefault(key, d / name)
        return sorted(found.items())

    def estimate(self, cursor: str | None) -> int | None:
        return len(self._entries())

    def iter_messages(self, cursor: str | None, skips: SkipLog) -> Iterator[RawMail]:
        for key, path in self._entries():
            try:
                if path.is_dir():
                    continue
                if path.stat().st_size > MAX_MESSAGE_BYTES:
                    skips.add(key, "message too large")
                    continue
                data = path.read_bytes()
            except FileNotFoundError:
                data = self._moved(key)
                if data is None:
                    skips.add(key, "message file vanished")
                    continue
            except OSError as exc:
                skips.add(key, f"unreadable file: {exc.strerror or type(exc).__name__}")
                continue
            yield RawMail(key, data, None)

    def _moved(self, key: str) -> bytes | None:
        """A mail client moved the file (new/ -> cur/, flags changed) while we listed."""
        for sub in ("cur", "new"):
            d = Path(self.path) / sub
            try:
                for name in os.listdir(d):
                    if name.split(":", 1)[0] == key:
                        return (d / name).read_bytes()
            except OSError:
                continue
        return None
