"""Every benchmark of the foundation issue in one command, figures printed last.

    python -m bench.run --repo PATH/ltp --archive PATH/ltp.lists.linux.it.0 [--work DIR]

1. ingest: `patchtrail index` of the archive against `git cat-file --batch` reading every
   blob (the floor), and of the repository against `git log -p`; peak memory of the tree.
2. linking: blind accuracy (`--ignore-links`) over commits since 2019-05 whose Link trailer
   names a message in the archive, against the b4-dig-like baseline, in the same run.
3. dig latency per commit (warm) and all commits since 2019-05 in one batch.
4. origin: `patchtrail origin` against `git log -S` on 200 identifiers of the tree, in the
   same run (bench/origin.py; the index build time is step 1's repository figure).
5. story: a whole `patchtrail story`, warm, for the demo's two symbols and 20 LTP library
   symbols on step 1's index (bench/story.py; target <= 1 s each).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import ingest, linking, origin, series, story


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, required=True, help="the LTP git repository")
    ap.add_argument("--archive", type=Path, required=True, help="the LTP list archive (epoch or inbox)")
    ap.add_argument("--work", type=Path, help="where to keep the index and the misses (default: temp)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        db = work / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        print("indexing (fresh index) ...", flush=True)
        ingest_figures = ingest.measure(args.archive, args.repo, db)
        print("linking ...", flush=True)
        link_figures = linking.measure(db, misses_path=work / "misses.jsonl")
        print("\n== figures ==")
        ingest.report(ingest_figures)
        linking.report(link_figures)
        print("\n== revision chains ==", flush=True)
        series.main(["--db", str(db), "--show", "5"])
        print("\n== origin (against git log -S) ==", flush=True)
        origin.report(origin.measure(args.repo, db))
        print("\n== story (warm, target <= 1 s each) ==", flush=True)
        story.main(["--db", str(db)])
        print(f"(misses written to {work / 'misses.jsonl'})" if args.work else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
