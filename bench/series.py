"""Revision chains on a real archive, blind: how many earlier revisions are found.

Ground truth: the cover letters (and single patches) whose notes carry b4's "Link to vN:"
lines naming earlier revisions that the archive holds. The chain is built with those
lines and every change-id hidden (`ignore_links`), so it must come from content. The
b4 rule (an earlier posting with the same subject from the same sender) runs in the same
run on the same messages. Also timed: building every series of the whole archive.

    python -m bench.series --db INDEX   (an index holding the archive; see bench/README.md)
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field

from patchtrail.index.rows import body_parts
from patchtrail.index.store import Store
from patchtrail.link.msgstore import MemoryMessages, Messages, SqlMessages
from patchtrail.link.postings import is_posted_patch, posting_of
from patchtrail.link.revisions import ChainFinder
from patchtrail.link.series_model import Msg
from patchtrail.mail.trailers import revision_links


@dataclass
class Case:
    msg: Msg
    truth: dict[int, str]  # version -> Message-ID named by "Link to vN:"


@dataclass
class Tally:
    found: int = 0
    missed: int = 0
    wrong: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.found + self.missed + self.wrong

    def line(self, name: str) -> str:
        n = self.total or 1
        return (f"{name:<34} found {self.found:4d} ({100 * self.found / n:5.1f}%)  "
                f"missed {self.missed:4d} ({100 * self.missed / n:5.1f}%)  "
                f"wrong {self.wrong:4d} ({100 * self.wrong / n:5.1f}%)")


def ground_truth(db: MemoryMessages) -> list[Case]:
    cases = []
    for m in db.msgs.values():
        if not is_posted_patch(m) or m.number not in (0, None) or m.version < 2:
            continue
        blob = db.body(m)
        if blob is None:
            continue
        message, notes, _ = body_parts(blob)
        truth = {v: mid for v, mid in revision_links(message + "\n" + notes)
                 if v < m.version and mid in db.msgs}
        if truth:
            cases.append(Case(m, truth))
    return sorted(cases, key=lambda c: c.msg.id)


def posting_key(db: Messages, msgid: str, cache: dict[str, str | None]) -> str | None:
    if msgid not in cache:
        m = db.by_msgid([msgid]).get(msgid)
        p = posting_of(db, m) if m else None
        cache[msgid] = p.key if p else None
    return cache[msgid]


def judge(tally: Tally, case: Case, found: dict[int, str], db: Messages, keys: dict[str, str | None]) -> None:
    for v, truth in case.truth.items():
        want = posting_key(db, truth, keys)
        got = found.get(v)
        if got is None:
            tally.missed += 1
            tally.details.append(f"missed v{v}: {case.msg.subject[:70]} <{case.msg.msgid}>")
        elif got == want or got == truth:
            tally.found += 1
        else:
            tally.wrong += 1
            tally.details.append(f"wrong v{v}: {case.msg.subject[:70]} <{case.msg.msgid}> got <{got}>")


def patchtrail_previous(finder: ChainFinder, db: Messages, m: Msg) -> dict[int, str]:
    posting = posting_of(db, m)
    if posting is None:
        return {}
    return {r.version: r.posting.key for r in finder.chain(posting) if r.version < m.version}


def b4_previous(db: MemoryMessages, m: Msg, keys: dict[str, str | None]) -> dict[int, str]:
    """b4's rule: an earlier posting whose subject (tags stripped) and sender are the same."""
    out: dict[int, str] = {}
    for other in db._author.get(m.author_email, []):
        if (other.version < m.version and other.sender_email == m.sender_email
                and other.title.lower() == m.title.lower() and other.number in (0, None, 1)
                and not other.is_reply):
            key = posting_key(db, other.msgid, keys)
            if key and (other.version not in out or other.number == 0):
                out[other.version] = key
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="an index holding the archive (patchtrail index --archive)")
    ap.add_argument("--show", type=int, default=15, help="how many misses to list")
    args = ap.parse_args(argv)
    store = Store.open(args.db, create=False)
    conn: sqlite3.Connection = store.conn

    t0 = time.perf_counter()
    mem = MemoryMessages(conn)
    load_s = time.perf_counter() - t0
    cases = ground_truth(mem)
    print(f"{len(mem.msgs)} messages loaded in {load_s:.1f}s; {len(cases)} postings name "
          f"{sum(len(c.truth) for c in cases)} earlier revisions held by the archive")

    keys: dict[str, str | None] = {}
    ours, base = Tally(), Tally()
    finder = ChainFinder(SqlMessages(conn), ignore_links=True)
    sql_db = finder.db
    t0 = time.perf_counter()
    for case in cases:
        judge(ours, case, patchtrail_previous(finder, sql_db, case.msg), mem, keys)
    per_case = (time.perf_counter() - t0) / max(1, len(cases))
    for case in cases:
        judge(base, case, b4_previous(mem, case.msg, keys), mem, keys)
    print(ours.line("patchtrail (links, change-id hidden)"))
    print(base.line("b4 rule (same subject + sender)"))
    print(f"patchtrail chain per posting (SQL, cold caches): {1000 * per_case:.1f} ms")
    for d in ours.details[: args.show]:
        print("  ", d)

    t0 = time.perf_counter()
    n_series, versions = build_all(mem)
    total_s = time.perf_counter() - t0
    print(f"all series of the archive: {n_series} series, {sum(k * v for k, v in versions.items())} postings, "
          f"built in {total_s:.1f}s (+{load_s:.1f}s loading); revisions per series: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(versions.items())[:8]))
    return 0


def build_all(mem: MemoryMessages) -> tuple[int, Counter[int]]:
    """Every posting of the archive, chained: each posting is visited once."""
    finder = ChainFinder(mem, ignore_links=True)
    done: set[str] = set()
    sizes: Counter[int] = Counter()
    n = 0
    for m in sorted(mem.msgs.values(), key=lambda m: (m.date or 0, m.id)):
        if not is_posted_patch(m) or m.msgid in done:
            continue
        posting = posting_of(mem, m)
        if posting is None:
            continue
        done.update(p.msgid for p in posting.messages)
        chain = finder.chain(posting)
        for r in chain:
            done.update(p.msgid for p in r.posting.messages)
        sizes[len(chain)] += 1
        n += 1
    return n, sizes


if __name__ == "__main__":
    raise SystemExit(main())
