"""A world for series tests: every shape a series takes on a real list, with known answers.

- "alpha" (Alice): v1 untagged cover + 3 patches (a review tag on patch 2, a reply to a
  message the archive lost, a reply stored before its parent); v2 as `[PATCHv2 0/4]` under
  a reworded cover subject, one patch added; v3 never reached the archive; `[PATCH V4 0/4]`
  applied as two commits in the order 2, 1: patch 1 reworded with patch 3 squashed into
  it, patch 2 edited on apply and carrying the review tag, patch 4 never applied.
- "beta" (Bob): v1 two patches sent unthreaded; v2 threaded without a cover; `[PATCH v3 2/2]`
  sent as a reply in the v2 thread (a partial reroll); applied: 1/2 of v2, 2/2 of v3.
- "gamma" (Carol): `[RFC PATCH]`, then `[PATCH RESEND]` of it, then `[PATCH v2]` applied
  split in two commits.
- "delta" (Dana): `[PATCH 0/3]` whose patch 2 never arrived; v2 under another title that
  only a change-id ties to v1. Erin posts `[PATCH v2 0/3]` with Dana's old title but other
  work: no chain may join them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from worlds import BASE_FILES, DAY, LIST_ADDR, LIST_ID, MAINT, T0

from patchtrail.corpus.gitwrite import CommitSpec, Person, format_patches, write_repo
from patchtrail.corpus.mails import (
    MailSpec,
    cover_letter,
    patch_mail,
    patch_subject,
    render_mail,
    reply,
)

ALICE = Person("Alice Author", "alice@example.org")
BOB = Person("Bob Builder", "bob@example.com")
CAROL = Person("Carol Coder", "carol@example.net")
DANA = Person("Dana Dev", "dana@example.org")
ERIN = Person("Erin Else", "erin@example.org")
REVIEWER = Person("Rita Reviewer", "rita@example.com")


def _fn(prefix: str, i: int, value: str) -> tuple[str, str, str]:
    path = f"lib/{prefix}.c"
    return path, f"int {prefix}_{i}(void) {{ return {i}; }}", f"int {prefix}_{i}(void) {{ return {value}; }}"


# change name -> list of (path, old line, new line)
CHANGES: dict[str, list[tuple[str, str, str]]] = {
    "a1": [_fn("alpha", 1, "101"), _fn("alpha", 2, "102")],
    "a2": [_fn("alpha", 10, "110"), _fn("alpha", 11, "111")],
    "a2b": [_fn("alpha", 10, "1100"), _fn("alpha", 11, "111")],  # v2+: reworked
    "a2applied": [_fn("alpha", 10, "1100"), _fn("alpha", 11, "1111")],  # edited on apply
    "a3": [_fn("alpha", 20, "120"), _fn("alpha", 21, "121")],
    "a4": [_fn("alpha", 30, "130"), _fn("alpha", 31, "131")],
    "b1": [_fn("beta", 1, "201"), _fn("beta", 2, "202")],
    "b2": [_fn("beta", 10, "210"), _fn("beta", 11, "211")],
    "b2v3": [_fn("beta", 10, "2100"), _fn("beta", 11, "211")],
    "c": [_fn("gamma", 1, "301"), _fn("gamma", 2, "302"), _fn("gamma", 30, "330"), _fn("gamma", 31, "331")],
    "c_first": [_fn("gamma", 1, "301"), _fn("gamma", 2, "302")],
    "c_second": [_fn("gamma", 30, "330"), _fn("gamma", 31, "331")],
    "d1": [_fn("beta", 20, "420"), _fn("beta", 21, "421")],
    "d2": [_fn("beta", 22, "422")],
    "d3": [_fn("beta", 25, "425"), _fn("beta", 26, "426")],
    "e1": [_fn("gamma", 15, "515"), _fn("gamma", 16, "516")],
    "e2": [_fn("gamma", 18, "518")],
    "e3": [_fn("gamma", 20, "520")],
}


def _apply(files: dict[str, str], names: list[str]) -> dict[str, str]:
    changed: dict[str, str] = {}
    for name in names:
        for path, old, new in CHANGES[name]:
            src = files[path]
            assert old in src, (name, old)
            files[path] = changed[path] = src.replace(old, new, 1)
    return changed


@dataclass
class SeriesWorld:
    repo: Path
    mails: list[bytes]
    msgids: dict[str, str]
    commits: dict[str, str]
    specs: dict[str, MailSpec] = field(default_factory=dict)


def build_series_world(root: Path) -> SeriesWorld:
    # The posted diffs: each change as a commit on top of the base, in a scratch repository.
    posted = [CommitSpec("base", MAINT, T0, files=dict(BASE_FILES), name="base")]
    for i, name in enumerate(CHANGES):
        files = dict(BASE_FILES)
        posted.append(CommitSpec(f"change {name}", MAINT, T0 + i + 1, files=_apply(files, [name]),
                                 branch=f"c-{name}", base="base", name=name))
    ids = write_repo(root / "posted", posted)
    patches = format_patches(root / "posted", [f"{ids['base']}..{ids[n]}" for n in CHANGES])
    patch = {n: patches[ids[n]] for n in CHANGES}
    specs: dict[str, MailSpec] = {}
    order: list[str] = []

    def post(label: str, spec: MailSpec) -> MailSpec:
        spec.list_id, spec.list_address = LIST_ID, LIST_ADDR
        specs[label] = spec
        order.append(label)
        return spec

    def series(prefix: str, who: Person, when: int, title: str | None, titles: list[str], changes: list[str | None],
               version: int = 1, v: str = "v", rfc: bool = False, resend: bool = False, changelog: str = "",
               threaded: bool = True, notes: str = "", change_id: str | None = None) -> None:
        total = len(titles)
        cover = None
        if title is not None:
            body_extra = f"\n\nchange-id: {change_id}" if change_id else ""
            cover = post(f"{prefix}_0", cover_letter(
                f"{prefix}.0@example.org", patch_subject(title, version, 0, total, rfc=rfc, resend=resend, v=v),
                who, when, "Some work on the library." + body_extra, shortlog=titles, changelog=changelog))
        first = None
        for n, (t, ch) in enumerate(zip(titles, changes, strict=True), start=1):
            if ch is None:
                continue  # never reached the archive
            parent = cover or first
            num = (n, total) if total > 1 or title is not None else (None, None)
            spec = patch_mail(f"{prefix}.{n}@example.org", patch_subject(t, version, *num, rfc=rfc, resend=resend, v=v),
                              who, when + n, f"Change {t}.", patch[ch], signed_off_by=[who], notes=notes,
                              in_reply_to=parent.message_id if (parent and threaded) else None,
                              references=[parent.message_id] if (parent and threaded) else [])
            post(f"{prefix}_{n}", spec)
            first = first or spec

    at = ["alpha: tidy the first helpers", "alpha: rework helper ten", "alpha: tidy helper twenty"]
    series("alpha_v1", ALICE, T0 + 10 * DAY, "lib: rework alpha", at, ["a1", "a2", "a3"])
    post("alpha_v1_rb", reply(specs["alpha_v1_2"], "alpha-rb@example.com", REVIEWER, T0 + 11 * DAY,
                                   "Looks right.", tags=["Reviewed-by"]))
    post("alpha_v1_carol", reply(specs["alpha_v1_0"], "alpha-carol@example.net", CAROL, T0 + 11 * DAY + 60,
                                 "Why not all of them?"))
    # A reply whose parent the archive lost: it still belongs to the cover's thread.
    lost = reply(specs["alpha_v1_carol"], "alpha-lost@example.org", ALICE, T0 + 11 * DAY + 120, "Later.")
    post("alpha_v1_ghostchild", reply(lost, "alpha-ghostchild@example.net", CAROL, T0 + 11 * DAY + 180,
                                      "Fine by me."))
    # Stored before its parent (archives keep arrival order), with In-Reply-To only.
    late = reply(specs["alpha_v1_1"], "alpha-q@example.com", BOB, T0 + 12 * DAY, "Is 101 right?")
    early = reply(late, "alpha-a@example.org", ALICE, T0 + 12 * DAY + 60, "Yes.")
    early.references = []
    post("alpha_v1_answer", early)
    post("alpha_v1_question", late)
    at2 = at[:1] + ["alpha: rework helper ten again", at[2], "alpha: tidy helper thirty"]
    series("alpha_v2", ALICE, T0 + 20 * DAY, "lib: rework the alpha helpers", at2, ["a1", "a2b", "a3", "a4"],
           version=2, v="v", changelog="Changes in v2:\n- add the fourth patch\n- rework helper ten")
    specs["alpha_v2_0"].subject = specs["alpha_v2_0"].subject.replace("[PATCH v2 0/4]", "[PATCHv2 0/4]")
    series("alpha_v4", ALICE, T0 + 40 * DAY, "lib: rework the alpha helpers", at2, ["a1", "a2b", "a3", "a4"],
           version=4, v="V", changelog="Changes in v4:\n- rebase")

    bt = ["beta: tidy the first helpers", "beta: tidy helper ten"]
    series("beta_v1", BOB, T0 + 50 * DAY, None, bt, ["b1", "b2"], threaded=False)
    series("beta_v2", BOB, T0 + 60 * DAY, None, bt, ["b1", "b2"], version=2, notes="v2: reworded")
    partial = patch_mail("beta_v3.2@example.org", patch_subject(bt[1], 3, 2, 2), BOB, T0 + 62 * DAY,
                         "Change it again.", patch["b2v3"], signed_off_by=[BOB], notes="v3: use 2100",
                         in_reply_to=specs["beta_v2_2"].message_id,
                         references=[specs["beta_v2_1"].message_id, specs["beta_v2_2"].message_id])
    post("beta_v3_2", partial)

    series("gamma_v1", CAROL, T0 + 70 * DAY, None, ["gamma: tune two helper pairs"], ["c"], rfc=True)
    series("gamma_resend", CAROL, T0 + 77 * DAY, None, ["gamma: tune two helper pairs"], ["c"], rfc=True, resend=True)
    series("gamma_v2", CAROL, T0 + 80 * DAY, None, ["gamma: tune two helper pairs"], ["c"], version=2)

    dt = ["beta: twenty", "beta: twenty-two", "beta: twenty-five"]
    series("delta_v1", DANA, T0 + 90 * DAY, "beta: the twenties", dt, ["d1", None, "d3"], change_id="20200101-twenties-abc")
    series("delta_v2", DANA, T0 + 100 * DAY, "beta: a new look at numbers", ["beta: 420", "beta: 422", "beta: 425"],
           ["d1", "d2", "d3"], version=2, change_id="20200101-twenties-abc")
    series("erin_v2", ERIN, T0 + 95 * DAY, "beta: the twenties", ["gamma: 15", "gamma: 18", "gamma: 20"],
           ["e1", "e2", "e3"], version=2)

    mails = [render_mail(specs[label]) for label in order]
    msgids = {label: s.message_id for label, s in specs.items()}

    # The history the maintainer wrote.
    files = dict(BASE_FILES)
    real = [CommitSpec("Initial import", MAINT, T0, files=dict(files), name="base")]

    def commit(name: str, subject: str, author: Person, when: int, changes: list[str], body: str = "") -> None:
        real.append(CommitSpec(subject, author, when, body=body, committer=MAINT,
                               committer_time=when + 5 * DAY + len(real), files=_apply(files, changes), name=name))

    a4 = specs["alpha_v4_1"].date - 1
    commit("alpha_2", "alpha: rework helper ten again", ALICE, a4 + 2, ["a2applied"],
           f"Change it.\n\nSigned-off-by: {ALICE.ident()}\nReviewed-by: {REVIEWER.ident()}\n"
           f"[mona: 1111 rather than 111]\nSigned-off-by: {MAINT.ident()}")
    commit("alpha_1", "lib/alpha: clean up the first and twentieth helpers", ALICE, a4 + 1, ["a1", "a3"],
           f"Change it.\n\nSigned-off-by: {ALICE.ident()}\nSigned-off-by: {MAINT.ident()}")
    b2 = specs["beta_v2_1"].date
    commit("beta_1", bt[0], BOB, b2, ["b1"], f"Signed-off-by: {BOB.ident()}")
    commit("beta_2", bt[1], BOB, specs["beta_v3_2"].date, ["b2v3"], f"Signed-off-by: {BOB.ident()}")
    g = specs["gamma_v2_1"].date
    commit("gamma_a", "gamma: tune the first helper pair", CAROL, g, ["c_first"], f"Signed-off-by: {CAROL.ident()}")
    commit("gamma_b", "gamma: tune the thirtieth helper pair", CAROL, g, ["c_second"], f"Signed-off-by: {CAROL.ident()}")
    commits = write_repo(root / "repo", real)
    return SeriesWorld(root / "repo", mails, msgids, commits, specs)
