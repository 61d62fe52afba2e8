"""What the origin part of a report says, and in which order.

`patchtrail origin` (text) and `patchtrail story` (text, Markdown, HTML) all tell where a
symbol or line was born and what happened to it since. They take that from here, so the
formats only format: they cannot drift into listing other events, or the same events in
another order (they once did: the story listed moves, then rebirths, then deletions, so a
symbol could be "reborn" before it was deleted). The JSON formats keep the model's
separate `moves`, `rebirths` and `deletions` lists: those fields are a contract.
"""

from __future__ import annotations

from dataclasses import dataclass

from patchtrail.story.model import IdentEvent, LineOrigin, Origin, Place


@dataclass(frozen=True, slots=True)
class OriginSection:
    """The origin of a symbol or line, as every text-like format tells it."""

    birth: IdentEvent | None     # None: not found (the origin's note says why)
    line: LineOrigin | None      # FILE:LINE: the line, and where it was in the birth commit
    born_at: list[Place]         # a symbol: the files and lines the birth added it on
    since: list[IdentEvent]      # moves, renames, rebirths and deletions, oldest first


def origin_section(o: Origin) -> OriginSection:
    """The section for `o`. `since` is in the order of the code's history (`o.events`),
    because each event only makes sense after the ones before it: a rebirth follows a
    deletion, a move out of a renamed file follows the rename."""
    position = {id(e): i for i, e in enumerate(o.events)}
    marks = o.moves + o.rebirths + o.deletions
    # Stable: an event the timeline does not hold (hand-made data) keeps its place at the end.
    since = sorted(marks, key=lambda e: position.get(id(e), len(position)))
    born_at = ([p for p in o.birth.places if p.added > p.removed]
               if o.birth is not None and o.line is None else [])
    return OriginSection(o.birth, o.line, born_at, since)


def moved(e: IdentEvent) -> str | None:
    """The "from → to" of an event that carried the identifier between files (a move or
    a rename), else None."""
    if not (e.moved_from or e.moved_to):
        return None
    return f"{', '.join(e.moved_from)} → {', '.join(e.moved_to)}"


def where(e: IdentEvent) -> str:
    """Where an event happened, as every format names it: "from → to" for a move or a
    rename, else the files it changed (the text report adds their line counts)."""
    return moved(e) or ", ".join(p.path for p in e.places)
