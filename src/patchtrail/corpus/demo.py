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

import random
import shutil
import tempfile
import time
from pathlib import Path

from patchtrail.corpus import demo_seed as S
from patchtrail.corpus.archives import write_public_inbox_v2
from patchtrail.corpus.cedit import function_names
from patchtrail.corpus.demo_src_lapic import LAPIC_C, LAPIC_H
from patchtrail.corpus.demo_src_vmx import KVM_HOST_H, TRACE_H, VMX_C
from patchtrail.corpus.demo_src_x86 import NOISE_FILES, X86_C, X86_H, noise_file
from patchtrail.corpus.gitwrite import format_patches, git, write_repo
from patchtrail.corpus.mails import (
    MailSpec,
    bare_id,
    modern_send_email_id,
    patch_subject,
    render_mail,
    send_email_id,
)

__all__ = ["DemoCorpus", "build_demo", "SERIES_APPLIED", "FOLLOWUP_APPLIED"]
from patchtrail.corpus.demo_builder import (  # noqa: F401
    ASKER,
    DAY,
    KVM_ADDR,
    KVM_LIST,
    LKML,
    NOISE_PEOPLE,
    PAOLO,
    RADIM,
    SEAN,
    TZ,
    WANPENG,
    WANPENG_SENDER,
    YUNHONG,
    DemoCorpus,
    _Builder,
    _commit_body,
    _committer_tz,
    _Noise,
    ts,
)
from patchtrail.corpus.demo_noise import _noise_set, _questions  # noqa: F401

# Commit labels of the seed series in the order Paolo applied it (posted 3/4, 4/4, 1/4, 2/4),
# and of the follow-up series.
SERIES_APPLIED = ["seed_separate", "seed_tscdeadline", "seed_rename", "seed_hook"]
FOLLOWUP_APPLIED = ["fu_extract", "fu_guarantee", "fu_target_tsc", "fu_rename_hv", "fu_periodic"]


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
