"""`patchtrail dig`: for each commit, the email it was applied from and the runners-up."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from patchtrail.index.store import Store
from patchtrail.link.candidates import candidate_ids, load_messages, messages_by_msgid
from patchtrail.link.model import CommitInfo, DigResult, Match
from patchtrail.link.score import THRESHOLD, to_match
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
    a, b = m.evidence, best.evidence
    if a.reply or a.posted_after_commit or a.author < b.author:
        return False
    if a.patch_id and b.patch_id:
        return True
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


def dig(store: Store, commits: Iterable[CommitInfo], ignore_links: bool = False) -> Iterator[DigResult]:
    for commit in commits:
        yield dig_commit(store, commit, ignore_links)
