"""Filling the index from a public-inbox server with just what a question needs.

The link, series, origin and story stages only ever read the index. With no local mirror,
they first call one of the `ensure_*` functions here, which ask the server for the
messages relevant to a commit, a thread or a query, parse them through the same path
`patchtrail index` uses, and store them under a source of kind 'remote' (its path is the
inbox URL, each message's key its URL there). Afterwards the question is answered
locally by the unchanged code, and the next time it is asked no request is made at all:
every question asked is remembered in the index (a row of `seen` whose key starts with
`ask:`, written only after all its answers are stored).

What a commit needs (`ensure_for_commits`): the candidates the local lookups of
`link.candidates` would find in a full mirror. First, for up to 16 commits at once, one
search for their patch-ids with whole threads (`t=1`): an unchanged patch, its other
revisions, its series and reviews arrive in one answer. A commit whose local dig then
rests on an exact patch-id is done. Each other commit gets one more search, built like
the local lookups: the same second as its author date (what `git am` keeps); the same
author in the two years before it with a subject word in common; two of its three
rarest subject words; its rarest file with the same author or a subject word. The
thread of the message it is then linked to is fetched last, so that `series` and
`story` on that commit are local too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path

from patchtrail.index.ingest import Progress, index_archive
from patchtrail.index.query import select_in
from patchtrail.index.store import Store
from patchtrail.index.workers import chunked
from patchtrail.link.candidates import COMMON_WORDS, WORD, window
from patchtrail.link.dig import best_match, link_ids
from patchtrail.link.model import CommitInfo, Match
from patchtrail.link.threads import root_id
from patchtrail.mail.headers import (
    plain_header,
    single_message_id,
    split_header_block,
    wanted_headers,
)
from patchtrail.sources.git import GitRepo
from patchtrail.sources.records import RawMail
from patchtrail.sources.remote import (
    FetchedMessages,
    PublicInboxClient,
    default_remote_url,
)
from patchtrail.sources.remote_query import (
    Query,
    all_of,
    any_of,
    date_range,
    exact_time,
    phrase,
    token,
)

__all__ = [
    "attach_repository",
    "cache_dir_for",
    "commit_query",
    "ensure_for_commits",
    "ensure_search",
    "ensure_thread",
    "open_client",
    "remember",
    "remembered",
    "remote_url_for",
    "telling_paths",
    "title_words",
]

CHUNK = 16
# Words of patch subjects in general, on top of link.candidates' common words: a search
# for "convert" and "api" finds every "Convert to new API" patch of a list.
_PATCH_WORDS = frozenset((
    "api", "ltp", "convert", "converted", "refactor", "rewrite", "cleanup", "clean",
    "rework", "port", "move", "rename", "drop", "introduce", "allow", "avoid", "check",
    "correct", "handle", "improve", "simplify", "replace", "missing", "instead", "only",
    "also", "some", "more", "all", "after", "before", "testcases", "kernel", "syscalls",
    "lib", "patch", "resend", "rfc",
))
# Files nearly every patch of a project touches: they tell nothing about which patch.
_GENERIC_FILES = re.compile(r"(^|/)(Makefile|Kconfig|Kbuild|MAINTAINERS|\.gitignore|"
                            r"runtest/[^/]+|include/tst_test\.h)$")


def cache_dir_for(db: Path) -> Path:
    """The response cache beside an index file: `patchtrail.db` → `patchtrail.http-cache/`."""
    return db.with_name(db.stem + ".http-cache")


# -- asked questions ------------------------------------------------------------------


def _source_id(store: Store, client: PublicInboxClient) -> int:
    inbox = client.inbox
    return store.source(FetchedMessages.kind, inbox.url, inbox.name).id


def _asked(store: Store, client: PublicInboxClient, key: str) -> bool:
    row = store.conn.execute(
        "SELECT 1 FROM seen WHERE source_id=? AND key=?", (_source_id(store, client), key)
    ).fetchone()
    return row is not None


def remember(store: Store, client: PublicInboxClient, keys: Iterable[str]) -> None:
    """Write `ask:` markers: questions whose answers the index now holds whole."""
    sid = _source_id(store, client)
    with store.transaction() as c:
        c.executemany("INSERT OR IGNORE INTO seen(source_id, key, message_id, reason)"
                      " VALUES (?, ?, NULL, NULL)", [(sid, k) for k in keys])


def remembered(store: Store, client: PublicInboxClient, prefix: str) -> list[str]:
    """The markers starting with `prefix` (a family of questions, e.g. date ranges)."""
    rows = store.conn.execute("SELECT key FROM seen WHERE source_id=? AND key >= ? AND key < ?",
                              (_source_id(store, client), prefix, prefix + "\U0010ffff"))
    return [r[0] for r in rows]


# -- storing fetched mail ---------------------------------------------------------------

# Fewer messages than this parse faster in this process than a worker pool can start
# (~70 ms per pool on 2 cores, against ~1 ms per message).
IN_PROCESS = 200


def _message_id(data: bytes) -> str | None:
    block, _ = split_header_block(data.replace(b"\r\n", b"\n"))
    values = wanted_headers(block).get("message-id")
    return single_message_id(plain_header(values[0])) if values else None


def store_messages(store: Store, client: PublicInboxClient, mails: Sequence[bytes],
                   progress: Progress | None = None) -> tuple[int, list[str]]:
    """Parse and store fetched messages the index does not hold yet: how many were new,
    and the Message-IDs of all of them (read once here, for the callers' bookkeeping).

    Deduplicated by Message-ID against the whole index (a local archive may hold some)
    and within the batch; a message without one is keyed by its hash.
    """
    by_key: dict[str, tuple[str | None, bytes]] = {}
    for data in mails:
        msgid = _message_id(data)
        key = client.inbox.message_url(msgid) if msgid else "sha1:" + hashlib.sha1(data).hexdigest()
        by_key.setdefault(key, (msgid, data))
    ids = [m for m, _ in by_key.values() if m]
    known = {r[0] for r in select_in(store.conn, "SELECT msgid FROM messages WHERE msgid IN ({marks})", ids)}
    raws = [RawMail(key, data) for key, (msgid, data) in by_key.items() if msgid not in known]
    if not raws:
        return 0, ids
    run = index_archive(store, client.inbox.url, progress,
                        source=FetchedMessages(client.inbox, raws),
                        processes=1 if len(raws) < IN_PROCESS else None)
    return run.messages_stored, ids


# -- the ensure functions -----------------------------------------------------------------


def ensure_search(store: Store, client: PublicInboxClient, query: str, threads: bool = False,
                  refresh: bool = False) -> int:
    """Make sure the index holds every hit of `query` (with `threads`, their threads)."""
    key = f"ask:q{'t' if threads else ''}/{hashlib.sha1(query.encode()).hexdigest()}"
    if not refresh and _asked(store, client, key):
        return 0
    mails = client.search(query, threads=threads)
    stored, msgids = store_messages(store, client, mails)
    keys = {key}
    if threads:  # every thread touched came whole: asking for one of them again is moot
        keys.update(_thread_key(m) for m in _roots_of(store, msgids))
    remember(store, client, keys)
    return stored


def _thread_key(msgid: str) -> str:
    return f"ask:t/{msgid}"


def ensure_thread(store: Store, client: PublicInboxClient, msgid: str, refresh: bool = False) -> int:
    """Make sure the index holds the whole thread of `msgid` (one request, once)."""
    keys = {_thread_key(msgid)} | {_thread_key(m) for m in _roots_of(store, [msgid])}
    if not refresh and any(_asked(store, client, k) for k in keys):
        return 0
    mails = client.thread(msgid)
    stored, msgids = store_messages(store, client, mails)
    keys.update(_thread_key(m) for m in _roots_of(store, msgids))
    remember(store, client, keys)
    return stored


def _roots_of(store: Store, msgids: Iterable[str]) -> set[str]:
    """The roots of the threads of `msgids` (`threads.root_id` of each stored message; the
    id itself for one the index does not hold)."""
    ids = list(dict.fromkeys(msgids))
    rows: dict[str, tuple[str | None, str | None]] = {r[0]: (r[1], r[2]) for r in select_in(
        store.conn, "SELECT msgid, refs, in_reply_to FROM messages WHERE msgid IN ({marks})", ids)}
    return {root_id(m, *rows.get(m, (None, None))) for m in ids}


# -- commits ----------------------------------------------------------------------------


def _dig_key(commit: CommitInfo, links: bool) -> str:
    return f"ask:dig{'' if links else '-blind'}/{commit.oid}"


def _is_identifier(word: str) -> bool:
    return "_" in word or any(ch.isdigit() for ch in word)


def title_words(title: str) -> list[str]:
    """A subject's telling words, rarest first (as far as one can tell alone):
    identifiers (`dup06`, `start_sw_tscdeadline`) before words, longer before shorter."""
    words = [w for w in WORD.findall(title.lower())
             if w not in COMMON_WORDS and w not in _PATCH_WORDS]
    return sorted(dict.fromkeys(words), key=lambda w: (not _is_identifier(w), -len(w)))


def subject_words(commit: CommitInfo) -> list[str]:
    """The commit subject's telling words, rarest first (`title_words`)."""
    return title_words(commit.subject)


def telling_paths(files: Iterable[str], n: int = 1) -> list[str]:
    """The files most likely to be rare: not build glue, deepest paths first."""
    kept = [f for f in dict.fromkeys(files) if not _GENERIC_FILES.search(f)]
    return sorted(kept, key=lambda f: (-f.count("/"), -len(f)))[:n]


def telling_files(commit: CommitInfo, n: int = 1) -> list[str]:
    """The commit's files most likely to be rare (`telling_paths`)."""
    return telling_paths(commit.files, n)


def commit_query(commit: CommitInfo) -> Query | None:
    """One search for the candidates a local dig of `commit` would look at.

    Mirrors link.candidates: exact author date; same author in the span with a subject
    word in common; the subject's rarest identifier, else two of its three rarest words,
    in the span; the rarest file in the span with the author or a subject word.
    """
    span = date_range(*window(commit))
    words = subject_words(commit)
    any_word = any_of(*(phrase("s", w) for w in words[:5]))
    author = phrase("f", commit.author_email) if commit.author_email else None
    top = words[:3]
    if top and (_is_identifier(top[0]) or len(top) == 1):
        rare = phrase("s", top[0])  # an identifier alone is rare enough
    else:
        rare = any_of(*(all_of(phrase("s", a), phrase("s", b)) for a, b in combinations(top, 2)))
    by_file = [all_of(phrase("dfn", f), span, any_of(author, any_word))
               for f in telling_files(commit)]
    return any_of(
        exact_time(commit.author_time),
        all_of(author, span, any_word) if author and any_word else None,
        all_of(rare, span) if rare else None,
        *by_file,
    )


def _resolved(m: Match | None) -> bool:
    """A dig's answer that more lookups could not change: an exact patch-id or a Link."""
    return m is not None and (m.evidence.link or m.evidence.patch_id)


def _may_be_resolved(store: Store, commit: CommitInfo, links: bool) -> bool:
    """Whether the index holds a message that could settle the commit without a search."""
    if links and link_ids(commit):
        return True
    return bool(commit.patch_id) and store.conn.execute(
        "SELECT 1 FROM messages WHERE patch_id=? LIMIT 1", (commit.patch_id,)).fetchone() is not None


def ensure_for_commits(store: Store, client: PublicInboxClient, commits: Sequence[CommitInfo],
                       links: bool = True, refresh: bool = False,
                       progress: Progress | None = None) -> None:
    """Make sure the index holds what digging each commit needs (see the module doc).

    `links=False` leaves a commit's Link trailers unused (blind matching must not be
    handed the answer). Commits already asked about are skipped without a request.
    """
    todo = [c for c in commits if not c.is_merge]
    if not refresh:
        todo = [c for c in todo if not _asked(store, client, _dig_key(c, links))]
    if progress:
        progress.start(f"asking {client.inbox.url}", len(todo))
    for chunk in chunked(todo, CHUNK):
        if links:
            for commit in chunk:
                for msgid in link_ids(commit):
                    ensure_thread(store, client, msgid, refresh)
        pids = any_of(*(token("patchid", c.patch_id) for c in chunk if c.patch_id))
        if pids:
            ensure_search(store, client, pids, threads=True, refresh=refresh)
        for commit in chunk:
            # Only the answer is needed, not the runners-up: best_match is dig's answer.
            match = best_match(store, commit, ignore_links=not links) \
                if _may_be_resolved(store, commit, links) else None
            if not _resolved(match):
                query = commit_query(commit)
                if query:
                    ensure_search(store, client, query, refresh=refresh)
                match = best_match(store, commit, ignore_links=not links)
            if match is not None:
                ensure_thread(store, client, match.message_id, refresh)
            remember(store, client, [_dig_key(commit, links)])
            if progress:
                progress.advance(1)
    if progress:
        progress.finish()


# -- which server, and the client ---------------------------------------------------------


def _repo_of(store: Store) -> str | None:
    """The first indexed repository that exists: where b4.midmask is read."""
    for src in store.sources("git"):
        if Path(src.path).exists():
            return src.path
    return None


def remote_url_for(store: Store, option: str | None, unasked_default: bool = True) -> str | None:
    """The server a command asks, or None to stay local.

    `option` is `--remote`'s value: a URL; "" for `--remote` alone (the default server:
    $PATCHTRAIL_REMOTE, else b4.midmask in the repository, else lore.kernel.org/all/);
    None when not given, which still goes remote when the index holds no archive — to the
    server asked last if there was one, else (unless `unasked_default` is False: a
    command whose answer is whole without mail) the default.
    """
    if option:
        return option
    if option is None:
        mail = [s for s in store.sources() if s.kind != "git"]
        if any(s.kind != FetchedMessages.kind for s in mail):
            return None
        if mail:
            return mail[-1].path
        if not unasked_default:
            return None
    return default_remote_url(_repo_of(store))


def open_client(store: Store, url: str, no_cache: bool = False,
                timeout: float = 30.0) -> PublicInboxClient:
    """A client for `url` whose response cache sits beside the index (none with no_cache)."""
    return PublicInboxClient.open(url, None if no_cache else cache_dir_for(store.path),
                                  timeout=timeout)


def attach_repository(store: Store, path: str | Path) -> None:
    """Make the repository at `path` the index's git source when it has none, without
    reading its history: commits are then read from git when named (link.commits), so
    `dig --remote` works in a fresh clone at once; `patchtrail index` reads it all later.
    """
    if store.sources("git"):
        return
    repo = GitRepo(path)
    store.source("git", repo.top, repo.name)  # as `patchtrail index --repo` registers it
