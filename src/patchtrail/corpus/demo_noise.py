"""The demo corpus noise: a few hundred unrelated patches, series, replies and questions.

Noise makes linking honest: many patches per file and per author, rerolls with the same
diff, reworded and edited applies, DMARC rewrites and MIME variants.
"""

from __future__ import annotations

import random

from patchtrail.corpus.cedit import (
    find_function,
    function_names,
    insert_after,
    remove_function,
)
from patchtrail.corpus.demo_builder import (  # noqa: F401
    ANSWER_TEXT,
    APPLIED_TEXT,
    AREA,
    BLURBS,
    DAY,
    DISCUSS_TEXT,
    DMARC_PEOPLE,
    KVM_ADDR,
    LINK_SINCE,
    NAK_TEXT,
    NOISE_PEOPLE,
    PAIRS,
    PAOLO,
    QUESTIONS,
    RADIM,
    REVIEW_TEXT,
    SEAN,
    _Builder,
    _commit_body,
    _committer_tz,
    _Noise,
    ts,
)
from patchtrail.corpus.demo_src_x86 import NOISE_FILES, NOUNS, VERBS, noise_function
from patchtrail.corpus.gitwrite import Person
from patchtrail.corpus.mails import bare_id, patch_subject


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
