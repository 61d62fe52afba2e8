"""One long-lived `git cat-file --batch` process: read any number of objects, in order.

`get(spec)` asks for one object and waits for it; `stream(specs)` pipelines: a writer
thread feeds the specs to git's stdin while the caller reads the answers from its stdout,
so neither side can fill a pipe and block the other, and the cost per object is the floor
of git reading it. A spec is anything `git cat-file --batch` accepts on one line: an
object id, `<commit>:<path>`, `<rev>^{tree}`...; a spec git cannot find (missing,
ambiguous, or naming a path the tree does not have) reads as None.
"""

from __future__ import annotations

import queue
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # not on Windows; pipes keep their default size there
    fcntl = None  # type: ignore[assignment]

from patchtrail.sources._proc import first_error_line, git_cmd, git_env
from patchtrail.sources.errors import SourceError

__all__ = ["SEQUENTIAL_READ", "CatFile", "close_shared", "iter_objects", "widen_pipe"]

_FOUND = re.compile(rb"^([0-9a-f]{40,64}) ([a-z]+) (\d+)\n\Z")
_DONE = object()
# Specs written at once by iter_many: 64 lines of at most ~110 bytes stay well inside a
# pipe's 64 KiB buffer.
_SLICE = 64

# For reading a whole pack once, in order (a mail archive epoch): git's defaults map the
# pack in 1 GiB windows and keep 96 MiB of delta bases, which on a 100 MiB pack is
# ~200 MiB resident for nothing, since each object is read once. These keep git under
# ~30 MiB at no measured cost in speed.
SEQUENTIAL_READ = (
    "core.packedGitWindowSize=1m",
    "core.packedGitLimit=8m",
    "core.deltaBaseCacheLimit=8m",
)


class CatFile:
    """A `git cat-file --batch` process for the repository at `path`.

    Started on first use; use as a context manager (or call `close()`) to end it. Not
    thread-safe: one caller at a time, and `get()` may not be called while a `stream()` is
    being iterated. A stream abandoned half-way ends the process (its unread answers are
    lost); the next call starts a fresh one.
    """

    def __init__(self, path: str | Path, config: Sequence[str] = ()) -> None:
        """`config`: `name=value` settings for this git process (e.g. SEQUENTIAL_READ)."""
        self.path = str(Path(path).resolve())
        self.config = tuple(config)
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr = None
        self._streaming = False

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._stderr = tempfile.TemporaryFile()
            try:
                settings = [arg for c in self.config for arg in ("-c", c)]
                self._proc = subprocess.Popen(
                    git_cmd(self.path, *settings, "cat-file", "--batch"), stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=self._stderr, env=git_env(),
                    bufsize=1 << 16,
                )
            except FileNotFoundError as exc:
                raise SourceError(self.path, "git is not installed (no `git` on PATH)") from exc
            if self._proc.stdout is not None:
                widen_pipe(self._proc.stdout.fileno())
        return self._proc

    def close(self) -> None:
        """End the process (politely: EOF on stdin, then wait; killed if it lingers)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            with suppress(OSError):  # git may have closed its end already
                if proc.stdin:
                    proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        self.close()

    def _died(self) -> SourceError:
        """The error to raise when git stopped answering; ends the process."""
        message = "git cat-file stopped unexpectedly"
        proc = self._proc
        if proc is not None:
            with suppress(subprocess.TimeoutExpired):  # _kill below ends it either way
                proc.wait(timeout=5)
            if self._stderr is not None:
                self._stderr.seek(0)
                err = self._stderr.read(64 * 1024)
                if err.strip():
                    message = first_error_line(err)
        self._kill()
        return SourceError(self.path, message)

    # -- reading ---------------------------------------------------------------------

    @staticmethod
    def _check_spec(spec: str) -> bytes:
        if "\n" in spec or "\r" in spec:
            raise ValueError(f"object spec with a line break: {spec!r}")
        return spec.encode("utf-8", "surrogateescape") + b"\n"

    def _read_answer(self, proc: subprocess.Popen[bytes]) -> bytes | None:
        out = proc.stdout
        assert out is not None
        line = out.readline()
        if not line.endswith(b"\n"):
            raise self._died()
        m = _FOUND.match(line)
        if m is None:
            return None  # "<spec> missing", "<spec> ambiguous"
        size = int(m.group(3))
        data = out.read(size)
        if len(data) != size or out.read(1) != b"\n":
            raise self._died()
        return data

    def get(self, spec: str) -> bytes | None:
        """The content of the object `spec` names, or None if there is no such object."""
        if self._streaming:
            raise RuntimeError("CatFile.get() called while a stream() is being read")
        line = self._check_spec(spec)
        proc = self._start()
        assert proc.stdin is not None
        try:
            proc.stdin.write(line)
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died() from None
        return self._read_answer(proc)

    def iter_many(self, specs: Sequence[str]) -> Iterator[bytes | None]:
        """The contents of several objects (None for each missing one), in order, read as
        the caller asks for them: git inflates the next objects while the caller works on
        this one, instead of the two taking turns.

        Without a writer thread: specs go out a slice at a time, at most two slices ahead
        of the answers read, which the pipe takes whole while git has not answered yet, so
        writing cannot block on reading. Abandoned half-way, it ends the process (its
        unread answers would be taken for the next call's).
        """
        if self._streaming:
            raise RuntimeError("CatFile.iter_many() called while a stream() is being read")
        lines = [self._check_spec(spec) for spec in specs]
        if not lines:
            return
        proc = self._start()
        slices = [lines[at:at + _SLICE] for at in range(0, len(lines), _SLICE)]
        self._streaming = True
        done = False
        try:
            self._send(proc, slices[0])
            for k, chunk in enumerate(slices):
                if k + 1 < len(slices):
                    self._send(proc, slices[k + 1])
                for _ in chunk:
                    yield self._read_answer(proc)
            done = True
        finally:
            self._streaming = False
            if not done:
                self._kill()  # git may be stuck writing answers nobody will read

    def _send(self, proc: subprocess.Popen[bytes], lines: list[bytes]) -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(b"".join(lines))
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died() from None

    def stream(self, specs: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
        """(spec, content or None) for each spec, in order, pipelined through one process."""
        if self._streaming:
            raise RuntimeError("CatFile.stream() called while another stream() is being read")
        proc = self._start()
        self._streaming = True
        sent: queue.SimpleQueue[object] = queue.SimpleQueue()
        stop = threading.Event()

        def feed() -> None:
            stdin = proc.stdin
            assert stdin is not None
            try:
                for spec in specs:
                    if stop.is_set():
                        break
                    line = self._check_spec(spec)
                    sent.put(spec)
                    stdin.write(line)
                    stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:
                if not stop.is_set():
                    sent.put(exc)
            except BaseException as exc:  # the caller's iterable failed: hand it over
                sent.put(exc)
            finally:
                sent.put(_DONE)

        writer = threading.Thread(target=feed, name="catfile-feed", daemon=True)
        writer.start()
        finished = False
        try:
            while True:
                item = sent.get()
                if item is _DONE:
                    finished = True
                    break
                if isinstance(item, BaseException):
                    if isinstance(item, (BrokenPipeError, OSError)):
                        raise self._died() from item
                    raise item
                yield item, self._read_answer(proc)  # type: ignore[misc]
        finally:
            stop.set()
            self._streaming = False
            if not finished:
                self._kill()  # unread answers would desynchronise the next call
                writer.join(timeout=5)  # it may be waiting on the caller's iterable
            else:
                writer.join()


# -- one reader per repository, per process --------------------------------------------

# How far git may run ahead of its reader: the default 64 KiB pipe holds a dozen messages,
# and git then waits while the reader parses. Linux lets any process raise it to 1 MiB.
_PIPE_BYTES = 1 << 20


def widen_pipe(fd: int) -> None:
    """Raise the capacity of the pipe `fd` is an end of to 1 MiB, where Linux allows it."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setsize is not None:
        with suppress(OSError):  # over the system's limit, or not a pipe: keep the default
            fcntl.fcntl(fd, setsize, _PIPE_BYTES)


_SHARED: dict[tuple[str, tuple[str, ...]], CatFile] = {}


def _shared(repo: str, config: Sequence[str]) -> CatFile:
    key = (str(repo), tuple(config))
    cat = _SHARED.get(key)
    if cat is None:
        close_shared()
        cat = _SHARED[key] = CatFile(repo, config)
    return cat


def iter_objects(repo: str, specs: Sequence[str], config: Sequence[str] = ()) -> Iterator[bytes | None]:
    """`CatFile(repo, config).iter_many(specs)` on a process kept open between calls.

    For worker processes that each read their own share of one repository's objects:
    one git process per worker, not one per call. Only the last repository's process is
    kept (an inbox's epochs are read one after the other); `close_shared()` ends it.
    """
    return _shared(repo, config).iter_many(specs)


def close_shared() -> None:
    """End the processes `iter_objects` keeps."""
    while _SHARED:
        _SHARED.popitem()[1].close()

