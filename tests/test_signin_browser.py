"""Sign-in end to end: a real OIDC provider (oidc-provider-mock) on loopback, the page started
by `thrive app` with THRIVE_SECRETS naming an `[auth]` file, and two people signing in
through the provider's own form in headless Chromium, each in a browser context of their own.

Screenshots go to the test's temporary folder and to evals/report/signin/ (not committed).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from page_driver import (
    CHROMIUM_ARGS,
    PLACEHOLDER,
    ensure_chromium,
    free_port,
    settle,
    stop,
    wait_healthy,
    wait_until_up,
)
from thrive.base.settings import Settings
from thrive.base.storage import UserData
from thrive.ui.auth import user_id_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "evals" / "report" / "signin"
TIMEOUT_MS = 120_000  # the first answer loads the embedding model on a busy machine


@dataclass(frozen=True)
class Person:
    sub: str
    name: str
    email: str
    skills: str
    question: str

    @property
    def claims(self) -> str:
        return json.dumps({"sub": self.sub, "name": self.name, "email": self.email})


ALICE = Person(
    "alice-7f3a",
    "Alice Archer",
    "alice@example.com",
    "copywriting, SEO",
    "I write blog posts and product descriptions. Am I at risk?",
)
BOB = Person(
    "bob-91c2",
    "Bob Baker",
    "bob@example.com",
    "logo design, brand strategy",
    "Should a logo designer learn to use image generators?",
)


@dataclass(frozen=True)
class Site:
    url: str
    issuer: str
    data_dir: Path
    shots: Path


def _start(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )


@pytest.fixture(scope="module")
def site(guide_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The OIDC provider and the page, both on free loopback ports, stopped afterwards."""
    root = tmp_path_factory.mktemp("signin")
    oidc_port, page_port = free_port(), free_port()
    issuer, url = f"http://127.0.0.1:{oidc_port}", f"http://127.0.0.1:{page_port}"
    provider = _start(
        [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port",
         str(oidc_port), "--user-claims", ALICE.claims, "--user-claims", BOB.claims],
        root / "oidc.log",
    )  # fmt: skip
    page = None
    try:
        metadata = f"{issuer}/.well-known/openid-configuration"
        wait_until_up(metadata, provider, root / "oidc.log", timeout_s=30, expect=b"{")
        secrets_file = root / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "{url}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "thrive-page"\n'
            'client_secret = "thrive-page-secret"\n'
            f'server_metadata_url = "{metadata}"\n'
        )
        store = root / "vectorstore"
        shutil.copytree(guide_settings.vectorstore_dir, store)
        env = {
            **os.environ,
            "THRIVE_SECRETS": str(secrets_file),
            "THRIVE_CORPUS_DIR": str(guide_settings.corpus_dir),
            "THRIVE_VECTORSTORE_DIR": str(store),
            "THRIVE_DATA_DIR": str(root / "data"),
            "THRIVE_LLM": "extractive",
        }
        thrive = Path(sys.executable).with_name("thrive")
        page = _start(
            [str(thrive), "app", "--port", str(page_port), "--no-open"], root / "page.log", env
        )
        wait_healthy(url, page, root / "page.log", timeout_s=90)
        shots = root / "screenshots"
        shots.mkdir()
        yield Site(url, issuer, root / "data", shots)
    finally:
        if page is not None:
            stop(page)
        stop(provider)
        if (root / "screenshots").is_dir():
            REPORT.mkdir(parents=True, exist_ok=True)
            for png in (root / "screenshots").glob("*.png"):
                shutil.copy2(png, REPORT / png.name)


def shoot(page: Page, site: Site, name: str) -> None:
    settle(page)
    page.screenshot(path=str(site.shots / f"{name}.png"), full_page=True)


def sign_in(browser: Browser, site: Site, who: Person, shots: bool = False) -> Page:
    """A fresh browser context (its own cookies), through the provider's form."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(site.url)
    expect(page.get_by_text("Sign in to see your situation")).to_be_visible()
    # Signed out: nothing of anyone's data, not even the form or the chat box.
    expect(page.get_by_placeholder(PLACEHOLDER)).to_have_count(0)
    expect(page.get_by_text("Your situation", exact=True)).to_have_count(0)
    if shots:
        shoot(page, site, "01-signed-out")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_placeholder("sub").first.wait_for()  # the provider's authorization form
    assert page.url.startswith(site.issuer), page.url
    page.get_by_placeholder("sub").first.fill(who.sub)
    if shots:
        page.screenshot(path=str(site.shots / "02-provider-form.png"))
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{site.url}/**")
    expect(page.get_by_text(f"Signed in as {who.name} ({who.email})")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def save_situation_and_ask(page: Page, who: Person) -> None:
    from playwright.sync_api import expect

    page.get_by_label("Skills").fill(who.skills)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Coaching you as")).to_be_visible()
    box = page.get_by_placeholder(PLACEHOLDER)
    box.fill(who.question)
    box.press("Enter")
    answer = page.locator('[data-testid="stChatMessage"]').nth(1)
    expect(answer.get_by_text("Answered by the offline coach")).to_be_visible()
    expect(page.get_by_role("button", name="Export")).to_be_visible()


def conversation_titles(page: Page) -> list[str]:
    """The saved conversations listed in the sidebar."""
    settle(page)
    buttons = page.locator('[data-testid="stSidebar"] [class*="st-key-thrive-open-"] button')
    return [b.inner_text().strip() for b in buttons.all()]


def test_two_people_sign_in_and_each_sees_only_their_own(site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    chromium = ensure_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            alice = sign_in(browser, site, ALICE, shots=True)
            save_situation_and_ask(alice, ALICE)
            shoot(alice, site, "03-alice-answered")

            bob = sign_in(browser, site, BOB)
            # Bob's first view: none of Alice's situation or conversations.
            expect(bob.get_by_label("Skills")).to_have_value("")
            assert conversation_titles(bob) == []
            save_situation_and_ask(bob, BOB)
            shoot(bob, site, "04-bob-answered")

            # Each, on a fresh load, sees their own situation and conversation only.
            for page, who, other in ((alice, ALICE, BOB), (bob, BOB, ALICE)):
                page.reload()
                expect(page.get_by_text(f"Signed in as {who.name}")).to_be_visible()
                expect(page.get_by_label("Skills")).to_have_value(who.skills)
                titles = conversation_titles(page)
                assert len(titles) == 1 and who.question[:20] in titles[0], titles
                expect(page.get_by_text(other.question[:20])).to_have_count(0)
                expect(page.get_by_text(other.skills)).to_have_count(0)

            # "Your data" says for whom it is kept; the storage key is never on the page.
            bob.locator('[data-testid="stSidebar"] summary', has_text="Your data").click()
            panel = bob.locator('[data-testid="stSidebar"]')
            expect(panel.get_by_text(f"Kept for {BOB.name} ({BOB.email})")).to_be_visible()
            bob_id = user_id_for(site.issuer, BOB.sub)
            assert bob_id not in bob.content() and bob_id[5:] not in bob.content()
            shoot(bob, site, "05-bob-your-data")

            # Bob deletes all his data. A click that lands while the page is still redrawing
            # can be lost (seen once in CI: the box stayed unticked): `check` clicks only an
            # unticked box and fails unless it ends up ticked.
            confirm = bob.get_by_role("checkbox", name="I understand this cannot be undone")
            settle(bob)
            confirm.check(force=True)  # Streamlit draws its own box over the hidden input
            expect(confirm).to_be_checked()
            delete = bob.get_by_role("button", name="Delete all my data")
            expect(delete).to_be_enabled()
            delete.click()
            expect(bob.get_by_text("All your data was deleted")).to_be_visible()
            settle(bob)  # the form is drawn anew; the old one is gone once the run ends
            expect(bob.get_by_label("Skills")).to_have_value("")
            assert conversation_titles(bob) == []
            shoot(bob, site, "06-bob-deleted")

            # Alice's situation and conversation stay.
            alice.reload()
            expect(alice.get_by_label("Skills")).to_have_value(ALICE.skills)
            titles = conversation_titles(alice)
            assert len(titles) == 1 and ALICE.question[:20] in titles[0], titles
            shoot(alice, site, "07-alice-after-bob-deleted")

            # Alice signs out (the provider asks to end its session too): the sign-in screen.
            alice.get_by_role("button", name="Sign out").click()
            end = alice.get_by_role("button", name="End session")
            end.wait_for()
            end.click()
            expect(alice.get_by_text("Sign in to see your situation")).to_be_visible()
            expect(alice.get_by_text(ALICE.skills)).to_have_count(0)
            shoot(alice, site, "08-alice-signed-out")
        finally:
            browser.close()

    # What the page showed is what the storage holds.
    issuer = site.issuer
    kept = UserData(site.data_dir, user_id=user_id_for(issuer, ALICE.sub))
    gone = UserData(site.data_dir, user_id=user_id_for(issuer, BOB.sub))
    assert len(kept.conversations()) == 1 and kept.load_profile()["skills"] == [
        "copywriting",
        "SEO",
    ]
    assert gone.conversations() == [] and gone.load_profile() == {}
    assert UserData(site.data_dir).conversations() == []  # nothing on the local user
