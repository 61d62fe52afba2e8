"""Ingest speed and memory: `patchtrail index` against the floor of git reading every blob.

The floor is `git rev-list --objects` piped into `git cat-file --batch` (every message
blob read once, nothing parsed); patchtrail must stay within 5x of it and 300 MiB.
For the repository, the floor is `git log -p` of the same history into /dev/null.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


_MEASURE = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(rc)\n"
)


def _run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and the peak RSS (KiB) of the command and its descendants.

    Measured in a fresh wrapper process so earlier runs' children do not count.
    """
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    wall = time.perf_counter() - t0
    return wall, int(out.strip().splitlines()[-1])


def blob_floor(epoch: Path) -> float:
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
    return time.perf_counter() - t0


def log_floor(repo: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(["git", "-C", str(repo), "log", "-p", "HEAD"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--archive", type=Path, required=True, help="public-inbox epoch or inbox")
    ap.add_argument("--repo", type=Path, help="git repository (optional)")
    ap.add_argument("--keep-db", type=Path, help="write the index here instead of a temp file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.keep_db or Path(tmp) / "bench.db"
        floor = blob_floor(args.archive)
        wall, rss = _run([sys.executable, "-m", "patchtrail", "index", "-q", "--db", str(db),
                          "--archive", str(args.archive)])
        print(f"archive: cat-file floor {floor:.1f} s; patchtrail index {wall:.1f} s;"
              f" ratio {wall / floor:.1f}x (target <= 5x); peak RSS {rss / 1024:.0f} MiB"
              " (target <= 300 MiB)")
        if args.repo:
            floor = log_floor(args.repo)
            wall, rss = _run([sys.executable, "-m", "patchtrail", "index", "-q", "--db", str(db),
                              "--repo", str(args.repo)])
            print(f"repository: git log -p floor {floor:.1f} s; patchtrail index {wall:.1f} s;"
                  f" ratio {wall / floor:.1f}x; peak RSS {rss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
