"""An ordered, bounded `map` over forked worker processes: the parse pool of `patchtrail
index`.

Why not `multiprocessing.Pool`: its bookkeeping threads run in the one process that also
writes the index, and on the LTP archive they took 1.3 s of that process's CPU for 1,100
tasks (the worker-handler thread wakes and rebuilds its selector on every task). Here
there is no thread at all: task i goes to worker i mod N and its result is read back from
that worker, so results come in input order (which the resume cursor needs) by
construction, and each worker holds at most DEPTH tasks, which bounds memory.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from itertools import islice
from multiprocessing.connection import Connection
from typing import TypeVar

from patchtrail.sources.catfile import widen_pipe
from patchtrail.sources.errors import SourceError

T = TypeVar("T")
R = TypeVar("R")

# Tasks sent ahead to each worker: enough that a worker never waits for the next while
# the writer is busy with a transaction or a checkpoint (a task of 32 messages is ~10 ms
# of work), few enough to bound what sits in the pipes. The result pipes are widened
# too: at the default 64 KiB a worker blocks on its first unread result.
DEPTH = 16


# Seconds a worker is given to end after the writer hangs up, before it is killed.
GRACE = 5.0

DIED = "a parse worker died (killed, or out of memory)"


class WorkerError(RuntimeError):
    """A worker raised: a bug, whose message carries the worker's traceback (a source
    that cannot be read is raised as its own SourceError instead)."""


class WorkerDied(WorkerError):
    """A worker died (killed, out of memory) before answering: not a bug of ours."""


def workers() -> int:
    """PATCHTRAIL_JOBS, else the CPU count up to 4."""
    env = os.environ.get("PATCHTRAIL_JOBS")
    if env and env.isdigit():
        return max(1, int(env))
    return max(1, min(4, os.cpu_count() or 1))


def _serve(func: Callable[[T], R], tasks: Connection, results: Connection,
           theirs: list[Connection]) -> None:
    """A worker's life: answer each task in order until the writer says stop (None).

    A thread takes the tasks off the pipe as soon as they come: a task can be large (a
    raw message from an mbox), and the writer, sending it, must never wait on a worker
    that is itself waiting for the writer to read a result.
    """
    for conn in theirs:
        conn.close()
    inbox: queue.SimpleQueue[object] = queue.SimpleQueue()

    def receive() -> None:
        while True:
            try:
                job = tasks.recv()
            except (EOFError, OSError):
                job = None
            inbox.put(job)
            if job is None:
                return

    threading.Thread(target=receive, daemon=True).start()
    while True:
        job = inbox.get()
        if job is None:
            return
        assert isinstance(job, list)
        try:
            answer: tuple[bool, object] = (True, [func(item) for item in job])
        except BaseException as exc:  # handed to the writer, which raises it there
            # A source's own error goes back as itself (it pickles: message and path);
            # anything else as text with the worker's traceback, which would not.
            failure = exc if isinstance(exc, SourceError) else \
                f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
            answer = (False, failure)
        try:
            results.send(answer)
        except OSError:  # the writer stopped reading (it failed, or was interrupted)
            return
        except Exception as exc:  # a result that cannot be pickled
            results.send((False, f"{type(exc).__name__}: {exc}"))


@contextmanager
def ordered_map(func: Callable[[T], R], jobs: Iterable[T], chunksize: int = 1,
                n: int | None = None, depth: int = DEPTH) -> Iterator[Iterator[R]]:
    """`map(func, jobs)` on `n` forked processes, results in input order.

    `chunksize` jobs travel together (one pipe message each way for that many). In this
    process when n is 1 (or on a platform without fork). `func` and the jobs' values
    must be picklable; the workers inherit this process's memory at fork.
    """
    n = workers() if n is None else n
    if n <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield map(func, jobs)
        return
    ctx = multiprocessing.get_context("fork")
    procs, sends, recvs = [], [], []
    try:
        for _ in range(n):
            task_r, task_w = ctx.Pipe(duplex=False)
            res_r, res_w = ctx.Pipe(duplex=False)
            widen_pipe(res_r.fileno())
            # The child closes the writer's ends it inherited, its own included: holding
            # them, it would never see the writer hang up.
            theirs = [task_w, res_r, *sends, *recvs]
            proc = ctx.Process(target=_serve, args=(func, task_r, res_w, theirs), daemon=True)
            proc.start()
            task_r.close()
            res_w.close()
            procs.append(proc)
            sends.append(task_w)
            recvs.append(res_r)
        yield _run(chunked(jobs, chunksize), sends, recvs, depth)
    finally:
        # Stop, then stop listening: a worker still writing a result that will never be
        # read gets a broken pipe and ends, instead of waiting for the kill below.
        for conn in sends:
            with suppress(OSError):  # that worker has died already
                conn.send(None)
            conn.close()
        for conn in recvs:
            conn.close()
        for proc in procs:
            proc.join(timeout=GRACE)
            if proc.is_alive():
                proc.kill()
                proc.join()


def chunked(jobs: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items of `jobs` (the last one shorter), read lazily."""
    it = iter(jobs)
    while chunk := list(islice(it, size)):
        yield chunk


def _run(jobs: Iterable[list[T]], sends: list[Connection], recvs: list[Connection],
         depth: int) -> Iterator[R]:
    n = len(sends)
    it = iter(jobs)
    pending: deque[int] = deque()  # the worker of each task sent and not read back, in order
    sent = 0
    exhausted = False

    def fill() -> None:
        nonlocal sent, exhausted
        while not exhausted and len(pending) < n * depth:
            try:
                job = next(it)
            except StopIteration:
                exhausted = True
                return
            worker = sent % n
            try:
                sends[worker].send(job)
            except OSError:
                raise WorkerDied(DIED) from None
            pending.append(worker)
            sent += 1

    fill()
    while pending:
        worker = pending.popleft()
        try:
            ok, value = recvs[worker].recv()
        except EOFError:
            raise WorkerDied(DIED) from None
        if not ok:
            if isinstance(value, SourceError):
                raise value
            raise WorkerError(f"a parse worker failed: {value}")
        fill()
        yield from value
