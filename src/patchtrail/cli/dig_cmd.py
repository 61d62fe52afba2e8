"""`patchtrail dig`: the email each commit was applied from."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from patchtrail.cli.common import db_option, stderr_console, stdout_console
from patchtrail.cli.remote_opts import (
    open_store_for,
    remote_options,
    remote_session,
    split_remote_option,
)
from patchtrail.link.commits import expand_revisions, load_commits
from patchtrail.link.dig import dig as run_dig
from patchtrail.link.remote import ensure_for_commits
from patchtrail.report.dig import write_json, write_jsonl, write_text
from patchtrail.report.progress import RichProgress


@click.command()
@db_option
@click.option("--ignore-links", is_flag=True,
              help="Hide Link trailers, 'Link to vN:' lines and change-ids (blind matching).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default="text",
              show_default=True)
@remote_options
@click.argument("revs", nargs=-1)
def dig(db: Path | None, ignore_links: bool, fmt: str, remote: str | None, no_cache: bool,
        timeout: float, revs: tuple[str, ...]) -> int:
    """Find the patch email each commit (or range A..B) was applied from.

    With --remote, or when the index holds no mail archive, the messages needed are
    fetched from a public-inbox server and stored in the index first (docs/remote.md).

    Exit status: 0 when at least one email was found, 1 when none was, 2 on bad input.
    """
    remote, revs = split_remote_option(remote, revs)
    store = open_store_for(db, remote)
    with store:
        oids = expand_revisions(store, list(revs))
        commits = load_commits(store, oids)
        with remote_session(store, remote, no_cache, timeout) as client:
            if client is not None:
                commits = list(commits)
                ensure_for_commits(store, client, commits, links=not ignore_links,
                                   refresh=no_cache, progress=RichProgress(stderr_console()))
        results = run_dig(store, commits, ignore_links=ignore_links)
        if fmt == "jsonl":
            found = write_jsonl(results, sys.stdout)
        elif fmt == "json":
            found = write_json(results, sys.stdout)
        else:
            found = write_text(results, stdout_console())
    return 0 if found else 1
