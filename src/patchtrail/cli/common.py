"""Options and helpers shared by the sub-commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from rich.console import Console

from patchtrail.index.store import DB_ENV, DEFAULT_NAME, Store


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


db_option = click.option(
    "--db", "db", type=click.Path(dir_okay=False, path_type=Path), envvar=DB_ENV,
    help=f"Index file (default: ${DB_ENV}, else .git/{DEFAULT_NAME} of the repository).",
)


def repo_db_default(repo: Path | None) -> Path:
    """The index beside a repository: inside its git dir, so it is never committed."""
    base = repo if repo is not None else Path.cwd()
    try:
        out = subprocess.run(
            ["git", "-C", str(base), "rev-parse", "--absolute-git-dir"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        return Path(out) / DEFAULT_NAME
    except (subprocess.CalledProcessError, OSError):
        return base / DEFAULT_NAME


def open_store(db: Path | None, repo: Path | None = None, create: bool = False) -> Store:
    return Store.open(db or repo_db_default(repo), create=create)


def fail(message: str) -> None:
    stderr_console().print(f"error: {message}", markup=False, soft_wrap=True)
    sys.exit(2)
