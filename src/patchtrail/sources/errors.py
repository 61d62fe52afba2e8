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
        text = str(where) if problem is None else f"{where}: {problem}"
        super().__init__(" ".join(text.split()) or "unreadable source")
