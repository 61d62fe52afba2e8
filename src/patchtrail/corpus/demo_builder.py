"""The demo corpus builder: people, texts, and the `_Builder` that writes commits and mails.

Split from demo.py so that each module holds one part of the story; see demo.py.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from patchtrail.corpus.gitwrite import CommitSpec, Person
from patchtrail.corpus.mails import (
    MailSpec,
    cover_letter,
    modern_send_email_id,
    patch_mail,
    reply,
    send_email_id,
)

# ----------------------------------------------------------------------------- people
YUNHONG = Person("Yunhong Jiang", "yunhong.jiang@linux.intel.com")
PAOLO = Person("Paolo Bonzini", "pbonzini@redhat.com")
RADIM = Person("Radim Krčmář", "rkrcmar@redhat.com")
WANPENG_SENDER = Person("Wanpeng Li", "kernellwp@gmail.com")
WANPENG = Person("Wanpeng Li", "wanpeng.li@hotmail.com")
SEAN = Person("Sean Christopherson", "sean.j.christopherson@intel.com")
ASKER = Person("Ming Zhao", "ming.zhao@cloudhost.example")
KVM_LIST = Person("", "kvm@vger.kernel.org")
LKML = Person("", "linux-kernel@vger.kernel.org")
KVM_ID, KVM_ADDR = "kvm.vger.kernel.org", "kvm@vger.kernel.org"

TZ = {YUNHONG: "-0700", PAOLO: "+0200", RADIM: "+0200", WANPENG_SENDER: "+0800",
      WANPENG: "+0800", SEAN: "-0800", ASKER: "+0800"}

# Fictional contributors of the noise (non-ASCII names exercise RFC 2047 and git idents).
NOISE_PEOPLE = [
    (Person("Zoë Lindqvist", "zoe.lindqvist@example.com"), "+0100"),
    (Person("Łukasz Nowicki", "lukasz.nowicki@example.org"), "+0100"),
    (Person("José Álvarez", "jose.alvarez@example.net"), "+0100"),
    (Person("Jörg Brenner", "joerg.brenner@example.de"), "+0100"),
    (Person("Chen Xiaoming", "xiaoming.chen@example.cn"), "+0800"),
    (Person("Priya Raman", "priya.raman@example.com"), "+0530"),
    (Person("Tomás Ortega", "tortega@example.es"), "+0100"),
    (Person("Aino Virtanen", "aino.virtanen@example.fi"), "+0200"),
    (Person("Olivier Marchand", "olivier.marchand@example.fr"), "+0100"),
    (Person("Hiroshi Tanaka", "htanaka@example.jp"), "+0900"),
    (Person("Dmitri Volkov", "dvolkov@example.ru"), "+0300"),
    (Person("Fatima Haddad", "fhaddad@example.com"), "-0500"),
    (Person("Nils Åberg", "nils.aberg@example.se"), "+0100"),
    (Person("Emeka Obi", "emeka.obi@example.com"), "-0800"),
    (Person("Sara Conti", "sara.conti@example.it"), "+0100"),
    (Person("Bogdan Ionescu", "bogdan.ionescu@example.ro"), "+0200"),
    (Person("Liang Wei", "liang.wei@example.cn"), "+0800"),
    (Person("Grace Murphy", "gmurphy@example.ie"), "+0000"),
    (Person("Kenji Mori", "kenji.mori@example.jp"), "+0900"),
    (Person("Rafael Souza", "rafael.souza@example.br"), "-0300"),
]
DMARC_PEOPLE = [(Person("Hannah Keller", "hannah.keller@strictmail.example"), "-0500"),
                (Person("Arjun Mehta", "arjun.mehta@strictmail.example"), "-0700")]

AREA = {
    "arch/x86/kvm/mmu.c": ("KVM: x86: mmu", "KVM: MMU"),
    "arch/x86/kvm/svm.c": ("KVM: SVM", "kvm: svm"),
    "arch/x86/kvm/emulate.c": ("KVM: x86: emulator", "KVM: emulate"),
    "arch/x86/kvm/cpuid.c": ("KVM: x86: cpuid", "KVM: cpuid"),
    "arch/x86/kvm/i8254.c": ("KVM: x86: i8254", "kvm: x86: pit"),
    "arch/x86/kvm/ioapic.c": ("KVM: x86: ioapic", "KVM: IOAPIC"),
    "arch/x86/kvm/hyperv.c": ("KVM: x86: hyperv", "KVM: Hyper-V"),
    "arch/x86/kvm/pmu.c": ("KVM: x86: PMU", "KVM: x86/pmu"),
    "arch/x86/kvm/irq_comm.c": ("KVM: x86: irq", "KVM: irqchip"),
    "virt/kvm/kvm_main.c": ("KVM", "kvm"),
    "virt/kvm/eventfd.c": ("KVM: eventfd", "kvm: eventfd"),
    "virt/kvm/arm/vgic/vgic.c": ("KVM: arm/arm64: vgic", "KVM: arm64: vgic"),
    "arch/s390/kvm/kvm-s390.c": ("KVM: s390", "KVM: s390:"),
    "arch/powerpc/kvm/book3s_hv.c": ("KVM: PPC: Book3S HV", "KVM: PPC"),
    "tools/testing/selftests/kvm/lib/kvm_util.c": ("KVM: selftests", "selftests: kvm"),
}

PAIRS = [  # (old, new, alternative new used when the maintainer edits it, subject phrase)
    ("\t\treturn -EINVAL;\n", "\t\treturn -ERANGE;\n", "\t\treturn -E2BIG;\n",
     "return -ERANGE from {f}() for out-of-range arguments"),
    ("\tif (r)\n\t\tgoto out;\n", "\tif (WARN_ON_ONCE(r))\n\t\tgoto out;\n",
     "\tif (unlikely(r))\n\t\tgoto out;\n", "warn once when the helper of {f}() fails"),
    ("\tint r = 0;\n\n", "\tint r = 0;\n\n\tlockdep_assert_held(&vcpu->kvm->lock);\n",
     "\tint r = 0;\n\n\tlockdep_assert_held(&vcpu->mutex);\n", "assert that kvm->lock is held in {f}()"),
    ("\tr = ", "\t/* The helper validates the remaining state. */\n\tr = ",
     "\t/* The helper validates everything else. */\n\tr = ", "document the checks done by {f}()"),
]

BLURBS = [
    "This was found by code inspection; no functional change is expected for\nwell-behaved guests.",
    "Without this, a malicious userspace can trigger the warning below.\nTested with the kvm-unit-tests suite on a Skylake host.",
    "The current code has been like this since the function was introduced; it\nonly mattered once nested virtualization started calling it.",
    "Spotted while reviewing a related patch. Compile-tested only.",
    "This makes the behaviour consistent with the other callers, which\nalready do the same thing.",
    "Syzkaller reported a splat that boils down to this. The reproducer\nno longer triggers it with the patch applied.",
]

REVIEW_TEXT = ["Looks good to me.", "Nice catch.", "Makes sense.", "Good cleanup, thanks.",
               "Looks fine."]
DISCUSS_TEXT = ["Why is this needed? The only caller already checks this.",
                "Can you explain in the commit message how this can be reached?",
                "Please split the refactoring from the functional change.",
                "I think this is the wrong place for the check; what about the other callers?"]
ANSWER_TEXT = ["Fair point, I will expand the commit message in the next version.",
               "It can be reached from the ioctl path as well; I will document that.",
               "OK, will do in v2.", "You're right, I'll rework it."]
APPLIED_TEXT = ["Queued, thanks.", "Applied, thanks.", "Queued for kvm/next, thanks.",
                "Applied to kvm/queue, thanks."]
NAK_TEXT = ["I don't think this is needed: the caller guarantees the invariant already.",
            "This breaks migration from older kernels, so I am not applying it.",
            "Superseded by the series that reworks this code, sorry."]

QUESTIONS = [
    ("Question about dirty logging with huge pages", "Is it expected that"),
    ("kvm-unit-tests: vmx tests fail on AMD host", "When running"),
    ("[Bug 198765] Guest hangs after live migration", "https://bugzilla.kernel.org/show_bug.cgi?id=198765"),
    ("Nested virtualization performance regression", "After updating the host kernel"),
    ("KVM Forum 2017: call for presentations", "The KVM Forum 2017 will take place"),
    ("Re-examining the halt polling defaults", "While looking at power usage"),
    ("Which tree should kvm selftests patches go to?", "I have a couple of"),
    ("Guest TSC drifts after host suspend", "On my laptop the guest"),
    ("[Bug 201234] kvm_set_msr_common: unhandled rdmsr", "https://bugzilla.kernel.org/show_bug.cgi?id=201234"),
    ("How to debug spurious #GP in L2 guest?", "I am seeing"),
]


def ts(text: str) -> int:
    """Unix time of a UTC 'YYYY-mm-dd HH:MM:SS'."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp())


DAY = 86400
LINK_SINCE = ts("2019-06-01 00:00:00")


@dataclass
class DemoCorpus:
    """What `build_demo` wrote, and the names tests and the demo use to talk about it."""

    repo: Path
    archive: Path
    commits: dict[str, str]                 # commit label -> full oid (every master commit)
    messages: dict[str, str]                # message label -> Message-ID without <>
    expected_links: dict[str, str]          # commit label -> label of the mail it was applied from
    series: dict[str, list[str]]            # series revision -> message labels (cover first)
    symbols: dict[str, str]                 # symbol -> label of the commit it was born in
    moves: dict[str, dict[str, str]]        # symbol -> birth/move commit labels and paths
    renames: dict[str, dict[str, str]]      # old path -> new path and the commit label
    edited: list[str]                       # commit labels applied with a changed diff
    never_applied: list[str]                # message labels of patches never applied
    missing: dict[str, str]                 # revisions known to exist but absent from the archive
    threads: dict[str, list[str]]           # discussion thread -> message labels
    story: dict[str, object] = field(default_factory=dict)
    build_seconds: float = 0.0


# ----------------------------------------------------------------------------- builder
@dataclass
class _Noise:
    label: str
    author: Person
    tz: str
    muts: list[tuple]
    title: str
    body: str


class _Builder:
    def __init__(self) -> None:
        self.rng = random.Random(20160613)
        self.tree: dict[str, str] = {}
        self.snap: dict[str, dict[str, str]] = {}
        self.master: list[CommitSpec] = []
        self.scratch: list[CommitSpec] = []
        self.tip: str | None = None
        self.plans: list[tuple[str, Callable[[dict, dict], MailSpec]]] = []
        self.msg_ids: dict[str, str] = {}
        self.expected: dict[str, str] = {}
        self.events: list[tuple[int, int, Callable[[], None]]] = []
        self.seq = 0
        self.counter = 0
        self.reserved: set[tuple[str, str]] = set()
        self.used_names: set[str] = set()
        self.edited: list[str] = []
        self.never: list[str] = []
        self.series: dict[str, list[str]] = {}
        self.threads: dict[str, list[str]] = {}
        self.stats: dict[str, tuple[str, str]] = {}

    # -- scheduling
    def at(self, when: int, fn: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, self.seq, fn))
        self.seq += 1

    def run(self) -> None:
        while self.events:
            _, _, fn = heapq.heappop(self.events)
            fn()

    # -- trees and commits
    @staticmethod
    def _changes(old: dict[str, str], new: dict[str, str], renames: dict[str, str]) -> dict[str, str | None]:
        files: dict[str, str | None] = {p: c for p, c in new.items() if old.get(p) != c}
        for p in old:
            if p not in new:
                files[p] = None
        for o, n in renames.items():
            files.pop(o, None)
            if new.get(n) == old.get(o):
                files.pop(n, None)
        return files

    def commit(self, label: str, subject: str, author: Person, when: int, tz: str,
               edit: Callable[[dict[str, str]], object], body: str = "",
               committer: Person | None = None, ctime: int | None = None,
               ctz: str | None = None) -> str:
        new = dict(self.tree)
        renames = edit(new) or {}
        files = self._changes(self.tree, new, renames)  # type: ignore[arg-type]
        if not files and not renames:
            raise ValueError(f"commit {label} changes nothing")
        self.master.append(CommitSpec(subject=subject, author=author, author_time=when, author_tz=tz,
                                      body=body, committer=committer, committer_time=ctime,
                                      committer_tz=ctz, files=files, renames=dict(renames),  # type: ignore[arg-type]
                                      name=label))
        self.tree = new
        self.snap[label] = new
        self.tip = label
        return label

    def scratch_chain(self, branch: str, steps: list[tuple[str, Callable[[dict[str, str]], object]]],
                      base: str | None = None) -> list[str]:
        """Commit `steps` on a scratch branch off `base` (default: master's tip); their labels."""
        base = base or self.tip
        assert base is not None
        tree = self.snap[base]
        labels = []
        for i, (label, edit) in enumerate(steps):
            new = dict(tree)
            renames = edit(new) or {}
            files = self._changes(tree, new, renames)  # type: ignore[arg-type]
            if not files and not renames:
                raise ValueError(f"scratch commit {label} changes nothing")
            self.scratch.append(CommitSpec(subject=label, author=PAOLO, author_time=0,
                                           files=files, renames=dict(renames),  # type: ignore[arg-type]
                                           branch=branch, base=base if i == 0 else None, name=label))
            tree = new
            labels.append(label)
        return labels

    # -- ids
    def reply_id(self, who: Person, when: int) -> str:
        self.counter += 1
        stamp = datetime.fromtimestamp(when, timezone.utc).strftime("%Y%m%d%H%M%S")
        return f"{stamp}.GA{self.counter:05d}@{who.email.partition('@')[2]}"

    def patch_id(self, who: Person, when: int, n: int, pid: int | None = None) -> str:
        pid = pid if pid is not None else 1000 + self.rng.randrange(30000)
        if when < ts("2017-01-01 00:00:00"):
            return send_email_id(when, pid, n, who.email)
        return modern_send_email_id(when, pid, n, who.email)

    # -- mails
    def plan(self, label: str, mid: str, make: Callable[[dict, dict], MailSpec]) -> str:
        if label in self.msg_ids:
            raise ValueError(f"duplicate message label {label}")
        self.msg_ids[label] = mid
        self.plans.append((label, make))
        return label

    def threading(self, M: dict, parent: str | None) -> dict[str, object]:
        if parent is None:
            return {}
        p = M[parent]
        return {"in_reply_to": p.message_id, "references": [*p.references, p.message_id]}

    def post_patch(self, label: str, src: str, subject: str, sender: Person, when: int, tz: str,
                   body: str, *, sob: list[Person], parent: str | None = None, notes: str = "",
                   in_body_from: Person | None = None, to: list[Person] | None = None,
                   cc: list[Person] | None = None, mid: str | None = None, **variant: object) -> str:
        mid = mid or self.patch_id(sender, when, 1)

        def make(P: dict, M: dict) -> MailSpec:
            return patch_mail(mid, subject, sender, when, body, P[src], tz=tz, signed_off_by=sob,
                              notes=notes, in_body_from=in_body_from, list_id=KVM_ID,
                              list_address=KVM_ADDR, to=to or [KVM_LIST], cc=cc or [],
                              **self.threading(M, parent), **variant)
        return self.plan(label, mid, make)

    def post_cover(self, label: str, subject: str, sender: Person, when: int, tz: str, blurb: str,
                   titles: list[str], *, changelog: str = "", stat: str | None = None,
                   to: list[Person] | None = None, cc: list[Person] | None = None,
                   mid: str | None = None) -> str:
        mid = mid or self.patch_id(sender, when, 0)

        def make(P: dict, M: dict) -> MailSpec:
            return cover_letter(mid, subject, sender, when, blurb, shortlog=titles,
                                diffstat=P.get(stat, "") if stat else "", changelog=changelog, tz=tz,
                                list_id=KVM_ID, list_address=KVM_ADDR, to=to or [KVM_LIST], cc=cc or [])
        return self.plan(label, mid, make)

    def post_reply(self, label: str, parent: str, who: Person, when: int, tz: str, text: str, *,
                   tags: tuple[str, ...] = (), quote_with: str | None = None,
                   quote_lines: int = 6, **extra: object) -> str:
        mid = self.reply_id(who, when)

        def make(P: dict, M: dict) -> MailSpec:
            quote = None
            if quote_with is not None:
                lines = M[parent].body.splitlines()
                hit = next(i for i, ln in enumerate(lines) if quote_with in ln)
                quote = "\n".join(lines[max(0, hit - 2):hit + 3])
            return reply(M[parent], mid, who, when, text, tz=tz, quote=quote,
                         quote_lines=quote_lines, tags=tags, **extra)
        return self.plan(label, mid, make)

    def post_thread_start(self, label: str, subject: str, who: Person, when: int, tz: str, body: str,
                          **extra: object) -> str:
        mid = self.reply_id(who, when)

        def make(P: dict, M: dict) -> MailSpec:
            return MailSpec(message_id=mid, subject=subject, sender=who, date=when, tz=tz, body=body,
                            list_id=KVM_ID, list_address=KVM_ADDR, to=[KVM_LIST], **extra)  # type: ignore[arg-type]
        return self.plan(label, mid, make)

    def link(self, commit_label: str, msg_label: str) -> None:
        self.expected[commit_label] = msg_label


def _commit_body(body: str, trailers: list[str]) -> str:
    return body.strip("\n") + "\n\n" + "\n".join(trailers) + "\n"


def _committer_tz(when: int) -> str:
    month = datetime.fromtimestamp(when, timezone.utc).month
    return "+0200" if 4 <= month <= 10 else "+0100"


