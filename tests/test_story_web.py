"""`patchtrail demo` tells the story and writes it as HTML; `patchtrail serve` shows it in a
browser. Both are looked at in headless Chromium, which saves the README's screenshots."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SEED_TITLE = "Utilizing VMX preemption for timer virtualization"
FU_TITLE = "KVM: x86: Support using the VMX preemption timer for APIC Timer periodic/oneshot mode"
WHY = "Why are we using preemption timer on x86?"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("story-web") / "d"
    proc = subprocess.run([sys.executable, "-m", "patchtrail", "demo", "--dir", str(root)],
                          capture_output=True, text=True, check=False)
    return root, proc


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (scripts/test.sh installs it)")
    profile = tmp_path_factory.mktemp("chromium-profile")  # an empty user-data-dir
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 1000})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def server(demo) -> Iterator[str]:
    root, _ = demo
    proc = subprocess.Popen([sys.executable, "-m", "patchtrail", "serve", "--port", "0",
                             "--db", str(root / "patchtrail.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert "http://127.0.0.1:" in line, proc.stderr.read() if proc.stderr else line
        yield line.split(" on ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_demo_prints_the_story_and_writes_the_html(demo) -> None:
    root, proc = demo
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for want in ("enable_preemption_timer was born in", SEED_TITLE, "applied order 3, 4, 1, 2",
                 FU_TITLE, "v2 not in the archive", WHY):
        assert want in out, want
    html = root / "story.html"
    assert f"The same story as one HTML page (open it in a browser): {html}" in out
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_the_html_report_in_chromium(demo, browser) -> None:
    root, _ = demo
    page = browser.new_page()
    page.goto((root / "story.html").as_uri())
    assert "The story of enable_preemption_timer" in page.locator("h1").inner_text()
    assert page.locator("svg .mark").count() >= 19  # 4 revisions, 4 commits, the follow-ups, 2019
    assert page.locator("text=" + WHY).count() >= 1
    page.screenshot(path=str(DOCS / "story-html.png"))
    page.close()


def test_the_web_ui_search_a_symbol_see_the_story(server, browser) -> None:
    page = browser.new_page()
    page.goto(server)
    page.fill("#q", "enable_preemption_timer")
    page.press("#q", "Enter")
    page.wait_for_selector("h1:has-text('The story of')")
    assert "/story?q=enable_preemption_timer" in page.url
    body = page.locator("body").inner_text()
    for want in (SEED_TITLE, "kvm: vmx: hook preemption timer support", FU_TITLE, WHY):
        assert want in body, want
    page.screenshot(path=str(DOCS / "web-ui.png"))
    # free text over subjects, then a thread, then back to a story
    page.fill("#q", "preemption timer")
    page.press("#q", "Enter")
    page.wait_for_selector("h1:has-text('Subjects with')")
    page.locator("a:has-text('thread')").first.click()
    page.wait_for_selector("h1:has-text('Thread')")
    assert page.locator("tr").count() >= 1
    page.goto(server + "series")
    assert page.locator("tr").count() > 10
    page.close()
