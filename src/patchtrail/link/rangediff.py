"""What changed between two revisions: the author's changelog and a range-diff summary.

Authors say what changed in the cover letter ("Changes since v2: ...") or below the
`---` of each patch; that text is quoted as written. Independently, patches are paired
across the two revisions (same patch-id, else the closest diff and title) and each pair
is classified the way `git range-diff` would: unchanged, modified (with the changed lines
of the diff-of-diffs), added, dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from patchtrail.link.msgstore import Messages
from patchtrail.link.revisions import PostingMsgs, diff_similarity, title_similarity
from patchtrail.link.series_model import (
    DiffDelta,
    Msg,
    PatchChange,
    PostedPatch,
    RevisionDiff,
)
from patchtrail.mail.diff import file_diffs

PAIR_THRESHOLD = 0.35
SAMPLE_LINES = 6
_CHANGELOG_HEAD = re.compile(
    r"^\s*(?:[-*]\s*)?(?:changes|changelog|change log|changed|since v?\d+|in v\d+|"
    r"v\d+\s*(?:->|→|\.\.|to|vs\.?)\s*v?\d+|v\d+\s*:|\[?v\d+\]?\s*$|---\s*v\d+)",
    re.IGNORECASE,
)
_SHORTLOG = re.compile(r"^\S.*\(\d+\):\s*$")
_DIFFSTAT = re.compile(r"^\s\S.*\|\s+(\d+|Bin)|^\s\d+ files? changed|^\s*create mode |^\s*delete mode ")
_STOP = re.compile(r"^(-- |base-commit:|prerequisite-patch-id:|change-id:)")


def changelog_of(text: str) -> str:
    """The changelog part of a cover letter or of a patch's notes, '' if none."""
    lines = text.split("\n")
    start = next((i for i, ln in enumerate(lines) if _CHANGELOG_HEAD.match(ln)), None)
    if start is None:
        return ""
    out: list[str] = []
    for ln in lines[start:]:
        if _SHORTLOG.match(ln) or _DIFFSTAT.match(ln) or _STOP.match(ln):
            break
        out.append(ln.rstrip())
    return "\n".join(out).strip("\n")


def revision_changelog(db: Messages, pm: PostingMsgs) -> str:
    """The newer revision's own words: its cover letter's changelog, then each patch's."""
    chunks: list[str] = []
    for m in pm.msgs:
        message, notes, _diff = db.parts(m)
        text = changelog_of(message + "\n" + notes) if m.is_cover else changelog_of(notes)
        if not text and not m.is_cover:
            text = _notes_only(notes)
        if text:
            label = "cover letter" if m.is_cover else f"patch {m.number or 1}: {m.title}"
            chunks.append(f"[{label}]\n{text}")
    return "\n\n".join(chunks)


def _notes_only(notes: str) -> str:
    """Free text below `---` (not the diffstat): where single patches keep their changelog."""
    kept = [ln.rstrip() for ln in notes.split("\n") if ln.strip() and not _DIFFSTAT.match(ln)]
    return "\n".join(kept)


def changed_lines(diff: str) -> Counter[str]:
    """The +/- lines of a diff, as a multiset, as `file_diffs` reads them: inside hunks, by
    their counts (a removed `-- x` line is a change, a `--- a/x` header is not)."""
    return Counter(line for fd in file_diffs(diff) for line in (*fd.plus, *fd.minus))


def diff_delta(old_diff: str, new_diff: str, old_files: list[str], new_files: list[str]) -> DiffDelta:
    """The diff of two diffs: changed lines one has and the other lacks."""
    a, b = changed_lines(old_diff), changed_lines(new_diff)
    only_new, only_old = b - a, a - b
    sample = [f"+ {ln}" for ln in list(only_new.elements())[:SAMPLE_LINES // 2]]
    sample += [f"- {ln}" for ln in list(only_old.elements())[:SAMPLE_LINES - len(sample)]]
    return DiffDelta(
        added=sum(only_new.values()), removed=sum(only_old.values()),
        files_added=sorted(set(new_files) - set(old_files)),
        files_removed=sorted(set(old_files) - set(new_files)), sample=sample,
    )


def pair(old: list[Msg], new: list[Msg], sim: Callable[[Msg, Msg], float]) -> list[tuple[Msg | None, Msg | None]]:
    """Greedy best-first pairing of two patch lists; unpaired ones stand alone."""
    scores = sorted(((sim(a, b), i, j) for i, a in enumerate(old) for j, b in enumerate(new)), reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs: list[tuple[Msg | None, Msg | None]] = []
    for s, i, j in scores:
        if s < PAIR_THRESHOLD or i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((old[i], new[j]))
    pairs += [(None, b) for j, b in enumerate(new) if j not in used_b]
    pairs += [(a, None) for i, a in enumerate(old) if i not in used_a]
    return sorted(pairs, key=lambda p: _order(p))


def _order(p: tuple[Msg | None, Msg | None]) -> tuple[int, int]:
    new, old = p[1], p[0]
    if new is not None:
        return (0, new.number or 1)
    return (1, old.number or 1 if old else 0)


def patch_pair_score(a: Msg, b: Msg) -> float:
    if a.patch_id and a.patch_id == b.patch_id:
        return 1.0
    return 0.65 * diff_similarity(a, b) + 0.35 * title_similarity(a.title, b.title)


def range_diff(db: Messages, old: PostingMsgs, new: PostingMsgs,
               posted: Callable[[Msg], PostedPatch]) -> RevisionDiff:
    changes: list[PatchChange] = []
    for a, b in pair(old.patches, new.patches, patch_pair_score):
        if a is None:
            changes.append(PatchChange("added", None, posted(b)))  # type: ignore[arg-type]
            continue
        if b is None:
            # A partial reroll reposts only what changed; the rest is carried over as is.
            status = "carried" if new.posting.partial_of else "dropped"
            changes.append(PatchChange(status, posted(a), None))
            continue
        title_changed = a.title.strip().lower() != b.title.strip().lower()
        if a.patch_id and a.patch_id == b.patch_id:
            changes.append(PatchChange("unchanged", posted(a), posted(b), title_changed))
            continue
        delta = diff_delta(db.parts(a)[2], db.parts(b)[2], list(a.files), list(b.files))
        status = "unchanged" if delta.empty else "modified"
        changes.append(PatchChange(status, posted(a), posted(b), title_changed, delta))
    return RevisionDiff(old.posting.version, new.posting.version, revision_changelog(db, new), changes)
