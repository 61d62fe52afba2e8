"""Remote dig on the real LTP archive served by public-inbox-httpd, against `b4 dig`.

    python -m bench.remote --repo PATH/ltp --archive PATH/ltp.lists.linux.it.0 [--work DIR]
                           [--sample 100] [--seed 1] [--no-b4]

1. Serves the archive as lore.kernel.org would: a public-inbox v2 inbox around the epoch
   (`public-inbox-init -V2`, the epoch's objects borrowed through git alternates, then
   `public-inbox-index`), behind `public-inbox-httpd` on 127.0.0.1. With --work the inbox
   (minutes of Xapian indexing), the local index and the work clone are kept for the next run.
2. Ground truth as bench/linking.py: commits since 2019-05 whose Link trailer names a
   message in the archive, labels classified the same way; a random sample of them.
3. For each sampled commit, blind (Link trailers unused), in the same run:
   - local: `dig` on a full local index of repository and archive (the reference);
   - remote, in process: a cold index holding nothing but the repository's name, then
     `ensure_for_commits` against the server (no response cache) and the same `dig`;
   - remote, command line: `patchtrail dig --remote --no-cache --ignore-links` in the
     work clone whose `b4.midmask` names the server, on a fresh index (process start
     included, like b4);
   - `b4 dig -C -c COMMIT` in the same clone, on a copy of the commit whose message lost
     its Link trailers (b4 would otherwise fetch the linked thread and answer from it);
   and, last, every sampled commit in one `patchtrail dig --remote` process.
   Accuracy: recall@1 / same thread / wrong / none for each; latency per commit. Both
   command lines run with their bytecode cached (PYTHONPYCACHEPREFIX in the work dir), as
   installed packages have it, whatever PYTHONDONTWRITEBYTECODE says.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from bench.linking import SINCE, _verdict, classify_label
from patchtrail.index.ingest import index_archive, index_repo
from patchtrail.index.store import Store
from patchtrail.link.commits import load_commits
from patchtrail.link.dig import dig_commit, link_ids
from patchtrail.link.model import CommitInfo
from patchtrail.link.remote import attach_repository, ensure_for_commits
from patchtrail.sources.remote import PublicInboxClient

INBOX = "ltp"


def _run(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    return proc.stdout


def pi_env(work: Path) -> dict[str, str]:
    """public-inbox reads its config from $PI_CONFIG; keep it (and $HOME) inside work."""
    env = dict(os.environ, PI_CONFIG=str(work / "pi" / "config"), HOME=str(work / "pi" / "home"))
    (work / "pi" / "home").mkdir(parents=True, exist_ok=True)
    return env


def build_inbox(work: Path, epoch: Path) -> Path:
    """A v2 inbox whose epoch 0 is `epoch` (objects borrowed), indexed; incremental."""
    env = pi_env(work)
    inbox = work / "pi" / INBOX
    if not (inbox / "git" / "0.git").is_dir():
        _run(["public-inbox-init", "-V2", INBOX, str(inbox), f"http://127.0.0.1/{INBOX}",
              f"{INBOX}@lists.linux.it"], env)
        alternates = inbox / "git" / "0.git" / "objects" / "info" / "alternates"
        with alternates.open("a") as f:
            f.write(f"{(epoch / 'objects').resolve()}\n")
    _run(["git", "--git-dir", str(inbox / "git" / "0.git"), "fetch", "--quiet", str(epoch),
          "+refs/heads/master:refs/heads/master"])
    t0 = time.perf_counter()
    _run(["public-inbox-index", str(inbox)], env)
    print(f"  public-inbox-index: {time.perf_counter() - t0:.0f} s", flush=True)
    return inbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_httpd(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (work / "httpd.log").open("ab")
    proc = subprocess.Popen(["public-inbox-httpd", "-l", f"http://127.0.0.1:{port}"],
                            env=pi_env(work), stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/{INBOX}/"
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("public-inbox-httpd did not start (see httpd.log)")


def work_clone(repo: Path, work: Path, url: str) -> Path:
    """A clone sharing the repository's objects (b4 needs a work tree's top level)."""
    clone = work / "ltp-wt"
    if not clone.is_dir():
        _run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(repo), str(clone)])
    _run(["git", "-C", str(clone), "config", "b4.midmask", f"{url}%s"])
    return clone


def local_index(work: Path, clone: Path, epoch: Path) -> Path:
    db = work / "local.db"
    with Store.open(db, create=True) as store:
        t0 = time.perf_counter()
        index_repo(store, clone, ("HEAD",))
        index_archive(store, epoch)
        print(f"  local index: {time.perf_counter() - t0:.0f} s", flush=True)
    return db


def labelled(store: Store, sample: int, seed: int) -> list[tuple[CommitInfo, str, str]]:
    conn = store.conn
    oids = [r[0] for r in conn.execute(
        "SELECT oid FROM commits WHERE committer_time >= ? AND parents NOT LIKE '% %'"
        " ORDER BY committer_time", (SINCE,))]
    out = []
    for c in load_commits(store, oids):
        ids = [i for i in link_ids(c)
               if conn.execute("SELECT 1 FROM messages WHERE msgid=?", (i,)).fetchone()]
        if ids:
            out.append((c, ids[0], classify_label(conn, c, ids[0]) or "patch"))
    random.Random(seed).shuffle(out)
    return out[:sample] if sample else out


def blind_copy(clone: Path, oid: str) -> str:
    """The same commit (tree, parent, author, dates) with its Link trailers removed."""
    fmt = "%T%x00%P%x00%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd%x00%B"
    out = _run(["git", "-C", str(clone), "show", "-s", "--date=raw", f"--format={fmt}", oid])
    tree, parents, an, ae, ad, cn, ce, cd, body = out.split("\0", 8)
    body = "".join(ln for ln in body.splitlines(keepends=True) if not ln.lower().startswith("link:"))
    env = dict(os.environ, GIT_AUTHOR_NAME=an, GIT_AUTHOR_EMAIL=ae, GIT_AUTHOR_DATE=ad,
               GIT_COMMITTER_NAME=cn, GIT_COMMITTER_EMAIL=ce, GIT_COMMITTER_DATE=cd)
    args = ["git", "-C", str(clone), "commit-tree", tree]
    for p in parents.split():
        args += ["-p", p]
    proc = subprocess.run(args, input=body, env=env, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def cli_env(work: Path) -> dict[str, str]:
    """The environment both command lines run in: patchtrail from this checkout, and
    bytecode cached (in work/) as an installed package has it, for both tools."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH", "")])
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def fresh_db(template: Path, work: Path) -> Path:
    cold = work / "cold.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cold}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, cold)
    return cold


@dataclass
class Runner:
    name: str
    verdicts: Counter[str] = field(default_factory=Counter)
    patch_verdicts: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    answers: dict[str, str | None] = field(default_factory=dict)

    def add(self, conn, c: CommitInfo, got: str | None, label: str, kind: str, secs: float | None) -> None:
        v = _verdict(conn, got, label)
        self.verdicts[v] += 1
        if kind == "patch":
            self.patch_verdicts[v] += 1
        if secs is not None:
            self.seconds.append(secs)
        self.answers[c.oid] = got


def b4_answer(out: str) -> str | None:
    """b4 prints the match's link (linkmask % msgid) as its last line on stdout."""
    lines = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("http")]
    if not lines:
        return None
    return unquote(lines[-1].rstrip("/").rsplit("/", 1)[-1])


def measure(args: argparse.Namespace, work: Path) -> dict[str, object]:
    print("serving the archive with public-inbox-httpd ...", flush=True)
    build_inbox(work, args.archive)
    httpd, url = start_httpd(work)
    try:
        clone = work_clone(args.repo, work, url)
        print(f"  {url}", flush=True)
        print("local index (reused when --work holds one) ...", flush=True)
        local_db = local_index(work, clone, args.archive)
        template = work / "template.db"
        if not template.exists():
            with Store.open(template, create=True) as s:
                attach_repository(s, clone)
        local = Store.open(local_db)
        conn = local.conn
        sample = labelled(local, args.sample, args.seed)
        print(f"{len(sample)} labelled commits sampled (seed {args.seed})", flush=True)
        runners = {k: Runner(k) for k in ("local", "remote", "remote-cli", "b4")}
        requests: list[int] = []
        b4_misses: list[tuple[str, str, str]] = []
        kib: list[float] = []
        env = cli_env(work)
        for cmd in ([sys.executable, "-m", "patchtrail", "--version"], ["b4", "--version"]):
            subprocess.run(cmd, env=env, capture_output=True, check=False)  # compile once
        for i, (c, label, kind) in enumerate(sample):
            t0 = time.perf_counter()
            r = dig_commit(local, c, ignore_links=True)
            runners["local"].add(conn, c, r.match.message_id if r.match else None, label, kind,
                                 time.perf_counter() - t0)
            cold = fresh_db(template, work)
            t0 = time.perf_counter()
            with Store.open(cold) as st, PublicInboxClient.open(url) as client:
                ensure_for_commits(st, client, [c], links=False)
                r = dig_commit(st, c, ignore_links=True)
                secs = time.perf_counter() - t0
                requests.append(client.traffic.requests)
                kib.append(client.traffic.bytes / 1024)
            runners["remote"].add(conn, c, r.match.message_id if r.match else None, label, kind, secs)
            cold = fresh_db(template, work)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "patchtrail", "dig", "--db", str(cold), "--remote",
                 "--no-cache", "--ignore-links", "--format", "jsonl", c.oid],
                cwd=clone, env=env, capture_output=True, text=True, check=False)
            secs = time.perf_counter() - t0
            got = None
            if proc.returncode in (0, 1) and proc.stdout.strip():
                got = json.loads(proc.stdout.splitlines()[0])["message_id"]
            elif proc.returncode not in (0, 1):
                print(f"  patchtrail failed on {c.oid[:12]}: {proc.stderr.strip()[:200]}")
            runners["remote-cli"].add(conn, c, got, label, kind, secs)
            if not args.no_b4:
                blind = blind_copy(clone, c.oid)
                t0 = time.perf_counter()
                proc = subprocess.run(["b4", "dig", "-C", "-c", blind], cwd=clone, env=env,
                                      capture_output=True, text=True, check=False)
                secs = time.perf_counter() - t0
                got = b4_answer(proc.stdout) if proc.returncode == 0 else None
                runners["b4"].add(conn, c, got, label, kind, secs)
                if got != label and kind == "patch":
                    b4_misses.append((c.oid[:12], _verdict(conn, got, label), why_b4_missed(conn, c, label)))
            if (i + 1) % 10 == 0:
                print(f"  {i + 1}/{len(sample)}", flush=True)
        # One process for every sampled commit, as `patchtrail dig --remote A..B` runs.
        cold = fresh_db(template, work)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "patchtrail", "dig", "--db", str(cold), "--remote", "--no-cache",
             "--ignore-links", "--format", "jsonl", *[c.oid for c, _, _ in sample]],
            cwd=clone, env=env, capture_output=True, text=True, check=False)
        batch_s = time.perf_counter() - t0
        batch_same = sum(json.loads(line)["message_id"] == runners["remote"].answers[json.loads(line)["commit"]]
                         for line in proc.stdout.splitlines())
        startup = {
            "patchtrail": _median_wall([sys.executable, "-m", "patchtrail", "--version"], env),
            "b4": _median_wall(["b4", "--version"], env) if not args.no_b4 else None,
        }
        agree = sum(runners["remote"].answers[c.oid] == runners["local"].answers[c.oid] for c, _, _ in sample)
        kinds = Counter(kind for _, _, kind in sample)
        local.close()
        return {"n": len(sample), "kinds": kinds, "runners": runners, "requests": requests,
                "kib": kib, "startup": startup, "agree": agree, "b4": not args.no_b4,
                "b4_misses": b4_misses, "batch_s": batch_s, "batch_same": batch_same}
    finally:
        httpd.terminate()
        httpd.wait(10)


def why_b4_missed(conn, c: CommitInfo, label: str) -> str:
    """What in b4 dig's rules (bench docstring) the label escapes."""
    row = conn.execute("SELECT date, patch_id, title, author_email FROM messages WHERE msgid=?",
                       (label,)).fetchone()
    reasons = []
    if row["patch_id"] != c.patch_id:
        reasons.append("diff edited on apply (patch-id differs)")
    elif row["date"] and row["date"] > c.author_time + 86400:
        reasons.append("posted after the author date + 1 day (b4 searches d:..that)")
    if row["title"] != c.subject:
        reasons.append("subject reworded")
    if (row["author_email"] or "").lower() != c.author_email.lower():
        reasons.append("sent from another address")
    return "; ".join(reasons) or "another revision or sibling chosen"


def _median_wall(cmd: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _ms(xs: list[float]) -> str:
    if not xs:
        return "-"
    s = sorted(xs)
    return f"median {statistics.median(s) * 1000:7.0f} ms   p95 {s[int(len(s) * 0.95)] * 1000:7.0f} ms"


def report(f: dict) -> None:
    n = f["n"]
    print(f"\n== remote dig on LTP, {n} sampled labelled commits, blind ==")
    print("label kinds: " + ", ".join(f"{k}: {v}" for k, v in f["kinds"].most_common()))
    names = [k for k in ("local", "remote", "remote-cli", "b4") if k != "b4" or f["b4"]]
    npatch = f["kinds"].get("patch", 0)
    for title, attr, total in (("all labels", "verdicts", n), ("labels that are patch emails", "patch_verdicts", npatch)):
        print(f"\n{title} (n={total})" + "".join(f"{name:>16}" for name in names))
        for key in ("recall@1", "same-thread", "wrong", "none"):
            cells = "".join(f"{getattr(f['runners'][name], attr)[key]:7d} {100 * getattr(f['runners'][name], attr)[key] / max(total, 1):6.1f}%"
                            for name in names)
            print(f"  {key:<12}{cells}")
    print(f"\nremote answer == local answer: {f['agree']}/{n}")
    print("\nlatency per commit:")
    labels = {"local": "local index, in process", "remote": "remote, cold index, in process",
              "remote-cli": "patchtrail dig --remote (CLI)", "b4": "b4 dig (CLI)"}
    for name in names:
        print(f"  {labels[name]:<34} {_ms(f['runners'][name].seconds)}")
    print(f"  patchtrail dig --remote, all {n} in one process   {f['batch_s'] / n * 1000:7.0f} ms per commit"
          f" ({f['batch_s']:.1f} s; same answers as in process: {f['batch_same']}/{n})")
    st = f["startup"]
    print(f"  process start alone: patchtrail {st['patchtrail'] * 1000:.0f} ms"
          + (f", b4 {st['b4'] * 1000:.0f} ms" if st["b4"] is not None else ""))
    if f["b4_misses"]:
        print(f"b4 dig misses on patch labels ({len(f['b4_misses'])}), and why:")
        for reason, n in Counter(r for _, _, r in f["b4_misses"]).most_common():
            print(f"  {n:3d}  {reason}")
    req = f["requests"]
    print(f"requests per commit (patchtrail): mean {statistics.mean(req):.2f}, max {max(req)};"
          f" KiB per commit: median {statistics.median(f['kib']):.0f}, max {max(f['kib']):.0f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, required=True, help="the LTP git repository")
    ap.add_argument("--archive", type=Path, required=True, help="the LTP list epoch (a bare git repository)")
    ap.add_argument("--work", type=Path, help="keep the inbox, indexes and clone here (default: temp)")
    ap.add_argument("--sample", type=int, default=100, help="labelled commits to dig (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-b4", action="store_true", help="skip b4 dig")
    args = ap.parse_args(argv)
    for tool in ["public-inbox-httpd", "public-inbox-index"] + ([] if args.no_b4 else ["b4"]):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool}: not installed (apt-get install public-inbox; pip install b4)")
    with tempfile.TemporaryDirectory() as tmp:
        work = (args.work or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        report(measure(args, work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
