"""Filling `prose_fts` as messages are stored (the hook `_index_message` calls).

The row's body is already compressed by the parse workers; decompressing it here costs a
fraction of the FTS5 insert itself and keeps the worker's row format unchanged.
"""

from __future__ import annotations

import sqlite3

from patchtrail.index.rows import body_parts
from patchtrail.mail.prose import prose


def index_prose(c: sqlite3.Connection, message_id: int, values: dict[str, object]) -> None:
    message, notes, _diff = body_parts(values["body"])  # type: ignore[arg-type]
    text = prose(str(values["subject"]), message, notes)
    if text.strip():
        c.execute("INSERT INTO prose_fts(rowid, text) VALUES (?, ?)", (message_id, text))
