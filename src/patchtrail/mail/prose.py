"""The words a person wrote in a message: what "a later discussion mentions X" searches.

Quoted lines (`>` at the start, after optional spaces) repeat someone else's words, often
a whole patch; a diff is code, which the identifier index covers for commits. Keeping
both out makes a mention mean that somebody wrote the name in that message.
"""

from __future__ import annotations

import re

# A quoted line with the newline before it. Opening with "\n" rather than a MULTILINE `^`
# lets the search jump from newline to newline instead of trying every character.
_QUOTED = re.compile(r"\n[ \t]*>.*")


def prose(subject: str, message: str, notes: str) -> str:
    """Subject, message part and notes of a message, quoted lines removed."""
    text = "\n".join(x for x in (message, notes) if x)
    if ">" in text:
        text = _QUOTED.sub("", "\n" + text)[1:]
    return f"{subject}\n{text}" if subject else text
