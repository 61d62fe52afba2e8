"""public-inbox archives: a v2 inbox (its epochs in order) or a single epoch repository.

``public-inbox-v2``: a directory with ``git/0.git``, ``git/1.git``, ... (epochs read in
numeric order). ``public-inbox-epoch``: one bare epoch repository. Every message is a
commit on the epoch's HEAD (``master``) whose tree holds the message as blob ``m``;
public-inbox deletes a message with a commit that holds ``d`` instead, which is skipped
("deleted"), as is a commit with neither ("no message blob"). Commits are listed oldest
first with ONE ``git rev-list --reverse`` per epoch and the blobs read through ONE
``git cat-file --batch`` per epoch. Key: ``"<epoch>:<commit id>"``; the epoch number of a
lone epoch comes from its name (``3.git``, ``ltp.lists.linux.it.3``), else 0. Cursor:
JSON ``{"<epoch>": "<last commit read>"}``; the next read lists ``tip ^last``. When the
last commit no longer exists (history rewritten and pruned) the epoch is read again
from the start: the indexer drops keys it has seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from patchtrail.sources._proc import run_git
from patchtrail.sources.archive import MailRef, MailSource, iter_mails
from patchtrail.sources.catfile import close_shared
from patchtrail.sources.errors import SourceError
from patchtrail.sources.git import object_types
from patchtrail.sources.records import RawMail, SkipLog

__all__ = ["PublicInboxSource", "check_epoch", "v2_epochs"]

# Messages `iter_messages` reads per `iter_mails` call: each ref carries its cursor, so
# an epoch's refs are not all held at once; a batch keeps git reading well ahead.
_READ_BATCH = 1024


class PublicInboxSource(MailSource):
    """A public-inbox v2 inbox (its epochs in order) or a single epoch repository."""

    def __init__(self, path: str | Path, name: str, kind: str,
                 epochs: list[tuple[int, str]]) -> None:
        super().__init__(path, name)
        self.kind = kind
        self.epochs = epochs  # (number, absolute path), in numeric order
        # The new commits of the first epoch to read, listed by `estimate` and handed on
        # to the read that follows it: one walk of that history instead of two.
        self._listed: tuple[str, tuple[str, ...], _Walk] | None = None

    @staticmethod
    def _load_cursor(cursor: str | None) -> dict[str, str]:
        if not cursor:
            return {}
        try:
            value = json.loads(cursor)
        except ValueError:
            return {}
        if not isinstance(value, dict):
            return {}
        return {str(k): str(v) for k, v in value.items()
                if isinstance(v, str) and re.fullmatch(r"[0-9a-f]{40}(?:[0-9a-f]{24})?", v)}

    @staticmethod
    def _range(epoch: str, last: str | None) -> list[str] | None:
        """rev-list arguments for what is new in `epoch` after `last`; None if it is empty."""
        specs = ["HEAD^{commit}", "refs/heads/master^{commit}"]
        if last:
            specs.append(f"{last}^{{commit}}")
        found = [a[0] if a is not None else None for a in object_types(epoch, specs)]
        tip = found[0] or found[1]
        if tip is None:
            return None
        args = [tip]
        if last and found[2]:
            args.append("^" + found[2])
        return args

    def estimate(self, cursor: str | None) -> int | None:
        state = self._load_cursor(cursor)
        total = 0
        for n, epoch in self.epochs:
            rng = self._range(epoch, state.get(str(n)))
            if rng is None:
                continue
            if self._listed is None and not total:
                commits = self._new_commits(epoch, rng)
                self._listed = (epoch, tuple(rng), commits)
                total += len(commits)
                continue
            out = run_git(epoch, ["rev-list", "--count", *rng, "--"])
            total += int(out.stdout.strip() or 0)
        return total

    @staticmethod
    def _new_commits(epoch: str, rng: list[str]) -> _Walk:
        """(commit, its tree) of each commit of `rng`, oldest first.

        The walk reads every commit anyway; with the trees named here, a message is read
        as `<tree>:m`, and git does not read its commit a second time (a tenth of git's
        CPU in an index run).
        """
        out = run_git(epoch, ["rev-list", "--reverse", "--format=%T", *rng, "--"])
        return _Walk(epoch, out.stdout.decode("ascii"))

    def iter_messages(self, cursor: str | None, skips: SkipLog) -> Iterator[RawMail]:
        """`iter_refs` read here by `iter_mails`: the index's workers read the same way, so
        there is one read path, and `skip_missing` alone says why a message is missing."""
        refs = self.iter_refs(cursor)
        try:
            while batch := list(islice(refs, _READ_BATCH)):
                missing: list[MailRef] = []
                for ref, mail in zip(batch, iter_mails(batch), strict=True):
                    if mail is None:
                        missing.append(ref)
                    else:
                        yield mail
                self.skip_missing(missing, skips)
        finally:
            close_shared()

    def iter_refs(self, cursor: str | None) -> Iterator[MailRef] | None:
        for n, epoch, commits, head, tail in self._epochs_to_read(cursor):
            for c, tree in commits:
                yield MailRef(f"{n}:{c}", epoch, tree + ":m", f'{head}"{c}"{tail}')

    def skip_missing(self, refs: list[MailRef], skips: SkipLog) -> None:
        """Why a commit had no `m`: a deletion (`d`) or nothing at all."""
        for n, epoch in self.epochs:
            mine = [r for r in refs if r.repo == epoch]
            if not mine:
                continue
            answers = object_types(epoch, [r.spec[:-2] + ":d" for r in mine])  # <tree>:d
            for r, a in zip(mine, answers, strict=True):
                skips.add(r.key, "deleted" if a and a[1] == "blob" else "no message blob")

    def _epochs_to_read(self, cursor: str | None) -> Iterator[tuple[int, str, _Walk, str, str]]:
        """Per epoch with something new: (number, path, its new commits oldest first, and
        the two halves of the cursor JSON that a commit id completes)."""
        state = self._load_cursor(cursor)
        for n, epoch in self.epochs:
            rng = self._range(epoch, state.get(str(n)))
            if rng is None:
                continue
            listed, self._listed = self._listed, None
            if listed is not None and listed[:2] == (epoch, tuple(rng)):
                commits = listed[2]
            else:
                commits = self._new_commits(epoch, rng)
            del listed
            ekey = str(n)
            head, tail = json.dumps({**state, ekey: "@"}, sort_keys=True).split('"@"')
            if len(commits):
                state[ekey] = commits.last_commit()
            yield n, epoch, commits, head, tail


class _Walk:
    """The (commit, tree) pairs `rev-list --format=%T` printed, oldest first, kept as the
    text git wrote and cut into ids as they are read: held as 35,000 pairs of strings for
    a whole run, they were a tenth of an index run's peak memory.

    Every record is `commit <id>\n<id>\n`, ids of the repository's one length.
    """

    def __init__(self, epoch: str, text: str) -> None:
        self._text = text
        self._width = max(0, text.find("\n") - len("commit "))
        self._step = 2 * self._width + len("commit \n\n")
        if text and (not text.startswith("commit ") or not self._width
                     or len(text) % self._step):
            raise SourceError(epoch, f"git rev-list printed {text[:60]!r}, not commits and trees")

    def __len__(self) -> int:
        return len(self._text) // self._step

    def __iter__(self) -> Iterator[tuple[str, str]]:
        text, width = self._text, self._width
        for at in range(len("commit "), len(text), self._step):
            yield text[at:at + width], text[at + width + 1:at + 2 * width + 1]

    def last_commit(self) -> str:
        at = len(self._text) - self._step + len("commit ")
        return self._text[at:at + self._width]


# -- recognising one ------------------------------------------------------------------


def v2_epochs(path: Path) -> list[tuple[int, str]]:
    """(number, path) of the epochs `git/<n>.git` of a v2 inbox at `path` (or of `path`
    itself, an inbox's `git/`), in numeric order; [] if there are none."""
    for d in (path / "git", path):
        if not d.is_dir():
            continue
        found = []
        for child in d.iterdir():
            m = re.fullmatch(r"(\d+)\.git", child.name)
            if m and child.is_dir():
                found.append((int(m.group(1)), str(child)))
        if found:
            return sorted(found)
    return []


def check_epoch(path: Path) -> None:
    """A bare repository is an epoch if its last commit holds `m` (or `d`), or it has none."""
    specs = ["HEAD^{commit}", "HEAD:m", "HEAD:d", "refs/heads/master:m", "refs/heads/master:d"]
    try:
        answers = object_types(str(path), specs)
    except SourceError:
        raise SourceError(str(path), "not a readable git repository") from None
    tip, hm, hd, mm, md = (a[1] if a is not None else "" for a in answers)
    if tip != "commit" and mm != "blob" and md != "blob":
        return  # no commits yet: an empty epoch
    if "blob" not in (hm, hd, mm, md):
        raise SourceError(str(path), "a git repository, but not a public-inbox epoch"
                                     " (its last commit has no blob 'm')")
