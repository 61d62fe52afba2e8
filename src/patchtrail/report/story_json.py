"""`patchtrail story --format json`. The fields are a contract, versioned: see docs/story.md.

The series parts reuse the `patchtrail series` and `patchtrail origin` JSON shapes, so a
consumer of those reads the same objects here.
"""

from __future__ import annotations

import json
from typing import IO

from patchtrail.link.series_model import Series
from patchtrail.report.origin import (
    commit_dict,
    discussion_dict,
    email_dict,
    followup_dict,
    life_dict,
    line_dict,
)
from patchtrail.report.series import revision_dict, series_dict
from patchtrail.story.model import Origin
from patchtrail.story.story_model import STORY_SCHEMA, Start, Story

_START_KEYS = ("schema", "start", "start_version")


def origin_dict(o: Origin | None) -> dict[str, object] | None:
    if o is None:
        return None
    return {"query": o.query, "kind": o.kind, **life_dict(o), "line": line_dict(o.line),
            "note": o.note}


def start_dict(s: Start, series: Series | None) -> dict[str, object]:
    return {
        "series_version": series.start_version if series is not None else None,
        "query": s.query, "kind": s.kind, "origin": origin_dict(s.origin),
        "commit": commit_dict(s.commit) if s.commit else None, "email": email_dict(s.email),
        "touching": s.touching, "mentions": [discussion_dict(d) for d in s.mentions],
    }


def _series_part(s: Series | None) -> dict[str, object] | None:
    """A series as `patchtrail series` prints it, less where the user came in."""
    if s is None:
        return None
    return {k: v for k, v in series_dict(s).items() if k not in _START_KEYS}


def series_story_dict(s: Story) -> dict[str, object]:
    """Everything but the start: equal for every starting point inside one series."""
    return {
        "title": s.title,
        "series": _series_part(s.series),
        "anchor": commit_dict(s.anchor) if s.anchor else None,
        "followups": [
            {**followup_dict(f.group),
             "revisions": [revision_dict(r) for r in f.revisions],
             "missing_versions": f.missing_versions}
            for f in s.followups],
        "followups_truncated": s.followups_truncated,
        "discussions": [discussion_dict(d) for d in s.discussions],
        "discussions_truncated": s.discussions_truncated,
        "notes": s.notes,
    }


def story_dict(s: Story) -> dict[str, object]:
    return {"schema": STORY_SCHEMA, "start": start_dict(s.start, s.series), **series_story_dict(s)}


def write_json(s: Story, out: IO[str]) -> None:
    json.dump(story_dict(s), out, ensure_ascii=False, indent=2)
    out.write("\n")
