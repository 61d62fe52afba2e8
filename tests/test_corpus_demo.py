"""The demo corpus: deterministic, fast, and telling the seed story exactly."""

from __future__ import annotations

import email
import email.policy
import subprocess
import time
from pathlib import Path

import pytest

from patchtrail.corpus.demo import DemoCorpus, build_demo
from patchtrail.corpus.gitwrite import git


def _git(repo: Path, *args: str, input: bytes | None = None) -> str:
    return git(["-C", str(repo), *args], input=input).decode()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoCorpus:
    started = time.perf_counter()
    corpus = build_demo(tmp_path_factory.mktemp("demo"))
    print(f"\nbuild_demo: {time.perf_counter() - started:.2f} s, {len(corpus.commits)} commits, "
          f"{len(corpus.messages)} messages")
    return corpus


@pytest.fixture(scope="module")
def archive_mails(demo: DemoCorpus) -> dict[str, email.message.EmailMessage]:
    """Every archived message, parsed with the stdlib, by Message-ID (without <>)."""
    epoch = demo.archive / "git" / "0.git"
    oids = git(["--git-dir", str(epoch), "rev-list", "--reverse", "master"]).decode().split()
    batch = git(["--git-dir", str(epoch), "cat-file", "--batch"],
                input="".join(f"{o}:m\n" for o in oids).encode())
    mails: dict[str, email.message.EmailMessage] = {}
    pos = 0
    while pos < len(batch):
        header_end = batch.index(b"\n", pos)
        size = int(batch[pos:header_end].split()[2])
        data = batch[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1
        msg = email.message_from_bytes(data, policy=email.policy.default)
        mails[msg["Message-ID"].strip().strip("<>")] = msg
    return mails


def _patch_id(text: str) -> str:
    out = subprocess.run(["git", "patch-id", "--stable"], input=text.encode(), capture_output=True,
                         check=True).stdout.decode().split()
    return out[0] if out else ""


def _mail_diff(msg: email.message.EmailMessage) -> str:
    parts = [p for p in msg.walk() if not p.is_multipart()]
    return "\n".join(p.get_content() for p in parts)


def test_build_is_fast_and_deterministic(demo: DemoCorpus, tmp_path: Path) -> None:
    started = time.perf_counter()
    again = build_demo(tmp_path)
    seconds = time.perf_counter() - started
    print(f"\nsecond build_demo: {seconds:.2f} s")
    assert seconds < 5
    assert _git(again.repo, "rev-parse", "HEAD") == _git(demo.repo, "rev-parse", "HEAD")
    epoch = lambda c: git(["--git-dir", str(c.archive / "git" / "0.git"), "rev-parse", "master"])  # noqa: E731
    assert epoch(again) == epoch(demo)
    assert again.commits == demo.commits and again.messages == demo.messages
    assert again.expected_links == demo.expected_links


def test_layout(demo: DemoCorpus) -> None:
    assert (demo.repo / ".git").is_dir()
    assert _git(demo.repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "master"
    assert (demo.repo / "arch/x86/kvm/vmx/vmx.c").is_file()            # work tree checked out
    assert not _git(demo.repo, "status", "--porcelain")
    assert (demo.archive / "git" / "0.git" / "HEAD").is_file()
    assert len(demo.commits) > 300 and len(demo.messages) > 600
    assert _git(demo.repo, "rev-list", "--count", "master").strip() == str(len(demo.commits))
    assert set(demo.expected_links) <= set(demo.commits)
    assert set(demo.expected_links.values()) <= set(demo.messages)


def test_v4_subjects_in_archive(demo: DemoCorpus, archive_mails: dict) -> None:
    subjects = [str(archive_mails[demo.messages[f"v4_{n}"]]["Subject"]) for n in range(5)]
    assert subjects == [
        "[PATCH V4 0/4] Utilizing VMX preemption for timer virtualization",
        "[PATCH V4 1/4] Rename the vmx_pre/post_block to pi_pre/post_block",
        "[PATCH V4 2/4] Utilize the vmx preemption timer",
        "[PATCH V4 3/4] Separate the start_sw_tscdeadline",
        "[PATCH V4 4/4] Utilize the vmx preemption timer for tsc deadline timer",
    ]
    assert demo.messages["v4_0"] == "1465852801-6684-1-git-send-email-yunhong.jiang@linux.intel.com"
    for v in (1, 2, 3):
        assert len(demo.series[f"timer_v{v}"]) == 5
        assert all(demo.messages[m] in archive_mails for m in demo.series[f"timer_v{v}"])
    assert str(archive_mails[demo.messages["v1_0"]]["Subject"]).startswith("[RFC PATCH 0/4]")
    assert len(archive_mails) == len(demo.messages)


def test_applied_order_and_rewording(demo: DemoCorpus) -> None:
    log = _git(demo.repo, "log", "--reverse", "--format=%H %s", "master").splitlines()
    order = [line.split(" ", 1) for line in log]
    wanted = ["seed_separate", "seed_tscdeadline", "seed_rename", "seed_hook"]
    positions = [next(i for i, (oid, _) in enumerate(order) if oid == demo.commits[w]) for w in wanted]
    assert positions == sorted(positions) and positions[-1] - positions[0] == 3
    assert [order[p][1] for p in positions] == [
        "kvm: lapic: separate start_sw_tscdeadline from start_apic_timer",
        "KVM: x86: support using the vmx preemption timer for tsc deadline timer",
        "kvm: vmx: rename vmx_pre/post_block to pi_pre/post_block",
        "kvm: vmx: hook preemption timer support",
    ]
    assert {w: demo.expected_links[w] for w in wanted} == {
        "seed_separate": "v4_3", "seed_tscdeadline": "v4_4", "seed_rename": "v4_1", "seed_hook": "v4_2"}


def test_am_style_metadata(demo: DemoCorpus, archive_mails: dict) -> None:
    for label, n in (("seed_separate", 3), ("seed_rename", 1)):
        fields = _git(demo.repo, "show", "-s", "--format=%an%n%ae%n%cn%n%aD%n%B", demo.commits[label])
        an, ae, cn, ad, body = fields.split("\n", 4)
        mail = archive_mails[demo.messages[f"v4_{n}"]]
        assert (an, ae, cn) == ("Yunhong Jiang", "yunhong.jiang@linux.intel.com", "Paolo Bonzini")
        assert email.utils.parsedate_to_datetime(ad) == mail["Date"].datetime
        assert "Reviewed-by: Radim Krčmář <rkrcmar@redhat.com>" in body
        assert body.rstrip().endswith("Signed-off-by: Paolo Bonzini <pbonzini@redhat.com>")
    hook = _git(demo.repo, "show", "-s", "--format=%B", demo.commits["seed_hook"])
    assert "[Paolo: " in hook


def test_patch_ids(demo: DemoCorpus, archive_mails: dict) -> None:
    links = {"seed_separate": "v4_3", "seed_tscdeadline": "v4_4", "seed_rename": "v4_1",
             "seed_hook": "v4_2", **{f"fu_{x}": f"fu_v3_{i + 1}" for i, x in
                                     enumerate(["extract", "guarantee", "target_tsc", "rename_hv", "periodic"])}}
    for commit, msg in links.items():
        commit_pid = _patch_id(_git(demo.repo, "show", "--format=", demo.commits[commit]))
        mail_pid = _patch_id(_mail_diff(archive_mails[demo.messages[msg]]))
        assert commit_pid and mail_pid
        if commit in demo.edited:
            assert commit_pid != mail_pid, commit
        else:
            assert commit_pid == mail_pid, commit
    assert "seed_hook" in demo.edited


def test_every_linked_noise_patch_matches(demo: DemoCorpus, archive_mails: dict) -> None:
    revs = "".join(demo.commits[c] + "\n" for c in demo.expected_links)
    shown = _git(demo.repo, "log", "--no-walk=unsorted", "--stdin", "-p", "--format=commit %H", input=revs.encode())
    by_commit: dict[str, str] = {}
    for chunk in shown.split("commit ")[1:]:
        oid, _, diff = chunk.partition("\n")
        by_commit[oid] = diff
    label_of = {oid: label for label, oid in demo.commits.items()}
    same = differ = 0
    for oid, diff in by_commit.items():
        label = label_of[oid]
        commit_pid = _patch_id(diff)
        if not commit_pid:          # a pure rename has no patch-id
            assert label == "vmx_subdir"
            continue
        mail_pid = _patch_id(_mail_diff(archive_mails[demo.messages[demo.expected_links[label]]]))
        if label in demo.edited:
            assert mail_pid != commit_pid, label
            differ += 1
        else:
            assert mail_pid == commit_pid, label
            same += 1
    assert same > 200 and differ >= 3


def test_symbol_births(demo: DemoCorpus) -> None:
    for symbol, label in (("enable_preemption_timer", "seed_hook"), ("hv_timer_in_use", "seed_tscdeadline"),
                          ("start_sw_period", "fu_extract")):
        first = _git(demo.repo, "log", "--reverse", "--format=%H", "-S", symbol, "master").split()[0]
        assert first == demo.commits[label], symbol
    move = demo.moves["cpu_has_vmx_preemption_timer"]
    touched = _git(demo.repo, "log", "--reverse", "--format=%H", "-S", "cpu_has_vmx_preemption_timer(void)",
                   "master").split()
    assert touched[0] == demo.commits[move["birth"]] and demo.commits[move["move"]] in touched
    stat = _git(demo.repo, "show", "--format=", "-M", "--name-status", demo.commits["vmx_subdir"])
    assert stat.startswith("R100\tarch/x86/kvm/vmx.c\tarch/x86/kvm/vmx/vmx.c")
    blame = _git(demo.repo, "blame", "--porcelain", "-L", "/enable_preemption_timer = 1/,+1",
                 "arch/x86/kvm/vmx/vmx.c")
    assert blame.split()[0] == demo.commits["seed_hook"]


def test_followup_and_why_thread(demo: DemoCorpus, archive_mails: dict) -> None:
    assert "followup_v2" in demo.missing and "followup_v2" not in demo.series
    subjects = [str(m["Subject"]) for m in archive_mails.values()]
    assert not [s for s in subjects if "v2" in s and "periodic/oneshot" in s]
    assert any(s.startswith("[PATCH] KVM: x86: Support using the VMX preemption timer") for s in subjects)
    assert len(demo.series["followup_v3"]) == 6
    assert [s for s in subjects if s.startswith("[PATCH v3 ") and "/5]" in s]
    why = archive_mails[demo.messages["why_0"]]
    assert str(why["Subject"]) == "Why are we using preemption timer on x86?"
    assert why["Date"].datetime.year == 2019 and "enable_preemption_timer" in why.get_content()
    replies = [m for m in archive_mails.values() if m["In-Reply-To"] and
               demo.messages["why_0"] in str(m["References"] or "")]
    assert len(replies) >= 2


def test_mail_variants(archive_mails: dict, demo: DemoCorpus) -> None:
    mails = list(archive_mails.values())
    assert any(" via kvm" in str(m["From"]) and m["Reply-To"] for m in mails)
    assert any(m["Content-Transfer-Encoding"] == "base64" for m in mails)
    assert any(m["Content-Transfer-Encoding"] == "quoted-printable" for m in mails)
    assert any(p.get_content_type() == "text/x-patch" for m in mails for p in m.walk())
    assert any(m.get_body(("plain",)).get_content().startswith("From: ") for m in mails
               if not m.is_multipart())
    assert any(str(m["From"]).startswith("Radim Krčmář") for m in mails)
    links = _git(demo.repo, "log", "--format=%b", "master")
    assert links.count("Link: https://lore.kernel.org/kvm/") >= 10
    assert demo.never_applied and all(m in demo.messages for m in demo.never_applied)
    # A noise series posted twice with the same diff, the later one applied.
    twice = [k[:-3] for k in demo.series if k.startswith("n") and k.endswith("_v2")]
    assert twice
    for key in twice:
        v1, v2 = demo.series[f"{key}_v1"], demo.series[f"{key}_v2"]
        last = v2[-1]
        assert last in demo.expected_links.values()
        assert _patch_id(_mail_diff(archive_mails[demo.messages[v1[-1]]])) == \
            _patch_id(_mail_diff(archive_mails[demo.messages[last]]))
