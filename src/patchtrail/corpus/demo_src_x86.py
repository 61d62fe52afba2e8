"""x86.c / x86.h of the demo tree as first imported (2015), and the generator of the
"other" source files that noise patches edit.

The noise files are kernel-shaped C made of many small functions with distinct names, so
that hundreds of random edits (a changed error code, a new check, a new helper) read like
the small fixes a busy list carries, and every edit can be located by function name.
"""

from __future__ import annotations

import random

X86_H = """\
#ifndef ARCH_X86_KVM_X86_H
#define ARCH_X86_KVM_X86_H

#include <linux/kvm_host.h>
#include <asm/pvclock.h>
#include "kvm_cache_regs.h"

#define MSR_IA32_CR_PAT_DEFAULT  0x0007040600070406ULL

static inline void kvm_clear_exception_queue(struct kvm_vcpu *vcpu)
{
	vcpu->arch.exception.pending = false;
}

static inline void kvm_queue_interrupt(struct kvm_vcpu *vcpu, u8 vector,
	bool soft)
{
	vcpu->arch.interrupt.pending = true;
	vcpu->arch.interrupt.soft = soft;
	vcpu->arch.interrupt.nr = vector;
}

static inline bool is_protmode(struct kvm_vcpu *vcpu)
{
	return kvm_read_cr0_bits(vcpu, X86_CR0_PE);
}

static inline int is_long_mode(struct kvm_vcpu *vcpu)
{
#ifdef CONFIG_X86_64
	return vcpu->arch.efer & EFER_LMA;
#else
	return 0;
#endif
}

void kvm_before_handle_nmi(struct kvm_vcpu *vcpu);
void kvm_after_handle_nmi(struct kvm_vcpu *vcpu);
int kvm_inject_realmode_interrupt(struct kvm_vcpu *vcpu, int irq, int inc_eip);

void kvm_write_tsc(struct kvm_vcpu *vcpu, struct msr_data *msr);
u64 get_kvmclock_ns(struct kvm *kvm);

extern unsigned int min_timer_period_us;
extern unsigned int lapic_timer_advance_ns;

#endif
"""

X86_C = """\
/*
 * Kernel-based Virtual Machine driver for Linux
 *
 * derived from drivers/kvm/kvm_main.c
 *
 * Copyright (C) 2006 Qumranet, Inc.
 * Copyright (C) 2008 Qumranet, Inc.
 * Copyright IBM Corporation, 2008
 * Copyright 2010 Red Hat, Inc. and/or its affiliates.
 *
 * This work is licensed under the terms of the GNU GPL, version 2.  See
 * the COPYING file in the top-level directory.
 */

#include <linux/kvm_host.h>
#include "irq.h"
#include "mmu.h"
#include "i8254.h"
#include "tss.h"
#include "kvm_cache_regs.h"
#include "x86.h"
#include "cpuid.h"
#include "pmu.h"
#include "hyperv.h"

#include <linux/clocksource.h>
#include <linux/interrupt.h>
#include <linux/kvm.h>
#include <linux/fs.h>
#include <linux/vmalloc.h>
#include <linux/export.h>
#include <linux/moduleparam.h>
#include <linux/mman.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/intel-iommu.h>
#include <linux/cpufreq.h>
#include <linux/user-return-notifier.h>
#include <linux/srcu.h>
#include <linux/slab.h>
#include <linux/perf_event.h>
#include <linux/uaccess.h>
#include <linux/hash.h>
#include <linux/pci.h>
#include <linux/timekeeper_internal.h>
#include <linux/pvclock_gtod.h>
#include <trace/events/kvm.h>

#define CREATE_TRACE_POINTS
#include "trace.h"

#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/desc.h>
#include <asm/mce.h>
#include <linux/kernel_stat.h>
#include <asm/fpu/internal.h> /* Ugh! */
#include <asm/pvclock.h>
#include <asm/div64.h>
#include <asm/irq_remapping.h>

#define MAX_IO_MSRS 256
#define KVM_MAX_MCE_BANKS 32
#define KVM_MCE_CAP_SUPPORTED (MCG_CTL_P | MCG_SER_P)

struct kvm_x86_ops *kvm_x86_ops __read_mostly;
EXPORT_SYMBOL_GPL(kvm_x86_ops);

static bool __read_mostly ignore_msrs = 0;
module_param(ignore_msrs, bool, S_IRUGO | S_IWUSR);

unsigned int min_timer_period_us = 500;
module_param(min_timer_period_us, uint, S_IRUGO | S_IWUSR);

static bool __read_mostly kvmclock_periodic_sync = true;
module_param(kvmclock_periodic_sync, bool, S_IRUGO);

void kvm_set_pending_timer(struct kvm_vcpu *vcpu)
{
	/*
	 * Note: KVM_REQ_PENDING_TIMER is implicitly checked in
	 * vcpu_enter_guest.  This function is only called from
	 * the physical CPU that is running vcpu.
	 */
	kvm_make_request(KVM_REQ_PENDING_TIMER, vcpu);
}

static int kvm_vcpu_ioctl_get_lapic(struct kvm_vcpu *vcpu,
				    struct kvm_lapic_state *s)
{
	if (vcpu->arch.apicv_active)
		kvm_x86_ops->sync_pir_to_irr(vcpu);

	memcpy(s->regs, vcpu->arch.apic->regs, sizeof *s);

	return 0;
}

static inline int vcpu_block(struct kvm *kvm, struct kvm_vcpu *vcpu)
{
	if (!kvm_arch_vcpu_runnable(vcpu) &&
	    (!kvm_x86_ops->pre_block || kvm_x86_ops->pre_block(vcpu) == 0)) {
		srcu_read_unlock(&kvm->srcu, vcpu->srcu_idx);
		kvm_vcpu_block(vcpu);
		vcpu->srcu_idx = srcu_read_lock(&kvm->srcu);

		if (kvm_x86_ops->post_block)
			kvm_x86_ops->post_block(vcpu);

		if (!kvm_check_request(KVM_REQ_UNHALT, vcpu))
			return 1;
	}

	kvm_apic_accept_events(vcpu);
	switch(vcpu->arch.mp_state) {
	case KVM_MP_STATE_HALTED:
		vcpu->arch.pv.pv_unhalted = false;
		vcpu->arch.mp_state =
			KVM_MP_STATE_RUNNABLE;
	case KVM_MP_STATE_RUNNABLE:
		vcpu->arch.apf.halted = false;
		break;
	case KVM_MP_STATE_INIT_RECEIVED:
		break;
	default:
		return -EINTR;
		break;
	}
	return 1;
}

int kvm_emulate_halt(struct kvm_vcpu *vcpu)
{
	++vcpu->stat.halt_exits;
	if (lapic_in_kernel(vcpu)) {
		vcpu->arch.mp_state = KVM_MP_STATE_HALTED;
		return 1;
	} else {
		vcpu->run->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
}
EXPORT_SYMBOL_GPL(kvm_emulate_halt);

void kvm_arch_sched_in(struct kvm_vcpu *vcpu, int cpu)
{
	kvm_x86_ops->sched_in(vcpu, cpu);
}

int kvm_arch_init(void *opaque)
{
	int r;
	struct kvm_x86_ops *ops = opaque;

	if (kvm_x86_ops) {
		printk(KERN_ERR "kvm: already loaded the other module\\n");
		r = -EEXIST;
		goto out;
	}

	if (!ops->cpu_has_kvm_support()) {
		printk(KERN_ERR "kvm: no hardware support\\n");
		r = -EOPNOTSUPP;
		goto out;
	}

	kvm_x86_ops = ops;
	kvm_timer_init();

	return 0;

out:
	return r;
}
"""

# Files the noise edits, with the prefix of their functions' names.
NOISE_FILES: dict[str, str] = {
    "arch/x86/kvm/mmu.c": "mmu",
    "arch/x86/kvm/svm.c": "svm",
    "arch/x86/kvm/emulate.c": "em",
    "arch/x86/kvm/cpuid.c": "cpuid",
    "arch/x86/kvm/i8254.c": "pit",
    "arch/x86/kvm/ioapic.c": "ioapic",
    "arch/x86/kvm/hyperv.c": "kvm_hv",
    "arch/x86/kvm/pmu.c": "pmu",
    "arch/x86/kvm/irq_comm.c": "kvm_irq",
    "virt/kvm/kvm_main.c": "kvm_vm",
    "virt/kvm/eventfd.c": "kvm_eventfd",
    "virt/kvm/arm/vgic/vgic.c": "vgic",
    "arch/s390/kvm/kvm-s390.c": "kvm_s390",
    "arch/powerpc/kvm/book3s_hv.c": "kvmppc",
    "tools/testing/selftests/kvm/lib/kvm_util.c": "vm",
}

VERBS = ["get", "set", "update", "check", "init", "reset", "sync", "flush", "load", "put",
         "handle", "clear", "alloc", "free", "walk", "map", "unmap", "inject", "read", "write"]
NOUNS = ["state", "page", "entry", "regs", "msr", "irq", "vector", "slot", "root", "level",
         "gpa", "spte", "cpuid", "counter", "event", "clock", "cache", "table", "mask", "bits"]
STATS = ["exits", "irq_exits", "halt_exits", "io_exits", "mmio_exits", "tlb_flush", "invlpg"]


def noise_function(name: str, rng: random.Random) -> str:
    """One small kernel-style function called `name`."""
    arg = rng.choice(["idx", "nr", "val", "level", "index", "count"])
    const = rng.choice(["0xff", "KVM_MAX_VCPUS", "64", "PT64_ROOT_LEVEL", "NR_VECTORS", "16"])
    helper = name.rsplit("_", 1)[0] + "_do_" + name.rsplit("_", 1)[1]
    stat = rng.choice(STATS)
    return (
        f"static int {name}(struct kvm_vcpu *vcpu, u32 {arg})\n"
        "{\n"
        "\tint r = 0;\n"
        "\n"
        f"\tif ({arg} >= {const})\n"
        "\t\treturn -EINVAL;\n"
        "\n"
        f"\tr = {helper}(vcpu, {arg});\n"
        "\tif (r)\n"
        "\t\tgoto out;\n"
        f"\t++vcpu->stat.{stat};\n"
        "out:\n"
        "\treturn r;\n"
        "}\n"
    )


def noise_file(path: str, prefix: str, rng: random.Random, count: int = 40) -> tuple[str, list[str]]:
    """The initial content of a noise file and the names of its functions."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{prefix}_{rng.choice(VERBS)}_{rng.choice(NOUNS)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    head = (
        "// SPDX-License-Identifier: GPL-2.0-only\n"
        "/*\n"
        f" * {path.rsplit('/', 1)[-1]}\n"
        " *\n"
        " * Copyright (C) 2006 Qumranet, Inc.\n"
        " * Copyright 2010 Red Hat, Inc. and/or its affiliates.\n"
        " */\n"
        "\n"
        "#include <linux/kvm_host.h>\n"
        "#include <linux/module.h>\n"
        "#include <linux/slab.h>\n"
        "\n"
    )
    body = "\n".join(noise_function(n, rng) for n in names)
    return head + body, names
