"""Rendering `patchtrail series`. The JSON fields are a contract: see docs/series.md.

Every string that came from a mail or a commit is put in a rich `Text` (never markup), so
a subject such as "[net-next] fix [bold]" prints as written.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from patchtrail.link.series_model import (
    Applied,
    AppliedCommit,
    DiffDelta,
    PatchChange,
    PostedPatch,
    Posting,
    ReviewTrail,
    Revision,
    RevisionDiff,
    Series,
)
from patchtrail.report.times import day, iso

SERIES_SCHEMA = 1


def _patch(p: PostedPatch | None) -> dict[str, object] | None:
    if p is None:
        return None
    d = asdict(p)
    d["date"] = iso(p.date)
    return d


def _posting(p: Posting) -> dict[str, object]:
    return {
        "key": p.key, "version": p.version, "title": p.title, "date": iso(p.date),
        "author": f"{p.author_name} <{p.author_email}>", "list": p.list, "rfc": p.rfc,
        "resend": p.resend, "total": p.total, "missing": p.missing, "partial_of": p.partial_of,
        "change_id": p.change_id, "thread_root": p.thread_root,
        "cover": _patch(p.cover), "patches": [_patch(x) for x in p.patches],
    }


def revision_dict(r: Revision) -> dict[str, object]:
    d = _posting(r.posting)
    d["link"] = asdict(r.link) if r.link else None
    d["resends"] = [{"key": x.key, "date": iso(x.date), "url": x.head.url}
                    for x in r.resends]
    return d


def _delta(d: DiffDelta | None) -> dict[str, object] | None:
    return asdict(d) if d else None


def _change(c: PatchChange) -> dict[str, object]:
    return {
        "status": c.status,
        "old_number": c.old.number if c.old else None, "new_number": c.new.number if c.new else None,
        "old_message_id": c.old.msgid if c.old else None, "new_message_id": c.new.msgid if c.new else None,
        "title": (c.new or c.old).title if (c.new or c.old) else None,  # type: ignore[union-attr]
        "old_title": c.old.title if c.old else None,
        "title_changed": c.title_changed, "delta": _delta(c.delta),
    }


def _diff(d: RevisionDiff) -> dict[str, object]:
    return {"from": d.old_version, "to": d.new_version, "changelog": d.changelog,
            "patches": [_change(c) for c in d.changes]}


def _commit(c: AppliedCommit) -> dict[str, object]:
    d = asdict(c)
    d["committed"] = iso(c.committed)
    return d


def _applied(a: Applied | None) -> dict[str, object] | None:
    if a is None:
        return None
    return {
        "version": a.version, "posted_order": a.posted_order, "applied_order": a.applied_order,
        "reordered": a.reordered, "commits": [_commit(c) for c in a.commits],
        "never_applied": [_patch(p) for p in a.never_applied],
        "split": {str(k): v for k, v in a.split.items()},
    }


def _review(r: ReviewTrail) -> dict[str, object]:
    replies = []
    for (version, number), items in sorted(r.replies.items()):
        for x in items:
            replies.append({"version": version, "number": number, "message_id": x.msgid, "url": x.url,
                            "author": x.author, "date": iso(x.date), "subject": x.subject,
                            "tags": [list(t) for t in x.tags]})
    return {
        "replies": replies,
        "tags": [asdict(t) for t in r.tags],
        "participants": [{"who": who, "messages": n} for who, n in r.participants],
        "first_posted": iso(r.first_posted), "applied": iso(r.applied),
    }


def series_dict(s: Series) -> dict[str, object]:
    return {
        "schema": SERIES_SCHEMA, "start": s.start, "start_version": s.start_version,
        "title": s.title, "author": s.author,
        "revisions": [revision_dict(r) for r in s.revisions],
        "missing_versions": s.missing_versions,
        "changes": [_diff(d) for d in s.diffs],
        "applied": _applied(s.applied),
        "review": _review(s.review),
        "notes": s.notes,
    }


def write_json(s: Series, out: IO[str]) -> None:
    json.dump(series_dict(s), out, ensure_ascii=False, indent=2)
    out.write("\n")


# ----------------------------------------------------------------------------- text
def _tags_of(p: Posting) -> str:
    marks = [m for m, on in (("RFC", p.rfc), ("RESEND", p.resend)) if on]
    return f" ({', '.join(marks)})" if marks else ""


def write_text(s: Series, console: Console) -> None:
    console.print(Text.assemble(("Series ", "bold"), (s.title, "bold cyan")))
    console.print(Text(f"  by {s.author}; first posted {day(s.review.first_posted)}"
                       + (f", applied {day(s.review.applied)}" if s.review.applied else ", not applied")))
    _revisions(s, console)
    for d in s.diffs:
        _changes(d, console)
    _applied_text(s.applied, console)
    _review_text(s.review, console)
    for note in s.notes:
        console.print(Text(f"note: {note}", style="yellow"))


def _revisions(s: Series, console: Console) -> None:
    t = Table(title="Revisions", title_justify="left", show_edge=False, pad_edge=False)
    for col in ("ver", "posted", "patches", "linked by"):
        t.add_column(col)
    t.add_column("message", overflow="fold")  # URLs stay whole, to be copied
    versions = {r.version for r in s.revisions}
    rows: list[tuple[int, list[Text]]] = []
    for r in s.revisions:
        p = r.posting
        count = f"{len(p.patches)}" + (f"/{p.total}" if p.total and p.total != len(p.patches) else "")
        link = f"{r.link.method} {r.link.confidence:.2f}" if r.link else ""
        mark = " ◀" if r.version == s.start_version else ""
        head = p.head
        cell = Text(p.title + _tags_of(p))
        cell.append(f"\n{head.url}", style="dim")
        for x in r.resends:
            cell.append(f"\nresent {day(x.date)} {x.head.url}", style="dim")
        rows.append((r.version, [Text(f"v{r.version}{mark}"), Text(day(p.date)), Text(count), Text(link), cell]))
    for v in s.missing_versions:
        if v not in versions:
            rows.append((v, [Text(f"v{v}"), Text("—"), Text(""), Text(""),
                             Text("not in the archive", style="red")]))
    for _v, cells in sorted(rows, key=lambda x: x[0]):
        t.add_row(*cells)
    console.print(t)


def _changes(d: RevisionDiff, console: Console) -> None:
    console.print(Text(f"\nv{d.old_version} → v{d.new_version}", style="bold"))
    if d.changelog:
        console.print(Text(_indent(d.changelog), style="dim"))
    for c in d.changes:
        num = c.new.number if c.new else (c.old.number if c.old else None)
        line = Text(f"  {c.status:<9} ", style=_STATUS.get(c.status, ""))
        line.append(f"{num or 1:>2}  ")
        line.append((c.new or c.old).title if (c.new or c.old) else "")  # type: ignore[union-attr]
        if c.title_changed and c.old and c.new:
            line.append(f"  (was: {c.old.title})", style="dim")
        if c.delta and not c.delta.empty:
            line.append(f"  +{c.delta.added}/-{c.delta.removed} changed lines", style="dim")
        console.print(line)


_STATUS = {"unchanged": "dim", "carried": "dim", "modified": "yellow", "added": "green", "dropped": "red"}


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + ln for ln in text.split("\n"))


def _applied_text(a: Applied | None, console: Console) -> None:
    if a is None:
        console.print(Text("\nNot applied: no indexed commit came from any revision.", style="yellow"))
        return
    console.print(Text(f"\nApplied from v{a.version}", style="bold"))
    order = Text(f"  posted order {', '.join(map(str, a.posted_order))}  →  applied order "
                 f"{', '.join(map(str, a.applied_order))}")
    if a.reordered:
        order.append("  (reordered)", style="yellow")
    console.print(order)
    t = Table(show_edge=False, pad_edge=False)
    for col in ("#", "commit", "posted", "commit subject", "changed on apply"):
        t.add_column(col)
    for c in a.commits:
        what = []
        if c.reworded:
            what.append(f"reworded from: {c.posted_title}")
        if c.edited and c.delta:
            what.append(f"diff edited: +{c.delta.added}/-{c.delta.removed} lines")
            what.extend(f"  {ln}" for ln in c.delta.sample)
        if c.squashed:
            what.append(f"also holds posted {', '.join(map(str, c.squashed))} (squashed)")
        if c.version != a.version:
            what.append(f"taken from v{c.version}")
        t.add_row(Text(str(c.position)), Text(c.oid[:12], style="yellow"), Text(str(c.number)),
                  Text(c.subject), Text("\n".join(what)))
    console.print(t)
    for n, oids in sorted(a.split.items()):
        console.print(Text(f"  posted {n} was split into {', '.join(o[:12] for o in oids)}"))
    for p in a.never_applied:
        console.print(Text(f"  never applied: {p.number or 1} {p.title}", style="red"))


def _review_text(r: ReviewTrail, console: Console) -> None:
    console.print(Text("\nReview", style="bold"))
    for (version, number), items in sorted(r.replies.items()):
        where = "cover" if number == 0 else f"patch {number}"
        who = ", ".join(sorted({x.author.split(" <")[0] for x in items}))
        console.print(Text(f"  v{version} {where}: {len(items)} repl{'y' if len(items) == 1 else 'ies'} ({who})"))
    for tag in r.tags:
        where = "cover" if tag.number == 0 else f"patch {tag.number}"
        line = Text(f"  {tag.key}: {tag.value}  on v{tag.version} {where}")
        if tag.reached:
            line.append(f"  → in {', '.join(o[:12] for o in tag.reached)}", style="green")
        else:
            line.append("  → not in the commits", style="dim")
        console.print(line)
    people = ", ".join(f"{who.split(' <')[0]} ({n})" for who, n in r.participants)
    console.print(Text(f"  participants: {people}"))
