"""The real page in a real browser: `streamlit run app.py` on a free loopback port, driven by
headless Chromium through Playwright.

Chromium is Debian's (`/usr/bin/chromium`), never Playwright's download; `ensure_chromium`
(tests/page_driver.py) installs it with apt-get when it is missing, so a fresh CI machine
runs this test too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from page_driver import (
    CHROMIUM_ARGS,
    PLACEHOLDER,
    ensure_chromium,
    free_port,
    settle,
    stop,
    wait_healthy,
)
from thrive.base.settings import Settings
from thrive.knowledge.corpus import plain_text, read_corpus

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
QUESTION = "I write blog posts and product descriptions. Am I at risk?"
TIMINGS: dict[str, float] = {}
CITATION = re.compile(r"\[((?:threat|strategy|action)-\d)\]")


@pytest.fixture(scope="module")
def server(
    guide_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, float]]:
    """The page served from a copy of the session's index (warm: nothing to embed).
    Yields the URL and the time the server process was started."""
    root = tmp_path_factory.mktemp("browser")
    store = root / "vectorstore"
    shutil.copytree(guide_settings.vectorstore_dir, store)
    env = {
        **os.environ,
        "THRIVE_CORPUS_DIR": str(guide_settings.corpus_dir),
        "THRIVE_VECTORSTORE_DIR": str(store),
        "THRIVE_DATA_DIR": str(root / "data"),
        "THRIVE_LLM": "extractive",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "streamlit.log"
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one below
        )
    try:
        wait_healthy(url, proc, log, timeout_s=90)
        TIMINGS["server_healthy_s"] = round(time.monotonic() - started, 1)
        yield url, started
    finally:
        stop(proc)


def test_ask_stream_and_open_a_citation(server: tuple[str, float]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, started = server
    chromium = ensure_chromium()
    sections = {s.section_id: s for s in read_corpus(REPO / "corpus")}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.set_default_timeout(90_000)
            expect.set_options(timeout=90_000)  # the first answer loads the embedding model
            page.goto(url)

            # The empty state, then a question typed into the chat box.
            expect(page.get_by_text("Try one of these")).to_be_visible()
            expect(page.get_by_label("Skills")).to_be_visible()
            TIMINGS["page_ready_s"] = round(time.monotonic() - started, 1)
            page.screenshot(path=str(ARTIFACTS / "empty.png"))
            box = page.get_by_placeholder(PLACEHOLDER)
            box.fill(QUESTION)
            box.press("Enter")
            asked = time.monotonic()

            # The streamed answer, finished: its footer names the backend. The conversation
            # header ("Export") appears after the page settles on the new conversation.
            answer = page.locator('[data-testid="stChatMessage"]').nth(1)
            expect(answer.get_by_text("Answered by the offline coach")).to_be_visible()
            TIMINGS["question_to_answer_s"] = round(time.monotonic() - asked, 1)
            TIMINGS["start_to_first_answer_s"] = round(time.monotonic() - started, 1)
            expect(page.get_by_role("button", name=re.compile("Export"))).to_be_visible()
            answer = page.locator('[data-testid="stChatMessage"]').nth(1)
            text = answer.inner_text()
            cited = CITATION.findall(text)
            assert cited, f"the answer cites no section:\n{text}"
            assert "Ask next" in text, "no follow-up questions under the answer"

            page.screenshot(path=str(ARTIFACTS / "answer.png"))

            # Open the first citation: the guide's passage is shown.
            section_id = cited[0]
            answer.get_by_role("button", name=re.compile(re.escape(f"[{section_id}]"))).click()
            body = page.locator('[data-testid="stPopoverBody"]')
            expect(body).to_be_visible()
            first_words = " ".join(plain_text(sections[section_id].text).split()[:6])
            first_words = first_words.replace("The Threat: ", "").replace("Strategy: ", "")
            expect(body).to_contain_text(sections[section_id].title)
            expect(body).to_contain_text(first_words[:30])
            page.screenshot(path=str(ARTIFACTS / "citation.png"))
            page.keyboard.press("Escape")

            # Markup in a question is shown as text, never run as HTML.
            box = page.get_by_placeholder(PLACEHOLDER)
            box.fill('Is <img src="x" onerror="window.__pwned=1"> risky for writers?')
            box.press("Enter")
            expect(page.locator('[data-testid="stChatMessage"]')).to_have_count(4)
            expect(page.locator('[data-testid="stChatMessage"]').nth(2)).to_contain_text(
                '<img src="x"'
            )
            assert page.evaluate("window.__pwned") is None
            assert page.locator('[data-testid="stChatMessage"] img[src="x"]').count() == 0
        finally:
            browser.close()
    # Measured, not asserted (a shared CI machine is no stopwatch); read by the closing note.
    (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2))


def test_exposure_check_in_the_chat_draws_the_chart(server: tuple[str, float]) -> None:
    """The saved skills, "Which of my skills are at risk?", and the tool's bar chart drawn
    by Vega inside the answer; then the same check on the Tools page."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = server
    chromium = ensure_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.set_default_timeout(90_000)
            expect.set_options(timeout=90_000)
            page.goto(url)

            # Your situation: three skills, saved.
            page.get_by_label("Skills").fill("copywriting, logo design, brand strategy")
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_text("Coaching you as")).to_be_visible()

            box = page.get_by_placeholder(PLACEHOLDER)
            box.fill("Which of my skills are at risk?")
            box.press("Enter")
            answer = page.locator('[data-testid="stChatMessage"]').nth(1)
            expect(answer.get_by_text("Scored by the exposure check")).to_be_visible()
            expect(page.get_by_role("button", name=re.compile("Export"))).to_be_visible()
            answer = page.locator('[data-testid="stChatMessage"]').nth(1)
            drawn = answer.locator(".vega-embed canvas, .vega-embed svg").first
            expect(drawn).to_be_visible()
            box_size = drawn.bounding_box()
            assert box_size and box_size["width"] > 200 and box_size["height"] > 60, box_size
            for skill in ("copywriting", "logo design", "brand strategy"):
                expect(answer.get_by_text(skill, exact=False).first).to_be_visible()
            settle(page)
            page.screenshot(path=str(ARTIFACTS / "tools.png"))

            # The Tools page: the same skills in the box, the chart drawn there too.
            page.get_by_role("link", name="Tools").click()
            expect(page.get_by_role("heading", name="Coaching tools")).to_be_visible()
            skills = page.get_by_role("textbox", name="Skills to check")
            expect(skills).to_have_value("copywriting; logo design; brand strategy")
            expect(page.locator(".vega-embed canvas, .vega-embed svg").first).to_be_visible()
            page.get_by_role("tab", name="Niche finder").click()
            expect(page.get_by_role("button", name="Tell me more").first).to_be_visible()
            settle(page)
            page.screenshot(path=str(ARTIFACTS / "tools-niches.png"))
            page.get_by_role("tab", name="30-day plan").click()
            expect(page.get_by_text("Your 30-day plan").first).to_be_visible()
            settle(page)
            page.screenshot(path=str(ARTIFACTS / "tools-plan.png"))
        finally:
            browser.close()


# Work the guide never names: a name in an answer can only come from that session's question.
SESSION_WORK = ["translator", "bookkeeper", "voice-over artist", "illustrator", "genealogist"]


def test_five_browser_sessions_at_once_each_get_their_own_answer(
    server: tuple[str, float],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, _ = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(ensure_chromium()), headless=True, args=CHROMIUM_ARGS
        )
        try:
            # Five separate sessions (contexts share no cookies), all asking before any
            # answer is read, so the server answers them side by side.
            pages = []
            for _ in SESSION_WORK:
                page = browser.new_context().new_page()
                page.set_default_timeout(120_000)
                page.goto(url)
                pages.append(page)
            for page in pages:
                expect(page.get_by_placeholder(PLACEHOLDER)).to_be_visible(timeout=120_000)
            for page, work in zip(pages, SESSION_WORK, strict=True):
                box = page.get_by_placeholder(PLACEHOLDER)
                box.fill(f"I'm a freelance {work}. What should I do this month?")
                box.press("Enter")
            for i, (page, work) in enumerate(zip(pages, SESSION_WORK, strict=True)):
                answer = page.locator('[data-testid="stChatMessage"]').nth(1)
                expect(answer.get_by_text("Answered by the offline coach")).to_be_visible(
                    timeout=120_000
                )
                text = answer.inner_text().lower()
                assert work in text, (work, text[:300])
                crossed = [w for w in SESSION_WORK if w != work and w in text]
                assert not crossed, f"session {i} ({work}) shows {crossed}"
                # The question and its one answer. Waited for, not read once: a fresh-clone CI
                # run once read 1 message here, the answer already shown and the URL carrying
                # the conversation's id, as if caught mid-rerun.
                expect(page.locator('[data-testid="stChatMessage"]')).to_have_count(
                    2, timeout=30_000
                )
                page.screenshot(path=str(ARTIFACTS / f"session-{i + 1}.png"))
        finally:
            browser.close()
