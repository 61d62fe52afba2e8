"""How much a message looks like the email a commit was applied from.

A weighted sum of independent signals, each in [0, 1], rather than a cascade of rules:
a maintainer may reword the subject (so subject alone fails), edit the diff (so patch-id
fails), or commit with a new date (so the date fails), but rarely all at once. The diff
carries the most weight because it is what was applied; among revisions with the same
diff, the one posted last before the commit wins through the recency term and the exact
author date that `git am` copies from the mail.

Why rapidfuzz: a C++ implementation of Levenshtein ratios, ~100x faster than difflib on
short strings, and the subject comparison runs for every candidate of every commit.
"""

from __future__ import annotations

import sqlite3

from rapidfuzz import fuzz

from patchtrail.link.model import CommitInfo, Evidence, Match
from patchtrail.link.urls import message_url
from patchtrail.mail.fingerprint import changed_line_count, file_similarity, similarity

W_CONTENT = 0.50
W_SUBJECT = 0.20
W_AUTHOR = 0.12
W_DATE = 0.10
W_RECENT = 0.08
# Below this, no candidate is reported as the source: a subject and an author alone do not
# prove the commit came from that mail.
THRESHOLD = 0.5
DAY = 86400.0
# A fuzzy diff match over fewer changed lines than this proves proportionally less: two
# one-line patches adding the same line are common, two identical 20-line changes are not.
FULL_PROOF_LINES = 3
# `git am` copies the mail's Date into the author date, to the second. The same author with
# the same second, on a patch touching the same files or with a close subject, is the
# mail, whatever the maintainer did to the diff or the subject.
GIT_AM_SCORE = 0.75


def subject_similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)) / 100.0


def _norm_name(name: str) -> str:
    return " ".join(name.casefold().replace(",", " ").split())


def person_similarity(name_a: str, email_a: str, name_b: str, email_b: str) -> float:
    """1.0 for the same address, 0.9 for the same name under another address (people post
    from work and home addresses, and a DMARC rewrite may leave only the name), else 0."""
    if email_a and email_a.lower() == (email_b or "").lower():
        return 1.0
    if name_a and _norm_name(name_a) == _norm_name(name_b or ""):
        return 0.9
    return 0.0


def author_similarity(commit: CommitInfo, row: sqlite3.Row) -> float:
    return person_similarity(commit.author_name, commit.author_email,
                             row["author_name"] or "", row["author_email"] or "")


def evidence(commit: CommitInfo, row: sqlite3.Row, linked: bool = False) -> Evidence:
    date = row["date"]
    ev = Evidence(link=linked)
    ev.patch_id = bool(commit.patch_id) and commit.patch_id == row["patch_id"]
    if ev.patch_id:
        ev.diff = 1.0
    elif commit.fingerprint and row["fingerprint"]:
        proof = min(changed_line_count(commit.fingerprint), changed_line_count(row["fingerprint"]))
        ev.diff = similarity(commit.fingerprint, row["fingerprint"]) * min(1.0, proof / FULL_PROOF_LINES)
        ev.files = file_similarity(commit.fingerprint, row["fingerprint"])
    ev.subject = max(subject_similarity(commit.subject_norm, row["subject_norm"]),
                     subject_similarity(commit.subject.lower(), (row["title"] or "").lower()))
    ev.author = author_similarity(commit, row)
    if date is not None:
        ev.date_exact = date == commit.author_time
        ev.days_before_commit = (commit.committer_time - date) / DAY
        ev.posted_after_commit = date > commit.committer_time + 2 * DAY
    ev.reply = bool(row["is_reply"])
    return ev


def score(ev: Evidence) -> float:
    recency = 1.0 / (1.0 + max(ev.days_before_commit, 0.0) / 30.0)
    s = (W_CONTENT * ev.diff + W_SUBJECT * ev.subject + W_AUTHOR * ev.author
         + W_DATE * float(ev.date_exact) + W_RECENT * recency)
    if ev.date_exact and ev.author >= 0.9 and (ev.files > 0 or ev.subject >= 0.6):
        s = max(s, GIT_AM_SCORE)
    if ev.reply:
        s *= 0.8  # a reply may carry a "how about this" diff, but rarely the applied one
    if ev.posted_after_commit:
        s *= 0.3  # a mail cannot be the source of a commit made before it was sent
    return round(min(s, 1.0), 4)


def method(ev: Evidence) -> str:
    """The one signal that decided, as a user would name it."""
    if ev.link:
        return "link"
    if ev.patch_id:
        return "patch-id+date" if ev.date_exact else "patch-id"
    if ev.diff >= 0.5:
        return "fuzzy-diff"
    if ev.date_exact:
        return "author-date"
    return "subject+author"


def to_match(commit: CommitInfo, row: sqlite3.Row, linked: bool = False) -> Match:
    ev = evidence(commit, row, linked)
    value = 1.0 if linked else score(ev)
    return Match(
        message_id=row["msgid"], subject=row["subject"], list=row["list"],
        url=message_url(row["list"], row["msgid"]), date=row["date"],
        author=f"{row['author_name']} <{row['author_email']}>", version=row["version"],
        number=row["number"], total=row["total"], score=value, method=method(ev), evidence=ev,
    )
