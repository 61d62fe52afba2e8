"""`patchtrail origin` against `git log -S` on a real repository (LTP), in the same run.

    python -m bench.origin --repo PATH/ltp [--db FILE] [--sample 200] [--global-sample 20]

1. Index: with no --db (or a --db that does not exist yet), `patchtrail index --repo` of the
   whole history into a fresh file, timed (target <= 2 min), and the identifier index's
   size (the `idents`, `paths`, `ident_changes`, `path_changes` tables and their indexes).
2. Identifiers: `--sample` identifiers drawn with a fixed seed from the C, header, shell and
   Python files of HEAD (tokens of 5+ characters with an underscore, a digit or a capital
   after the first letter, i.e. not plain words), each with one file it is in at HEAD.
3. Answers, per identifier and file: `git log -S ID --reverse -- FILE` (what a person asks
   about the file in front of them) against `patchtrail origin ID --path FILE`. Where they
   differ, the reason is classified: the pickaxe's commit is a move or rename into the file
   (patchtrail saw it come from elsewhere: the expected difference, listed), or something
   else (listed too). On `--global-sample` of them, also the whole-history
   `git log -S ID --reverse` against `patchtrail origin ID`.
4. Speed: every query of both tools is timed in the same run; patchtrail's warm (the index
   file read once before), medians and the ratio are printed.

Mirrors with missing blobs make `git log -S` die ("unable to read"); the paths of missing
blobs are found first (`git rev-list --missing=print`) and excluded from every pickaxe.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from patchtrail.index.store import Store
from patchtrail.sources.catfile import CatFile
from patchtrail.sources.git import GitRepo
from patchtrail.story.model import MOVE, RENAME
from patchtrail.story.origin import symbol_origin

SEED = 20240614
EXTENSIONS = (".c", ".h", ".sh", ".py")
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{4,60}\b")
SUBSTRING = "git's commit never adds the whole word (-S counts substrings)"
IDENT_TABLES = ("idents", "paths", "ident_changes", "path_changes", "sqlite_autoindex_idents_1",
                "sqlite_autoindex_paths_1")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], check=False, capture_output=True, text=True,
                          errors="replace")


def build_index(repo: Path, db: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "patchtrail", "index", "-q", "--db", str(db),
                    "--repo", str(repo)], check=True)
    return time.perf_counter() - t0


def table_sizes(db: Path) -> dict[str, int]:
    with Store.open(db, create=False) as store:
        rows = store.conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    return {name: size for name, size in rows}


def missing_blob_paths(repo: Path) -> list[str]:
    """Paths (anywhere in history) whose blobs this mirror lacks."""
    listing = _git(repo, "rev-list", "--objects", "--all", "--missing=print").stdout
    missing = {ln[1:] for ln in listing.splitlines() if ln.startswith("?")}
    if not missing:
        return []
    raw = _git(repo, "log", "--all", "--raw", "--no-abbrev", "--format=").stdout
    paths: set[str] = set()
    for ln in raw.splitlines():
        parts = ln.split("\t")
        meta = parts[0].split()
        if len(meta) >= 4 and (meta[2] in missing or meta[3] in missing):
            paths.update(parts[1:])
    return sorted(paths)


def draw_identifiers(repo: Path, n: int, seed: int) -> list[tuple[str, str]]:
    """`n` (identifier, a file of HEAD holding it), reproducibly."""
    listing = _git(repo, "ls-tree", "-r", "-l", "HEAD").stdout.splitlines()
    files = sorted(ln.split("\t", 1)[1] for ln in listing
                   if ln.split()[1] == "blob" and ln.split("\t", 1)[1].endswith(EXTENSIONS)
                   and ln.split()[3].isdigit() and int(ln.split()[3]) < 300_000)
    where: dict[str, str] = {}
    with CatFile(repo) as cat:
        for spec, data in cat.stream(f"HEAD:{f}" for f in files):
            if data is None:
                continue
            for tok in _IDENT.findall(data.decode("utf-8", "replace")):
                if tok not in where and ("_" in tok or any(c.isdigit() or c.isupper() for c in tok[1:])):
                    where[tok] = spec[5:]
    names = sorted(where)
    return [(name, where[name]) for name in random.Random(seed).sample(names, min(n, len(names)))]


def pickaxe(repo: Path, ident: str, path: str | None, excludes: list[str]) -> tuple[str | None, float]:
    specs = [path] if path else [".", *(f":(exclude){p}" for p in excludes)]
    t0 = time.perf_counter()
    proc = _git(repo, "log", "-S", ident, "--reverse", "--format=%H", "HEAD", "--", *specs)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"git log -S {ident}: {proc.stderr.strip()}")
    out = proc.stdout.split()
    return (out[0] if out else None), took


@dataclass
class Case:
    ident: str
    path: str | None
    git_oid: str | None
    git_s: float
    ours_oid: str | None = None
    ours_s: float = 0.0
    verdict: str = ""
    detail: str = ""
    moves: list[str] = field(default_factory=list)


def compare(store: Store, repo: Path, source_id: int, cases: list[Case]) -> None:
    subjects = {}
    for case in cases:
        t0 = time.perf_counter()
        o = symbol_origin(store, case.ident, case.path, source_id)
        case.ours_s = time.perf_counter() - t0
        case.ours_oid = o.birth.commit.oid if o.birth else None
        move_oids = {e.commit.oid: e for e in o.moves if e.kind in (MOVE, RENAME)}
        case.moves = list(move_oids)
        if case.ours_oid == case.git_oid:
            case.verdict = "same"
        elif case.git_oid in move_oids:
            e = move_oids[case.git_oid]
            case.verdict = "move"
            case.detail = f"{e.kind} {', '.join(e.moved_from)} -> {', '.join(e.moved_to)}"
        else:
            case.verdict = "other"
            touched = {e.commit.oid for e in o.events}
            if case.git_oid is not None and case.git_oid not in touched:
                case.detail = SUBSTRING
            elif case.ours_oid is None:
                case.detail = o.note or "no birth"
            else:
                case.detail = "see the two commits"
        for oid in (case.git_oid, case.ours_oid):
            if oid and oid not in subjects:
                subjects[oid] = _git(repo, "log", "-1", "--format=%s", oid).stdout.strip()
        if case.verdict != "same":
            case.detail = _cut(case.detail, 200)
            for who, oid in (("git log -S", case.git_oid), ("patchtrail", case.ours_oid)):
                case.detail += f"\n      {who}: {(oid or '-')[:12]} {_cut(subjects.get(oid, ''), 80)}"


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _summary(label: str, cases: list[Case]) -> None:
    same = sum(c.verdict == "same" for c in cases)
    moves = [c for c in cases if c.verdict == "move"]
    other = [c for c in cases if c.verdict == "other"]
    births = len(cases) - len(moves)
    print(f"\n{label}: {len(cases)} identifiers; same commit {same}; differ because git's commit is a"
          f" move/rename {len(moves)}; other differences {len(other)}")
    print(f"  agreement where git log -S names a real birth: {same}/{births}"
          f" = {100 * same / max(births, 1):.1f} %")
    whole_word = [c for c in other if c.detail.startswith(SUBSTRING)]
    if whole_word:
        n = births - len(whole_word)
        print(f"  leaving out the {len(whole_word)} where git's commit never adds the whole word:"
              f" {same}/{n} = {100 * same / max(n, 1):.1f} %")
    g = [c.git_s for c in cases]
    o = [c.ours_s for c in cases]
    print(f"  git log -S: median {1000 * statistics.median(g):.0f} ms, total {sum(g):.1f} s;"
          f" patchtrail origin (warm): median {1000 * statistics.median(o):.1f} ms,"
          f" p95 {1000 * sorted(o)[int(0.95 * (len(o) - 1))]:.1f} ms, total {sum(o):.2f} s;"
          f" speed-up (total) {sum(g) / max(sum(o), 1e-9):.0f}x")
    for title, group in (("moves (expected differences)", moves), ("other differences", other)):
        if group:
            print(f"  {title}:")
            for c in group:
                print(f"    {c.ident}  ({c.path or 'whole history'}): {c.detail}")


@dataclass
class Figures:
    build_s: float | None
    sizes: dict[str, int]
    excludes: list[str]
    per_file: list[Case]
    whole: list[Case]


def measure(repo: Path, db: Path, sample: int = 200, global_sample: int = 20,
            seed: int = SEED) -> Figures:
    """Build `db` if it does not exist (timed), then compare on `sample` identifiers."""
    build_s = None
    if not db.exists():
        print(f"indexing {repo} into {db} ...", flush=True)
        build_s = build_index(repo, db)
    sizes = table_sizes(db)
    print("finding missing blobs ...", flush=True)
    excludes = missing_blob_paths(repo)
    print(f"drawing {sample} identifiers (seed {seed}) ...", flush=True)
    drawn = draw_identifiers(repo, sample, seed)
    print(f"git log -S, per file ({len(drawn)}) ...", flush=True)
    per_file = [Case(i, p, *pickaxe(repo, i, p, excludes)) for i, p in drawn]
    print(f"git log -S, whole history ({min(global_sample, len(drawn))}) ...", flush=True)
    whole = [Case(i, None, *pickaxe(repo, i, None, excludes)) for i, _ in drawn[:global_sample]]
    with Store.open(db, create=False) as store:
        repo_path = GitRepo(repo).path
        source_id = next(s.id for s in store.sources("git") if s.path == repo_path)
        for i, p in drawn[:20]:  # warm the file cache: patchtrail is measured warm
            symbol_origin(store, i, p, source_id)
        compare(store, repo, source_id, per_file)
        compare(store, repo, source_id, whole)
    return Figures(build_s, sizes, excludes, per_file, whole)


def report(f: Figures) -> None:
    if f.build_s is not None:
        print(f"index build, whole history (patchtrail index --repo): {f.build_s:.1f} s (target <= 120 s)")
    ident_bytes = sum(f.sizes.get(t, 0) for t in IDENT_TABLES)
    total = sum(f.sizes.values())
    print(f"identifier index: {ident_bytes / 1e6:.1f} MB of a {total / 1e6:.1f} MB index"
          f" ({', '.join(f'{t} {f.sizes.get(t, 0) / 1e6:.1f} MB' for t in IDENT_TABLES)})")
    if f.sizes.get("prose_fts_data"):
        prose = sum(v for k, v in f.sizes.items() if k.startswith("prose_fts"))
        print(f"message prose full-text index (prose_fts): {prose / 1e6:.1f} MB")
    if f.excludes:
        print(f"excluded from git log -S (blobs missing in this mirror): {', '.join(f.excludes)}")
    _summary("per file: git log -S ID --reverse -- FILE  vs  patchtrail origin ID --path FILE", f.per_file)
    _summary("whole history: git log -S ID --reverse  vs  patchtrail origin ID", f.whole)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, required=True, help="the LTP git repository")
    ap.add_argument("--db", type=Path, help="an index of it (built, and timed, when missing)")
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--global-sample", type=int, default=20,
                    help="how many of them also get a whole-history git log -S (seconds each)")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(args.repo, args.db or Path(tmp) / "origin.db", args.sample,
                          args.global_sample, args.seed)
    print("\n== figures ==")
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
