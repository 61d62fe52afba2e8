"""Building public-inbox search queries that say exactly what we mean.

public-inbox hands the `q=` string to Xapian's query parser (after rewriting `d:`/`dt:`
ranges through git's approxidate). Text from commits and mails is untrusted and full of
characters the parser reads as syntax — `"`, `(`, `-`, `*`, `AND` — so every value goes in
as a quoted phrase with the quote characters removed (Xapian has no escape inside a
phrase; public-inbox also treats the curly quotes U+201C/U+201D as quotes), and the
boolean structure is built here, never by pasting strings. Boolean prefixes (`patchid:`)
take a bare token, which is checked instead of quoted.

Prefixes, as public-inbox 1.9's help lists them: s: subject, f: From, b: body, nq:
non-quoted body text, dfn: a file name in the diff, dfa:/dfb: removed/added diff lines,
dfhh: hunk headings, patchid: `git patch-id --stable`, d: date range (YYYYMMDD), dt: date
and time range (YYYYMMDDHHMMSS), both UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["Query", "all_of", "any_of", "date_range", "exact_time", "phrase", "time_range", "token",
           "word_prefix"]

_QUOTES = re.compile(r'["\u201c\u201d]')
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"^[0-9A-Za-z._@+-]+$")
_WORD = re.compile(r"^[0-9A-Za-z_]+$")
# Prefixes whose value is one exact term: a phrase would not match them.
_BOOLEAN = frozenset({"patchid", "dfpre", "dfpost", "dfblob"})
_PHRASE = frozenset({"s", "f", "b", "nq", "q", "t", "c", "a", "tc", "l", "bs", "dfn", "dfa",
                     "dfb", "dfhh", "dfctx", "n"})


class Query(str):
    """A query string built by this module (so it can be told from raw user text)."""


def phrase(prefix: str, text: str) -> Query | None:
    """`prefix:"text"` with quotes removed and whitespace collapsed; None when empty."""
    if prefix not in _PHRASE:
        raise ValueError(f"{prefix}: not a probabilistic public-inbox prefix")
    clean = _SPACE.sub(" ", _QUOTES.sub(" ", text)).strip()
    if not clean:
        return None
    return Query(f'{prefix}:"{clean}"')


def token(prefix: str, value: str) -> Query:
    """`prefix:value` for a boolean prefix; the value must be one plain token (a hash)."""
    if prefix not in _BOOLEAN:
        raise ValueError(f"{prefix}: not a boolean public-inbox prefix")
    if not _TOKEN.match(value):
        raise ValueError(f"{value!r}: not a plain token for {prefix}:")
    return Query(f"{prefix}:{value}")


def word_prefix(prefix: str, word: str) -> Query:
    """`prefix:word*`: every term starting with `word` (an abbreviated commit id is
    written with 8 to 40 digits). The word must be plain letters, digits and '_'."""
    if prefix not in _PHRASE:
        raise ValueError(f"{prefix}: not a probabilistic public-inbox prefix")
    if not _WORD.match(word):
        raise ValueError(f"{word!r}: not a plain word for {prefix}:")
    return Query(f"{prefix}:{word}*")


def _utc(t: int, fmt: str) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime(fmt)


def date_range(lo: int | None, hi: int | None) -> Query:
    """`d:YYYYMMDD..YYYYMMDD` covering the Unix times lo..hi (open ends allowed).

    public-inbox reads both days as whole UTC days, so the range never cuts lo or hi off.
    """
    a = _utc(lo, "%Y%m%d") if lo is not None else ""
    b = _utc(hi, "%Y%m%d") if hi is not None else ""
    return Query(f"d:{a}..{b}")


def exact_time(t: int) -> Query:
    """`dt:T..T`: messages whose Date is this second (what `git am` copies)."""
    return time_range(t, t)


def time_range(lo: int, hi: int) -> Query:
    """`dt:LO..HI`: messages whose Date falls within these Unix times, to the second."""
    return Query(f"dt:{_utc(lo, '%Y%m%d%H%M%S')}..{_utc(hi, '%Y%m%d%H%M%S')}")


def _join(op: str, parts: list[Query | None]) -> Query | None:
    kept = [p for p in parts if p]
    if not kept:
        return None
    if len(kept) == 1:
        return Query(kept[0])
    return Query("(" + f" {op} ".join(kept) + ")")


def any_of(*parts: Query | None) -> Query | None:
    """The OR of the parts given (None ones dropped); None when nothing is left."""
    return _join("OR", list(parts))


def all_of(*parts: Query | None) -> Query | None:
    """The AND of the parts given (None ones dropped); None when nothing is left."""
    return _join("AND", list(parts))
