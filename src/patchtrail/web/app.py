"""The web UI as a WSGI application: search, the story page, series and thread browsing.

Stdlib only (wsgiref): one local user, one request at a time, an index opened read-only
per request so a `patchtrail index` running beside it is seen at once. Every page is
rendered by jinja2 with autoescape; the story page is the HTML report itself
(patchtrail.report.story_html) with a search box on top.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable
from functools import cache
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, quote

from jinja2 import Environment

from patchtrail.index.store import Store
from patchtrail.link.series import SeriesError
from patchtrail.link.threads import thread_of
from patchtrail.link.urls import message_url
from patchtrail.report.story_html import render as render_story
from patchtrail.report.story_html import template_env
from patchtrail.story.events import ident_id
from patchtrail.story.origin import TargetError
from patchtrail.story.story import classify, tell_story
from patchtrail.story.story_model import SYMBOL

PAGE = 50
# No script, nothing loaded from elsewhere: mail text that slipped through could not run.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"
_WORD = re.compile(r"\w+")
StartResponse = Callable[..., object]


class NotFound(Exception):
    """A page about something the index does not hold; one-line message."""


@cache
def _env() -> Environment:
    env = template_env("patchtrail.web")
    env.filters["q"] = lambda s: quote(str(s), safe="")
    env.globals["message_url"] = message_url
    return env


def page(name: str, **values: object) -> str:
    return _env().get_template(name).render(**values)


def search_subjects(conn: sqlite3.Connection, text: str, limit: int = PAGE) -> list[sqlite3.Row]:
    """Messages whose subject holds every word of `text`, newest first."""
    words = _WORD.findall(text)
    if not words:
        return []
    query = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    return conn.execute(
        "SELECT m.msgid, m.subject, m.list, m.date, m.author_name, m.is_patch, m.has_tag"
        " FROM subjects_fts f JOIN messages m ON m.id = f.rowid WHERE subjects_fts MATCH ?"
        " ORDER BY m.date DESC LIMIT ?", (query, limit)).fetchall()


def list_series(conn: sqlite3.Connection, offset: int) -> list[sqlite3.Row]:
    """Postings (cover letters and single patches), newest first."""
    return conn.execute(
        "SELECT msgid, subject, list, date, author_name, version FROM messages"
        " WHERE has_tag AND NOT is_reply AND (number = 0 OR number IS NULL OR total = 1)"
        " ORDER BY date DESC LIMIT ? OFFSET ?", (PAGE, offset)).fetchall()


def thread_rows(conn: sqlite3.Connection, msgid: str) -> list[tuple[int, object]]:
    """(depth, Msg) of the thread holding `msgid`, in tree order, replies by date."""
    t = thread_of(conn, msgid)
    if msgid not in t.messages:
        raise NotFound(f"{msgid}: message not in the index")
    out: list[tuple[int, object]] = []
    todo = [(t.root, 0)]
    seen: set[str] = set()
    while todo:
        mid, depth = todo.pop()
        if mid in seen:
            continue
        seen.add(mid)
        if mid in t.messages:
            out.append((depth, t.messages[mid]))
        kids = sorted(t.children.get(mid, []), key=lambda k: (t.messages[k].date or 0) if k in t.messages else 0)
        todo.extend((k, depth + 1) for k in reversed(kids))
    return out


class App:
    """WSGI application over one index file."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def __call__(self, environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "/")
        params = {k: v[0] for k, v in parse_qs(str(environ.get("QUERY_STRING") or "")).items()}
        status, headers, body = HTTPStatus.OK, [("Content-Type", "text/html; charset=utf-8")], ""
        try:
            with Store.open(self.db, create=False) as store:
                status, location, body = self.route(store, path, params)
            if location:
                headers.append(("Location", location))
        except NotFound as exc:
            status, body = HTTPStatus.NOT_FOUND, page("message.html.j2", title="Not found", message=str(exc))
        data = body.encode("utf-8")
        headers += [("Content-Length", str(len(data))), ("Cache-Control", "no-store"),
                    ("Content-Security-Policy", CSP)]
        start_response(f"{status.value} {status.phrase}", headers)
        return [data]

    def route(self, store: Store, path: str, params: dict[str, str]) -> tuple[HTTPStatus, str, str]:
        q = params.get("q", "").strip()
        if path == "/":
            return HTTPStatus.OK, "", page("home.html.j2", q="")
        if path == "/search":
            return self.search(store, q)
        if path == "/story":
            try:
                story = tell_story(store, q)
            except (TargetError, SeriesError) as exc:
                raise NotFound(str(exc)) from None
            return HTTPStatus.OK, "", render_story(story, nav=True)
        if path == "/series":
            offset = max(0, int(params.get("offset", "0") or 0)) if params.get("offset", "0").isdigit() else 0
            rows = list_series(store.conn, offset)
            return HTTPStatus.OK, "", page("series.html.j2", rows=rows, offset=offset, page=PAGE)
        if path == "/thread":
            m = params.get("m", "").strip().strip("<>")
            return HTTPStatus.OK, "", page("thread.html.j2", rows=thread_rows(store.conn, m), focus=m)
        raise NotFound(f"{path}: no such page")

    def search(self, store: Store, q: str) -> tuple[HTTPStatus, str, str]:
        if not q:
            return HTTPStatus.SEE_OTHER, "/", ""
        try:
            kind = classify(store, q)
        except TargetError:
            kind = None
        if kind is not None and (kind != SYMBOL or ident_id(store.conn, q) is not None):
            return HTTPStatus.SEE_OTHER, f"/story?q={quote(q, safe='')}", ""
        rows = search_subjects(store.conn, q)
        return HTTPStatus.OK, "", page("search.html.j2", q=q, rows=rows)


def serve(db: Path, port: int, ready: Callable[[str], None]) -> None:
    """Serve on 127.0.0.1 until interrupted; `ready` gets the URL once listening."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Requests are not logged: the terminal is the user's, and a query is not news."""

    with make_server("127.0.0.1", port, App(db), handler_class=Quiet) as httpd:
        ready(f"http://127.0.0.1:{httpd.server_port}/")
        httpd.serve_forever()
