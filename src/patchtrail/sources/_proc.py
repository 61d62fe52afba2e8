"""Running git: one place for the environment and for turning failures into one line.

Every call passes a list of arguments (never a shell), with a C locale so that git's
messages can be parsed, no terminal prompts, and no lazy fetching from promisor remotes
(an index run must never go to the network behind the user's back).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from patchtrail.sources.errors import SourceError

GIT = "git"


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "LC_ALL": "C",
        "LANGUAGE": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_NO_LAZY_FETCH": "1",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
    })
    # Variables that would point git at another repository than the one we name.
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                 "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES"):
        env.pop(name, None)
    return env


def git_cmd(repo: str, *args: str) -> list[str]:
    return [GIT, "-C", repo, *args]


def first_error_line(stderr: bytes | str) -> str:
    """The line of git's stderr worth showing: the `fatal:`/`error:` one, prefix removed."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for prefix in ("fatal: ", "error: "):
        for ln in lines:
            if ln.startswith(prefix):
                return ln[len(prefix):]
    return lines[0] if lines else "git failed"


def run_git(repo: str, args: Sequence[str], *, input: bytes | None = None,
            where: str | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run `git -C repo args...`, capture output; SourceError (one line) on failure."""
    try:
        proc = subprocess.run(git_cmd(repo, *args), input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=git_env(), check=False)
    except FileNotFoundError as exc:
        raise SourceError(where or repo, "git is not installed (no `git` on PATH)") from exc
    if check and proc.returncode != 0:
        raise SourceError(where or repo, first_error_line(proc.stderr))
    return proc
