"""The one error type of the sources stage: an input that cannot be read at all.

Things that go wrong with *part* of an input (one unreadable blob, one deleted message)
are not errors but `Skip`s; `SourceError` is for inputs that are not what they claim to
be. Its str() is always one line naming the input and what is wrong with it, so the CLI
can print it as is.
"""

from __future__ import annotations


class SourceError(Exception):
    """An input (repository, revision, archive) that cannot be read; one-line message."""

    def __init__(self, where: object, problem: str | None = None) -> None:
        if problem is None:
            text = str(where)
        else:
            text = f"{where}: {problem}"
        text = " ".join(text.split()) or "unreadable source"
        super().__init__(text)
        self.where = str(where) if problem is not None else None
        self.problem = problem
