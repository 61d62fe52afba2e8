"""Bytes to text under a declared charset that may be wrong, unknown or hostile.

Mail declares charsets it does not use (us-ascii bodies full of UTF-8), names charsets
Python has never heard of (`x-unknown`, `unknown-8bit`) and sometimes names codecs that are
not text encodings at all (`base64`, `rot13`). Decoding must still produce text, so every
path ends in latin-1, which cannot fail, and says what it had to guess.
"""

from __future__ import annotations

import codecs
from contextlib import suppress
from functools import lru_cache

# Declared charsets that are, in practice, "whatever the client had": try UTF-8 first.
_ASCII_LIKE = frozenset(
    {"", "us-ascii", "ascii", "ansi_x3.4-1968", "utf-8", "utf8", "x-unknown", "unknown-8bit",
     "unknown", "default", "none", "x-user-defined"}
)
# Widen legacy charsets to the supersets mail clients really emit under these names.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "big5": "big5hkscs",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
}
# Codecs that are legal Python text encodings but make no sense as a mail charset and can
# expand or misbehave on hostile input.
_REFUSED = frozenset({"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined"})


@lru_cache(maxsize=256)
def text_codec(charset: str) -> str | None:
    """The Python codec name for a declared charset, or None if it is not a usable text codec."""
    name = charset.strip().strip("\"'").lower()
    name = name.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
    name = _SUPERSETS.get(name, name)
    if name in _ASCII_LIKE:
        return "utf-8"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED:
        return None
    return info.name


def normalize_charset(charset: str | None) -> str:
    return (charset or "").strip().strip("\"'").lower()


def decode_bytes(raw: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode `raw`, returning the text and a problem note when something had to be guessed.

    Order: the declared charset (strict), then UTF-8 (strict), then a lossy fallback. The
    fallback for a body that claimed ASCII/UTF-8 is latin-1 only when it does not even look
    like damaged UTF-8, because a stray bad byte in a UTF-8 patch is far more common than a
    mislabelled latin-1 one.
    """
    if raw.isascii():
        return raw.decode("ascii"), None
    declared = normalize_charset(charset)
    codec = text_codec(declared) if declared else "utf-8"
    note: str | None = None
    if codec is None:
        note = f"unknown charset {declared[:40]!r}"
    elif codec != "utf-8":
        try:
            return raw.decode(codec), None
        except Exception:  # noqa: BLE001 - some codecs raise odd errors on garbage
            note = f"text does not decode as declared charset {declared[:40]!r}"
    # Strict UTF-8 first (the usual truth behind a wrong label), then the declared codec
    # with replacement characters, then the fallbacks below.
    with suppress(UnicodeDecodeError):
        return raw.decode("utf-8"), note
    if codec is not None and codec != "utf-8":
        with suppress(Exception):  # some codecs raise odd errors on garbage
            return raw.decode(codec, "replace"), note
    if declared in ("utf-8", "utf8"):
        return raw.decode("utf-8", "replace"), "invalid UTF-8 replaced"
    return raw.decode("latin-1"), (note or "undeclared 8-bit text") + "; decoded as latin-1"
