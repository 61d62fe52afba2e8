"""`patchtrail story --format text`: the story for a terminal (rich; colours only on a tty).

The series section is `patchtrail series`'s own text, and the origin lines are
`patchtrail origin`'s, so the three commands read alike.
"""

from __future__ import annotations

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from patchtrail.report.origin import (
    birth_lines,
    email_lines,
    event_line,
    group_lines,
    print_line,
    print_lines,
)
from patchtrail.report.origin_section import origin_section
from patchtrail.report.series import write_text as write_series_text
from patchtrail.report.times import day
from patchtrail.story.model import Discussion
from patchtrail.story.story_model import Story


def _section(console: Console, title: str) -> None:
    console.print()
    console.print(Rule(Text(title, style="bold"), align="left"))


def _start(s: Story, console: Console) -> None:
    st = s.start
    o = st.origin
    _section(console, f"Origin of {st.query}")
    if o is not None and o.birth is None:
        print_line(console, Text.assemble((st.query, "bold"), ": ", o.note or "not found"))
        return
    if o is not None:
        sec = origin_section(o)
        print_lines(console, birth_lines(st.query, sec))
        print_lines(console, map(event_line, sec.since))
        if o.note:
            print_line(console, Text(f"  note: {o.note}", "dim"))
    elif st.commit is not None:
        print_line(console, Text.assemble("commit ", (st.commit.oid[:12], "yellow"), " ", st.commit.subject))
        print_line(console, Text(f"  {st.commit.author}, committed {day(st.commit.committer_time)}"))
    elif s.series is not None:
        print_line(console, Text(f"message {st.query}, in v{s.series.start_version} of the series"))
    if st.kind != "msgid":
        print_lines(console, email_lines(st.email))


def _discussion(console: Console, d: Discussion) -> None:
    print_line(console, Text.assemble(f"  {day(d.date)} ", (d.subject, "bold"),
                                f"  ({d.list}, {d.author}, {d.messages} message(s); {', '.join(d.matched)})"))
    print_line(console, Text(f"    {d.url}"))


def write_text(s: Story, console: Console) -> None:
    console.print(Text.assemble(("The story of ", "bold"), (s.start.query, "bold cyan"),
                                (": " + s.title, "bold")))
    _start(s, console)
    if s.series is not None:
        _section(console, "Series")
        write_series_text(s.series, console)
    touching = set(s.start.touching)
    if s.followups or s.untold_followups():
        n = sum(len(f.group.commits) for f in s.followups)
        _section(console, f"Follow-ups: {n} later commit(s) in {len(s.followups)} series")
        mark = f"changes {s.start.query}"
        for f in s.followups:
            revisions = None
            if f.revisions:
                versions = " → ".join(f"v{r.version} {day(r.posting.date)}" for r in f.revisions)
                missing = (f"; v{', v'.join(map(str, f.missing_versions))} not in the archive"
                           if f.missing_versions else "")
                revisions = Text(f"    revisions: {versions}{missing}", "cyan")
            print_lines(console, group_lines(
                f.group, lambda c: mark if c.commit.oid in touching else "", revisions))
        for line in s.untold_followups():
            print_line(console, Text(f"  … {line}", "dim"))
    if s.discussions or s.start.mentions:
        _section(console, f"Later discussions: {len(s.discussions) + len(s.start.mentions)} thread(s)")
        for d in s.discussions + s.start.mentions:
            _discussion(console, d)
        for line in s.untold_discussions():
            print_line(console, Text(f"  … {line}", "dim"))
    for note in s.notes:
        print_line(console, Text(f"note: {note}", "yellow"))
