"""`patchtrail story`: one command from a symbol, a line, a commit or a message to the
whole history, in four formats rendered from one Story object."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from patchtrail.cli.common import db_option, stdout_console
from patchtrail.cli.origin_cmd import repository_for
from patchtrail.cli.remote_opts import (
    open_store_for,
    remote_options,
    remote_session,
    require_history,
    split_remote_target,
)
from patchtrail.link.remote_series import RemoteRun
from patchtrail.link.series import SeriesError
from patchtrail.report.story_html import write_html
from patchtrail.report.story_json import write_json
from patchtrail.report.story_md import write_markdown
from patchtrail.report.story_text import write_text
from patchtrail.story.origin import TargetError
from patchtrail.story.remote import ensure_story
from patchtrail.story.story import classify_start, tell_story
from patchtrail.story.story_model import LINE, Story

FORMATS = ("text", "markdown", "json", "html")
STORY_TARGET = "SYMBOL | FILE:LINE[@REV] | COMMIT | MSGID"


def render(story: Story, fmt: str) -> str:
    """The story in `fmt`, as text (text format: plain, no colours)."""
    buf = io.StringIO()
    if fmt == "json":
        write_json(story, buf)
    elif fmt == "markdown":
        write_markdown(story, buf)
    elif fmt == "html":
        write_html(story, buf)
    else:
        from rich.console import Console

        write_text(story, Console(file=buf, highlight=False, soft_wrap=False, no_color=True, width=120))
    return buf.getvalue()


@click.command()
@db_option
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The indexed repository to ask (needed when the index holds several).")
@click.option("--ignore-links", is_flag=True,
              help="Hide Link trailers and change-ids: link commits and revisions from content alone.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@remote_options
@click.argument("target", metavar=STORY_TARGET, required=False)
def story(db: Path | None, repo: Path | None, ignore_links: bool, fmt: str, output: Path | None,
          remote: str | None, no_cache: bool, timeout: float, target: str | None) -> int:
    """The whole story of TARGET: where it was born, the series and every revision, how it
    was applied (order, rewording, edits), who reviewed it, the follow-up series and the
    later discussions.

    Two starting points inside one series tell the same series story.
    With --remote, or when the index holds no mail archive, the messages needed are
    fetched from a public-inbox server and stored in the index first (docs/remote.md).
    Exit status: 0 when found, 1 when the symbol never existed, 2 on bad input.
    """
    remote, target = split_remote_target(remote, target, STORY_TARGET)
    store = open_store_for(db, remote, repo)
    with store:
        try:
            classified = classify_start(store, target.strip())
            git_repo, source_id = repository_for(store, repo, need_repo=classified[0] == LINE)
            result = None
            with remote_session(store, remote, no_cache, timeout) as client:
                if client is not None:
                    require_history(store)
                    result = ensure_story(RemoteRun(store, client, no_cache), target, git_repo,
                                          source_id, ignore_links, classified)
            if result is None:
                result = tell_story(store, target, git_repo, source_id, ignore_links=ignore_links,
                                    classified=classified)
        except (TargetError, SeriesError) as exc:
            raise click.ClickException(str(exc)) from None
    if output is not None:
        try:
            output.write_text(render(result, fmt), encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"{output}: cannot write: {exc.strerror}") from None
        click.echo(f"wrote {output}", err=True)
    elif fmt == "text":
        write_text(result, stdout_console())
    else:
        sys.stdout.write(render(result, fmt))
    found = result.start.origin is None or result.start.origin.birth is not None
    return 0 if found else 1
