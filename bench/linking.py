"""Linking accuracy on real LTP data, against the b4-dig-like baseline, in one run.

Ground truth: commits since 2019-05 whose `Link: https://lore.kernel.org/ltp/<msgid>/`
trailer names a message in the indexed archive. Both matchers run blind (`ignore_links`).
Labels that point at something other than the applied patch (a reply, a cover letter, a
sibling patch, a report) are classified and listed, and figures are given with and
without them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from patchtrail.index.store import Store
from patchtrail.link.commits import load_commits
from patchtrail.link.dig import dig_commit, link_ids
from patchtrail.link.model import CommitInfo
from patchtrail.link.score import subject_similarity

SINCE = 1556668800  # 2019-05-01T00:00:00Z


def thread_root(conn, msgid: str) -> str:
    row = conn.execute("SELECT refs, in_reply_to FROM messages WHERE msgid=?", (msgid,)).fetchone()
    if row is None:
        return msgid
    refs = row["refs"].split()
    if refs:
        return refs[0]
    return row["in_reply_to"] or msgid


def b4_like(conn, commit: CommitInfo) -> str | None:
    """What `b4 dig` does: exact patch-id, then exact subject + author email; latest wins."""
    if commit.patch_id:
        row = conn.execute(
            "SELECT msgid FROM messages WHERE patch_id=? ORDER BY date DESC LIMIT 1",
            (commit.patch_id,),
        ).fetchone()
        if row:
            return row[0]
    row = conn.execute(
        "SELECT msgid FROM messages WHERE title=? AND author_email=? AND is_patch"
        " ORDER BY date DESC LIMIT 1",
        (commit.subject, commit.author_email.lower()),
    ).fetchone()
    return row[0] if row else None


def classify_label(conn, commit: CommitInfo, msgid: str) -> str | None:
    """Why a label is not the applied patch email, or None when it is one.

    Only evidence a reviewer would accept: the label is not a patch at all, or it touches
    none of the commit's files, or another
    mail carries the commit's exact diff (patch-id) *and* its exact git-am author date
    while the label's diff differs, or the label's subject is another patch's and a
    sibling in its thread has the commit's subject.
    """
    row = conn.execute(
        "SELECT is_patch, is_reply, number, total, subject_norm, patch_id FROM messages WHERE msgid=?",
        (msgid,),
    ).fetchone()
    if row["is_reply"] and not row["is_patch"]:
        return "points at a reply"
    if not row["is_patch"]:
        if row["number"] == 0:
            return "points at the cover letter"
        return "points at a message with no patch (report, discussion)"
    root = thread_root(conn, msgid)
    files = set(conn.execute("SELECT files FROM messages WHERE msgid=?", (msgid,)).fetchone()[0].split("\n"))
    if commit.files and not files & set(commit.files):
        return "points at a patch that touches none of the commit's files"
    if commit.patch_id and row["patch_id"] != commit.patch_id:
        for other in conn.execute(
            "SELECT msgid FROM messages WHERE patch_id=? AND date=? AND msgid<>?",
            (commit.patch_id, commit.author_time, msgid),
        ):
            if thread_root(conn, other[0]) == root:
                return "points at a sibling patch of the series (the commit is another patch of it)"
            return "points at another revision (the commit's diff and author date are another mail's)"
    if subject_similarity(commit.subject_norm, row["subject_norm"]) < 0.5:
        for other in conn.execute(
            "SELECT msgid, subject_norm FROM messages WHERE is_patch AND (msgid=? OR refs LIKE ?)",
            (root, f"{root}%"),
        ):
            if other[0] != msgid and subject_similarity(commit.subject_norm, other[1]) >= 0.9:
                return "points at a sibling patch of the series (the commit is another patch of it)"
    return None


def measure(db: Path, limit: int = 0, misses_path: Path | None = None) -> dict[str, object]:
    """Run both matchers blind over every labelled commit; return counters and timings."""
    store = Store.open(db, create=False)
    conn = store.conn
    rows = conn.execute(
        "SELECT oid FROM commits WHERE committer_time >= ? AND parents NOT LIKE '% %'"
        " ORDER BY committer_time", (SINCE,),
    ).fetchall()
    oids = [r[0] for r in rows]
    t0 = time.perf_counter()
    commits = list(load_commits(store, oids))
    batch = [dig_commit(store, c, ignore_links=True) for c in commits]
    batch_s = time.perf_counter() - t0
    labelled: list[tuple[CommitInfo, str]] = []
    for c in commits:
        ids = [i for i in link_ids(c) if conn.execute(
            "SELECT 1 FROM messages WHERE msgid=?", (i,)).fetchone()]
        if ids:
            labelled.append((c, ids[0]))
    if limit:
        labelled = labelled[:limit]
    ours: Counter[str] = Counter()
    base: Counter[str] = Counter()
    ours_patch: Counter[str] = Counter()
    base_patch: Counter[str] = Counter()
    non_patch: list[tuple[str, str, str]] = []
    misses = []
    lat: list[float] = []
    for c, label in labelled:
        t0 = time.perf_counter()
        r = dig_commit(store, c, ignore_links=True)
        lat.append(time.perf_counter() - t0)
        got = r.match.message_id if r.match else None
        b = b4_like(conn, c)
        reason = classify_label(conn, c, label)
        verdict = _verdict(conn, got, label)
        bverdict = _verdict(conn, b, label)
        ours[verdict] += 1
        base[bverdict] += 1
        if reason:
            non_patch.append((c.oid[:12], label, reason))
        else:
            ours_patch[verdict] += 1
            base_patch[bverdict] += 1
        if verdict != "recall@1":
            misses.append({"commit": c.oid, "subject": c.subject, "label": label, "got": got,
                           "verdict": verdict, "label_kind": reason or "patch",
                           "score": r.match.score if r.match else None,
                           "method": r.match.method if r.match else None,
                           "candidates": [(m.message_id, m.score) for m in r.candidates]})
    if misses_path:
        misses_path.write_text("".join(json.dumps(m) + "\n" for m in misses))
    store.close()
    return {
        "commits": len(commits), "labelled": len(labelled), "non_patch": non_patch,
        "ours": ours, "base": base, "ours_patch": ours_patch, "base_patch": base_patch,
        "latency": lat, "batch_s": batch_s, "batch_found": sum(r.match is not None for r in batch),
        "misses": misses,
    }


def report(f: dict) -> None:
    print(f"commits since 2019-05: {f['commits']}; with a Link trailer into the archive: {f['labelled']}")
    print(f"labels that are not the applied patch email: {len(f['non_patch'])}")
    for oid, label, reason in f["non_patch"]:
        print(f"  {oid}  {reason}: {label}")
    n = f["labelled"]
    _table("all labels", n, f["ours"], f["base"])
    _table("labels that are patch emails", n - len(f["non_patch"]), f["ours_patch"], f["base_patch"])
    lat = f["latency"]
    if lat:
        print(f"dig latency per commit (warm, blind): median {statistics.median(lat) * 1000:.1f} ms,"
              f" p95 {sorted(lat)[int(len(lat) * 0.95)] * 1000:.1f} ms")
    print(f"batch: all {f['commits']} commits since 2019-05 dug in {f['batch_s']:.1f} s"
          f" ({f['batch_found']} linked; target <= 60 s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", required=True, type=Path, help="index holding the LTP repo and archive")
    ap.add_argument("--limit", type=int, default=0, help="only the first N labelled commits")
    ap.add_argument("--misses", type=Path, help="write every miss as JSONL here")
    args = ap.parse_args(argv)
    report(measure(args.db, args.limit, args.misses))
    return 0


def _verdict(conn, got: str | None, label: str) -> str:
    if got is None:
        return "none"
    if got == label:
        return "recall@1"
    if thread_root(conn, got) == thread_root(conn, label):
        return "same-thread"
    return "wrong"


def _table(title: str, n: int, ours: Counter[str], base: Counter[str]) -> None:
    print(f"\n{title} (n={n})            patchtrail      b4-like baseline")
    for key in ("recall@1", "same-thread", "wrong", "none"):
        a, b = ours[key], base[key]
        print(f"  {key:<12} {a:6d} {100 * a / max(n, 1):6.2f}%   {b:6d} {100 * b / max(n, 1):6.2f}%")


if __name__ == "__main__":
    sys.exit(main())
