"""The options every question-answering command shares to work against a public-inbox
server (`--remote [URL]`, `--no-cache`, `--timeout`), and the session around them.

One place, so that dig, series, origin and story behave alike: the same default server,
the same announcement when the network is used without being asked for, the same
one-line summary of what was fetched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click

from patchtrail.cli.common import open_store, repo_db_default, stderr_console
from patchtrail.index.store import Store
from patchtrail.link.remote import attach_repository, open_client, remote_url_for
from patchtrail.mail.trailers import link_message_ids
from patchtrail.sources.git import GitRepo
from patchtrail.sources.remote import PublicInboxClient

F = TypeVar("F", bound=Callable[..., object])


def remote_options(func: F) -> F:
    """--remote [URL], --no-cache and --timeout, passed as remote, no_cache, timeout."""
    func = click.option(
        "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
        metavar="SECONDS", help="With a server: give up on a request after this long.")(func)
    func = click.option(
        "--no-cache", is_flag=True,
        help="With a server: ask again, ignoring the response cache and what the index "
             "remembers having asked.")(func)
    func = click.option(
        "--remote", "remote", is_flag=False, flag_value="", default=None, metavar="[URL]",
        help="Fetch the messages needed from a public-inbox server (an inbox URL such as "
             "https://lore.kernel.org/ltp, or a server, meaning its /all/; alone: "
             "$PATCHTRAIL_REMOTE, else git config b4.midmask, else lore.kernel.org) and store "
             "them in the index. Used without asking when the index holds no archive.")(func)
    return func


def split_remote_option(remote: str | None, args: tuple[str, ...],
                        what: str = "REVS...") -> tuple[str | None, tuple[str, ...]]:
    """`--remote REV`: click hands the option the revision; give it back to the arguments."""
    if remote and "://" not in remote:
        return "", (remote, *args)
    if not args:
        raise click.UsageError(f"Missing argument '{what}'.")
    return remote, args


def split_remote_target(remote: str | None, target: str | None,
                        what: str = "TARGET") -> tuple[str | None, str]:
    """`split_remote_option` for a command of one argument, whose argument may itself be
    a URL: `--remote https://lore.kernel.org/ltp/<msgid>/` alone is that message, asked
    of the default server, not a server with the argument missing."""
    if remote and not target and "://" in remote and link_message_ids([remote.strip()]):
        return "", remote
    remote, args = split_remote_option(remote, (target,) if target else (), what)
    if len(args) > 1:
        raise click.UsageError(f"Got unexpected extra argument ({' '.join(args[1:])})")
    return remote, args[0]


def open_store_for(db: Path | None, remote: str | None, repo: Path | None = None) -> Store:
    """The index a question-answering command opens. With --remote it is created when
    missing (in a git repository: checked first, so no stray file is left elsewhere), and
    the repository (`repo`, else the current one) becomes its git source if it has none,
    so that a fresh clone needs no `patchtrail index` first."""
    if remote is None:
        return open_store(db, repo)
    path = db or repo_db_default(repo)
    where = repo if repo is not None else Path.cwd()
    if not path.exists():
        GitRepo(where)  # "<cwd>: not a git repository", before any file is made
    store = open_store(path, create=True)
    try:
        attach_repository(store, where)
    except BaseException:
        store.close()
        raise
    return store


def unread_history(store: Store) -> str | None:
    """The command that indexes the repository's history, when --remote only attached it.

    origin and story read the identifier index `patchtrail index --repo` builds from every
    commit, and series finds the applied commits in the index: with the history unread
    they would answer "never existed" or "not applied" rather than say why.
    """
    if store.conn.execute("SELECT 1 FROM commits LIMIT 1").fetchone() is not None:
        return None
    repos = " ".join(f"--repo {s.path}" for s in store.sources("git")) or "--repo PATH"
    return f"patchtrail index --db {store.path} {repos}"


def require_history(store: Store) -> None:
    """A one-line error when the repository's history is not indexed (`unread_history`)."""
    command = unread_history(store)
    if command is not None:
        raise click.ClickException(f"{store.path}: the repository's history is not indexed yet;"
                                   f" run `{command}` first")


@contextmanager
def remote_session(store: Store, remote: str | None, no_cache: bool, timeout: float,
                   unasked_default: bool = True) -> Iterator[PublicInboxClient | None]:
    """The client to ensure messages with, or None when the command stays local.

    Says on stderr, at the end, what was fetched, and why when the server was used
    unasked (no archive indexed). `unasked_default=False`: unasked, only a server this
    index was filled from before is used, never the default one.
    """
    url = remote_url_for(store, remote, unasked_default)
    if url is None:
        yield None
        return
    err = stderr_console()
    with open_client(store, url, no_cache, timeout) as client:
        yield client
        t = client.traffic
        if t.requests or t.cache_hits:
            why = "no mail archive indexed, so " if remote is None else ""
            err.print(f"{why}asked {client.inbox.url}: {t.requests} requests, "
                      f"{t.bytes / 1024:.0f} KiB ({t.cache_hits} answered from the cache, "
                      f"{t.retries} retried); stored in {store.path}",
                      markup=False, highlight=False, soft_wrap=True)
