"""`patchtrail origin`: from a symbol or a line to its birth, and forward to what followed.

A symbol's birth is the first commit that added it while it was absent and without
removing it elsewhere (patchtrail.story.events); with a path, the search follows that
file's occurrences back through renames and moves into it, and the birth is the first
commit that added the identifier to one of the files of that lineage. A line's origin
is blame past trivial commits (patchtrail.story.lineorigin).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from patchtrail.index.query import select_in
from patchtrail.index.store import Store
from patchtrail.link.commits import load_commits
from patchtrail.mail.idents import MAX_LEN, MIN_LEN, TOKEN
from patchtrail.sources.git import GitRepo
from patchtrail.story.discussions import discussions, search_terms
from patchtrail.story.emails import emails_of
from patchtrail.story.events import REF_COLUMNS, commit_ref, life
from patchtrail.story.followups import related
from patchtrail.story.lineorigin import chain_since, trace_line
from patchtrail.story.model import (
    ADD,
    BIRTH,
    DELETION,
    MOVE,
    REBIRTH,
    RENAME,
    CommitRef,
    IdentEvent,
    LineOrigin,
    Origin,
    OriginStory,
    Place,
)
from patchtrail.story.series_groups import told_elsewhere

_LINE = re.compile(r"^(?P<path>[^@]+?):(?P<line>\d+)(?:@(?P<rev>.+))?$")


class TargetError(Exception):
    """A SYMBOL or FILE:LINE[@REV] that cannot be a query; one-line message."""


@dataclass(slots=True)
class Target:
    symbol: str | None = None
    path: str | None = None
    line: int | None = None
    rev: str | None = None


def parse_target(text: str) -> Target:
    """SYMBOL, or FILE:LINE[@REV]; TargetError on anything else."""
    m = _LINE.match(text)
    if m is not None:
        line = int(m.group("line"))
        if line < 1:
            raise TargetError(f"{text}: line numbers start at 1")
        path = m.group("path").removeprefix("./")
        return Target(path=path, line=line, rev=m.group("rev") or "HEAD")
    if TOKEN.fullmatch(text) is None:
        if re.fullmatch(r"[^\W\d]\w*", text) and len(text) < MIN_LEN:
            raise TargetError(f"{text}: identifiers shorter than {MIN_LEN} characters are not indexed")
        if re.fullmatch(r"[^\W\d]\w*", text):
            raise TargetError(f"{text}: identifiers longer than {MAX_LEN} characters are not indexed")
        raise TargetError(f"{text}: not an identifier (letters, digits, '_') nor FILE:LINE[@REV]")
    return Target(symbol=text)


def _in_path(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def lineage(events: list[IdentEvent], prefix: str) -> tuple[list[IdentEvent], list[IdentEvent]]:
    """(events of the lineage of the files under `prefix`, the adds into that lineage).

    Walked newest first: a rename or move into a file of the lineage adds the files it came
    from, so older events in those files belong to it as well.
    """
    files = {p.path for e in events for p in e.places if _in_path(p.path, prefix)}
    files |= {f for e in events for f in e.moved_to if _in_path(f, prefix)}
    kept: list[IdentEvent] = []
    adds: list[IdentEvent] = []
    for e in reversed(events):
        gained = {p.path for p in e.places if p.added > p.removed}
        if e.kind in (MOVE, RENAME) and files.intersection(e.moved_to):
            files |= set(e.moved_from)
            kept.append(e)
        elif files.intersection(p.path for p in e.places) or files.intersection(e.moved_to):
            kept.append(e)
            if e.kind in (BIRTH, REBIRTH, ADD) and files & gained:
                adds.append(e)
    kept.reverse()
    adds.reverse()
    return kept, adds


def symbol_origin(store: Store, name: str, path: str | None, source_id: int | None) -> Origin:
    lf = life(store.conn, name, source_id)
    events = lf.events
    if not events:
        return Origin(name, "symbol", path, None,
                      note="never existed in the indexed history (no commit added or removed it)")
    birth = next((e for e in events if e.kind == BIRTH), None)
    note = None
    if path is not None:
        events, adds = lineage(events, path)
        if not events:
            return Origin(name, "symbol", path, None, alive=lf.alive,
                          note=f"{name} exists in the history, but never under {path}")
        if adds and adds[0] is not birth:
            first = birth
            birth = adds[0]
            if first is not None:
                note = (f"{name} existed elsewhere before: first born in {first.commit.oid[:12]}"
                        f" {first.commit.subject}")
        elif not adds:
            birth = None
    if birth is None:
        note = note or ("no indexed commit adds it without removing it elsewhere: it came from"
                        " before the indexed history or from an unreadable commit")
    after = events[events.index(birth) + 1:] if birth is not None else events
    return Origin(
        name, "symbol", path, birth,
        moves=[e for e in after if e.kind in (MOVE, RENAME)],
        rebirths=[e for e in after if e.kind == REBIRTH],
        deletions=[e for e in after if e.kind == DELETION],
        events=events, alive=lf.alive, note=note,
    )


def commit_refs_by_oid(store: Store, oids: list[str]) -> dict[str, CommitRef]:
    """CommitRef per commit id, for the commits the index holds or git can read.

    Only REF_COLUMNS are read; `load_commits` is asked only for the ids the index lacks,
    which it reads from git (blame can name a commit indexed later). The author's address
    is lower-cased, as `load_commits` (which folds it for linking) always gave it here;
    `events.commit_refs` keeps it as written.
    """
    q = f"SELECT {REF_COLUMNS} FROM commits WHERE oid IN ({{marks}})"
    found = {r[0]: tuple(r) for r in select_in(store.conn, q, dict.fromkeys(oids))}
    missing = [o for o in oids if o not in found]
    if missing:
        found.update((c.oid, (c.oid, c.subject, c.author_name, c.author_email, c.author_time,
                              c.committer_time)) for c in load_commits(store, missing))
    refs: dict[str, CommitRef] = {}
    for oid in oids:
        if oid in found:
            _, subject, name, address, authored, committed = found[oid]
            refs[oid] = commit_ref(oid, subject, name, address.lower(), authored, committed)
    return refs


def line_origin(store: Store, repo: GitRepo, target: Target) -> Origin:
    assert target.path is not None and target.line is not None
    rev = repo.resolve(target.rev or "HEAD")
    b, skipped = trace_line(repo.path, rev, target.path, target.line)
    chain = chain_since(repo.path, rev, target.path, target.line, b.commit)
    refs = commit_refs_by_oid(store, [b.commit, *skipped, *chain])
    query = f"{target.path}:{target.line}" + (f"@{target.rev}" if target.rev != "HEAD" else "")
    birth = IdentEvent(refs[b.commit], BIRTH, [Place(b.path, 1, 0, b.line)])
    lo = LineOrigin(target.path, target.line, rev, b.content, b.path, b.line,
                    [refs[o] for o in skipped if o in refs], [refs[o] for o in chain if o in refs])
    return Origin(query, "line", None, birth, alive=True, line=lo)


def tell(store: Store, target: Target, repo: GitRepo | None, source_id: int | None) -> OriginStory:
    """The whole story of a target: origin, its series, follow-ups, later discussions."""
    if target.symbol is not None:
        origin = symbol_origin(store, target.symbol, target.path, source_id)
    else:
        if repo is None:
            raise TargetError("FILE:LINE needs the repository: give --repo")
        origin = line_origin(store, repo, target)
    story = OriginStory(origin)
    if origin.birth is None:
        return story
    birth = origin.birth.commit
    origin.email = emails_of(store, [birth.oid]).get(birth.oid)
    core = {p.path for p in origin.birth.places if p.added > p.removed}
    core.update(f for e in origin.moves for f in e.moved_to)
    if origin.line is not None:
        touched = {c.oid for c in origin.line.chain}
    else:
        start = origin.events.index(origin.birth)
        touched = {e.commit.oid for e in origin.events[start + 1:]}
    rel = related(store, birth, origin.email, touched, source_id, core)
    story.series_commits = rel.siblings
    story.followups = rel.groups
    story.followups_truncated = rel.truncated
    excluded, titles = told_elsewhere(rel.followups, origin.email)
    title = origin.email.series_title if origin.email is not None else None
    story.searches = [(search_terms(target.symbol, rel.siblings, title), birth.committer_time)]
    [(terms, after)] = story.searches
    story.discussions, story.discussions_truncated = discussions(
        store.conn, terms, after, excluded, titles)
    return story
