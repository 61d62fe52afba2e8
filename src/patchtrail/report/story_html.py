"""`patchtrail story --format html`: one self-contained page (inline CSS and SVG, no script,
no network) with a timeline: revisions on one lane, commits on another, discussions on a
third, the follow-up series after the origin series.

The page is rendered by jinja2 with autoescape on: every subject, name and URL from mail
or commits is escaped where it is placed; nothing is marked safe. The web UI
(patchtrail.web) serves the same page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import IO

from jinja2 import Environment, PackageLoader, select_autoescape

from patchtrail.link.series_model import Revision, Series
from patchtrail.report.origin_section import origin_section, where
from patchtrail.report.times import day
from patchtrail.story.story_model import Story

LANES = ("posted", "applied", "discussed")
SLOT = 34          # px between two events on the timeline
LANE_H = 46
LEFT = 90          # room for the lane names
MAX_EVENTS = 120   # the timeline shows the first ones; the sections list everything


@dataclass(slots=True)
class Mark:
    lane: int
    x: int
    label: str         # short: "v2", "3/4", "2019"
    title: str         # tooltip: subject and date
    href: str
    kind: str          # css class: revision | commit | followup | discussion | missing
    day: str


@dataclass(slots=True)
class Timeline:
    width: int
    height: int
    marks: list[Mark]
    lanes: list[tuple[str, int]]   # (name, y)
    groups: list[tuple[int, int, str]]  # (x0, x1, caption): one span per series


Event = tuple[int, str, str, str, str, str]  # lane, label, title, href, kind, day


def _revision_events(revisions: list[Revision], missing: list[int], kind: str) -> list[Event]:
    out: list[Event] = []
    for r in revisions:
        p = r.posting
        head = p.head
        out.append((0, f"v{r.version}", f"v{r.version} {p.title}", head.url, kind, day(p.date)))
    out += [(0, f"v{v}", f"v{v}: not in the archive", "", "missing", "") for v in missing]
    return sorted(out, key=lambda e: int(e[1][1:]))


def _series_events(s: Series) -> list[Event]:
    out = _revision_events(s.revisions, s.missing_versions, "revision")
    if s.applied is not None:
        out += [(1, str(c.number or "?"), f"{c.oid[:12]} {c.subject}", f"#c-{c.oid}", "commit",
                 day(c.committed)) for c in s.applied.commits]
    return out


def timeline(s: Story) -> Timeline:
    """The marks of the timeline, laid out one slot per event, series after series."""
    spans: list[tuple[str, list[Event]]] = []
    if s.series is not None:
        spans.append((s.series.title, _series_events(s.series)))
    elif s.anchor is not None:
        spans.append((s.anchor.subject, [(1, "•", f"{s.anchor.oid[:12]} {s.anchor.subject}",
                                          f"#c-{s.anchor.oid}", "commit", day(s.anchor.committer_time))]))
    for f in s.followups:
        ev = _revision_events(f.revisions, f.missing_versions, "followup")
        ev += [(1, str(i), f"{c.commit.oid[:12]} {c.commit.subject}", f"#c-{c.commit.oid}", "commit",
                day(c.commit.committer_time)) for i, c in enumerate(f.group.commits, 1)]
        spans.append((f.group.title, ev))
    for d in s.discussions + s.start.mentions:
        spans.append(("", [(2, day(d.date)[:4], f"{d.subject} ({day(d.date)})", d.url, "discussion",
                            day(d.date))]))
    marks: list[Mark] = []
    groups: list[tuple[int, int, str]] = []
    x = LEFT + SLOT // 2
    for caption, events in spans:
        x0 = x
        for lane, label, title, href, kind, when in events:
            if len(marks) >= MAX_EVENTS:
                break
            marks.append(Mark(lane, x, label, f"{title} {when}".strip(), href, kind, when))
            x += SLOT
        if caption and x > x0:
            groups.append((x0 - SLOT // 2 + 2, x - SLOT // 2 - 2, caption))
        x += SLOT // 2
    lanes = [(name, 30 + i * LANE_H) for i, name in enumerate(LANES)]
    return Timeline(max(x, 400), 30 + len(LANES) * LANE_H + 10, marks, lanes, groups)


def template_env(package: str) -> Environment:
    """The templates of `package`, every value escaped (mail text is untrusted), with the
    filters both the report and the web UI use."""
    env = Environment(loader=PackageLoader(package, "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["day"] = day
    env.filters["where"] = where
    return env


@cache
def _env() -> Environment:
    return template_env("patchtrail.report")


def render(s: Story, nav: bool = False) -> str:
    """The page; `nav` adds the web UI's search box (patchtrail serve)."""
    origin = origin_section(s.start.origin) if s.start.origin is not None else None
    return _env().get_template("story.html.j2").render(story=s, tl=timeline(s), origin=origin,
                                                       nav=nav)


def write_html(s: Story, out: IO[str]) -> None:
    out.write(render(s))
