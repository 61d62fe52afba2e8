"""The time of a whole `patchtrail story`, warm, on the demo corpus and on real LTP data.

    python -m bench.story [--demo-dir DIR] [--db LTP_INDEX]

1. Demo: the stories of `enable_preemption_timer` and `hv_timer_in_use` (the seed's two
   symbols) on the demo corpus: DIR/patchtrail.db of a `patchtrail demo --dir DIR`
   directory, built there when missing; with no --demo-dir, built in a temp dir.
2. LTP (with --db, an index of the LTP repository and list: see bench/README.md): the
   stories of the 20 symbols of SYMBOLS, a fixed list of LTP library API names.

Each story is told once to warm the page cache and the index, then timed REPEAT times;
the median is printed per symbol (target: <= 1 s each) with what the story found, then
the figures.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from patchtrail.index.store import DEFAULT_NAME, Store
from patchtrail.story.story import tell_story

DEMO_SYMBOLS = ["enable_preemption_timer", "hv_timer_in_use"]
SYMBOLS = [
    "tst_res", "tst_brk", "tst_resm", "tst_brkm", "tst_test", "tst_reap_children",
    "tst_kvercmp", "tst_fill_file", "tst_get_bad_addr", "tst_timer_start", "tst_tmpdir",
    "tst_cgroup_require", "tst_taint_init", "tst_fzsync_pair_reset", "tst_checkpoint_wait",
    "SAFE_FORK", "SAFE_OPEN", "SAFE_MMAP", "TST_EXP_PASS", "TST_RETRY_FUNC",
]
REPEAT = 3
TARGET = 1.0


def time_stories(db: Path, symbols: list[str]) -> list[float]:
    times: list[float] = []
    with Store.open(db, create=False) as store:
        for sym in symbols:
            story = tell_story(store, sym)  # warm
            runs = []
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                story = tell_story(store, sym)
                runs.append(time.perf_counter() - t0)
            med = statistics.median(runs)
            times.append(med)
            revs = len(story.series.revisions) if story.series else 0
            commits = sum(len(f.group.commits) for f in story.followups)
            chained = sum(1 for f in story.followups if f.revisions)
            print(f"  {sym:<26} {med:6.3f} s  {'OK ' if med <= TARGET else 'SLOW'} "
                  f"series {revs} rev. {(story.title or '')[:40]!r:<44} "
                  f"follow-ups {len(story.followups)} ({chained} with revisions, {commits} commits, "
                  f"+{story.followups_truncated} not examined), discussions {len(story.discussions)}",
                  flush=True)
    return times


def summary(name: str, times: list[float]) -> str:
    return (f"{name}: median {statistics.median(times):.3f} s, max {max(times):.3f} s, "
            f"{sum(t <= TARGET for t in times)}/{len(times)} within {TARGET:.0f} s")


def demo_db(root: Path) -> Path:
    """The demo index, DIR/patchtrail.db: `patchtrail demo --dir DIR` builds it when missing."""
    db = root / DEFAULT_NAME
    if not db.exists():
        print(f"building the demo corpus in {root} ...", flush=True)
        subprocess.run([sys.executable, "-m", "patchtrail", "demo", "--dir", str(root)],
                       check=True, stdout=subprocess.DEVNULL)
    return db


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo-dir", type=Path, help="a `patchtrail demo --dir` directory (built when missing)")
    ap.add_argument("--db", type=Path, help="an index of the LTP repository and list archive")
    args = ap.parse_args(argv)
    print("demo corpus:")
    with tempfile.TemporaryDirectory(prefix="bench-story-") as tmp:
        root = args.demo_dir or Path(tmp) / "demo"
        figures = [summary("demo", time_stories(demo_db(root), DEMO_SYMBOLS))]
    if args.db is not None:
        print(f"LTP ({args.db}):")
        figures.append(summary("LTP", time_stories(args.db, SYMBOLS)))
    print(f"\nstory, warm, target <= {TARGET:.0f} s each:")
    for line in figures:
        print(f"  {line}")


if __name__ == "__main__":
    main()
