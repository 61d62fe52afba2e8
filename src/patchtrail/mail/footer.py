"""Mailing-list footers appended to every message by list software.

A footer pasted after the last hunk is not part of the patch: left in, it makes the diff
end in garbage and the message end in a URL that every message shares. Only text at the
very end that a list robot would write is removed; a human's signature stays.
"""

from __future__ import annotations

import re

# What a robot footer talks about. LTP's mailman writes
# "-- \nMailing list info: https://lists.linux.it/listinfo/ltp"; classic mailman writes a
# line of underscores, the list name, its address and a listinfo URL.
_ROBOT_WORDS = re.compile(
    r"mailing list info|listinfo|mailman|unsubscribe|google groups|groups\.io|"
    r"you received this message because",
    re.IGNORECASE,
)
_MAX_FOOTER_LINES = 12
_MAX_FOOTER_CHARS = 1500
_RULE = re.compile(r"\n_{20,}[ \t]*\n")


def strip_list_footer(text: str) -> str:
    """`text` without trailing list footers (several may be stacked); when one was removed,
    the blank lines before it go too and the text ends in a single newline."""
    while True:
        stripped = _strip_one(text)
        if stripped is None:
            return text
        text = stripped


def _strip_one(text: str) -> str | None:
    body = text.rstrip()
    if not body:
        return None
    # The window is the end of "\n" + body: the leading newline lets a footer that is the
    # whole text be found like any other (only a short text is copied for it).
    start = max(0, len(body) + 1 - _MAX_FOOTER_CHARS)
    window = body[start - 1:] if start else "\n" + body
    # A "-- " signature separator or a rule of underscores opens the footer.
    cut = max(window.rfind("\n-- \n"), window.rfind("\n--\n"))
    if "____________________" in window:
        for m in _RULE.finditer(window):
            cut = max(cut, m.start())
    if cut < 0:
        return None
    tail = window[cut + 1:]
    if tail.count("\n") > _MAX_FOOTER_LINES or not _ROBOT_WORDS.search(tail):
        return None
    kept = body[: max(0, start + cut - 1)].rstrip("\n")
    return kept + "\n" if kept else ""
