"""`patchtrail series`: every revision of a series, and how it was applied."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from patchtrail.cli.common import db_option, open_store, stdout_console
from patchtrail.link.series import build_series
from patchtrail.report.series import write_json, write_text


@click.command()
@db_option
@click.option("--ignore-links", is_flag=True,
              help="Hide Link trailers, 'Link to vN:' lines and change-ids (chain from content alone).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.argument("target")
def series(db: Path | None, ignore_links: bool, fmt: str, target: str) -> int:
    """The series of TARGET: a Message-ID (or lore URL) of any of its messages, or a commit.

    Shows every revision v1..vN found (with the confidence of each link), what changed
    between them, the applied order against the posted one, reworded subjects, patches
    edited on apply, never applied, squashed or split, and the review trail.

    Exit status: 0 on success, 2 on bad input (unknown message, a commit with no email).
    """
    store = open_store(db)
    with store:
        result = build_series(store, target, ignore_links=ignore_links)
        if fmt == "json":
            write_json(result, sys.stdout)
        else:
            write_text(result, stdout_console())
    return 0
