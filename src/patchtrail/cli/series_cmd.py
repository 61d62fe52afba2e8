"""`patchtrail series`: every revision of a series, and how it was applied."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from patchtrail.cli.common import db_option, stderr_console, stdout_console
from patchtrail.cli.remote_opts import (
    open_store_for,
    remote_options,
    remote_session,
    split_remote_target,
    unread_history,
)
from patchtrail.link.remote_series import RemoteRun, ensure_series
from patchtrail.link.series import build_series
from patchtrail.report.series import write_json, write_text


@click.command()
@db_option
@click.option("--ignore-links", is_flag=True,
              help="Hide Link trailers, 'Link to vN:' lines and change-ids (chain from content alone).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@remote_options
@click.argument("target", required=False)
def series(db: Path | None, ignore_links: bool, fmt: str, remote: str | None, no_cache: bool,
           timeout: float, target: str | None) -> int:
    """The series of TARGET: a Message-ID (or lore URL) of any of its messages, or a commit.

    Shows every revision v1..vN found (with the confidence of each link), what changed
    between them, the applied order against the posted one, reworded subjects, patches
    edited on apply, never applied, squashed or split, and the review trail.

    With --remote, or when the index holds no mail archive, the messages needed are
    fetched from a public-inbox server and stored in the index first (docs/remote.md).

    Exit status: 0 on success, 2 on bad input (unknown message, a commit with no email).
    """
    remote, target = split_remote_target(remote, target)
    with open_store_for(db, remote) as store:
        result = None
        with remote_session(store, remote, no_cache, timeout) as client:
            if client is not None:
                command = unread_history(store)
                if command is not None:
                    stderr_console().print(
                        "note: the repository's history is not indexed, so the commits that applied"
                        f" the series cannot be found; `{command}` reads it", markup=False, soft_wrap=True)
                result = ensure_series(RemoteRun(store, client, no_cache), target, ignore_links)
        if result is None:
            result = build_series(store, target, ignore_links=ignore_links)
        if fmt == "json":
            write_json(result, sys.stdout)
        else:
            write_text(result, stdout_console())
    return 0
