"""The demo corpus: a KVM-like git tree and a kvm list archive that tell the seed story.

`build_demo(dir)` writes `dir/repo` (a git repository with `master` checked out) and
`dir/archive` (a public-inbox v2 inbox, one epoch) and returns a `DemoCorpus` naming every
commit and message the tests and `patchtrail demo` refer to. See docs/seed-story.md for the
story; in short:

- the "Utilizing VMX preemption for timer virtualization" series, v1 (RFC) to V4 as four
  threads, with reviews; V4 applied by Paolo in the order 3/4, 4/4, 1/4, 2/4 with reworded
  subjects, the last one (the vmx hook, where `enable_preemption_timer` is born) edited on
  apply; `hv_timer_in_use` is born in the tsc-deadline commit (posted 4/4);
- the follow-up "Support using the VMX preemption timer for APIC Timer periodic/oneshot
  mode": v1 one patch, v2 absent from the archive, v3 five patches, applied as five commits;
- a 2019 thread "Why are we using preemption timer on x86?";
- the 2018-12 move of vmx.c to vmx/vmx.c and of `cpu_has_vmx_preemption_timer()` (with two
  other helpers) to vmx/capabilities.h;
- a few hundred noise patches and threads exercising what real lists carry.

Everything is derived from fixed seeds and fixed dates: the same bytes on every run.
Every mail diff is `git format-patch` output of a real commit: of the applied commit
itself when it was applied unchanged, else of a scratch commit (posted order, earlier
revision, un-edited version, never applied) written to a throw-away repository.
"""

from __future__ import annotations

import heapq
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from patchtrail.corpus import demo_seed as S
from patchtrail.corpus.archives import write_public_inbox_v2
from patchtrail.corpus.cedit import find_function, function_names, insert_after, remove_function
from patchtrail.corpus.demo_src_lapic import LAPIC_C, LAPIC_H
from patchtrail.corpus.demo_src_vmx import KVM_HOST_H, TRACE_H, VMX_C
from patchtrail.corpus.demo_src_x86 import NOISE_FILES, NOUNS, VERBS, X86_C, X86_H, noise_file, noise_function
from patchtrail.corpus.gitwrite import CommitSpec, Person, format_patches, git, write_repo
from patchtrail.corpus.mails import (MailSpec, bare_id, cover_letter, modern_send_email_id, patch_mail,
                                     patch_subject, render_mail, reply, send_email_id)

__all__ = ["DemoCorpus", "build_demo", "SERIES_APPLIED", "FOLLOWUP_APPLIED"]

# Commit labels of the seed series in the order Paolo applied it (posted 3/4, 4/4, 1/4, 2/4),
# and of the follow-up series.
SERIES_APPLIED = ["seed_separate", "seed_tscdeadline", "seed_rename", "seed_hook"]
FOLLOWUP_APPLIED = ["fu_extract", "fu_guarantee", "fu_target_tsc", "fu_rename_hv", "fu_periodic"]

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


# ----------------------------------------------------------------------------- the story
SEED_TITLES = {
    1: "Rename the vmx_pre/post_block to pi_pre/post_block",
    2: "Utilize the vmx preemption timer",
    3: "Separate the start_sw_tscdeadline",
    4: "Utilize the vmx preemption timer for tsc deadline timer",
}
SEED_BODIES = {
    1: "Rename the vmx_pre/post_block to pi_pre/post_block, since they only deal\n"
       "with posted interrupts. The vmx_pre/post_block hooks will be used also for\n"
       "the VMX preemption timer in the next patches.",
    2: "Add the basic VMX preemption timer functionality, including checking if\n"
       "the feature is supported, if the feature is enabled, and the VM exit\n"
       "handler for the preemption timer.\n\n"
       "The preemption timer can be disabled with the preemption_timer module\n"
       "parameter (enable_preemption_timer). It is only used for the TSC deadline\n"
       "timer for now.",
    3: "The function to start the tsc deadline timer virtualization will be used\n"
       "also by the pre_block hook when we use the preemption timer; change it to\n"
       "a separate function. No logic changes.",
    4: "Utilize the VMX preemption timer for tsc deadline timer virtualization.\n"
       "The VMX preemption timer is armed when the vCPU is running, and a VMExit\n"
       "will happen if the virtual TSC deadline timer expires.\n\n"
       "When the vCPU thread is blocked because of HLT instruction, the tsc\n"
       "deadline timer will be switched to use the sw timer again. The\n"
       "hv_timer_in_use field of struct kvm_timer tells which timer is in use.",
}
SEED_COMMIT_SUBJECTS = {
    3: "kvm: lapic: separate start_sw_tscdeadline from start_apic_timer",
    4: "KVM: x86: support using the vmx preemption timer for tsc deadline timer",
    1: "kvm: vmx: rename vmx_pre/post_block to pi_pre/post_block",
    2: "kvm: vmx: hook preemption timer support",
}
SEED_COMMIT_LABELS = {3: "seed_separate", 4: "seed_tscdeadline", 1: "seed_rename", 2: "seed_hook"}
SEED_TITLE = "Utilizing VMX preemption for timer virtualization"
SEED_BLURB = (
    "The VMX-preemption timer is a feature on VMX, it counts down, from the value\n"
    "loaded by VM entry, in VMX nonroot operation. When the timer counts down to\n"
    "zero, it stops counting down and a VM exit occurs.\n\n"
    "This series utilizes the VMX preemption timer for tsc deadline timer\n"
    "virtualization. The VMX preemption timer is armed when the vCPU is running,\n"
    "and a VMExit will happen if the virtual TSC deadline timer expires. When the\n"
    "vCPU thread is blocked because of HLT instruction, the tsc deadline timer is\n"
    "switched back to the sw timer.\n\n"
    "Performance evaluation: with cyclictest in the guest, the latency improved\n"
    "by about 30% when the host is idle.")
SEED_CHANGELOG = {
    1: "",
    2: "Changes since v1:\n"
       "* Rename hv_timer_active to hv_timer_in_use (Paolo).\n"
       "* Take the preemption timer rate from MSR_IA32_VMX_MISC instead of assuming\n"
       "  it (Paolo).\n"
       "* Drop the RFC tag.",
    3: "Changes since v2:\n"
       "* Fix the commit messages (Radim).\n"
       "* Rebase on top of kvm/queue.",
    4: "Changes since v3:\n"
       "* Re-check the pending timer after switching to the hv timer, in case the\n"
       "  sw timer fired in the window (Radim).\n"
       "* Rebase on top of kvm/queue.",
}
SEED_POSTED = {1: "2016-05-20 17:03:12", 2: "2016-05-27 21:44:05", 3: "2016-06-03 22:15:40",
               4: "2016-06-13 21:20:01"}
SEED_PIDS = {1: 30431, 2: 12805, 3: 21907, 4: 6684}

FU_TITLE = "KVM: x86: Support using the VMX preemption timer for APIC Timer periodic/oneshot mode"
FU_SUBJECTS = [
    "KVM: LAPIC: extract start_sw_period() to handle periodic/oneshot mode",
    "KVM: LAPIC: guarantee the timer is in tsc-deadline mode",
    "KVM: LAPIC: introduce kvm_get_lapic_target_expiration_tsc()",
    "KVM: LAPIC: rename start/cancel_hv_tscdeadline to start/cancel_hv_timer",
    "KVM: LAPIC: add APIC Timer periodic/oneshot mode VMX preemption timer support",
]
FU_LABELS = ["fu_extract", "fu_guarantee", "fu_target_tsc", "fu_rename_hv", "fu_periodic"]
FU_BODIES = [
    "Extract start_sw_period() to handle the periodic and oneshot modes; it\n"
    "will be used also by the VMX preemption timer code.",
    "The VMX preemption timer is only used for the TSC deadline mode so far;\n"
    "make the accessors of the TSC deadline MSR check the mode explicitly.",
    "Introduce kvm_get_lapic_target_expiration_tsc() to get the expiration of\n"
    "the timer in guest TSC units, whatever the timer mode.",
    "The hv timer helpers are going to handle the periodic and oneshot modes\n"
    "too; rename them from start/cancel_hv_tscdeadline to start/cancel_hv_timer.",
    "Add periodic and oneshot mode support to the VMX preemption timer, so that\n"
    "guests which do not use the TSC deadline mode benefit from it too. The\n"
    "sw timer is still used when the vCPU is blocked.",
]


def _initial_tree(rng: random.Random) -> dict[str, str]:
    tree = {S.LAPIC_C: LAPIC_C, S.LAPIC_H: LAPIC_H, S.VMX_C: VMX_C, S.KVM_HOST_H: KVM_HOST_H,
            S.TRACE_H: TRACE_H, S.X86_C: X86_C, S.X86_H: X86_H,
            "MAINTAINERS": "KERNEL VIRTUAL MACHINE (KVM)\nM:\tPaolo Bonzini <pbonzini@redhat.com>\n"
                           "M:\tRadim Krčmář <rkrcmar@redhat.com>\nL:\tkvm@vger.kernel.org\n"
                           "W:\thttp://www.linux-kvm.org\nS:\tSupported\nF:\tvirt/kvm/\nF:\tarch/x86/kvm/\n"}
    for path, prefix in NOISE_FILES.items():
        tree[path], _ = noise_file(path, prefix, rng)
    return tree


def _seed(b: _Builder) -> None:
    """The VMX preemption timer series (v1..V4) and its application."""
    applied_at = ts("2016-07-14 08:21:40")
    v4_posts: dict[int, str] = {}
    for v in (1, 2, 3, 4):
        def post(v: int = v) -> None:
            when = ts(SEED_POSTED[v])
            pid = SEED_PIDS[v]
            letter = "V" if v == 4 else "v"
            steps = [(f"seed_v{v}_{n}", lambda t, n=n, v=v: S.SEED_EDITS[n](t, version=v))
                     for n in (1, 2, 3, 4)]
            base = b.tip
            labels = b.scratch_chain(f"seed_v{v}", steps)
            b.stats[f"stat:seed_v{v}"] = (base, labels[-1])  # type: ignore[assignment]
            cc = [PAOLO, RADIM, LKML]
            msgs = [b.post_cover(f"v{v}_0", patch_subject(SEED_TITLE, v, 0, 4, rfc=v == 1, v=letter),
                                 YUNHONG, when, TZ[YUNHONG], SEED_BLURB,
                                 [SEED_TITLES[n] for n in (1, 2, 3, 4)],
                                 changelog=SEED_CHANGELOG[v], stat=f"stat:seed_v{v}", cc=cc,
                                 mid=send_email_id(when, pid, 1, YUNHONG.email))]
            for n in (1, 2, 3, 4):
                msgs.append(b.post_patch(
                    f"v{v}_{n}", labels[n - 1], patch_subject(SEED_TITLES[n], v, n, 4, rfc=v == 1, v=letter),
                    YUNHONG, when + n, TZ[YUNHONG], SEED_BODIES[n], sob=[YUNHONG], parent=f"v{v}_0",
                    cc=cc, mid=send_email_id(when, pid, n + 1, YUNHONG.email)))
            b.series[f"timer_v{v}"] = msgs
            if v == 4:
                v4_posts.update({n: msgs[n] for n in (1, 2, 3, 4)})
        b.at(ts(SEED_POSTED[v]), post)

    # Reviews and discussion.
    def reviews() -> None:
        t1 = ts(SEED_POSTED[1])
        b.post_reply("v1_4_paolo", "v1_4", PAOLO, t1 + 2 * DAY + 3600, TZ[PAOLO],
                     "Please call it hv_timer_in_use; \"active\" suggests that the timer is\n"
                     "running, while this only says which of the two timers is used.",
                     quote_with="bool hv_timer_active;")
        b.post_reply("v1_4_yunhong", "v1_4_paolo", YUNHONG, t1 + 3 * DAY, TZ[YUNHONG],
                     "Sure, will rename it in v2.", quote_lines=3)
        b.post_reply("v1_2_paolo", "v1_2", PAOLO, t1 + 2 * DAY + 7200, TZ[PAOLO],
                     "The rate of the preemption timer is in MSR_IA32_VMX_MISC, you cannot\n"
                     "assume it counts at the TSC rate.",
                     quote_with="if (delta_tsc >> 32)")
        t2 = ts(SEED_POSTED[2])
        b.post_reply("v2_2_radim", "v2_2", RADIM, t2 + 3 * DAY, TZ[RADIM],
                     "The commit message should say why the preemption timer is only used\n"
                     "for the TSC deadline mode.", quote_lines=4)
        t3 = ts(SEED_POSTED[3])
        b.post_reply("v3_4_radim", "v3_4", RADIM, t3 + 4 * DAY, TZ[RADIM],
                     "If the sw timer fires between set_hv_timer() and hrtimer_cancel(), the\n"
                     "interrupt is injected twice. Please re-check pending after cancelling\n"
                     "the hrtimer.", quote_with="hrtimer_cancel(&apic->lapic_timer.timer);")
        t4 = ts(SEED_POSTED[4])
        b.post_reply("v4_1_radim", "v4_1", RADIM, t4 + DAY + 5000, TZ[RADIM], "",
                     tags=("Reviewed-by",), quote_lines=3)
        b.post_reply("v4_3_radim", "v4_3", RADIM, t4 + DAY + 5400, TZ[RADIM], "",
                     tags=("Reviewed-by",), quote_lines=3)
        b.post_reply("v4_4_radim", "v4_4", RADIM, t4 + DAY + 6100, TZ[RADIM],
                     "Now the window is closed, thanks. I still wonder whether the hv timer\n"
                     "should be used when the guest is not using the TSC deadline mode, but\n"
                     "that can come later.", quote_with="In case the sw timer triggered")
        b.post_reply("v4_4_yunhong", "v4_4_radim", YUNHONG, t4 + 2 * DAY, TZ[YUNHONG],
                     "Yes, the periodic and oneshot modes can be done on top of this series.",
                     quote_lines=3)
        b.post_reply("v4_0_paolo", "v4_0", PAOLO, applied_at + 3 * 3600, TZ[PAOLO],
                     "Applied, thanks. I reordered the patches: patch 2 uses the set_hv_timer\n"
                     "and cancel_hv_timer callbacks that only patch 4 introduces, so the\n"
                     "order is now 3, 4, 1, 2. I also made the preemption_timer parameter\n"
                     "64-bit only.", quote_lines=4)
        b.threads["timer_v4_review"] = ["v4_1_radim", "v4_3_radim", "v4_4_radim", "v4_4_yunhong",
                                        "v4_0_paolo"]
    b.at(ts(SEED_POSTED[4]) + 3600, reviews)

    def apply() -> None:
        reviewed = {1: [f"Reviewed-by: {RADIM.ident()}"], 3: [f"Reviewed-by: {RADIM.ident()}"]}
        for i, n in enumerate((3, 4, 1, 2)):
            label = SEED_COMMIT_LABELS[n]
            when = ts(SEED_POSTED[4]) + n
            trailers = [f"Signed-off-by: {YUNHONG.ident()}", *reviewed.get(n, [])]
            if n == 2:
                trailers.append("[Paolo: make the preemption_timer parameter 64-bit only, the\n"
                                " hv_timer callbacks are only defined on 64-bit hosts]")
            trailers.append(f"Signed-off-by: {PAOLO.ident()}")
            edit = (lambda t: S.hook_preemption_timer(t, applied=True)) if n == 2 else S.SEED_EDITS[n]
            b.commit(label, SEED_COMMIT_SUBJECTS[n], YUNHONG, when, TZ[YUNHONG], edit,
                     _commit_body(SEED_BODIES[n], trailers), PAOLO, applied_at + 60 * i, TZ[PAOLO])
            b.link(label, f"v4_{n}")
        b.edited.append("seed_hook")
    b.at(applied_at, apply)


def _followup(b: _Builder) -> None:
    v1_at = ts("2016-10-11 08:40:17")
    v3_at = ts("2016-10-24 10:23:05")
    applied_at = ts("2016-11-02 15:10:00")

    def post_v1() -> None:
        (src,) = b.scratch_chain("fu_v1", [("fu_v1_src", S.followup_v1)])
        b.post_patch("fu_v1", src, f"[PATCH] {FU_TITLE}", WANPENG_SENDER, v1_at, TZ[WANPENG_SENDER],
                     "Most windows guests still utilize APIC Timer periodic/oneshot mode\n"
                     "instead of tsc-deadline mode, and the APIC Timer periodic/oneshot\n"
                     "mode are still emulated by high overhead hrtimer on host. This patch\n"
                     "converts the expected expire time of the periodic/oneshot mode to\n"
                     "guest deadline tsc in order to leverage VMX preemption timer logic\n"
                     "for APIC Timer tsc-deadline mode.",
                     sob=[WANPENG], in_body_from=WANPENG, to=[LKML, KVM_LIST], cc=[PAOLO, RADIM, YUNHONG],
                     mid=send_email_id(v1_at, 5042, 1, WANPENG_SENDER.email))
        b.series["followup_v1"] = ["fu_v1"]
        b.post_reply("fu_v1_paolo", "fu_v1", PAOLO, v1_at + DAY, TZ[PAOLO],
                     "Please split this in smaller patches: first extract start_sw_period(),\n"
                     "then the rename, and then add the new mode.",
                     quote_with="start_sw_period(apic);")
        b.post_reply("fu_v1_wanpeng", "fu_v1_paolo", WANPENG_SENDER, v1_at + DAY + 7200,
                     TZ[WANPENG_SENDER], "Will do in v2.", quote_lines=2)
    b.at(v1_at, post_v1)

    def post_v3() -> None:
        steps = [(f"fu_v3_src_{i + 1}", fn) for i, fn in enumerate(S.FOLLOWUP_EDITS)]
        base = b.tip
        labels = b.scratch_chain("fu_v3", steps)
        b.stats["stat:fu_v3"] = (base, labels[-1])  # type: ignore[assignment]
        cc = [PAOLO, RADIM, YUNHONG]
        msgs = [b.post_cover("fu_v3_0", patch_subject(FU_TITLE, 3, 0, 5), WANPENG_SENDER, v3_at,
                             TZ[WANPENG_SENDER],
                             "Most windows guests still utilize APIC Timer periodic/oneshot mode\n"
                             "instead of tsc-deadline mode. This series converts the expiration of\n"
                             "the periodic/oneshot modes to a guest deadline tsc, so that the VMX\n"
                             "preemption timer can be used for them too.",
                             FU_SUBJECTS, changelog="v2 -> v3:\n * fix the periodic mode when the hv timer fails\n"
                                                    " * rebase on kvm/queue\n\n"
                                                    "v1 -> v2:\n * split into smaller patches (Paolo)",
                             stat="stat:fu_v3", to=[LKML, KVM_LIST], cc=cc,
                             mid=send_email_id(v3_at, 3311, 1, WANPENG_SENDER.email))]
        for i in range(5):
            msgs.append(b.post_patch(
                f"fu_v3_{i + 1}", labels[i], patch_subject(FU_SUBJECTS[i], 3, i + 1, 5), WANPENG_SENDER,
                v3_at + i + 1, TZ[WANPENG_SENDER], FU_BODIES[i], sob=[WANPENG], in_body_from=WANPENG,
                parent="fu_v3_0", to=[LKML, KVM_LIST], cc=cc,
                mid=send_email_id(v3_at, 3311, i + 2, WANPENG_SENDER.email)))
        b.series["followup_v3"] = msgs
        b.post_reply("fu_v3_0_paolo", "fu_v3_0", PAOLO, v3_at + DAY, TZ[PAOLO], "",
                     tags=("Reviewed-by",), quote_lines=4)
    b.at(v3_at, post_v3)

    def apply() -> None:
        for i, fn in enumerate(S.FOLLOWUP_EDITS):
            trailers = [f"Signed-off-by: {WANPENG.ident()}", f"Reviewed-by: {PAOLO.ident()}",
                        f"Signed-off-by: {RADIM.ident()}"]
            b.commit(FU_LABELS[i], FU_SUBJECTS[i], WANPENG, v3_at + i + 1, TZ[WANPENG_SENDER], fn,
                     _commit_body(FU_BODIES[i], trailers), RADIM, applied_at + 30 * i, "+0100")
            b.link(FU_LABELS[i], f"fu_v3_{i + 1}")
        b.post_reply("fu_v3_0_radim", "fu_v3_0", RADIM, applied_at + 3600, "+0100",
                     "Applied to kvm/queue, thanks.", quote_lines=2)
    b.at(applied_at, apply)


def _vmx_split(b: _Builder) -> None:
    posted = ts("2018-12-03 21:52:58")
    applied = ts("2018-12-14 11:05:00")
    titles = ['KVM: VMX: Move VMX specific files to a "vmx" subdirectory',
              "KVM: VMX: Move capabilities helpers to a dedicated file"]
    bodies = ["The VMX code is going to be split into several files; move it to a\n"
              "subdirectory first, as is done for other architectures.",
              "Move the cpu_has_vmx_*() helpers that tell which VMX features the CPU\n"
              "supports to vmx/capabilities.h, so that the nested code can use them."]
    edits = [S.move_vmx_to_subdir, S.move_capabilities]

    def post() -> None:
        labels = b.scratch_chain("vmx_split", [(f"split_src_{i}", e) for i, e in enumerate(edits)])
        pid = 19912
        msgs = [b.post_cover("split_0", patch_subject("KVM: VMX: split vmx.c, part 1", 1, 0, 2), SEAN,
                             posted, TZ[SEAN], "vmx.c is more than 14000 lines long; this is the first\n"
                             "step towards splitting it.", titles, cc=[PAOLO, RADIM],
                             mid=modern_send_email_id(posted, pid, 1, SEAN.email))]
        for i in range(2):
            msgs.append(b.post_patch(f"split_{i + 1}", labels[i], patch_subject(titles[i], 1, i + 1, 2),
                                     SEAN, posted + i + 1, TZ[SEAN], bodies[i], sob=[SEAN],
                                     parent="split_0", cc=[PAOLO, RADIM],
                                     mid=modern_send_email_id(posted, pid, i + 2, SEAN.email)))
        b.series["vmx_split_v1"] = msgs
    b.at(posted, post)

    def apply() -> None:
        for i, label in enumerate(("vmx_subdir", "vmx_caps_move")):
            b.commit(label, titles[i], SEAN, posted + i + 1, TZ[SEAN], edits[i],
                     _commit_body(bodies[i], [f"Signed-off-by: {SEAN.ident()}",
                                              f"Signed-off-by: {PAOLO.ident()}"]),
                     PAOLO, applied + 60 * i, "+0100")
            b.link(label, f"split_{i + 1}")
    b.at(applied, apply)


def _why_thread(b: _Builder) -> None:
    when = ts("2019-08-06 03:12:44")

    def post() -> None:
        b.post_thread_start(
            "why_0", "Why are we using preemption timer on x86?", ASKER, when, TZ[ASKER],
            "Hi,\n\nSince \"kvm: vmx: hook preemption timer support\", KVM uses the VMX\n"
            "preemption timer for the guest's LAPIC timer when enable_preemption_timer\n"
            "is set, which it is by default. Why is it better than the hrtimer? On\n"
            "our hosts with nohz_full the hrtimer looks cheaper, since the preemption\n"
            "timer has to be reprogrammed on every vmentry.\n\nThanks,\nMing\n")
        b.post_reply("why_1", "why_0", PAOLO, when + 5 * 3600, TZ[PAOLO],
                     "The preemption timer avoids the hrtimer interrupt on the host and the\n"
                     "vmexit it causes: the guest's deadline expires directly as a vmexit.\n"
                     "With nohz_full you may well be better off with\n"
                     "kvm_intel.preemption_timer=0; that is why the parameter exists.",
                     quote_with="enable_preemption_timer")
        b.post_reply("why_2", "why_1", WANPENG_SENDER, when + 9 * 3600, TZ[WANPENG_SENDER],
                     "Also, the periodic and oneshot modes use it since 2016, so windows\n"
                     "guests benefit from it too.", quote_lines=4)
        b.post_reply("why_3", "why_2", ASKER, when + DAY, TZ[ASKER],
                     "Thanks, that explains it. We will measure both.", quote_lines=2)
        b.threads["why_preemption_timer"] = ["why_0", "why_1", "why_2", "why_3"]
    b.at(when, post)


def _old_history(b: _Builder) -> None:
    """Hand-written older commits on the seed files, before the series."""
    h1_at = ts("2015-04-02 09:11:00")
    pml = ("static bool __read_mostly enable_pml = 1;\n"
           "module_param_named(pml, enable_pml, bool, S_IRUGO);\n")
    author, tz = NOISE_PEOPLE[4]
    body = ("PML can be disabled for debugging; add a module parameter for it, the\n"
            "same way as the other VMX features.")

    def h1() -> None:
        def edit(t: dict[str, str]) -> None:
            t[S.VMX_C] = t[S.VMX_C].replace("module_param(enable_apicv, bool, S_IRUGO);\n",
                                            "module_param(enable_apicv, bool, S_IRUGO);\n\n" + pml, 1)
        label = b.commit("old_pml", "KVM: VMX: add a module parameter to disable PML", author,
                         h1_at, tz, edit, _commit_body(body, [f"Signed-off-by: {author.ident()}",
                                                              f"Signed-off-by: {PAOLO.ident()}"]),
                         PAOLO, h1_at + 6 * DAY, "+0200")
        b.post_patch("old_pml_mail", label, patch_subject("KVM: VMX: add a module parameter to disable PML"),
                     author, h1_at, tz, body, sob=[author], cc=[PAOLO])
        b.link(label, "old_pml_mail")
    b.at(h1_at + 6 * DAY, h1)

    def h2() -> None:
        def edit(t: dict[str, str]) -> None:
            t[S.LAPIC_C] = t[S.LAPIC_C].replace(
                "\t/* __delay is delay_tsc whenever the hardware has TSC, thus always.  */\n",
                "\t/* __delay is delay_tsc whenever the hardware has TSC, thus always. */\n", 1)
        when = ts("2015-08-19 14:02:31")
        b.commit("old_lapic_comment", "KVM: lapic: fix whitespace in a comment", PAOLO, when, "+0200",
                 edit, f"Signed-off-by: {PAOLO.ident()}", PAOLO, when, "+0200")
    b.at(ts("2015-08-19 14:02:31"), h2)

    h3_at = ts("2016-01-21 05:33:10")
    a3, tz3 = NOISE_PEOPLE[9]
    body3 = "Count the halt polls that were invalidated by a wakeup of another vCPU."

    def h3() -> None:
        def edit(t: dict[str, str]) -> None:
            t[S.KVM_HOST_H] = t[S.KVM_HOST_H].replace("\tu32 halt_wakeup;\n",
                                                      "\tu32 halt_wakeup;\n\tu32 halt_poll_invalid;\n", 1)
        label = b.commit("old_halt_stat", "KVM: x86: add halt_poll_invalid statistic", a3, h3_at, tz3, edit,
                         _commit_body(body3, [f"Signed-off-by: {a3.ident()}", f"Signed-off-by: {PAOLO.ident()}"]),
                         PAOLO, h3_at + 9 * DAY, "+0100")
        b.post_patch("old_halt_stat_mail", label, patch_subject("KVM: x86: add halt_poll_invalid statistic"),
                     a3, h3_at, tz3, body3, sob=[a3], cc=[PAOLO])
        b.link(label, "old_halt_stat_mail")
    b.at(h3_at + 9 * DAY, h3)


# ----------------------------------------------------------------------------- noise
def _choose(b: _Builder, rng: random.Random, n: int) -> list[tuple]:
    """Pick `n` mutations of noise functions not reserved by pending patches."""
    muts: list[tuple] = []
    paths = list(NOISE_FILES)
    for _ in range(n):
        path = rng.choice(paths)
        names = [f for f in function_names(b.tree[path]) if (path, f) not in b.reserved]
        fname = rng.choice(names)
        start, end = find_function(b.tree[path], fname)
        text = b.tree[path][start:end]
        roll = rng.random()
        if roll < 0.25 or len(names) < 20:
            prefix = NOISE_FILES[path]
            while True:
                new = f"{prefix}_{rng.choice(VERBS)}_{rng.choice(NOUNS)}"
                if new not in b.used_names and new not in names:
                    break
                new = f"{new}_{rng.randrange(2, 9)}"
                if new not in b.used_names and new not in names:
                    break
            b.used_names.add(new)
            code = noise_function(new, rng)
            alt = code.replace("return -EINVAL;", "return -ENODEV;")
            muts.append(("add", path, fname, new, code, alt))
        elif roll < 0.29:
            muts.append(("remove", path, fname))
        else:
            valid = [p for p in PAIRS if text.count(p[0]) == 1 and p[1] not in text]
            if not valid:
                muts.append(("remove", path, fname))
            else:
                old, new, alt, phrase = rng.choice(valid)
                muts.append(("pair", path, fname, old, new, alt, phrase))
        b.reserved.add((path, fname))
    return muts


def _apply_muts(t: dict[str, str], muts: list[tuple], tweak: bool = False) -> None:
    for m in muts:
        path = m[1]
        if m[0] == "add":
            t[path] = insert_after(t[path], m[2], m[5] if tweak else m[4])
        elif m[0] == "remove":
            t[path] = remove_function(t[path], m[2])
        else:
            _, _, fname, old, new, alt, _ = m
            start, end = find_function(t[path], fname)
            fn = t[path][start:end]
            if fn.count(old) != 1:
                raise ValueError(f"noise anchor lost in {fname}")
            t[path] = t[path][:start] + fn.replace(old, alt if tweak else new) + t[path][end:]


def _title(m: tuple, reword: bool = False) -> str:
    area = AREA[m[1]][1 if reword else 0]
    if m[0] == "add":
        phrase = f"introduce {m[3]}()" if not reword else f"add {m[3]}() helper"
    elif m[0] == "remove":
        phrase = f"remove unused {m[2]}()" if not reword else f"drop {m[2]}()"
    else:
        phrase = m[6].format(f=m[2])
    return f"{area}: {phrase}"


def _noise_set(b: _Builder, k: int, when: int) -> None:
    rng = b.rng
    npatch = 1 if rng.random() < 0.7 else rng.randint(2, 4)
    old = when < ts("2016-04-01 00:00:00")
    r = rng.random()
    fate = "direct" if old and r < 0.35 else ("never" if r > 0.86 else "applied")
    revisions = 2 if fate == "applied" and rng.random() < 0.2 else 1
    dmarc_sender = rng.random() < 0.08
    author, tz = rng.choice(DMARC_PEOPLE if dmarc_sender else NOISE_PEOPLE)
    maint = RADIM if (ts("2016-03-01 00:00:00") < when < ts("2018-12-01 00:00:00") and rng.random() < 0.3) else PAOLO
    patches: list[_Noise] = []
    for i in range(npatch):
        muts = _choose(b, rng, 1 if rng.random() < 0.75 else 2)
        title = _title(muts[0])
        body = rng.choice(BLURBS)
        if len(muts) > 1:
            body = f"While at it, also {_title(muts[1]).split(': ', 1)[-1]}.\n\n" + body
        patches.append(_Noise(f"n{k:03d}_{i + 1}", author, tz, muts, title, body))

    if fate == "direct":
        def direct() -> None:
            for i, p in enumerate(patches):
                b.commit(p.label, p.title, p.author, when + 60 * i, p.tz, lambda t, m=p.muts: _apply_muts(t, m),
                         _commit_body(p.body, [f"Signed-off-by: {p.author.ident()}",
                                               f"Signed-off-by: {maint.ident()}"]),
                         maint, when + 3 * DAY + 60 * i, _committer_tz(when))
                for m in p.muts:
                    b.reserved.discard((m[1], m[2]))
        b.at(when, direct)
        return

    # Variant of every patch mail, and of the maintainer's handling.
    variants: list[dict[str, object]] = []
    inbody: list[Person | None] = []
    for p in patches:
        v: dict[str, object] = {}
        x = rng.random()
        if dmarc_sender:
            v["dmarc_via"] = KVM_ADDR
        if x < 0.06:
            v["transfer_encoding"] = "base64"
        elif x < 0.13:
            v["transfer_encoding"] = "quoted-printable"
        elif x < 0.18:
            v["attachment_patch"] = True
        variants.append(v)
        inbody.append(None)
    sender, sender_tz = author, tz
    if not dmarc_sender and rng.random() < 0.07:
        sender, sender_tz = rng.choice([pp for pp in NOISE_PEOPLE if pp[0] != author])
        inbody = [author] * npatch
    edited = [fate == "applied" and rng.random() < 0.07 and any(m[0] != "remove" for m in p.muts)
              for p in patches]
    reworded = [fate == "applied" and rng.random() < 0.12 for _ in patches]
    reviewer, rtz = rng.choice([pp for pp in NOISE_PEOPLE if pp[0] not in (author, sender)])
    reviewed = rng.random() < 0.35
    posts = [when] if revisions == 1 else [when, when + rng.randint(8, 25) * DAY]
    apply_at = posts[-1] + rng.randint(2, 20) * DAY + rng.randint(0, 20000)
    title0 = patches[0].title
    series_title = title0 if npatch == 1 else f"{AREA[patches[0].muts[0][1]][0]}: misc fixes"
    sob = [author] + ([sender] if sender != author else [])

    for rev, pwhen in enumerate(posts, start=1):
        def post(rev: int = rev, pwhen: int = pwhen) -> None:
            srcs: list[str]
            if fate == "never":
                srcs = b.scratch_chain(f"n{k:03d}", [(f"{p.label}~mail", lambda t, m=p.muts: _apply_muts(t, m))
                                                      for p in patches])
                for p in patches:
                    for m in p.muts:
                        b.reserved.discard((m[1], m[2]))
            else:
                srcs = [f"{p.label}~mail" if edited[i] else p.label for i, p in enumerate(patches)]
            pid = rng.randrange(1000, 32000)
            cover = None
            labels: list[str] = []
            if npatch > 1:
                cover = b.post_cover(f"n{k:03d}_v{rev}_0", patch_subject(series_title, rev, 0, npatch),
                                     sender, pwhen, sender_tz,
                                     "A few small fixes found while working on this code.",
                                     [p.title for p in patches], cc=[maint],
                                     changelog="v1 -> v2: reword the commit messages." if rev > 1 else "",
                                     mid=b.patch_id(sender, pwhen, 1, pid))
                labels.append(cover)
            for i, p in enumerate(patches):
                num = (i + 1, npatch) if npatch > 1 else (None, None)
                labels.append(b.post_patch(
                    f"n{k:03d}_v{rev}_{i + 1}", srcs[i], patch_subject(p.title, rev, *num), sender,
                    pwhen + i + 1, sender_tz, p.body, sob=sob, parent=cover, in_body_from=inbody[i],
                    cc=[maint], mid=b.patch_id(sender, pwhen, i + 2, pid),
                    notes="v2: reworded the commit message" if rev > 1 else "", **variants[i]))
            b.series[f"n{k:03d}_v{rev}"] = labels
            head = labels[0]
            if fate == "never":
                b.never.extend(lb for lb in labels if lb != cover)
                if rng.random() < 0.6:
                    b.post_reply(f"{head}_nak", head, maint, pwhen + 2 * DAY, _committer_tz(pwhen),
                                 rng.choice(NAK_TEXT), quote_lines=4)
            elif rev < len(posts):
                b.post_reply(f"{head}_q", labels[-1], reviewer, pwhen + DAY, rtz,
                             rng.choice(DISCUSS_TEXT), quote_with="@@", quote_lines=4)
                b.post_reply(f"{head}_a", f"{head}_q", sender, pwhen + 2 * DAY, sender_tz,
                             rng.choice(ANSWER_TEXT), quote_lines=2)
            elif reviewed:
                b.post_reply(f"{head}_rb", head, reviewer, pwhen + DAY + 777, rtz,
                             rng.choice(REVIEW_TEXT), tags=("Reviewed-by",), quote_lines=4)
        b.at(pwhen, post)

    if fate != "applied":
        return
    final = len(posts)

    def apply() -> None:
        for i, p in enumerate(patches):
            ctime = apply_at + 45 * i
            if edited[i]:
                b.scratch_chain(f"s/{p.label}", [(f"{p.label}~mail", lambda t, m=p.muts: _apply_muts(t, m))])
            trailers = [f"Signed-off-by: {x.ident()}" for x in sob]
            if reviewed:
                trailers.append(f"Reviewed-by: {reviewer.ident()}")
            if edited[i]:
                trailers.append(f"[{maint.name.split()[0]}: adjusted the new code to the current tree]")
            trailers.append(f"Signed-off-by: {maint.ident()}")
            msg = f"n{k:03d}_v{final}_{i + 1}"
            if ctime >= LINK_SINCE and rng.random() < 0.6:
                trailers.append(f"Link: https://lore.kernel.org/kvm/{bare_id(b.msg_ids[msg])}/")
            b.commit(p.label, _title(p.muts[0], reword=True) if reworded[i] else p.title, p.author,
                     posts[-1] + i + 1, p.tz, lambda t, m=p.muts, e=edited[i]: _apply_muts(t, m, tweak=e),
                     _commit_body(p.body, trailers), maint, ctime, _committer_tz(ctime))
            b.link(p.label, msg)
            if edited[i]:
                b.edited.append(p.label)
            for m in p.muts:
                b.reserved.discard((m[1], m[2]))
        if rng.random() < 0.4:
            head = f"n{k:03d}_v{final}_0" if npatch > 1 else f"n{k:03d}_v{final}_1"
            b.post_reply(f"{head}_applied", head, maint, apply_at + 3600, _committer_tz(apply_at),
                         rng.choice(APPLIED_TEXT), quote_lines=3)
    b.at(apply_at, apply)


def _questions(b: _Builder, rng: random.Random) -> None:
    start, end = ts("2015-03-01 00:00:00"), ts("2020-05-01 00:00:00")
    for k in range(36):
        when = start + (end - start) * k // 36 + rng.randrange(DAY * 20)
        subject, opening = QUESTIONS[k % len(QUESTIONS)]
        if k >= len(QUESTIONS):
            subject = f"{subject} (again)" if k < 2 * len(QUESTIONS) else f"{subject} on 5.{k % 7}"

        def post(k: int = k, when: int = when, subject: str = subject, opening: str = opening) -> None:
            who, tz = rng.choice(NOISE_PEOPLE + DMARC_PEOPLE)
            extra: dict[str, object] = {}
            if who in (p for p, _ in DMARC_PEOPLE):
                extra["dmarc_via"] = KVM_ADDR
            if k % 5 == 1:
                extra["transfer_encoding"] = "base64"
            elif k % 5 == 3:
                extra["transfer_encoding"] = "quoted-printable"
            label = b.post_thread_start(
                f"q{k:02d}_0", subject, who, when, tz,
                f"Hi,\n\n{opening} the behaviour described in the subject, on a host\n"
                f"running the current kvm/next. Is this known, or should I bisect it?\n\n"
                f"Thanks,\n{who.name.split()[0]}\n", **extra)
            labels = [label]
            for j in range(rng.randrange(0, 4)):
                rwho, rtz = rng.choice([(PAOLO, "+0200"), (RADIM, "+0200"), (SEAN, "-0800")]
                                       + NOISE_PEOPLE[:6])
                labels.append(b.post_reply(f"q{k:02d}_{j + 1}", labels[-1], rwho, when + (j + 1) * 7200, rtz,
                                           rng.choice(["Please try the patch I just posted.",
                                                       "This is known, see the thread from last week.",
                                                       "Can you send the output of the kvm_exit tracepoint?",
                                                       "Bisecting would help, yes."]), quote_lines=4))
            b.threads[f"q{k:02d}"] = labels
        b.at(when, post)


# ----------------------------------------------------------------------------- build
def build_demo(dir: str | Path, noise_sets: int = 240) -> DemoCorpus:
    """Write `dir/repo` and `dir/archive` and describe them (deterministic, a few seconds)."""
    started = time.perf_counter()
    root = Path(dir)
    repo, archive = root / "repo", root / "archive"
    for p in (repo, archive):
        if p.exists():
            shutil.rmtree(p)
    b = _Builder()
    rng = b.rng
    init_at = ts("2015-01-05 10:00:00")
    tree0 = _initial_tree(random.Random(1))
    b.commit("initial", "KVM: import the x86 KVM tree", PAOLO, init_at, "+0100",
             lambda t: t.update(tree0),
             f"Import of arch/x86/kvm and virt/kvm as of v4.0-rc1.\n\nSigned-off-by: {PAOLO.ident()}",
             PAOLO, init_at, "+0100")
    for names in (function_names(c) for c in tree0.values()):
        b.used_names.update(names)

    _old_history(b)
    _seed(b)
    _followup(b)
    _vmx_split(b)
    _why_thread(b)
    _questions(b, random.Random(7))
    start, end = ts("2015-02-01 00:00:00"), ts("2020-06-30 00:00:00")
    for k in range(noise_sets):
        when = start + (end - start) * k // noise_sets + rng.randrange(5 * DAY) + rng.randrange(DAY)
        b.at(when, lambda k=k, when=when: _noise_set(b, k, when))
    b.run()

    # Phase 2: real patches from a throw-away repository, then the mails.
    with tempfile.TemporaryDirectory(prefix="patchtrail-demo-") as tmp:
        scratch_ids = write_repo(Path(tmp) / "scratch.git", b.master + b.scratch, bare=True)
        branches = sorted({s.branch for s in b.scratch})
        by_oid = format_patches(Path(tmp) / "scratch.git", ["--root", "master", *branches])
        P: dict[str, str] = {label: by_oid[oid] for label, oid in scratch_ids.items()
                             if not label.startswith("#") and oid in by_oid}
        for key, (base, tip) in b.stats.items():
            P[key] = git(["--git-dir", str(Path(tmp) / "scratch.git"), "diff", "--stat=72",
                          scratch_ids[base], scratch_ids[tip]]).decode()
    M: dict[str, MailSpec] = {}
    rendered: list[tuple[int, int, bytes]] = []
    for i, (label, make) in enumerate(b.plans):
        spec = make(P, M)
        M[label] = spec
        rendered.append((spec.date, i, render_mail(spec)))
    rendered.sort()
    write_public_inbox_v2(archive, [data for _, _, data in rendered], "kvm", KVM_ADDR)

    # Phase 3: the repository itself (the same commits, without the scratch branches).
    ids = write_repo(repo, b.master)
    commits = {s.name: ids[s.name] for s in b.master if s.name}
    for label, oid in commits.items():
        assert scratch_ids[label] == oid, label

    corpus = DemoCorpus(
        repo=repo, archive=archive, commits=commits,
        messages={label: bare_id(mid) for label, mid in b.msg_ids.items()},
        expected_links=dict(b.expected), series=b.series,
        symbols={"enable_preemption_timer": "seed_hook", "hv_timer_in_use": "seed_tscdeadline",
                 "cpu_has_vmx_preemption_timer": "seed_hook", "start_sw_tscdeadline": "seed_separate",
                 "pi_pre_block": "seed_rename", "start_sw_period": "fu_extract",
                 "kvm_get_lapic_target_expiration_tsc": "fu_target_tsc"},
        moves={"cpu_has_vmx_preemption_timer": {
            "birth": "seed_hook", "move": "vmx_caps_move", "from": S.VMX_DIR_C, "to": S.VMX_CAPS_H}},
        renames={S.VMX_C: {"to": S.VMX_DIR_C, "commit": "vmx_subdir"}},
        edited=b.edited, never_applied=b.never,
        missing={"followup_v2": "[PATCH v2] " + FU_TITLE + " (posted 2016-10, not archived)"},
        threads=b.threads,
        story={"series_title": SEED_TITLE, "posted_order": ["seed_rename", "seed_hook", "seed_separate",
                                                            "seed_tscdeadline"],
               "applied_order": ["seed_separate", "seed_tscdeadline", "seed_rename", "seed_hook"],
               "followup_title": FU_TITLE, "followup_commits": FU_LABELS,
               "why_thread": "why_0", "maintainer": PAOLO.ident(), "author": YUNHONG.ident()},
    )
    corpus.build_seconds = time.perf_counter() - started
    return corpus
