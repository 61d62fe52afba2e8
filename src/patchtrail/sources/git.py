"""Reading a git repository: resolving revisions, listing history, streaming commits.

Commits are read with ONE streaming `git log --no-walk=unsorted --stdin -p` per batch of
`GitRepo.LOG_BATCH` commits (not one process per commit), parsed as it arrives. The diff
is the one `git format-patch` puts into a patch mail, as far as `git patch-id` can tell:

* rename detection on (`-M`, format-patch's default since diff.renames became true in git
  2.9), the default `myers` algorithm with the indent heuristic, 3 lines of context,
  `a/` and `b/` prefixes, quoted non-ASCII paths (core.quotePath's default), no external
  diff or textconv, whatever the local configuration says: the mail was produced on the
  sender's machine, with defaults, far more often than with this machine's settings;
* `--full-index`: format-patch writes binary patches (`--binary`), which have full blob
  ids on their `index` lines, and those ids are all `patch-id` hashes of a binary file. A
  full `index` line followed by "Binary files ... differ" gives the same patch-id without
  reading and base85-encoding every binary blob. (Text files' `index` lines are ignored by
  patch-id, so their length does not matter.)
* merges are listed with no diff (`--diff-merges=off`); root commits have their full diff.

Text: the diff is decoded as UTF-8 with `surrogateescape`, so that encoding it back the
same way gives git's exact bytes (what patch-id hashes); names, e-mails and the message are
decoded with `replace` (they end up in SQLite, which refuses lone surrogates).

Missing objects are a fact of life in mirrors: `git log -p` then dies ("fatal: unable to
read <blob>", exit 128) in the middle of the stream. `read_commits` gives the commit it
died on `diff=None` and `diff_error="unreadable object <blob>"`, records a skip, and
restarts the stream after that commit, so that no commit is lost or read twice.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from patchtrail.sources._proc import first_error_line, git_cmd, git_env, run_git
from patchtrail.sources.errors import SourceError
from patchtrail.sources.records import CommitRecord, SkipLog

__all__ = ["GitRepo", "LOG_DIFF_OPTIONS", "object_types"]

_START = b"\x00\x1ePTC\x00"
_END = b"\x00\x1ePTE"
_FORMAT = "%x00%x1ePTC%x00%H%x00%P%x00%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd%x00%B%x00%x1ePTE"
_OID = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_UNREADABLE = re.compile(r"(?:unable to read|bad object|missing blob|could not read|"
                         r"invalid object|unable to parse)\D*?\b([0-9a-f]{40,64})\b", re.I)

# Configuration that would change the diff text away from what a default format-patch
# writes; set on every `git log` so that a user's ~/.gitconfig cannot change patch-ids.
_CONFIG = (
    "core.quotePath=true", "diff.noprefix=false", "diff.mnemonicPrefix=false",
    "diff.relative=false", "diff.suppressBlankEmpty=false", "log.showSignature=false",
    "diff.external=", "color.ui=false", "color.diff=false",
)
LOG_DIFF_OPTIONS = (
    "-p", "--root", "--diff-merges=off", "-M", "--full-index", "--no-color", "--no-ext-diff",
    "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", "-U3", "--inter-hunk-context=0",
    "--diff-algorithm=myers", "--indent-heuristic", "--submodule=short", "--no-relative",
)


def config_args() -> list[str]:
    out: list[str] = []
    for item in _CONFIG:
        out += ["-c", item]
    return out


@dataclass(slots=True)
class _Died:
    """How a `git log` stream ended early: `done` commits of the batch were complete."""

    done: int
    message: str


def object_types(repo: str, specs: Sequence[str]) -> list[tuple[str, str] | None]:
    """(id, type) of the object each spec names, or None when git finds none: ONE
    `git cat-file --batch-check` for all of them. SourceError if `repo` cannot be read."""
    if not specs:
        return []
    data = "".join(s + "\n" for s in specs).encode("utf-8", "surrogateescape")
    proc = run_git(repo, ["cat-file", "--batch-check=%(objectname) %(objecttype)"], input=data)
    lines = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
    out: list[tuple[str, str] | None] = []
    for line in lines[:len(specs)]:
        parts = line.split(" ")
        if len(parts) == 2 and _OID.match(parts[0]) and parts[1].isalpha():
            out.append((parts[0], parts[1]))
        else:
            out.append(None)
    if len(out) != len(specs):
        raise SourceError(repo, "git cat-file --batch-check gave fewer answers than asked")
    return out


class GitRepo:
    """A git repository (bare or not) read through git's plumbing.

    `path` is the path given, made absolute; `git_dir` is the repository's git directory.
    """

    # Commits per `git log` process: git reads its whole --stdin list before printing, so
    # this bounds what a restart after a missing object costs; thousands per process.
    LOG_BATCH = 10000

    def __init__(self, path: str | Path) -> None:
        p = Path(path).expanduser()
        try:
            p = p.resolve()
        except OSError:
            p = p.absolute()
        self.path = str(p)
        if not p.exists():
            raise SourceError(self.path, "no such file or directory")
        if not p.is_dir():
            raise SourceError(self.path, "not a git repository (not a directory)")
        proc = run_git(self.path, ["rev-parse", "--absolute-git-dir", "--is-bare-repository",
                                   "--show-cdup"], check=False)
        if proc.returncode != 0:
            msg = first_error_line(proc.stderr)
            if msg.startswith("not a git repository"):
                msg = "not a git repository"
            raise SourceError(self.path, msg)
        lines = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
        self.git_dir = lines[0].strip()
        # What names the repository as an index source, wherever in it `path` points: the
        # top of its work tree (`--show-cdup` away; git prints no such line outside a work
        # tree), or its git directory when bare. `index --repo` and `--remote` both
        # register it so.
        git_dir = Path(self.git_dir)
        if len(lines) > 3:
            self.top = str((p / lines[2].strip()).resolve())
        elif lines[1].strip() == "false" and git_dir.name == ".git":  # inside .git itself
            self.top = str(git_dir.parent)
        else:
            self.top = self.git_dir
        self.name = Path(self.top).name.removesuffix(".git") or Path(self.top).name

    def __repr__(self) -> str:
        return f"GitRepo({self.path!r})"

    # -- revisions -------------------------------------------------------------------

    def _batch_check(self, specs: Sequence[str]) -> list[tuple[str, str] | None]:
        """`object_types` of user-given specs, which must not smuggle in a second line."""
        for s in specs:
            if "\n" in s or "\r" in s or not s:
                raise SourceError(s if s else "''", "not a valid revision")
        return object_types(self.path, specs)

    def _resolve_many(self, revs: Sequence[str]) -> list[str | None]:
        answers = self._batch_check([f"{r}^{{commit}}" for r in revs])
        return [a[0] if a is not None and a[1] == "commit" else None for a in answers]

    def resolve(self, rev: str) -> str:
        """The full id of the commit `rev` names; SourceError if it names none."""
        oid = self._resolve_many([rev])[0]
        if oid is None:
            raise SourceError(rev, f"unknown revision in {self.path}")
        return oid

    def expand(self, revs: list[str]) -> list[str]:
        """Full commit ids for `revs`: single commits, or ranges `A..B` / `A...B`.

        A range lists what `git rev-list` lists for it, oldest first (topological order,
        reversed: parents before children); an empty side means HEAD. Results are
        concatenated in the order of `revs`, duplicates kept.
        """
        plan: list[tuple[str, str, str, str] | str] = []
        singles: list[str] = []
        for rev in revs:
            if not isinstance(rev, str) or not rev.strip() or rev.startswith("-"):
                raise SourceError(str(rev) or "''", "not a valid revision")
            if ".." in rev:
                sep = "..." if "..." in rev else ".."
                a, b = rev.split(sep, 1)
                plan.append((rev, a or "HEAD", sep, b or "HEAD"))
                singles += [a or "HEAD", b or "HEAD"]
            else:
                plan.append(rev)
                singles.append(rev)
        resolved = dict(zip(singles, self._resolve_many(singles)))
        out: list[str] = []
        for item in plan:
            if isinstance(item, str):
                oid = resolved[item]
                if oid is None:
                    raise SourceError(item, f"unknown revision in {self.path}")
                out.append(oid)
                continue
            rev, a, sep, b = item
            for end in (a, b):
                if resolved[end] is None:
                    raise SourceError(rev, f"unknown revision {end!r} in {self.path}")
            proc = run_git(self.path, ["rev-list", "--reverse", "--topo-order",
                                       f"{resolved[a]}{sep}{resolved[b]}", "--"], where=rev)
            out += proc.stdout.decode("ascii").split()
        return out

    def tips(self, refs: Sequence[str]) -> list[str]:
        """The commit ids `refs` name ("--all": every ref that peels to a commit), sorted.

        What an incremental reader stores as its cursor: next time, history reachable from
        these is excluded.
        """
        names = [r for r in refs if r != "--all"]
        found: list[str | None] = []
        if len(names) < len(refs):
            listing = run_git(self.path, ["for-each-ref", "--format=%(objectname)"])
            found += self._resolve_many(listing.stdout.decode("ascii").split())
        for name, oid in zip(names, self._resolve_many(names)):
            if oid is None:
                raise SourceError(name, f"unknown revision in {self.path}")
            found.append(oid)
        return sorted({oid for oid in found if oid})

    def rev_list(self, refs: list[str], exclude: Sequence[str] = ()) -> list[str]:
        """Every commit reachable from `refs` and not from `exclude`, oldest first.

        `refs` defaults to HEAD; "--all" means every ref. Exclude tips that no longer exist
        (rewritten or gc'ed history) are ignored. Order: `--topo-order --reverse`, i.e.
        parents always before their children. Tips go to git through --stdin.
        """
        refs = list(refs) or ["HEAD"]
        use_all = "--all" in refs
        names = [r for r in refs if r != "--all"]
        tips = self._resolve_many(names)
        for name, oid in zip(names, tips):
            if oid is None:
                raise SourceError(name, f"unknown revision in {self.path}")
        excl = [e for e in exclude if e and "\n" not in e and not e.startswith("-")]
        gone = self._resolve_many(excl) if excl else []
        lines = [t for t in tips if t] + ["^" + o for o in gone if o]
        args = ["rev-list", "--reverse", "--topo-order"]
        if use_all:
            args.append("--all")
        args.append("--stdin")
        proc = run_git(self.path, args, input="".join(x + "\n" for x in lines).encode())
        return proc.stdout.decode("ascii").split()

    # -- commits ---------------------------------------------------------------------

    def read_commits(self, oids: Iterable[str], skips: SkipLog) -> Iterator[CommitRecord]:
        """A CommitRecord for each commit of `oids`, in the order given (duplicates once).

        Ids that name no commit here are skipped (`skips`: "not a commit in repository").
        A commit whose diff cannot be read (a missing blob) comes with `diff=None` and
        `diff_error`, and a skip "unreadable object".
        """
        todo = self._known_commits(oids, skips)
        i = 0
        while i < len(todo):
            batch = todo[i:i + self.LOG_BATCH]
            died = yield from self._log(batch, patch=True)
            if died is None:
                i += len(batch)
                continue
            i += died.done
            yield from self._settle(todo[i], died.message, skips)
            i += 1

    def _known_commits(self, oids: Iterable[str], skips: SkipLog) -> list[str]:
        seen: set[str] = set()
        wanted: list[str] = []
        for oid in oids:
            oid = oid.strip()
            if oid and oid not in seen:
                seen.add(oid)
                wanted.append(oid)
        bad = [o for o in wanted if "\n" in o or "\r" in o or o.startswith("-") or " " in o]
        for o in bad:
            skips.add(o, "not a commit in repository")
        wanted = [o for o in wanted if o not in set(bad)]
        out: list[str] = []
        full_seen: set[str] = set()
        for oid, answer in zip(wanted, self._batch_check(wanted)):
            if answer is None or answer[1] != "commit":
                skips.add(oid, "not a commit in repository")
            elif answer[0] not in full_seen:
                full_seen.add(answer[0])
                out.append(answer[0])
        return out

    def _settle(self, oid: str, message: str, skips: SkipLog) -> Iterator[CommitRecord]:
        """The commit a stream died on (or right before): read it alone to see which.

        If it reads fine alone, the stream died on the next one, which the restarted stream
        will meet first (and settle then); otherwise it is the unreadable one.
        """
        alone, died = _drain(self._log([oid], patch=True))
        if died is None and alone:
            yield alone[0]
            return
        text = died.message if died else message
        m = _UNREADABLE.search(text)
        diff_error = f"unreadable object {m.group(1)}" if m else f"git log failed: {text}"
        meta, died_meta = _drain(self._log([oid], patch=False))
        if died_meta is not None or not meta:
            why = died_meta.message if died_meta else "no output"
            raise SourceError(self.path, f"cannot read commit {oid}: {why}")
        rec = meta[0]
        rec.diff = None
        rec.diff_error = diff_error
        skips.add(oid, "unreadable object" if m else "git log failed")
        yield rec

    def _log(self, batch: list[str], patch: bool):  # -> Generator[CommitRecord, None, _Died | None]
        """Stream `git log --no-walk=unsorted --stdin` over `batch` (full ids, no repeats).

        Yields each commit once it is complete (the next one began, or git exited 0);
        returns None when all were read, or _Died(done, message) when git failed after
        `done` complete commits (the next one's diff may have been cut anywhere).
        """
        args = [*config_args(), "log", "--no-walk=unsorted", "--stdin", f"--format={_FORMAT}",
                "--date=raw", "--encoding=UTF-8", "--no-notes", "--no-mailmap"]
        args += list(LOG_DIFF_OPTIONS) if patch else ["--no-patch"]
        stderr = tempfile.TemporaryFile()
        try:
            proc = subprocess.Popen(git_cmd(self.path, *args), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=stderr, env=git_env(),
                                    bufsize=0)
        except FileNotFoundError as exc:
            stderr.close()
            raise SourceError(self.path, "git is not installed (no `git` on PATH)") from exc

        def feed() -> None:
            # A broken pipe means git exited early; the reader learns why from its stderr.
            assert proc.stdin is not None
            with suppress(OSError):
                view = memoryview("".join(o + "\n" for o in batch).encode("ascii"))
                while view:
                    n = proc.stdin.write(view[: 1 << 16])
                    view = view[n:]
            with suppress(OSError):
                proc.stdin.close()

        writer = threading.Thread(target=feed, name="git-log-feed", daemon=True)
        writer.start()
        current = -1  # index in batch of the commit whose text starts at buf[pos]
        buf = bytearray()
        pos = 0
        scan = 0  # where to look for the next header (everything before was searched)
        marker = _START + batch[0].encode("ascii") + b"\x00"
        fd = proc.stdout.fileno()  # type: ignore[union-attr]
        finished = False
        try:
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                if pos:
                    del buf[:pos]
                    scan -= pos
                    pos = 0
                buf += chunk
                # Commits come in the order given, so the next header is a known string:
                # the start marker followed by the next id of the batch.
                while True:
                    at = buf.find(marker, scan)
                    if at < 0:
                        scan = max(pos, len(buf) - len(marker) + 1)
                        break
                    if current < 0:
                        if at != 0:
                            raise SourceError(self.path, "unexpected output from git log")
                    else:
                        yield _parse(buf, pos, at, patch)
                    current += 1
                    pos, scan = at, at + len(marker)
                    if current + 1 < len(batch):
                        marker = _START + batch[current + 1].encode("ascii") + b"\x00"
                    else:
                        marker = b"\x00\x1ePTC-no-more-commits\x00"  # never printed
            rc = proc.wait()
            finished = True
            if rc == 0 and current == len(batch) - 1:
                yield _parse(buf, pos, len(buf), patch)
                return None
            if rc == 0:
                # git printed fewer commits than asked and said nothing; cannot happen for
                # existing commits, but then the last one printed is as doubtful as the
                # next one: let the caller read them alone.
                return _Died(max(current, 0), "commit not shown by git log")
            stderr.seek(0)
            message = first_error_line(stderr.read(64 * 1024))
            # The commit being printed (or, if its header is all there is, the next one)
            # is where git died; every commit before it is complete.
            return _Died(max(current, 0), message)
        finally:
            if not finished:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
            writer.join(timeout=5)
            if proc.stdout:
                proc.stdout.close()
            stderr.close()


def _drain(gen) -> tuple[list[CommitRecord], _Died | None]:  # type: ignore[no-untyped-def]
    """Run a `_log` generator to its end: its records and what it returned."""
    out: list[CommitRecord] = []
    while True:
        try:
            out.append(next(gen))
        except StopIteration as stop:
            return out, stop.value


def _parse(buf: bytearray, start: int, stop: int, patch: bool) -> CommitRecord:
    """The commit whose text is buf[start:stop] (header, then its diff if `patch`)."""
    end = buf.find(_END, start + len(_START), stop)
    if end < 0:
        raise SourceError("git log", "commit header without its end marker")
    fields = bytes(buf[start + len(_START):end]).split(b"\x00", 8)
    if len(fields) != 9:
        raise SourceError("git log", "commit header with missing fields")
    oid, parents, an, ae, ad, cn, ce, cd, body = fields
    author_time, author_tz = _date(ad)
    committer_time, _ = _date(cd)
    parent_ids = tuple(parents.decode("ascii").split())
    diff: str | None = None
    if patch and len(parent_ids) < 2:
        at = end + len(_END)
        for _ in range(2):  # the format's terminator, then the blank line before the diff
            if at < stop and buf[at] == 0x0A:
                at += 1
        with memoryview(buf) as view:  # decoded straight from the buffer: no copy
            diff = str(view[at:stop], "utf-8", "surrogateescape")
    return CommitRecord(
        oid=oid.decode("ascii"), parents=parent_ids,
        author_name=_text(an), author_email=_text(ae),
        author_time=author_time, author_tz=author_tz,
        committer_name=_text(cn), committer_email=_text(ce), committer_time=committer_time,
        message=_text(body), diff=diff,
    )


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _date(raw: bytes) -> tuple[int, str]:
    parts = raw.decode("ascii", "replace").split()
    try:
        when = int(parts[0])
    except (IndexError, ValueError):
        when = 0
    tz = parts[1] if len(parts) > 1 else "+0000"
    return when, tz
