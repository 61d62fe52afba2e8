"""`patchtrail mirror URL DIR`: a local copy of a public-inbox archive, then indexed."""

from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from patchtrail.cli.common import db_option, open_store, stderr_console
from patchtrail.index.ingest import index_archive
from patchtrail.report.progress import RichProgress
from patchtrail.sources.mirror import mirror_inbox
from patchtrail.sources.remote import PublicInboxClient


@click.command()
@db_option
@click.option("--no-index", is_flag=True, help="Only clone or update the epochs.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              metavar="SECONDS", help="Give up on an HTTP request (manifest, probe) after this long.")
@click.argument("url")
@click.argument("dir", type=click.Path(file_okay=False, path_type=Path))
def mirror(db: Path | None, no_index: bool, timeout: float, url: str, dir: Path) -> int:
    """Clone the epochs of a public-inbox v2 archive (URL of one inbox, e.g.
    https://lore.kernel.org/ltp) into DIR with git, then index DIR.

    Run it again to fetch only what is new; an interrupted run resumes.
    """
    err = stderr_console()
    with err.status(f"reading the epochs of {url} ...") as status:
        def step(i: int, total: int, epoch_url: str) -> None:
            status.update(f"epoch {i + 1} of {total}: {epoch_url} ...")

        with PublicInboxClient.open(url, timeout=timeout) as client:
            results = mirror_inbox(client, dir, step)
    for r in results:
        err.print(Text(f"{r.path}: {r.action} from {r.url}"), soft_wrap=True)
    if no_index:
        return 0
    with open_store(db, None, create=True) as store:
        run = index_archive(store, dir, RichProgress(err))
        counts = store.counts()
        err.print(Text(f"index {store.path}: stored {run.messages_stored} new messages of "
                       f"{run.messages_read} read; now {counts['messages']} messages"), soft_wrap=True)
    return 0
