"""`patchtrail dig`: for each commit, the email it was applied from and the runners-up."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable, Iterator

from patchtrail.index.store import Store
from patchtrail.link.candidates import (
    Exact,
    candidate_ids,
    exact_ids,
    fuzzy_ids,
    load_messages,
    messages_by_msgid,
)
from patchtrail.link.model import CommitInfo, DigResult, Evidence, Match
from patchtrail.link.score import (
    DAY,
    FULL_PROOF_LINES,
    THRESHOLD,
    evidence,
    person_similarity,
    score,
    to_match,
)
from patchtrail.mail.fingerprint import changed_line_count
from patchtrail.mail.trailers import link_message_ids, parse_trailers

RUNNERS_UP = 4


def link_ids(commit: CommitInfo) -> list[str]:
    values = [v for k, v in parse_trailers(commit.message) if k.lower() == "link"]
    return link_message_ids(values)


def dig_commit(store: Store, commit: CommitInfo, ignore_links: bool = False) -> DigResult:
    if commit.is_merge:
        return DigResult(commit, None, note="merge commit: not applied from a patch")
    conn = store.conn
    linked = [] if ignore_links else link_ids(commit)
    matches: list[Match] = []
    linked_rows = messages_by_msgid(conn, linked) if linked else []
    linked_ids = {row["id"] for row in linked_rows}
    for row in linked_rows:
        matches.append(to_match(commit, row, linked=True))
    for row in load_messages(conn, candidate_ids(conn, commit) - linked_ids):
        matches.append(to_match(commit, row))
    matches.sort(key=lambda m: (m.score, m.date or 0), reverse=True)
    if matches and not matches[0].evidence.link:
        matches = prefer_latest_revision(matches)
    best = matches[0] if matches and matches[0].score >= THRESHOLD else None
    rest = [m for m in matches[1 if best else 0:] if m.score > 0.2][:RUNNERS_UP]
    note = None
    if linked and not linked_rows:
        note = "Link trailer names a message that is not in the indexed archives"
    elif commit.diff_error:
        note = f"diff unreadable ({commit.diff_error}); matched without it"
    return DigResult(commit, best, rest, linked, note)


def _same_patch(m: Match, best: Match) -> bool:
    """Whether `m` carries the patch `best` does: another revision or a resend of it."""
    return _same_patch_evidence(m.evidence, best.evidence)


def _same_patch_evidence(a: Evidence, b: Evidence) -> bool:
    """`_same_patch` on the evidence. It only grows with a's diff, so on an optimistic
    evidence (`_optimistic`: the diff at its bound) it holds for every possible twin."""
    if a.reply or a.posted_after_commit or a.author < b.author:
        return False
    if a.patch_id and b.patch_id:
        return True
    if b.patch_id:
        # The commit carries b's diff to the byte: a later posting whose diff is only
        # alike (a re-post inside another series, reworked) is not the one applied.
        return False
    return a.diff >= 0.8 and a.diff >= b.diff - 0.02 and a.subject >= b.subject - 0.15


def prefer_latest_revision(matches: list[Match]) -> list[Match]:
    """Among revisions carrying the same patch, the last one posted before the commit.

    An older revision with the same diff can win on points when its Date equals the
    commit's author date. On LTP (bench/) the maintainers' Link trailers name the newest
    revision in 5 such cases and the date-equal older one in 2, so newest wins, as in b4.
    """
    best = matches[0]
    twins = [m for m in matches if m is best or _same_patch(m, best)]
    latest = max(twins, key=lambda m: m.date or 0)
    if latest is best:
        return matches
    return [latest] + [m for m in matches if m is not latest]


def _diff_bound(commit_lines: int, commit_fp: bytes | None, row_fp: bytes | None) -> float:
    """The highest diff term `score.evidence` can give two fingerprints without the same
    patch-id: the Dice similarity of their changed lines is at most 2·min/(sum) of their
    counts (then tempered by the anchors, by at most 1), scaled by the proof below
    FULL_PROOF_LINES; no line on either side gives 0. tests/test_story.py checks that
    `best_match` keeps giving dig's answers."""
    if not (commit_fp and row_fp):
        return 0.0
    lines = changed_line_count(row_fp)
    proof = min(commit_lines, lines)
    if not proof:
        return 0.0
    return 2.0 * proof / (commit_lines + lines) * min(1.0, proof / FULL_PROOF_LINES)


def _optimistic(commit: CommitInfo, bare: CommitInfo, commit_lines: int, row: sqlite3.Row,
                linked: bool) -> Evidence:
    """The message's evidence with its costly term at its highest: the diff at
    `_diff_bound` (1.0 on the same patch-id), the files as shared. Subject, author,
    date, reply and link terms are the real ones (`bare` is the commit without its diff,
    which `evidence` then skips)."""
    ev = evidence(bare, row, linked)
    ev.patch_id = bool(commit.patch_id) and commit.patch_id == row["patch_id"]
    ev.diff = 1.0 if ev.patch_id else _diff_bound(commit_lines, commit.fingerprint, row["fingerprint"])
    ev.files = 1.0
    return ev


# The author term of another address under the same name: the best below the same address.
_SAME_NAME = person_similarity("n", "a@a", "n", "b@b")
# The best score of a message that is neither a patch of the commit's author (address) nor
# a patch posted on the commit's author date: another address's patch, or a message with
# no diff (is_patch is false exactly when a message has no diff, hence no patch-id).
OTHERS_MAX = max(score(Evidence(diff=1.0, files=1.0, subject=1.0, author=_SAME_NAME)),
                 score(Evidence(subject=1.0, author=1.0, date_exact=True)))


def _authors_max(commit: CommitInfo, before: float) -> float:
    """The best score of a patch of the commit's author posted before `before` and not on
    the author date: its recency is at most that of `before`."""
    days = max(commit.committer_time - before, 0) / DAY
    return score(Evidence(diff=1.0, files=1.0, subject=1.0, author=1.0, days_before_commit=days))


class _Ranking:
    """The candidates of one commit, scored only as far as dig's answer needs.

    Each candidate has dig's position (messages named by Link trailers first, then by
    row id), which breaks ties of score and date as dig's stable sort does. Its score is
    computed only when a bound of it reaches the best score so far (and THRESHOLD: below
    it nothing is claimed): first the cheap bound (its author, date and reply terms, the
    rest as if equal), then the optimistic evidence (`_optimistic`).
    """

    def __init__(self, commit: CommitInfo) -> None:
        self.commit = commit
        self.bare = dataclasses.replace(commit, patch_id=None, fingerprint=None)
        self.blind = dataclasses.replace(self.bare, subject="", subject_norm="")
        self.lines = changed_line_count(commit.fingerprint) if commit.fingerprint else 0
        self.rows: list[tuple[tuple[int, int], sqlite3.Row, bool]] = []
        self.optimistic: dict[tuple[int, int], Evidence] = {}
        self.ids: set[int] = set()
        self.scored: dict[tuple[int, int], Match] = {}
        self.top_score = -1.0

    def add(self, rows: list[sqlite3.Row], linked: bool = False) -> None:
        """Take more candidates; score those that could come first, best bounds first."""
        new = [((0, i) if linked else (1, row["id"]), row, linked) for i, row in enumerate(rows)]
        self.rows += new
        self.ids.update(row["id"] for row in rows)
        bounded = sorted(((self._cheap_bound(row, linked), k) for k, (_pos, row, linked) in enumerate(new)),
                         reverse=True)
        for bound, k in bounded:
            if bound < max(self.top_score, THRESHOLD):
                break
            pos, row, linked = new[k]
            if linked or score(self._optimistic(pos, row, linked)) >= max(self.top_score, THRESHOLD):
                self.top_score = max(self.top_score, self._score(pos, row, linked).score)

    def _cheap_bound(self, row: sqlite3.Row, linked: bool) -> float:
        if linked:
            return 1.0
        ev = evidence(self.blind, row)
        ev.diff = ev.subject = ev.files = 1.0
        return score(ev)

    def _optimistic(self, pos: tuple[int, int], row: sqlite3.Row, linked: bool) -> Evidence:
        if pos not in self.optimistic:
            self.optimistic[pos] = _optimistic(self.commit, self.bare, self.lines, row, linked)
        return self.optimistic[pos]

    def _score(self, pos: tuple[int, int], row: sqlite3.Row, linked: bool) -> Match:
        if pos not in self.scored:
            self.scored[pos] = to_match(self.commit, row, linked=linked)
        return self.scored[pos]

    def in_dig_order(self) -> list[Match]:
        return [m for _pos, m in sorted(self.scored.items(), key=self._rank)]

    def top(self) -> Match:
        return min(self.scored.items(), key=self._rank)[1]

    @staticmethod
    def _rank(item: tuple[tuple[int, int], Match]) -> tuple[float, int, tuple[int, int]]:
        pos, m = item
        return -m.score, -(m.date or 0), pos

    def settled(self, exact: Exact, after: float) -> bool:
        """Whether no message not taken yet could change the answer, when those taken hold
        every patch posted on the author date and every patch of the author posted since
        `after`: the best scores above any other message (OTHERS_MAX; the author's older
        patches can at most tie, and lose the tie on the date), and every later revision
        that could replace it (the same address's, posted after it: see
        `prefer_latest_revision`) is taken."""
        if not exact.all_dated or self.top_score <= OTHERS_MAX \
                or self.top_score < _authors_max(self.commit, after):
            return False
        top = self.top()
        return top.evidence.link or (top.evidence.author >= 1.0 and (top.date or 0) >= after)

    def answer(self) -> Match | None:
        """dig's answer among the candidates taken: the best, or the latest revision
        carrying the same patch (every candidate that could be one is scored first)."""
        if self.top_score < THRESHOLD:  # nothing scored, or nothing claimed
            return None
        top = self.top()
        if top.evidence.link:
            return top
        for pos, row, linked in self.rows:
            if (row["date"] or 0) > (top.date or 0) \
                    and _same_patch_evidence(self._optimistic(pos, row, linked), top.evidence):
                self._score(pos, row, linked)
        best = prefer_latest_revision(self.in_dig_order())[0]
        return best if best.score >= THRESHOLD else None


def best_match(store: Store, commit: CommitInfo, ignore_links: bool = False) -> Match | None:
    """`dig_commit(store, commit, ignore_links).match`, exactly, at a fraction of the cost.

    A story links a hundred or more later commits and needs only their emails, not the
    runners-up. What a dig costs is the full-text and file lookups and scoring every
    candidate (200 on a busy list). Here the exact lookups come first (patch-id, author
    date, subject, author); the fuzzy ones only when their messages could still change
    the answer (`_Ranking.settled`); and a candidate is scored only when its bound
    (`_optimistic`) reaches the best score found so far.
    """
    if commit.is_merge:
        return None
    conn = store.conn
    ranking = _Ranking(commit)
    linked = [] if ignore_links else link_ids(commit)
    if linked:
        ranking.add(messages_by_msgid(conn, linked), linked=True)
    exact = exact_ids(conn, commit)
    ranking.add(load_messages(conn, exact.direct - ranking.ids))
    after = ranking.top().date or 0 if ranking.scored else 0
    if exact.all_dated and after > exact.author_after:
        # The author's patches posted since the best can still replace it (a later
        # revision) or score higher; the older ones and the fuzzy lookups' messages,
        # perhaps not (`settled`).
        ranking.add(load_messages(conn, {i for i, date in exact.mine if (date or 0) >= after} - ranking.ids))
        if ranking.settled(exact, after):
            return ranking.answer()
    ranking.add(load_messages(conn, exact.ids - ranking.ids))
    ranking.add(load_messages(conn, fuzzy_ids(conn, commit) - ranking.ids))
    return ranking.answer()


def dig(store: Store, commits: Iterable[CommitInfo], ignore_links: bool = False) -> Iterator[DigResult]:
    for commit in commits:
        yield dig_commit(store, commit, ignore_links)
