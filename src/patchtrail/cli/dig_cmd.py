"""`patchtrail dig`: the email each commit was applied from."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from patchtrail.cli.common import db_option, open_store, stdout_console
from patchtrail.link.commits import expand_revisions, load_commits
from patchtrail.link.dig import dig as run_dig
from patchtrail.report.dig import write_json, write_jsonl, write_text


@click.command()
@db_option
@click.option("--ignore-links", is_flag=True,
              help="Hide Link trailers, 'Link to vN:' lines and change-ids (blind matching).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default="text",
              show_default=True)
@click.argument("revs", nargs=-1, required=True)
def dig(db: Path | None, ignore_links: bool, fmt: str, revs: tuple[str, ...]) -> int:
    """Find the patch email each commit (or range A..B) was applied from.

    Exit status: 0 when at least one email was found, 1 when none was, 2 on bad input.
    """
    store = open_store(db)
    with store:
        oids = expand_revisions(store, list(revs))
        results = run_dig(store, load_commits(store, oids), ignore_links=ignore_links)
        if fmt == "jsonl":
            found = write_jsonl(results, sys.stdout)
        elif fmt == "json":
            found = write_json(results, sys.stdout)
        else:
            found = write_text(results, stdout_console())
    return 0 if found else 1
