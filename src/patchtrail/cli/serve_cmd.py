"""`patchtrail serve`: the local web UI (search, stories, series and threads)."""

from __future__ import annotations

from pathlib import Path

import click

from patchtrail.cli.common import db_option, open_store


@click.command()
@db_option
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
def serve(db: Path | None, port: int) -> int:
    """A small web UI on 127.0.0.1: type a symbol, FILE:LINE, commit, Message-ID or words of
    a subject and read the story; browse series and threads. Stop it with Ctrl-C."""
    from patchtrail.web.app import serve as run

    with open_store(db) as store:  # fails here, with one line, when there is no index
        path = store.path

    def ready(url: str) -> None:
        click.echo(f"patchtrail: serving {path} on {url}", nl=True)

    try:
        run(Path(path), port, ready)
    except OSError as exc:
        raise click.ClickException(f"127.0.0.1:{port}: cannot listen: {exc.strerror}") from None
    return 0
