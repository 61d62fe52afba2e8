"""Small, fully controlled worlds for the index and linking tests.

Each world is a real git repository plus the real mails a list would have carried for it,
built with the corpus library, so the tests see exactly what a user's archives hold: the
diff in the mail is `git format-patch` output of a scratch repository that holds the
*posted* version of each change, and the real repository holds what the maintainer
committed (sometimes reworded, reordered, edited).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from patchtrail.corpus.gitwrite import CommitSpec, Person, format_patches, write_repo
from patchtrail.corpus.mails import MailSpec, patch_mail, render_mail, reply

ALICE = Person("Alice Author", "alice@example.org")
BOB = Person("Bob Builder", "bob@example.com")
MAINT = Person("Mona Maintainer", "mona@kernel.example")
LIST_ID = "test.lists.example.org"
LIST_ADDR = "test@lists.example.org"
T0 = 1_600_000_000
DAY = 86400

BASE_FILES = {
    "lib/alpha.c": "".join(f"int alpha_{i}(void) {{ return {i}; }}\n" for i in range(40)),
    "lib/beta.c": "".join(f"int beta_{i}(void) {{ return {i}; }}\n" for i in range(40)),
    "lib/gamma.c": "".join(f"int gamma_{i}(void) {{ return {i}; }}\n" for i in range(40)),
    "doc/README": "A test tree.\n",
}


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@dataclass
class World:
    repo: Path
    mails: list[bytes]
    commits: dict[str, str]
    msgids: dict[str, str]
    # commit label -> message label it was applied from (None: not from a mail)
    expected: dict[str, str | None] = field(default_factory=dict)


def build_world(root: Path) -> World:
    """Six patch commits, one merge, one commit with no mail; see each case below."""
    files = dict(BASE_FILES)

    def change(path: str, old: str, new: str) -> dict[str, str]:
        files[path] = _edit(files[path], old, new)
        return {path: files[path]}

    base = CommitSpec("Initial import", MAINT, T0, files=dict(files), name="base")
    posted: list[CommitSpec] = [base]
    # exact: same subject, same diff, author date = mail date
    posted.append(CommitSpec("alpha: return 100 from alpha_1", ALICE, T0 + 10 * DAY,
                             files=change("lib/alpha.c", "return 1;", "return 100;"), name="exact"))
    # reroll: v1 and v2 carry the same diff; v2 was applied, with a reworded subject
    posted.append(CommitSpec("beta: make beta_2 return 200", BOB, T0 + 20 * DAY,
                             files=change("lib/beta.c", "return 2;", "return 200;"), name="reroll"))
    # edited: the maintainer changed one line of the diff on apply, and the subject
    posted.append(CommitSpec("gamma: tune gamma_3 and gamma_4", ALICE, T0 + 30 * DAY,
                             files=change("lib/gamma.c", "return 3; }\nint gamma_4(void) { return 4;",
                                          "return 300; }\nint gamma_4(void) { return 400;"),
                             name="edited"))
    # linked: the commit carries a Link trailer to its mail
    posted.append(CommitSpec("doc: describe the tree", BOB, T0 + 40 * DAY,
                             files=change("doc/README", "A test tree.\n", "A test tree.\nIt has three files.\n"),
                             name="linked"))
    scratch = root / "posted"
    ids = write_repo(scratch, posted)
    patches = format_patches(scratch, ["--root", "master"])
    patch_of = {label: patches[ids[label]] for label in ("exact", "reroll", "edited", "linked")}

    def mail(label: str, subject: str, who: Person, date: int, text: str, **kw: object) -> MailSpec:
        return patch_mail(f"{label}@example.org", subject, who, date, text, patch_of[kw.pop("patch", label)],
                          signed_off_by=[who], list_id=LIST_ID, list_address=LIST_ADDR, **kw)

    specs = {
        "exact": mail("exact", "[PATCH] alpha: return 100 from alpha_1", ALICE, T0 + 10 * DAY,
                      "alpha_1 should return 100."),
        "reroll-v1": mail("reroll-v1", "[PATCH] beta: make beta_2 return 200", BOB, T0 + 15 * DAY,
                          "First try.", patch="reroll"),
        "reroll-v2": mail("reroll", "[PATCH v2] beta: make beta_2 return 200", BOB, T0 + 20 * DAY,
                          "Second try, same diff, better words.", notes="v2: reworded the message"),
        "edited": mail("edited", "[PATCH 1/1] gamma: tune gamma_3 and gamma_4", ALICE, T0 + 30 * DAY,
                       "Tune both.", dmarc_via=LIST_ADDR),
        "linked": mail("linked", "[PATCH] doc: describe the tree", BOB, T0 + 40 * DAY, "More words."),
        "unrelated": patch_mail("unrelated@example.org", "[PATCH] alpha: something else entirely",
                                BOB, T0 + 12 * DAY, "Never applied.", patch_of["exact"].replace("100", "7"),
                                list_id=LIST_ID, list_address=LIST_ADDR),
    }
    specs["review"] = reply(specs["exact"], "review@example.org", BOB, T0 + 11 * DAY,
                            "Looks good.", tags=["Reviewed-by"])
    mails = [render_mail(s) for s in specs.values()]
    msgids = {k: s.message_id for k, s in specs.items()}

    # The real history: what the maintainer committed.
    files = dict(BASE_FILES)
    real = [CommitSpec("Initial import", MAINT, T0, files=dict(files), name="base")]
    real.append(CommitSpec("alpha: return 100 from alpha_1", ALICE, T0 + 10 * DAY,
                           body=f"alpha_1 should return 100.\n\nSigned-off-by: {ALICE.ident()}\n"
                                f"Reviewed-by: {BOB.ident()}\nSigned-off-by: {MAINT.ident()}",
                           committer=MAINT, committer_time=T0 + 13 * DAY,
                           files=change("lib/alpha.c", "return 1;", "return 100;"), name="exact"))
    real.append(CommitSpec("lib/beta: return 200 from beta_2", BOB, T0 + 20 * DAY,
                           body="Second try, same diff, better words.",
                           committer=MAINT, committer_time=T0 + 22 * DAY,
                           files=change("lib/beta.c", "return 2;", "return 200;"), name="reroll"))
    real.append(CommitSpec("gamma: change the values of two helpers", ALICE, T0 + 30 * DAY,
                           body="Tune both.\n\n[mona: gamma_4 returns 401, see thread]",
                           committer=MAINT, committer_time=T0 + 33 * DAY,
                           files=change("lib/gamma.c", "return 3; }\nint gamma_4(void) { return 4;",
                                        "return 300; }\nint gamma_4(void) { return 401;"),
                           name="edited"))
    real.append(CommitSpec("doc: describe the tree", BOB, T0 + 41 * DAY,
                           body="More words.\n\nLink: https://lore.kernel.org/test/linked@example.org/",
                           committer=MAINT, committer_time=T0 + 42 * DAY,
                           files=change("doc/README", "A test tree.\n", "A test tree.\nIt has three files.\n"),
                           name="linked"))
    real.append(CommitSpec("side: a change on a branch", MAINT, T0 + 43 * DAY, branch="side",
                           base="linked", files={"lib/side.c": "int side;\n"}, name="side"))
    real.append(CommitSpec("Merge branch 'side'", MAINT, T0 + 44 * DAY, merge_of="side",
                           files={"lib/side.c": "int side;\n"}, name="merge"))
    real.append(CommitSpec("alpha: maintainer's own change", MAINT, T0 + 45 * DAY,
                           files=change("lib/alpha.c", "return 20;", "return 2000;"), name="nomail"))
    repo = root / "repo"
    commits = write_repo(repo, real)
    expected = {"exact": "exact", "reroll": "reroll-v2", "edited": "edited", "linked": "linked",
                "merge": None, "nomail": None}
    return World(repo, mails, commits, msgids, expected)
