"""Every expected failure, mapped to one line on stderr and exit code 2."""

from __future__ import annotations

import sqlite3

from patchtrail.index.store import IndexError_
from patchtrail.index.workers import WorkerError
from patchtrail.link.commits import RevisionError
from patchtrail.link.series import SeriesError
from patchtrail.sources.errors import SourceError

EXPECTED: tuple[type[BaseException], ...] = (
    SourceError, IndexError_, RevisionError, SeriesError, WorkerError, sqlite3.DatabaseError,
    OSError,
)
