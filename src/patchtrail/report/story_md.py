"""`patchtrail story --format markdown`: a clean version of the seed's own note.

Every message is a lore-style link, every commit an id; the applied order is a table.
Mail text is untrusted: table cells and link texts are escaped so a subject cannot break
the table or inject a link.
"""

from __future__ import annotations

import re
from typing import IO

from patchtrail.link.series_model import Series
from patchtrail.report.origin_section import origin_section, where
from patchtrail.report.times import day
from patchtrail.story.model import CommitRef, Discussion, EmailRef, Origin
from patchtrail.story.story_model import Story

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def esc(text: str) -> str:
    """Markdown-inert text on one line; no raw HTML survives (markdown renders it)."""
    text = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def link(text: str, url: str | None) -> str:
    if not url:
        return esc(text)
    return f"[{esc(text)}](<{url.replace('>', '%3E').replace(' ', '%20')}>)"


def commit(c: CommitRef) -> str:
    return f"`{c.oid[:12]}` {esc(c.subject)}"


def _origin(o: Origin, query: str, out: list[str]) -> None:
    sec = origin_section(o)
    b = sec.birth
    if b is None:
        out.append(f"`{esc(query)}`: {esc(o.note or 'not found')}")
        return
    out.append(f"- born in {commit(b.commit)} ({esc(b.commit.author)}, committed {day(b.commit.committer_time)})")
    if sec.line is not None:
        out.append(f"- line `{sec.line.content.strip().replace('`', '')}` at "
                   f"`{sec.line.origin_path}:{sec.line.origin_line}` in that commit")
    out.extend(f"- at `{p.path}:{p.line}`" for p in sec.born_at)
    for e in sec.since:
        out.append(f"- {e.kind}: {commit(e.commit)} ({esc(where(e))}, {day(e.commit.committer_time)})")


def _email(m: EmailRef | None, out: list[str]) -> None:
    if m is not None:
        out.append(f"- applied from {link(m.subject, m.url)} ({esc(m.list)}, {day(m.date)}, {m.method})")
    else:
        out.append("- applied from no email found in the indexed archives")


def _series(s: Series, out: list[str]) -> None:
    out.append(f"**{esc(s.title)}** by {esc(s.author)}\n")
    out.append("| version | posted | patches | messages |")
    out.append("|---|---|---|---|")
    rows = {r.version: r for r in s.revisions}
    for v in sorted(set(rows) | set(s.missing_versions)):
        r = rows.get(v)
        if r is None:
            out.append(f"| v{v} | — | — | not in the archive |")
            continue
        p = r.posting
        msgs = "<br>".join(link(m.subject, m.url) for m in p.messages)
        out.append(f"| v{v} | {day(p.date)} | {len(p.patches)} | {msgs} |")
    a = s.applied
    if a is None:
        out.append("\nNot applied: no indexed commit came from any revision.")
    else:
        note = " (reordered)" if a.reordered else ""
        out.append(f"\nApplied from v{a.version}: posted order {', '.join(map(str, a.posted_order))}"
                   f" → applied order {', '.join(map(str, a.applied_order))}{note}\n")
        out.append("| # | commit | posted | commit subject | posted title | changed on apply |")
        out.append("|---|---|---|---|---|---|")
        for c in a.commits:
            what = [w for w, on in (("reworded", c.reworded), ("edited", c.edited)) if on]
            if c.edited and c.delta:
                what[-1] += f" (+{c.delta.added}/-{c.delta.removed} lines)"
            out.append(f"| {c.position} | `{c.oid[:12]}` | {c.number} | {esc(c.subject)} | "
                       f"{esc(c.posted_title or '')} | {', '.join(what)} |")
    r = s.review
    out.append("\n**Review**\n")
    for t in r.tags:
        where = "cover" if t.number == 0 else f"patch {t.number}"
        reached = f" → in {', '.join(f'`{o[:12]}`' for o in t.reached)}" if t.reached else " → not in the commits"
        out.append(f"- {esc(t.key)}: {esc(t.value)} on v{t.version} {where}{reached}")
    out.append("- participants: " + ", ".join(f"{esc(who)} ({n})" for who, n in r.participants))
    out.extend(f"- note: {esc(n)}" for n in s.notes)


def _discussion(d: Discussion) -> str:
    return f"- {day(d.date)} {link(d.subject, d.url)} ({esc(d.list)}, {esc(d.author)}, {d.messages} message(s))"


def render(s: Story) -> str:
    out: list[str] = [f"# The story of `{s.start.query.replace('`', '')}`: {esc(s.title)}\n"]
    st = s.start
    out.append("## Origin\n")
    if st.origin is not None:
        _origin(st.origin, st.query, out)
    elif st.commit is not None:
        out.append(f"- commit {commit(st.commit)} ({esc(st.commit.author)})")
    elif s.series is not None:
        out.append(f"- message `{st.query.replace('`', '')}`, in v{s.series.start_version} of the series")
    if st.kind != "msgid" and (st.origin is None or st.origin.birth is not None):
        _email(st.email, out)
    if s.series is not None:
        out.append("\n## Series\n")
        _series(s.series, out)
    if s.followups or s.untold_followups():
        out.append("\n## Follow-ups\n")
        touching = set(st.touching)
        for f in s.followups:
            g = f.group
            out.append(f"### {link(g.title, g.url)}\n")
            if f.revisions:
                revs = " → ".join(
                    f"{link(f'v{r.version}', r.posting.head.url)} {day(r.posting.date)}"
                    for r in f.revisions)
                missing = ("; " + ", ".join(f"v{v}" for v in f.missing_versions) + " not in the archive"
                           if f.missing_versions else "")
                out.append(f"Revisions: {revs}{missing}\n")
            for c in g.commits:
                mark = f" (changes `{st.query}`)" if c.commit.oid in touching else ""
                out.append(f"- {commit(c.commit)} ({day(c.commit.committer_time)}){mark}")
            out.append("")
        out.extend(f"*… {esc(line)}*\n" for line in s.untold_followups())
    if s.discussions or st.mentions:
        out.append("\n## Later discussions\n")
        out.extend(_discussion(d) for d in s.discussions + st.mentions)
        out.extend(f"\n*… {esc(line)}*" for line in s.untold_discussions())
    out.extend(f"\n> note: {esc(n)}" for n in s.notes)
    return "\n".join(out).rstrip() + "\n"


def write_markdown(s: Story, out: IO[str]) -> None:
    out.write(render(s))
