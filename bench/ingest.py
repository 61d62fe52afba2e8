"""Ingest speed and memory: `patchtrail index` against the floor of git reading every blob.

The floor is `git rev-list --objects` piped into `git cat-file --batch` (every message
blob read once, nothing parsed); patchtrail must stay within 5x of it and 300 MiB.
For the repository, the floor is `git log -p` of the same history into /dev/null.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _sample(root: int, memory: bool = True) -> tuple[int, dict[int, tuple[str, float]]]:
    """Memory of a process and all its descendants (the parse workers, git), in KiB (0
    unless `memory`), and the CPU seconds each of them has used so far, by kind: "main",
    "workers" or "git".

    Proportional set size (Pss): forked workers share the parent's pages copy-on-write,
    and summing their plain RSS would count those pages once per worker. Only the tree
    is read, found through /proc/PID/task/TID/children: reading every process of the
    machine took 30 ms a sample, a third of a core taken from the run being measured.
    """
    total, tree, todo = 0, {}, [root]
    while todo:
        pid = todo.pop()
        entry = Path("/proc") / str(pid)
        try:
            stat = (entry / "stat").read_text()
            kids = [int(k) for t in (entry / "task").iterdir()
                    for k in (t / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ticks = stat[stat.rindex(")") + 2:].split()
        if memory:
            total += _pss(entry) or int(ticks[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        kind = "main" if pid == root else "git" if name == "git" else "workers"
        tree[pid] = (kind, (int(ticks[11]) + int(ticks[12])) / _TICK)  # utime, stime
        todo.extend(kids)
    return total, tree


def _pss(entry: Path) -> int:
    """Pss in KiB, or 0 when the process is gone or the kernel hides smaps_rollup."""
    with suppress(OSError, ValueError):
        for line in (entry / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


# Seconds between samples of the tree's CPU, and samples between two of its memory.
# Reading Pss walks each process's page tables: ~2 ms per sample of the index run, which
# every 50 ms took 6 % of a core from the two-core run being measured (and none from the
# floor, which is not sampled). Memory stays on a plateau for most of the run, so a
# reading every 300 ms finds the same peak at a sixth of that cost.
_EVERY = 0.1
_MEMORY_EVERY = 3


def _run(cmd: list[str]) -> tuple[float, int, dict[str, float]]:
    """Wall seconds, the peak resident memory (KiB) of the command's whole process tree,
    and its CPU seconds by kind of process (main, workers, git, and "sampler": what this
    measuring took, on the same cores).

    Sampled from /proc: ru_maxrss would give the largest single process, but the parser
    pool and git run beside the main process and all of it counts. CPU is each process's
    last sample, so up to 100 ms of each is missed.
    """
    own = time.process_time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = 0
    last: dict[int, tuple[str, float]] = {}
    tick = 0
    while proc.poll() is None:
        pss, cpu = _sample(proc.pid, memory=tick % _MEMORY_EVERY == 0)
        peak = max(peak, pss)
        last.update(cpu)
        tick += 1
        time.sleep(_EVERY)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit code {proc.returncode}")
    by_kind: dict[str, float] = {}
    for kind, seconds in last.values():
        by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    by_kind["sampler"] = time.process_time() - own
    return wall, peak, by_kind


def blob_floor(epoch: Path) -> tuple[float, float]:
    """Wall and CPU seconds of git reading every object of the epoch once."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    lister = subprocess.Popen(
        ["git", "-C", str(epoch), "rev-list", "--objects", "--no-object-names", "master"],
        stdout=subprocess.PIPE,
    )
    cat = subprocess.Popen(
        ["git", "-C", str(epoch), "cat-file", "--batch"], stdin=lister.stdout,
        stdout=subprocess.DEVNULL,
    )
    lister.stdout.close()
    cat.wait()
    lister.wait()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (used.ru_utime + used.ru_stime)


def log_floor(repo: Path) -> tuple[float, int]:
    """`git log -p` of the whole history; in mirrors with missing blobs git stops early
    (exit 128), which makes this floor lower than a complete read: the ratio is conservative."""
    t0 = time.perf_counter()
    rc = subprocess.run(["git", "-C", str(repo), "log", "-p", "HEAD"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - t0, rc


def measure(archive: Path, repo: Path | None, db: Path, repeat: int = 3) -> dict[str, float]:
    """Index the archive (and repo) into a fresh `db`; return the figures.

    The archive is measured `repeat` times, the floor just before each index run, and the
    medians are reported: on a shared machine one pair of runs varies by 10 % or more,
    and a ratio is only as good as its two timings were taken under the same load.
    """
    figures: dict[str, float] = {}
    runs: list[dict[str, float]] = []
    for _ in range(max(1, repeat)):
        for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            leftover.unlink(missing_ok=True)
        floor, floor_cpu = blob_floor(archive)
        wall, rss, cpu = _run([sys.executable, "-m", "patchtrail", "index", "-q", "--db", str(db),
                               "--archive", str(archive)])
        runs.append(dict(archive_floor_s=floor, archive_floor_cpu_s=floor_cpu,
                         archive_index_s=wall, archive_ratio=wall / floor,
                         archive_peak_mib=rss / 1024,
                         **{f"archive_cpu_{kind}_s": seconds for kind, seconds in cpu.items()}))
    for key in runs[0]:
        values = [r[key] for r in runs if key in r]
        figures[key] = max(values) if key == "archive_peak_mib" else statistics.median(values)
    for i, r in enumerate(runs):
        figures[f"archive_ratio_run{i + 1}"] = r["archive_ratio"]
    figures["archive_runs"] = len(runs)
    if repo:
        floor, rc = log_floor(repo)
        wall, rss, _cpu = _run([sys.executable, "-m", "patchtrail", "index", "-q", "--db",
                                str(db), "--repo", str(repo)])
        figures.update(repo_floor_s=floor, repo_floor_complete=float(rc == 0), repo_index_s=wall,
                       repo_ratio=wall / floor, repo_peak_mib=rss / 1024)
    return figures


def shared_libpython() -> bool:
    """Whether this interpreter runs from a shared libpython (read off /proc/self/maps).

    The parse is pure Python, so how the interpreter was built sets its speed. On the
    bench's machine Debian's python3.11 (built with PGO and LTO, libpython linked into the
    executable) parsed the LTP archive 13 % faster than pyenv's default build of 3.11.7
    (no PGO, position-independent shared libpython). A PGO build leaves no trace that
    can be read back reliably; a shared libpython can, and it marks such a default build.
    """
    with suppress(OSError):
        return "/libpython" in Path("/proc/self/maps").read_text()
    return False


def interpreter() -> str:
    """The interpreter the figures were taken with: they depend on how it was built."""
    lib = "shared libpython" if shared_libpython() else "libpython linked in"
    return f"{sys.executable} ({platform.python_implementation()} {platform.python_version()}, {lib})"


def report(f: dict[str, float]) -> None:
    n = int(f.get("archive_runs", 1))
    ratios = [f[f"archive_ratio_run{i + 1}"] for i in range(n) if f"archive_ratio_run{i + 1}" in f]
    each = f" (runs: {', '.join(f'{r:.2f}x' for r in ratios)})" if len(ratios) > 1 else ""
    print(f"archive, median of {n}: cat-file floor {f['archive_floor_s']:.1f} s; patchtrail index"
          f" {f['archive_index_s']:.1f} s; ratio {f['archive_ratio']:.2f}x (target <= 5x){each};"
          f" peak memory (Pss) {f['archive_peak_mib']:.0f} MiB (target <= 300 MiB)")
    kinds = [k for k in ("main", "workers", "git", "sampler") if f"archive_cpu_{k}_s" in f]
    print(f"archive CPU seconds: floor {f['archive_floor_cpu_s']:.1f}; patchtrail "
          + ", ".join(f"{k} {f[f'archive_cpu_{k}_s']:.1f}" for k in kinds))
    print(f"interpreter: {interpreter()}")
    if "repo_floor_s" in f:
        note = "" if f["repo_floor_complete"] else " (git log -p stopped early: missing objects)"
        print(f"repository: git log -p floor {f['repo_floor_s']:.1f} s{note}; patchtrail index"
              f" {f['repo_index_s']:.1f} s; ratio {f['repo_ratio']:.2f}x;"
              f" peak memory (Pss) {f['repo_peak_mib']:.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--archive", type=Path, required=True, help="public-inbox epoch or inbox")
    ap.add_argument("--repo", type=Path, help="git repository (optional)")
    ap.add_argument("--keep-db", type=Path, help="write the index here instead of a temp file")
    ap.add_argument("--repeat", type=int, default=3,
                    help="archive runs (floor, then index) whose medians are reported")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.keep_db or Path(tmp) / "bench.db"
        report(measure(args.archive, args.repo, db, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
