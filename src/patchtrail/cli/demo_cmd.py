"""`patchtrail demo`: build the bundled corpus, index it, dig the seed's four commits and
tell the story of `enable_preemption_timer` (printed, and written as DIR/story.html).

The corpus is written from its description on every run (a few seconds) rather than
shipped as files: the same code builds the tests' worlds, so the demo can never drift from
what is tested.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from patchtrail.cli.common import stderr_console, stdout_console
from patchtrail.index.ingest import index_archive, index_repo
from patchtrail.index.store import DEFAULT_NAME, Store
from patchtrail.link.commits import load_commits
from patchtrail.link.dig import dig
from patchtrail.report.dig import write_text
from patchtrail.report.progress import RichProgress


def _target(dir: Path | None) -> Path:
    if dir is None:
        return Path(tempfile.mkdtemp(prefix="patchtrail-demo-"))
    if dir.exists() and (not dir.is_dir() or any(dir.iterdir())):
        raise click.UsageError(f"{dir}: exists and is not an empty directory")
    dir.mkdir(parents=True, exist_ok=True)
    return dir


@click.command()
@click.option("--dir", "dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to build the demo (an empty or new directory; default: a temp dir).")
def demo(dir: Path | None) -> int:
    """Build the demo corpus (the seed's story), index it, and dig its four commits.

    Writes DIR/repo (a git repository), DIR/archive (a public-inbox v2 inbox) and
    DIR/patchtrail.db (the index).
    """
    # Imported here: the corpus builder is only needed by this command.
    from patchtrail.corpus.demo import SERIES_APPLIED, build_demo

    err = stderr_console()
    out = stdout_console()
    root = _target(dir)
    with err.status("building the demo corpus (git repository and public-inbox archive) ..."):
        corpus = build_demo(root)
    db = root / DEFAULT_NAME
    progress = RichProgress(err)
    with Store.open(db, create=True) as store:
        index_repo(store, corpus.repo, ("master",), progress)
        index_archive(store, corpus.archive, progress)
        counts = store.counts()
        err.print(Text(f"indexed {counts['commits']} commits and {counts['messages']} messages"
                       f" ({counts['patches']} patches) into {db}"))
        oids = [corpus.commits[label] for label in SERIES_APPLIED]
        out.print(Text("The four commits of \"Utilizing VMX preemption for timer virtualization\","
                       " in the order they were applied, and the emails they came from:\n", style="bold"))
        found = write_text(dig(store, load_commits(store, oids)), out)
        story = _story(store, root, out)
    q = shlex.quote
    first, last = corpus.commits[SERIES_APPLIED[0]], corpus.commits[SERIES_APPLIED[-1]]
    out.print(Text("Go on exploring:", style="bold"))
    for line in (
        f"export PATCHTRAIL_DB={q(str(db))}",
        "patchtrail story hv_timer_in_use   # the same series, from another symbol",
        f"patchtrail story --format markdown {first[:12]}",
        "patchtrail serve   # the web UI on 127.0.0.1",
        f"patchtrail dig --format json {first[:12]}",
        f"patchtrail dig --ignore-links {first[:12]}~1..{last[:12]}",
        f"git -C {q(str(corpus.repo))} log --oneline -S enable_preemption_timer",
        f"patchtrail index   # after adding mail to {q(str(corpus.archive))} or commits to the repo",
    ):
        out.print(Text(f"  {line}"))
    return 0 if found == len(oids) and story else 1


def _story(store: Store, root: Path, out: Console) -> bool:
    """Print the story of `enable_preemption_timer` and write it as DIR/story.html."""
    from patchtrail.report.story_html import render
    from patchtrail.report.story_text import write_text as write_story
    from patchtrail.story.story import tell_story

    story = tell_story(store, "enable_preemption_timer")
    out.print()
    write_story(story, out)
    html = root / "story.html"
    html.write_text(render(story), encoding="utf-8")
    out.print()
    out.print(Text(f"The same story as one HTML page (open it in a browser): {html}", style="bold"),
              soft_wrap=True)
    out.print()
    return story.series is not None
