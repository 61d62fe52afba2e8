"""Rendering `patchtrail origin`. The JSON fields are a contract: see docs/origin.md."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import IO

from rich.console import Console
from rich.text import Text

from patchtrail.report.origin_section import OriginSection, moved, origin_section
from patchtrail.report.times import day, iso
from patchtrail.story.model import (
    CommitRef,
    Discussion,
    EmailRef,
    FollowUpCommit,
    FollowUpGroup,
    IdentEvent,
    LineOrigin,
    Origin,
    OriginStory,
)

ORIGIN_SCHEMA = 1
# Text output stays readable; JSON has everything.
TEXT_GROUPS = 12
TEXT_COMMITS = 8
TEXT_EVENTS = 12


def commit_dict(c: CommitRef) -> dict[str, object]:
    return {"oid": c.oid, "subject": c.subject, "author": c.author,
            "author_date": iso(c.author_time), "commit_date": iso(c.committer_time)}


def event_dict(e: IdentEvent) -> dict[str, object]:
    return {
        "commit": commit_dict(e.commit), "kind": e.kind,
        "places": [{"path": p.path, "added": p.added, "removed": p.removed, "line": p.line}
                   for p in e.places],
        "moved_from": e.moved_from, "moved_to": e.moved_to,
    }


def email_dict(m: EmailRef | None) -> dict[str, object] | None:
    if m is None:
        return None
    return {"message_id": m.message_id, "subject": m.subject, "list": m.list, "url": m.url,
            "date": iso(m.date), "method": m.method, "score": m.score, "series_key": m.series_key}


def line_dict(lo: LineOrigin | None) -> dict[str, object] | None:
    if lo is None:
        return None
    return {"path": lo.path, "line": lo.line, "rev": lo.rev, "content": lo.content,
            "origin_path": lo.origin_path, "origin_line": lo.origin_line,
            "skipped": [commit_dict(c) for c in lo.skipped],
            "chain": [commit_dict(c) for c in lo.chain]}


def followup_dict(g: FollowUpGroup) -> dict[str, object]:
    def one(c: FollowUpCommit) -> dict[str, object]:
        return {"commit": commit_dict(c.commit), "email": email_dict(c.email),
                "touches_symbol": c.touches_symbol, "files": c.files}
    return {"key": g.key, "title": g.title, "url": g.url, "commits": [one(c) for c in g.commits]}


def discussion_dict(d: Discussion) -> dict[str, object]:
    return {"thread": d.root_key, "subject": d.subject, "list": d.list, "url": d.url,
            "date": iso(d.date), "author": d.author, "messages": d.messages, "matched": d.matched}


def life_dict(o: Origin) -> dict[str, object]:
    """Birth, moves, rebirths, deletions: the fields `origin` and `story` JSON share."""
    birth = o.birth
    return {
        "found": birth is not None,
        "birth": event_dict(birth) if birth else None,
        "born_at": [{"path": p.path, "line": p.line} for p in (birth.places if birth else [])
                    if p.added > p.removed],
        "moves": [event_dict(e) for e in o.moves],
        "rebirths": [event_dict(e) for e in o.rebirths],
        "deletions": [event_dict(e) for e in o.deletions],
        "alive": o.alive,
    }


def story_dict(s: OriginStory) -> dict[str, object]:
    o = s.origin
    series = None
    if o.email is not None:
        series = {"key": o.email.series_key, "title": o.email.series_title,
                  "url": o.email.series_url, "commits": [commit_dict(c) for c in s.series_commits]}
    return {
        "schema": ORIGIN_SCHEMA,
        "query": o.query, "kind": o.kind, "path": o.path,
        **life_dict(o),
        "events": [event_dict(e) for e in o.events],
        "line": line_dict(o.line),
        "email": email_dict(o.email),
        "series": series,
        "followups": [followup_dict(g) for g in s.followups],
        "followups_truncated": s.followups_truncated,
        "discussions": [discussion_dict(d) for d in s.discussions],
        "discussions_truncated": s.discussions_truncated,
        "note": o.note,
    }


def write_json(s: OriginStory, out: IO[str]) -> None:
    json.dump(story_dict(s), out, ensure_ascii=False, indent=2)
    out.write("\n")


def print_line(console: Console, text: Text) -> None:
    """One line, never wrapped by rich: subjects and URLs stay whole and copyable."""
    console.print(text, soft_wrap=True)


def print_lines(console: Console, lines: Iterable[Text]) -> None:
    for text in lines:
        print_line(console, text)


def commit_line(c: CommitRef, indent: str = "    ", extra: str = "") -> Text:
    line = Text(indent)
    line.append(c.oid[:12], "yellow")
    line.append(f" {day(c.committer_time)} ")
    line.append(c.subject)
    if extra:
        line.append(f"  {extra}", "dim")
    return line


def event_line(e: IdentEvent) -> Text:
    where = moved(e) or ", ".join(f"{p.path} +{p.added}/-{p.removed}" for p in e.places)
    line = commit_line(e.commit, "    ", "")
    line.append(f"  [{e.kind}] {where}", "cyan")
    return line


def birth_lines(query: str, sec: OriginSection) -> list[Text]:
    """Who wrote it when, and where: the head of the origin in `patchtrail origin` and in
    `patchtrail story --format text` alike. Empty when it was not found."""
    b = sec.birth
    if b is None:
        return []
    out = [Text.assemble((query, "bold"), " was born in ", (b.commit.oid[:12], "yellow"), " ",
                         b.commit.subject),
           Text(f"  {b.commit.author}, committed {day(b.commit.committer_time)}")]
    if sec.line is not None:
        out += [Text(f"  line: {sec.line.content.strip()}"),
                Text(f"  at {sec.line.origin_path}:{sec.line.origin_line} in that commit")]
    out += [Text(f"  at {p.path}:{p.line}") for p in sec.born_at]
    return out


def email_lines(m: EmailRef | None) -> list[Text]:
    """The email the origin commit was applied from (or that none was found)."""
    if m is None:
        return [Text("  ← no email found for this commit in the indexed archives", "dim")]
    return [Text.assemble("  ← ", (m.subject, "bold"), f"  ({m.list}, {day(m.date)}, {m.method})"),
            Text(f"    {m.url}")]


def _print_email(console: Console, m: EmailRef | None, s: OriginStory) -> None:
    print_lines(console, email_lines(m))
    if m is None:
        return
    print_line(console, Text.assemble("  series: ", (m.series_title, "bold"),
                                f"  ({len(s.series_commits)} commit(s))"))
    print_line(console, Text(f"    {m.series_url}"))
    for c in s.series_commits:
        print_line(console, commit_line(c, "    "))


def write_text(s: OriginStory, console: Console) -> None:
    o = s.origin
    if o.birth is None:
        print_line(console, Text.assemble((o.query, "bold"), ": ", o.note or "not found"))
        for e in o.events[:TEXT_EVENTS]:
            print_line(console, event_line(e))
        return
    sec = origin_section(o)
    print_lines(console, birth_lines(o.query, sec))
    if o.line is not None:
        for c in o.line.skipped:
            print_line(console, commit_line(c, "    ", "looked through (whitespace/reflow)"))
        if o.line.chain:
            print_line(console, Text(f"  touched since by {len(o.line.chain)} commit(s):"))
            for c in o.line.chain[:TEXT_COMMITS]:
                print_line(console, commit_line(c, "    "))
            _more(console, len(o.line.chain) - TEXT_COMMITS, "commit(s)")
    if o.note:
        print_line(console, Text(f"  note: {o.note}", "dim"))
    _print_email(console, o.email, s)
    if sec.since:
        print_line(console, Text("  since then:"))
        print_lines(console, map(event_line, sec.since[:TEXT_EVENTS]))
        _more(console, len(sec.since) - TEXT_EVENTS, "event(s)")
    if o.kind == "symbol":
        state = "still present" if o.alive else "no longer present"
        print_line(console, Text(f"  {len(o.events)} commit(s) changed lines carrying it; {state}", "dim"))
    _print_followups(console, s)
    _print_discussions(console, s)


def _more(console: Console, hidden: int, what: str) -> None:
    """Say what a text cap left out: the text stays short, but never silently so."""
    if hidden > 0:
        print_line(console, Text(f"    … {hidden} more {what} in --format json", "dim"))


def group_lines(g: FollowUpGroup, mark: Callable[[FollowUpCommit], str],
                revisions: Text | None = None) -> list[Text]:
    """A follow-up group as `patchtrail origin` and `patchtrail story` list it: title,
    the revisions line when the story has one, link, its first TEXT_COMMITS commits (each
    with `mark`'s note) and how many more there are."""
    out = [Text.assemble("  ", (g.title, "bold"), f"  ({len(g.commits)} commit(s))")]
    if revisions is not None:
        out.append(revisions)
    if g.url:
        out.append(Text(f"    {g.url}"))
    out += [commit_line(c.commit, "    ", mark(c)) for c in g.commits[:TEXT_COMMITS]]
    if len(g.commits) > TEXT_COMMITS:
        out.append(Text(f"    … {len(g.commits) - TEXT_COMMITS} more", "dim"))
    return out


def _most_telling(groups: list[FollowUpGroup]) -> list[FollowUpGroup]:
    """At most TEXT_GROUPS groups, those whose commits touch the symbol and the series'
    files most, in their chronological order."""
    if len(groups) <= TEXT_GROUPS:
        return groups
    def weight(g: FollowUpGroup) -> int:
        return sum(2 * c.touches_symbol + bool(c.files) for c in g.commits)
    keep = {id(g) for g in sorted(groups, key=weight, reverse=True)[:TEXT_GROUPS]}
    return [g for g in groups if id(g) in keep]


def _print_followups(console: Console, s: OriginStory) -> None:
    if not s.followups:
        return
    n = sum(len(g.commits) for g in s.followups)
    print_line(console, Text())
    print_line(console, Text(f"Follow-ups: {n} later commit(s) in {len(s.followups)} group(s)", "bold"))
    for g in _most_telling(s.followups):
        print_lines(console, group_lines(g, lambda c: "touches it" if c.touches_symbol else ""))
    hidden = len(s.followups) - TEXT_GROUPS
    if hidden > 0 or s.followups_truncated:
        print_line(console, Text(f"  … {max(hidden, 0)} more group(s) in --format json;"
                           f" {s.followups_truncated} candidate commit(s) not examined", "dim"))


def _print_discussions(console: Console, s: OriginStory) -> None:
    if not s.discussions:
        return
    print_line(console, Text())
    print_line(console, Text(f"Later discussions: {len(s.discussions)} thread(s)", "bold"))
    for d in s.discussions:
        print_line(console, Text.assemble(f"  {day(d.date)} ", (d.subject, "bold"),
                                    f"  ({d.list}, {d.messages} message(s); {', '.join(d.matched)})"))
        print_line(console, Text(f"    {d.url}"))
    if s.discussions_truncated:
        print_line(console, Text(f"  … {s.discussions_truncated} more thread(s)", "dim"))
