"""The origin's later events (moves, renames, rebirths, deletions) are listed alike by
`patchtrail origin` and by the text, Markdown and HTML stories: the same events, in the
order of the code's history (patchtrail.report.origin_section)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from patchtrail.corpus.gitwrite import CommitSpec, Person, write_repo
from patchtrail.index.ingest import index_repo
from patchtrail.index.store import Store
from patchtrail.report.origin import write_text as origin_text
from patchtrail.report.origin_section import origin_section
from patchtrail.report.story_html import render as story_html
from patchtrail.report.story_md import render as story_md
from patchtrail.report.story_text import write_text as story_text
from patchtrail.sources.git import GitRepo
from patchtrail.story.model import DELETION, MOVE, REBIRTH, RENAME
from patchtrail.story.origin import parse_target, tell
from patchtrail.story.story import tell_story

Listed = list[tuple[str, str]]   # (kind, short commit id), as a report lists them
KINDS = "|".join((MOVE, RENAME, REBIRTH, DELETION))
_TEXT_EVENT = re.compile(rf"^    ([0-9a-f]{{12}}) \S+ .*  \[({KINDS})\] ")


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, color_system=None), buf


def origin_listed(db: Path, repo: Path, symbol: str) -> Listed:
    """`patchtrail origin SYMBOL`, text: the lines under "since then:"."""
    with Store.open(db, create=False) as store:
        s = tell(store, parse_target(symbol), GitRepo(repo), None)
    console, buf = _console()
    origin_text(s, console)
    lines = buf.getvalue().splitlines()
    after = lines[lines.index("  since then:") + 1:]
    return [(m[2], m[1]) for m in map(_TEXT_EVENT.match, after) if m]


def stories_listed(db: Path, repo: Path, symbol: str) -> dict[str, Listed]:
    """The origin sections of `patchtrail story SYMBOL` as text, Markdown and HTML."""
    with Store.open(db, create=False) as store:
        s = tell_story(store, symbol, GitRepo(repo))
    console, buf = _console()
    story_text(s, console)
    text = buf.getvalue().split("Origin of ", 1)[1].split("─\n", 2)[1]
    md = story_md(s).split("## Origin\n", 1)[1].split("\n## ", 1)[0]
    html = story_html(s).split("<h2>Origin</h2>", 1)[1].split("<h2>", 1)[0]
    return {
        "text": [(m[2], m[1]) for m in map(_TEXT_EVENT.match, text.splitlines()) if m],
        "markdown": re.findall(rf"^- ({KINDS}): `([0-9a-f]{{12}})`", md, re.M),
        "html": re.findall(rf'<li>({KINDS}): <span class="oid">([0-9a-f]{{12}})</span>', html),
    }


def assert_listed_alike(db: Path, repo: Path, symbol: str, want: Listed) -> None:
    assert origin_listed(db, repo, symbol) == want
    for fmt, listed in stories_listed(db, repo, symbol).items():
        assert listed == want, fmt


def test_a_moved_demo_symbol_lists_its_rename_then_its_move_everywhere(demo_indexed) -> None:
    corpus, db = demo_indexed
    move = corpus.moves["cpu_has_vmx_preemption_timer"]
    rename = corpus.renames["arch/x86/kvm/vmx.c"]
    want = [(RENAME, corpus.commits[rename["commit"]][:12]), (MOVE, corpus.commits[move["move"]][:12])]
    assert_listed_alike(db, corpus.repo, "cpu_has_vmx_preemption_timer", want)


ANN = Person("Ann Dev", "ann@example.org")
T0 = 1_500_000_000


@pytest.fixture(scope="module")
def reborn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """gamma_state: born in lib/g.c, renamed with it to lib/core/g.c, deleted with that
    file, born again in lib/h.c. Listed by kind (moves, rebirths, deletions) the rebirth
    would come before the deletion."""
    root = tmp_path_factory.mktemp("reborn")
    t = iter(range(T0, T0 + 10 * 86400, 86400))
    ids = write_repo(root / "repo", [
        CommitSpec("base", ANN, next(t), name="base", files={"doc/notes.txt": "notes\n"}),
        CommitSpec("lib: add gamma", ANN, next(t), name="gamma", files={"lib/g.c": "int gamma_state;\n"}),
        CommitSpec("lib: move g.c into core/", ANN, next(t), name="renamed",
                   renames={"lib/g.c": "lib/core/g.c"}),
        CommitSpec("lib: drop g.c", ANN, next(t), name="gone", files={"lib/core/g.c": None}),
        CommitSpec("lib: bring gamma back", ANN, next(t), name="again",
                   files={"lib/h.c": "long gamma_state;\n"}),
    ])
    db = root / "r.db"
    with Store.open(db) as store:
        index_repo(store, root / "repo")
    return root / "repo", db, ids


def test_a_deletion_is_listed_before_the_rebirth_that_follows_it(reborn) -> None:
    repo, db, ids = reborn
    want = [(RENAME, ids["renamed"][:12]), (DELETION, ids["gone"][:12]), (REBIRTH, ids["again"][:12])]
    with Store.open(db, create=False) as store:
        o = tell(store, parse_target("gamma_state"), GitRepo(repo), None).origin
    assert [(e.kind, e.commit.oid[:12]) for e in origin_section(o).since] == want
    assert_listed_alike(db, repo, "gamma_state", want)
    # Every format names where each event happened, the deletion's file included.
    with Store.open(db, create=False) as store:
        s = tell_story(store, "gamma_state", GitRepo(repo))
    md = story_md(s).split("## Origin\n", 1)[1].split("\n## ", 1)[0]
    html = story_html(s).split("<h2>Origin</h2>", 1)[1].split("<h2>", 1)[0]
    for rendered in (md, html):
        assert "lib/g.c → lib/core/g.c" in rendered
        deletion = rendered.split(f"{DELETION}: ", 1)[1].split(f"{REBIRTH}: ", 1)[0]
        assert "lib/core/g.c (" in deletion or "lib/core/g.c, " in deletion


def test_origin_text_says_what_its_event_cap_leaves_out(demo_indexed, monkeypatch) -> None:
    corpus, db = demo_indexed
    import patchtrail.report.origin as origin_report
    monkeypatch.setattr(origin_report, "TEXT_EVENTS", 1)  # the demo's symbol has two events
    with Store.open(db, create=False) as store:
        s = tell(store, parse_target("cpu_has_vmx_preemption_timer"), GitRepo(corpus.repo), None)
    console, buf = _console()
    origin_text(s, console)
    assert "    … 1 more event(s) in --format json" in buf.getvalue().splitlines()
