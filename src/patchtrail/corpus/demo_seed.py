"""The scripted changes of the seed story, as edits of the demo tree.

Each function takes the tree (path -> content, changed in place) and, where revisions of
a patch differ, the revision number. They are used twice: on scratch branches in the
posted order (the mails carry `git format-patch` output of those) and on master in the
order the maintainer applied them.
"""

from __future__ import annotations

from patchtrail.corpus.cedit import (
    add_struct_field,
    find_function,
    insert_after,
    insert_before,
    rename_symbol,
    replace_in,
    replace_once,
)

LAPIC_C = "arch/x86/kvm/lapic.c"
LAPIC_H = "arch/x86/kvm/lapic.h"
VMX_C = "arch/x86/kvm/vmx.c"
VMX_DIR_C = "arch/x86/kvm/vmx/vmx.c"
VMX_CAPS_H = "arch/x86/kvm/vmx/capabilities.h"
KVM_HOST_H = "arch/x86/include/asm/kvm_host.h"
TRACE_H = "arch/x86/kvm/trace.h"
X86_C = "arch/x86/kvm/x86.c"
X86_H = "arch/x86/kvm/x86.h"

Tree = dict[str, str]


def _dedent_tab(code: str) -> str:
    return "".join(ln[1:] if ln.startswith("\t") else ln for ln in code.splitlines(keepends=True))


def _extract_branch(text: str, func: str, head: str, tail: str, new_name: str,
                    decl: str, call: str) -> tuple[str, str]:
    """Move the body of an if-branch of `func` into a new function; return (text, new fn)."""
    start, end = find_function(text, func)
    body = text[start:end]
    i = body.index(head) + len(head)
    j = body.index(tail, i)
    inner = _dedent_tab(body[i:j])
    fn = f"static void {new_name}(struct kvm_lapic *apic)\n{{\n{decl}{inner}}}\n"
    return text[:start] + body[:i] + call + body[j:] + text[end:], fn


# --------------------------------------------------------------------------- posted 1/4
def rename_pi_block(t: Tree, version: int = 4) -> None:
    """[PATCH V4 1/4] Rename the vmx_pre/post_block to pi_pre/post_block (same in v1-v4)."""
    s = t[VMX_C]
    s = replace_once(s, "static int vmx_pre_block(struct kvm_vcpu *vcpu)\n{",
                     "static int pi_pre_block(struct kvm_vcpu *vcpu)\n{")
    s = replace_once(s, "static void vmx_post_block(struct kvm_vcpu *vcpu)\n{",
                     "static void pi_post_block(struct kvm_vcpu *vcpu)\n{")
    s = insert_after(s, "pi_post_block",
                     "static int vmx_pre_block(struct kvm_vcpu *vcpu)\n{\n"
                     "\tif (pi_pre_block(vcpu))\n\t\treturn 1;\n\n\treturn 0;\n}\n\n"
                     "static void vmx_post_block(struct kvm_vcpu *vcpu)\n{\n"
                     "\tpi_post_block(vcpu);\n}\n")
    t[VMX_C] = s


# --------------------------------------------------------------------------- posted 2/4
def hook_preemption_timer(t: Tree, version: int = 4, applied: bool = False) -> None:
    """[PATCH V4 2/4] Utilize the vmx preemption timer.

    `applied` is Paolo's edited version: the module parameter only exists on 64-bit hosts.
    """
    s = t[VMX_C]
    param = ("static bool __read_mostly enable_preemption_timer = 1;\n"
             + ("#ifdef CONFIG_X86_64\n" if applied else "")
             + "module_param_named(preemption_timer, enable_preemption_timer, bool, S_IRUGO);\n"
             + ("#endif\n" if applied else ""))
    if version >= 2:
        param += ("\n#define KVM_VMX_TSC_MULTIPLIER_MAX     0xffffffffffffffffULL\n"
                  "static int __read_mostly cpu_preemption_timer_multi;\n")
    s = replace_once(s, "module_param_named(enable_shadow_vmcs, enable_shadow_vmcs, bool, S_IRUGO);\n",
                     "module_param_named(enable_shadow_vmcs, enable_shadow_vmcs, bool, S_IRUGO);\n\n"
                     + param)
    s = add_struct_field(s, "vcpu_vmx", "\tu64 hv_deadline_tsc;", after="u32 host_pkru;")
    s = insert_after(s, "cpu_has_vmx_apicv",
                     "static inline bool cpu_has_vmx_preemption_timer(void)\n{\n"
                     "\treturn vmcs_config.pin_based_exec_ctrl &\n"
                     "\t\tPIN_BASED_VMX_PREEMPTION_TIMER;\n}\n")
    s = insert_after(s, "handle_pause",
                     "static int handle_preemption_timer(struct kvm_vcpu *vcpu)\n{\n"
                     "\tkvm_lapic_expired_hv_timer(vcpu);\n\treturn 1;\n}\n")
    s = replace_in(s, "static int (*const kvm_vmx_exit_handlers[])(struct kvm_vcpu *vcpu) = {",
                   "\t[EXIT_REASON_PCOMMIT]                 = handle_pcommit,\n",
                   "\t[EXIT_REASON_PCOMMIT]                 = handle_pcommit,\n"
                   "\t[EXIT_REASON_PREEMPTION_TIMER]        = handle_preemption_timer,\n")
    if version >= 2:
        setup = ("\tif (cpu_has_vmx_preemption_timer() && enable_preemption_timer) {\n"
                 "\t\tu64 vmx_msr;\n\n"
                 "\t\trdmsrl(MSR_IA32_VMX_MISC, vmx_msr);\n"
                 "\t\tcpu_preemption_timer_multi =\n"
                 "\t\t\t vmx_msr & VMX_MISC_PREEMPTION_TIMER_RATE_MASK;\n"
                 "\t} else {\n"
                 "\t\tkvm_x86_ops->set_hv_timer = NULL;\n"
                 "\t\tkvm_x86_ops->cancel_hv_timer = NULL;\n"
                 "\t}\n\n")
    else:
        setup = ("\tif (!cpu_has_vmx_preemption_timer())\n"
                 "\t\tenable_preemption_timer = false;\n\n")
    s = replace_in(s, "hardware_setup", "\tkvm_set_posted_intr_wakeup_handler(wakeup_handler);\n",
                   setup + "\tkvm_set_posted_intr_wakeup_handler(wakeup_handler);\n")
    s = replace_in(s, "vmx_pre_block", "\tif (pi_pre_block(vcpu))\n",
                   "\tif (kvm_lapic_hv_timer_in_use(vcpu))\n"
                   "\t\tkvm_lapic_switch_to_sw_timer(vcpu);\n\n"
                   "\tif (pi_pre_block(vcpu))\n")
    s = replace_in(s, "vmx_post_block", "\tpi_post_block(vcpu);\n",
                   "\tif (kvm_x86_ops->set_hv_timer)\n"
                   "\t\tkvm_lapic_switch_to_hv_timer(vcpu);\n\n"
                   "\tpi_post_block(vcpu);\n")
    shift = "(cpu_preemption_timer_multi + 32)" if version >= 2 else "32"
    s = insert_after(s, "vmx_post_block",
                     "static int vmx_set_hv_timer(struct kvm_vcpu *vcpu, u64 guest_deadline_tsc)\n{\n"
                     "\tstruct vcpu_vmx *vmx = to_vmx(vcpu);\n"
                     "\tu64 tscl = rdtsc();\n"
                     "\tu64 guest_tscl = kvm_read_l1_tsc(vcpu, tscl);\n"
                     "\tu64 delta_tsc = max(guest_deadline_tsc, guest_tscl) - guest_tscl;\n\n"
                     "\t/*\n"
                     "\t * If the delta tsc can't fit in the 32 bit after the multi shift,\n"
                     "\t * we can't use the preemption timer.\n"
                     "\t */\n"
                     f"\tif (delta_tsc >> {shift})\n"
                     "\t\treturn -ERANGE;\n\n"
                     "\tvmx->hv_deadline_tsc = tscl + delta_tsc;\n"
                     "\tvmcs_set_bits(PIN_BASED_VM_EXEC_CONTROL,\n"
                     "\t\t\tPIN_BASED_VMX_PREEMPTION_TIMER);\n"
                     "\treturn 0;\n}\n\n"
                     "static void vmx_cancel_hv_timer(struct kvm_vcpu *vcpu)\n{\n"
                     "\tstruct vcpu_vmx *vmx = to_vmx(vcpu);\n\n"
                     "\tvmx->hv_deadline_tsc = -1;\n"
                     "\tvmcs_clear_bits(PIN_BASED_VM_EXEC_CONTROL,\n"
                     "\t\t\tPIN_BASED_VMX_PREEMPTION_TIMER);\n}\n")
    s = replace_in(s, "static struct kvm_x86_ops vmx_x86_ops = {",
                   "\t.post_block = vmx_post_block,\n",
                   "\t.post_block = vmx_post_block,\n\n"
                   "\t.set_hv_timer = vmx_set_hv_timer,\n"
                   "\t.cancel_hv_timer = vmx_cancel_hv_timer,\n")
    t[VMX_C] = s


# --------------------------------------------------------------------------- posted 3/4
def separate_sw_tscdeadline(t: Tree, version: int = 4) -> None:
    """[PATCH V4 3/4] Separate the start_sw_tscdeadline (same in v1-v4)."""
    s, fn = _extract_branch(
        t[LAPIC_C], "start_apic_timer",
        "\t} else if (apic_lvtt_tscdeadline(apic)) {\n\t\t/* lapic timer in tsc deadline mode */\n",
        "\t}\n}\n", "start_sw_tscdeadline", "", "\t\tstart_sw_tscdeadline(apic);\n")
    fn = replace_once(fn, "\tunsigned long flags;\n", "\tunsigned long flags;\n\tktime_t now;\n")
    t[LAPIC_C] = insert_before(s, "start_apic_timer", fn)


# --------------------------------------------------------------------------- posted 4/4
def tscdeadline_hv_timer(t: Tree, version: int = 4) -> None:
    """[PATCH V4 4/4] Utilize the vmx preemption timer for tsc deadline timer.

    v1 called the field `hv_timer_active` (renamed on review); v4 added the re-check of
    `pending` after switching to the hv timer.
    """
    field = "hv_timer_in_use" if version >= 2 else "hv_timer_active"
    t[LAPIC_H] = add_struct_field(t[LAPIC_H], "kvm_timer", f"\tbool {field};", after="atomic_t pending;")
    t[LAPIC_H] = replace_once(
        t[LAPIC_H], "void wait_lapic_expire(struct kvm_vcpu *vcpu);\n",
        "void wait_lapic_expire(struct kvm_vcpu *vcpu);\n\n"
        "bool kvm_lapic_hv_timer_in_use(struct kvm_vcpu *vcpu);\n"
        "void kvm_lapic_expired_hv_timer(struct kvm_vcpu *vcpu);\n"
        "void kvm_lapic_switch_to_hv_timer(struct kvm_vcpu *vcpu);\n"
        "void kvm_lapic_switch_to_sw_timer(struct kvm_vcpu *vcpu);\n")
    t[KVM_HOST_H] = replace_once(
        t[KVM_HOST_H], "\tvoid (*post_block)(struct kvm_vcpu *vcpu);\n",
        "\tvoid (*post_block)(struct kvm_vcpu *vcpu);\n\n"
        "\tint (*set_hv_timer)(struct kvm_vcpu *vcpu, u64 guest_deadline_tsc);\n"
        "\tvoid (*cancel_hv_timer)(struct kvm_vcpu *vcpu);\n")
    t[TRACE_H] = replace_once(
        t[TRACE_H], "#endif /* _TRACE_KVM_H */\n",
        "TRACE_EVENT(kvm_hv_timer_state,\n"
        "\t\tTP_PROTO(unsigned int vcpu_id, unsigned int hv_timer_in_use),\n"
        "\t\tTP_ARGS(vcpu_id, hv_timer_in_use),\n"
        "\t\tTP_STRUCT__entry(\n"
        "\t\t\t__field(unsigned int, vcpu_id)\n"
        "\t\t\t__field(unsigned int, hv_timer_in_use)\n"
        "\t\t\t),\n"
        "\t\tTP_fast_assign(\n"
        "\t\t\t__entry->vcpu_id = vcpu_id;\n"
        "\t\t\t__entry->hv_timer_in_use = hv_timer_in_use;\n"
        "\t\t\t),\n"
        "\t\tTP_printk(\"vcpu_id %x hv_timer %x\\n\",\n"
        "\t\t\t__entry->vcpu_id,\n"
        "\t\t\t__entry->hv_timer_in_use)\n"
        ");\n\n"
        "#endif /* _TRACE_KVM_H */\n")
    recheck = ("\n\t\t/* In case the sw timer triggered in the window */\n"
               "\t\tif (atomic_read(&apic->lapic_timer.pending))\n"
               "\t\t\tcancel_hv_tscdeadline(apic);\n") if version >= 4 else ""
    code = (
        "bool kvm_lapic_hv_timer_in_use(struct kvm_vcpu *vcpu)\n{\n"
        "\tif (!lapic_in_kernel(vcpu))\n\t\treturn false;\n\n"
        f"\treturn vcpu->arch.apic->lapic_timer.{field};\n}}\n"
        "EXPORT_SYMBOL_GPL(kvm_lapic_hv_timer_in_use);\n\n"
        "static void cancel_hv_tscdeadline(struct kvm_lapic *apic)\n{\n"
        "\tkvm_x86_ops->cancel_hv_timer(apic->vcpu);\n"
        f"\tapic->lapic_timer.{field} = false;\n}}\n\n"
        "static bool start_hv_tscdeadline(struct kvm_lapic *apic)\n{\n"
        "\tu64 tscdeadline = apic->lapic_timer.tscdeadline;\n\n"
        "\tif (atomic_read(&apic->lapic_timer.pending) ||\n"
        "\t    kvm_x86_ops->set_hv_timer(apic->vcpu, tscdeadline)) {\n"
        f"\t\tif (apic->lapic_timer.{field})\n"
        "\t\t\tcancel_hv_tscdeadline(apic);\n"
        "\t} else {\n"
        f"\t\tapic->lapic_timer.{field} = true;\n"
        "\t\thrtimer_cancel(&apic->lapic_timer.timer);\n"
        f"{recheck}"
        "\t}\n"
        "\ttrace_kvm_hv_timer_state(apic->vcpu->vcpu_id,\n"
        f"\t\t\tapic->lapic_timer.{field});\n"
        f"\treturn apic->lapic_timer.{field};\n}}\n\n"
        "void kvm_lapic_expired_hv_timer(struct kvm_vcpu *vcpu)\n{\n"
        "\tstruct kvm_lapic *apic = vcpu->arch.apic;\n\n"
        f"\tWARN_ON(!apic->lapic_timer.{field});\n"
        "\tWARN_ON(swait_active(&vcpu->wq));\n"
        "\tcancel_hv_tscdeadline(apic);\n"
        "\tapic_timer_expired(apic);\n}\n"
        "EXPORT_SYMBOL_GPL(kvm_lapic_expired_hv_timer);\n\n"
        "void kvm_lapic_switch_to_hv_timer(struct kvm_vcpu *vcpu)\n{\n"
        "\tstruct kvm_lapic *apic = vcpu->arch.apic;\n\n"
        f"\tWARN_ON(apic->lapic_timer.{field});\n\n"
        "\tif (apic_lvtt_tscdeadline(apic))\n"
        "\t\tstart_hv_tscdeadline(apic);\n}\n"
        "EXPORT_SYMBOL_GPL(kvm_lapic_switch_to_hv_timer);\n\n"
        "void kvm_lapic_switch_to_sw_timer(struct kvm_vcpu *vcpu)\n{\n"
        "\tstruct kvm_lapic *apic = vcpu->arch.apic;\n\n"
        "\t/* Possibly the TSC deadline timer is not enabled yet */\n"
        f"\tif (!apic->lapic_timer.{field})\n\t\treturn;\n\n"
        "\tcancel_hv_tscdeadline(apic);\n\n"
        "\tif (atomic_read(&apic->lapic_timer.pending))\n\t\treturn;\n\n"
        "\tstart_sw_tscdeadline(apic);\n}\n"
        "EXPORT_SYMBOL_GPL(kvm_lapic_switch_to_sw_timer);\n")
    s = insert_after(t[LAPIC_C], "start_sw_tscdeadline", code)
    s = replace_in(s, "start_apic_timer", "\t\tstart_sw_tscdeadline(apic);\n",
                   "\t\tif (!(kvm_x86_ops->set_hv_timer && start_hv_tscdeadline(apic)))\n"
                   "\t\t\tstart_sw_tscdeadline(apic);\n")
    t[LAPIC_C] = s


SEED_EDITS = {1: rename_pi_block, 2: hook_preemption_timer, 3: separate_sw_tscdeadline,
              4: tscdeadline_hv_timer}


# --------------------------------------------------------------------------- follow-up (2016-10)
def extract_start_sw_period(t: Tree) -> None:
    """KVM: LAPIC: extract start_sw_period() to handle periodic/oneshot mode."""
    s, fn = _extract_branch(
        t[LAPIC_C], "start_apic_timer",
        "\tif (apic_lvtt_period(apic) || apic_lvtt_oneshot(apic)) {\n"
        "\t\t/* lapic timer in oneshot or periodic mode */\n",
        "\t} else if (apic_lvtt_tscdeadline(apic)) {\n", "start_sw_period",
        "\tktime_t now;\n\n", "\t\tstart_sw_period(apic);\n")
    s = replace_in(s, "start_apic_timer", "\tktime_t now;\n\n", "")
    t[LAPIC_C] = insert_before(s, "start_sw_tscdeadline", fn)


def guarantee_tscdeadline_mode(t: Tree) -> None:
    """KVM: LAPIC: guarantee the timer is in tsc-deadline mode."""
    s = t[LAPIC_C]
    for fn in ("kvm_get_lapic_tscdeadline_msr", "kvm_set_lapic_tscdeadline_msr"):
        s = replace_in(s, fn, "\tif (!lapic_in_kernel(vcpu) || apic_lvtt_oneshot(apic) ||\n"
                              "\t\t\tapic_lvtt_period(apic))\n",
                       "\tif (!lapic_in_kernel(vcpu) ||\n\t\t!apic_lvtt_tscdeadline(apic))\n")
    t[LAPIC_C] = s


def introduce_target_expiration_tsc(t: Tree) -> None:
    """KVM: LAPIC: introduce kvm_get_lapic_target_expiration_tsc()."""
    t[LAPIC_C] = insert_before(
        t[LAPIC_C], "kvm_get_lapic_tscdeadline_msr",
        "u64 kvm_get_lapic_target_expiration_tsc(struct kvm_vcpu *vcpu)\n{\n"
        "\tstruct kvm_lapic *apic = vcpu->arch.apic;\n\n"
        "\tif (!lapic_in_kernel(vcpu))\n\t\treturn 0;\n\n"
        "\treturn apic->lapic_timer.tscdeadline;\n}\n"
        "EXPORT_SYMBOL_GPL(kvm_get_lapic_target_expiration_tsc);\n")
    t[LAPIC_H] = replace_once(
        t[LAPIC_H], "u64 kvm_get_lapic_tscdeadline_msr(struct kvm_vcpu *vcpu);\n",
        "u64 kvm_get_lapic_target_expiration_tsc(struct kvm_vcpu *vcpu);\n"
        "u64 kvm_get_lapic_tscdeadline_msr(struct kvm_vcpu *vcpu);\n")


def rename_hv_timer_helpers(t: Tree) -> None:
    """KVM: LAPIC: rename start/cancel_hv_tscdeadline to start/cancel_hv_timer."""
    s = rename_symbol(t[LAPIC_C], "start_hv_tscdeadline", "start_hv_timer")
    t[LAPIC_C] = rename_symbol(s, "cancel_hv_tscdeadline", "cancel_hv_timer")


def periodic_oneshot_hv_timer(t: Tree) -> None:
    """KVM: LAPIC: add APIC Timer periodic/oneshot mode VMX preemption timer support."""
    t[LAPIC_H] = add_struct_field(t[LAPIC_H], "kvm_timer", "\tktime_t target_expiration;",
                                  after="s64 period;")
    s = t[LAPIC_C]
    s = replace_in(s, "start_hv_timer", "\tu64 tscdeadline = apic->lapic_timer.tscdeadline;\n",
                   "\tu64 tscdeadline = apic->lapic_timer.tscdeadline;\n\n"
                   "\tif (apic_lvtt_period(apic) || apic_lvtt_oneshot(apic))\n"
                   "\t\ttscdeadline = kvm_get_lapic_target_expiration_tsc(apic->vcpu);\n")
    s = replace_in(s, "kvm_lapic_expired_hv_timer", "\tapic_timer_expired(apic);\n",
                   "\tapic_timer_expired(apic);\n\n"
                   "\tif (apic_lvtt_period(apic)) {\n"
                   "\t\tif (!start_hv_timer(apic))\n"
                   "\t\t\tstart_sw_period(apic);\n"
                   "\t}\n")
    s = replace_in(s, "kvm_lapic_switch_to_hv_timer",
                   "\tif (apic_lvtt_tscdeadline(apic))\n\t\tstart_hv_timer(apic);\n",
                   "\tstart_hv_timer(apic);\n")
    s = replace_in(s, "start_apic_timer", "\t\tstart_sw_period(apic);\n",
                   "\t\tif (!(kvm_x86_ops->set_hv_timer && start_hv_timer(apic)))\n"
                   "\t\t\tstart_sw_period(apic);\n")
    t[LAPIC_C] = s


FOLLOWUP_EDITS = [extract_start_sw_period, guarantee_tscdeadline_mode,
                  introduce_target_expiration_tsc, rename_hv_timer_helpers,
                  periodic_oneshot_hv_timer]


def followup_v1(t: Tree) -> None:
    """The single v1 patch of the follow-up: extraction and periodic support in one go."""
    extract_start_sw_period(t)
    guarantee_tscdeadline_mode(t)
    t[LAPIC_C] = replace_in(t[LAPIC_C], "start_apic_timer", "\t\tstart_sw_period(apic);\n",
                            "\t\tif (!(kvm_x86_ops->set_hv_timer && start_hv_tscdeadline(apic)))\n"
                            "\t\t\tstart_sw_period(apic);\n")


# --------------------------------------------------------------------------- 2018-12 vmx split
def move_vmx_to_subdir(t: Tree) -> dict[str, str]:
    """KVM: VMX: Move VMX specific files to a "vmx" subdirectory (a pure rename)."""
    t[VMX_DIR_C] = t.pop(VMX_C)
    return {VMX_C: VMX_DIR_C}


MOVED_FUNCTIONS = ["cpu_has_vmx_posted_intr", "cpu_has_vmx_apicv", "cpu_has_vmx_preemption_timer"]


def move_capabilities(t: Tree) -> None:
    """KVM: VMX: Move capabilities helpers to a dedicated file (a move, not a birth)."""
    s = t[VMX_DIR_C]
    moved = []
    for name in MOVED_FUNCTIONS:
        start, end = find_function(s, name)
        moved.append(s[start:end])
        if s[end:end + 1] == "\n":
            end += 1
        s = s[:start] + s[end:]
    s = replace_once(s, '#include "lapic.h"\n', '#include "lapic.h"\n#include "capabilities.h"\n')
    t[VMX_DIR_C] = s
    t[VMX_CAPS_H] = ("/* SPDX-License-Identifier: GPL-2.0 */\n"
                     "#ifndef __KVM_X86_VMX_CAPS_H\n#define __KVM_X86_VMX_CAPS_H\n\n"
                     '#include "lapic.h"\n\n'
                     + "\n".join(moved)
                     + "\n#endif /* __KVM_X86_VMX_CAPS_H */\n")
