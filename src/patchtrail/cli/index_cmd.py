"""`patchtrail index`: read repositories and archives into the index (incrementally)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from patchtrail.cli.common import db_option, open_store, stderr_console
from patchtrail.index.ingest import RunSummary, index_archive, index_repo
from patchtrail.report.progress import RichProgress


@click.command()
@db_option
@click.option("--repo", "repos", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A git repository (bare or not). Repeatable.")
@click.option("--ref", "refs", multiple=True, help="Refs to index in each repository (default HEAD; --ref=--all for every ref).")
@click.option("--archive", "archives", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A public-inbox v2 inbox, a public-inbox epoch, an mbox or a Maildir. Repeatable.")
@click.option("--quiet", "-q", is_flag=True, help="No summary.")
def index(db: Path | None, repos: tuple[Path, ...], refs: tuple[str, ...],
          archives: tuple[Path, ...], quiet: bool) -> int:
    """Index repositories and mail archives; run again to read only what is new.

    With no --repo and no --archive, every source already in the index is updated.
    """
    console = stderr_console()
    store = open_store(db, repos[0] if repos else None, create=True)
    progress = RichProgress(console)
    total = RunSummary()
    with store:
        if not repos and not archives:
            known = store.sources()
            if not known:
                raise click.UsageError("nothing to index: give --repo and/or --archive")
            repos = tuple(Path(s.path) for s in known if s.kind == "git")
            # Remote sources are refreshed by the questions that fetch them, not here.
            archives = tuple(Path(s.path) for s in known if s.kind not in ("git", "remote"))
        for repo in repos:
            total.add(index_repo(store, repo, refs or ("HEAD",), progress))
        for archive in archives:
            total.add(index_archive(store, archive, progress))
        if not quiet:
            _print_summary(console, store, total)
    return 0


def _print_summary(console, store, run: RunSummary) -> None:
    counts = store.counts()
    console.print(
        f"index {store.path}: read {run.commits_read} commits and {run.messages_read} messages, "
        f"stored {run.commits_stored} commits and {run.messages_stored} messages; "
        f"now {counts['commits']} commits, {counts['messages']} messages "
        f"({counts['patches']} with a patch)",
        highlight=False,
    )
    if run.skipped:
        table = Table(title="skipped this run", title_justify="left", box=None)
        table.add_column("count", justify="right")
        table.add_column("reason")
        for reason, n in sorted(run.skipped.items(), key=lambda kv: -kv[1]):
            table.add_row(str(n), reason)
        console.print(table)
