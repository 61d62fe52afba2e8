"""Rendering `patchtrail dig` results. The JSON fields are a contract: see docs/dig.md."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import IO

from rich.console import Console
from rich.text import Text

from patchtrail.link.model import DigResult, Match
from patchtrail.report.times import day, iso

DIG_SCHEMA = 1


def match_dict(m: Match) -> dict[str, object]:
    return {
        "message_id": m.message_id, "subject": m.subject, "list": m.list, "url": m.url,
        "date": iso(m.date), "author": m.author, "version": m.version, "number": m.number,
        "total": m.total, "score": m.score, "method": m.method, "evidence": asdict(m.evidence),
    }


def result_dict(r: DigResult) -> dict[str, object]:
    c, m = r.commit, r.match
    return {
        "schema": DIG_SCHEMA,
        "commit": c.oid,
        "commit_subject": c.subject,
        "commit_author": f"{c.author_name} <{c.author_email}>",
        "commit_date": iso(c.committer_time),
        "message_id": m.message_id if m else None,
        "subject": m.subject if m else None,
        "list": m.list if m else None,
        "url": m.url if m else None,
        "score": m.score if m else None,
        "method": m.method if m else None,
        "evidence": asdict(m.evidence) if m else None,
        "version": m.version if m else None,
        "number": m.number if m else None,
        "total": m.total if m else None,
        "candidates": [match_dict(x) for x in r.candidates],
        "link_ids": r.link_ids,
        "note": r.note,
    }


def write_jsonl(results: Iterable[DigResult], out: IO[str]) -> int:
    found = 0
    for r in results:
        found += r.match is not None
        out.write(json.dumps(result_dict(r), ensure_ascii=False) + "\n")
        out.flush()
    return found


def write_json(results: Iterable[DigResult], out: IO[str]) -> int:
    items = [result_dict(r) for r in results]
    json.dump(items, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return sum(1 for i in items if i["message_id"])


def _posted(m: Match) -> str:
    if m.number is not None and m.total is not None:
        return f"v{m.version} {m.number}/{m.total}"
    return f"v{m.version}"


def write_text(results: Iterable[DigResult], console: Console) -> int:
    found = 0
    for r in results:
        c = r.commit
        console.print(Text.assemble(("commit ", "bold"), (c.oid[:12], "yellow"), " ", c.subject))
        if r.match is None:
            console.print(Text.assemble("  ", ("no email found", "red"),
                                        f" — {r.note}" if r.note else ""))
        else:
            found += 1
            m = r.match
            console.print(Text.assemble("  ← ", (m.subject, "bold"), f"  ({_posted(m)}, {day(m.date)})"))
            console.print(Text(f"    {m.url}"), soft_wrap=True)  # copyable
            console.print(
                f"    score {m.score:.2f} by [cyan]{m.method}[/cyan]: {m.evidence.describe()}",
                highlight=False,
            )
            if r.note:
                console.print(Text(f"    note: {r.note}"))
        for i, x in enumerate(r.candidates):
            # Text, not markup: a subject like "[net-next] ..." must print as written.
            line = Text(f"    {'runner-up' if i == 0 else '':<10}{x.score:.2f}  "
                        f"{_posted(x) + ' ' + day(x.date):<18} ", style="dim")
            line.append(x.subject)
            line.truncate(max(console.width, 40), overflow="ellipsis")
            console.print(line, no_wrap=True)
        console.print()
    return found
