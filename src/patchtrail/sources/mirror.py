"""Cloning a public-inbox v2 archive's epochs over HTTP, resumably.

A v2 inbox is a set of git repositories, `<inbox>/git/0.git`, `1.git`, ... (one per
~1 GB of mail), which public-inbox-httpd serves over git's smart HTTP protocol. This
does what public-inbox-clone does, with plain git: list the epochs from the inbox's
`manifest.js.gz` (or, when a server has none, probe `git/N.git/info/refs` from 0 until
one is missing: a static file server of epochs prepared with `git update-server-info`
works too), `git clone --mirror` each new epoch and `git fetch` each known one. The
manifest's fingerprint of an epoch (SHA-1 of its `git show-ref`) is compared with the
local one first, so a rerun on an unchanged archive makes no git request at all.

Resumable: an epoch is cloned into `N.git.partial` and renamed when whole, so a clone
killed half-way is started over, never mistaken for a finished epoch; fetching into a
finished epoch is git's own atomic ref update. The result is a directory `open_archive`
reads as a public-inbox v2 inbox.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from patchtrail.sources._proc import first_error_line, git_env
from patchtrail.sources.errors import SourceError
from patchtrail.sources.remote import USER_AGENT, PublicInboxClient, RemoteError

__all__ = ["EpochResult", "mirror_inbox", "remote_epochs"]

_EPOCH_KEY = re.compile(r"/git/(\d+)\.git$")
_DUMB_REFS = re.compile(rb"[0-9a-f]{40,64}\t")
MAX_PROBE = 1000


@dataclass(slots=True)
class EpochResult:
    number: int
    url: str
    path: Path
    action: str  # 'cloned' | 'fetched' | 'up to date'


def remote_epochs(client: PublicInboxClient) -> dict[int, str | None]:
    """Epoch number → fingerprint (None when unknown), from the manifest or by probing."""
    inbox = client.inbox
    if inbox.name == "all":
        raise RemoteError(inbox.url, "not one inbox: give the URL of a list"
                                     " (e.g. https://lore.kernel.org/ltp)")
    manifest_url = inbox.url + "manifest.js.gz"
    data = client.get(manifest_url, gzipped=True)
    if data is not None:
        try:
            manifest = json.loads(data)
        except ValueError:
            raise RemoteError(manifest_url, "not a public-inbox manifest (not JSON)") from None
        if not isinstance(manifest, dict):
            raise RemoteError(manifest_url, "not a public-inbox manifest (not a JSON object)")
        epochs: dict[int, str | None] = {}
        for key, value in manifest.items():
            m = _EPOCH_KEY.search(str(key))
            if m:
                fp = value.get("fingerprint") if isinstance(value, dict) else None
                epochs[int(m.group(1))] = str(fp) if fp else None
        if epochs:
            return epochs
    epochs = {}
    for n in range(MAX_PROBE):
        url = f"{inbox.url}git/{n}.git/info/refs?service=git-upload-pack"
        body = client.get(url)
        # git's smart protocol announces itself; a dumb server sends info/refs as is
        if body is None or not (b"service=git-upload-pack" in body[:64] or _DUMB_REFS.match(body)):
            break
        epochs[n] = None
    if not epochs:
        raise RemoteError(inbox.url, "not a public-inbox v2 inbox"
                                     " (no manifest.js.gz and no git/0.git)")
    return epochs


def _git(args: list[str], where: str) -> subprocess.CompletedProcess[bytes]:
    env = git_env()
    # Give up on a stalled transfer rather than hang for ever (below 1 KB/s for a minute).
    env.setdefault("GIT_HTTP_LOW_SPEED_LIMIT", "1000")
    env.setdefault("GIT_HTTP_LOW_SPEED_TIME", "60")
    cmd = ["git", "-c", f"http.userAgent={USER_AGENT}", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    except FileNotFoundError as exc:
        raise SourceError(where, "git is not installed (no `git` on PATH)") from exc
    if proc.returncode != 0:
        raise SourceError(where, first_error_line(proc.stderr))
    return proc


def fingerprint(repo: Path) -> str | None:
    """SHA-1 of `git show-ref`, as public-inbox's manifest computes it."""
    proc = subprocess.run(["git", "--git-dir", str(repo), "show-ref"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, env=git_env(), check=False)
    if proc.returncode not in (0, 1):
        return None
    return hashlib.sha1(proc.stdout).hexdigest()


def mirror_inbox(client: PublicInboxClient, target: Path,
                 on_epoch: Callable[[int, int, str], None] | None = None) -> list[EpochResult]:
    """Clone or update every epoch of the inbox into `target/git/N.git`."""
    epochs = remote_epochs(client)
    gitdir = target / "git"
    gitdir.mkdir(parents=True, exist_ok=True)
    results: list[EpochResult] = []
    for i, (n, remote_fp) in enumerate(sorted(epochs.items())):
        url = f"{client.inbox.url}git/{n}.git"
        path = gitdir / f"{n}.git"
        if on_epoch:
            on_epoch(i, len(epochs), url)
        if path.is_dir():
            before = fingerprint(path)
            if remote_fp and before == remote_fp:
                action = "up to date"
            else:
                _git(["--git-dir", str(path), "fetch", "--quiet", "--prune", url,
                      "+refs/*:refs/*"], url)
                action = "up to date" if fingerprint(path) == before else "fetched"
        else:
            partial = gitdir / f"{n}.git.partial"
            if partial.exists():
                shutil.rmtree(partial)
            _git(["clone", "--quiet", "--mirror", url, str(partial)], url)
            partial.rename(path)
            action = "cloned"
        results.append(EpochResult(n, url, path, action))
    return results
