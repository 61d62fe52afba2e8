"""`patchtrail origin`: where a symbol or a line came from, and what came after it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from patchtrail.cli.common import db_option, stdout_console
from patchtrail.cli.remote_opts import (
    open_store_for,
    remote_options,
    remote_session,
    require_history,
    split_remote_target,
)
from patchtrail.index.store import Store
from patchtrail.link.remote_series import RemoteRun
from patchtrail.report.origin import write_json, write_text
from patchtrail.sources.git import GitRepo
from patchtrail.story.origin import TargetError, parse_target, tell
from patchtrail.story.remote import ensure_origin

ORIGIN_TARGET = "SYMBOL | FILE:LINE[@REV]"


def repository_for(store: Store, repo: Path | None, need_repo: bool) -> tuple[GitRepo | None, int | None]:
    """The indexed repository the query is about, and its source id (None: all of them)."""
    sources = store.sources("git")
    if repo is not None:
        wanted = GitRepo(repo)
        for s in sources:
            if s.path == wanted.path:
                return wanted, s.id
        raise click.ClickException(f"{repo}: repository not in the index {store.path};"
                                   " run `patchtrail index --repo` first")
    if not sources:
        raise click.ClickException(f"{store.path}: no repository indexed; run `patchtrail index --repo`")
    if len(sources) == 1:
        s = sources[0]
        return (GitRepo(s.path) if need_repo or Path(s.path).exists() else None), s.id
    if need_repo:
        raise click.ClickException("several repositories are indexed: say which one with --repo")
    return None, None


@click.command()
@db_option
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The indexed repository to ask (needed when the index holds several).")
@click.option("--path", "path", metavar="P",
              help="Only the symbol's occurrences in this file or directory, followed back "
                   "through renames and moves into it.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@remote_options
@click.argument("target", metavar=ORIGIN_TARGET, required=False)
def origin(db: Path | None, repo: Path | None, path: str | None, fmt: str, remote: str | None,
           no_cache: bool, timeout: float, target: str | None) -> int:
    """Where a symbol or a line was born, the email and series it came from, and after.

    Prints the birth commit, file and line, the moves since, the patch email and its
    series, later series that extended it, and later discussions mentioning it.

    The birth is found in git alone. With --remote (or unasked, when the index was filled
    from a server before and holds no archive) the emails are fetched from a public-inbox
    server and stored in the index first (docs/remote.md).

    Exit status: 0 when found, 1 when the symbol never existed in the indexed history,
    2 on bad input.
    """
    remote, target = split_remote_target(remote, target, ORIGIN_TARGET)
    try:
        parsed = parse_target(target)
    except TargetError as exc:
        raise click.ClickException(str(exc)) from None
    if path is not None and parsed.symbol is None:
        raise click.UsageError("--path applies to a SYMBOL, not to FILE:LINE")
    parsed.path = path if parsed.symbol is not None else parsed.path
    store = open_store_for(db, remote, repo)
    with store:
        git_repo, source_id = repository_for(store, repo, need_repo=parsed.symbol is None)
        story = None
        with remote_session(store, remote, no_cache, timeout, unasked_default=False) as client:
            if client is not None:
                require_history(store)
                story = ensure_origin(RemoteRun(store, client, no_cache), parsed, git_repo, source_id)
        try:
            if story is None:
                story = tell(store, parsed, git_repo, source_id)
        except TargetError as exc:
            raise click.ClickException(str(exc)) from None
    if fmt == "json":
        write_json(story, sys.stdout)
    else:
        write_text(story, stdout_console())
    return 0 if story.origin.birth is not None or story.origin.events else 1
