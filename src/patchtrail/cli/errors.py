"""Every expected failure, mapped to one line on stderr and exit code 2."""

from __future__ import annotations

import sqlite3


def expected() -> tuple[type[BaseException], ...]:
    """The exception classes that are bad input, not bugs.

    Imported when an error is being reported, not at start: the modules that define them
    (link.series above all) would cost every command ~0.1 s of imports before it begins.
    """
    from patchtrail.index.store import IndexError_
    from patchtrail.index.workers import WorkerDied
    from patchtrail.link.commits import RevisionError
    from patchtrail.link.series import SeriesError
    from patchtrail.sources.errors import SourceError

    return (SourceError, IndexError_, RevisionError, SeriesError, WorkerDied,
            sqlite3.DatabaseError, OSError)
