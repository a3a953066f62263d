"""The console in a real browser (Debian's Chromium driven by Playwright) against a real
`tipline serve`: a public report sent through the form, an analyst's first sign-in with
a TOTP authenticator, the report in the queue, claiming it. Screenshots are saved under
docs/screenshots/."""

from __future__ import annotations

import base64
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django_otp.oath import TOTP

from ..processes import instance_env, serving, tipline

pytestmark = pytest.mark.slow

if os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"):
    pytest.skip(
        "runs on its own fresh SQLite data dir; once per suite is enough", allow_module_level=True
    )

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Shared along the module's story: the server's environment, each person's TOTP secret.
ENV: dict[str, str] = {}
SECRETS: dict[str, str] = {}
USED_STEP: dict[str, int] = {}  # a TOTP code is accepted once: wait for the next one
CSP_VIOLATIONS: list[str] = []  # every page runs under the strict policy: none expected


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("console")
    env = instance_env(root)
    out = tipline("setup", env=env)
    password = out.split("password:")[1].split()[0]
    with serving(env, root) as base:
        ENV.update(env)
        yield base, password


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is missing: `make test` installs it"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def test_a_public_report_reaches_the_queue_of_an_analyst_signed_in_with_totp(
    server: tuple[str, str], browser
) -> None:  # type: ignore[no-untyped-def]
    base, password = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on(
        "console", lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security" in m.text else None
    )

    # The public form, as anyone would fill it in.
    page.goto(f"{base}/report/")
    page.select_option("select[name=category]", "trafficking")
    page.fill("textarea[name=urls]", "https://browser-test.example/annonce/1")
    page.fill("textarea[name=excerpt]", "Nouvelle en ville, dispo ce soir, 01 99 00 12 34")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/report/done/" in page.url or "receipt" in page.content().lower()

    # First sign-in: password, then enrol the authenticator shown on the page.
    page.goto(f"{base}/console/")
    assert "/console/login/" in page.url
    page.fill("#id_username", "analyst")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#totp-secret")
    page.screenshot(path=str(SCREENSHOTS / "console-enrol.png"))
    secret = page.inner_text("#totp-secret").strip()
    SECRETS["analyst"] = secret
    totp = TOTP(base64.b32decode(secret))
    USED_STEP["analyst"] = totp.t()
    page.fill("#id_token", f"{totp.token():06d}")
    page.click("button[type=submit]")
    page.wait_for_selector("table.queue")

    # The pipeline worker processes the report; the queue shows it.
    deadline = time.monotonic() + 30
    while "browser-test.example" not in page.content():
        assert time.monotonic() < deadline, "the report never reached the queue"
        time.sleep(0.5)
        page.reload()
    row = page.locator("tr", has_text="browser-test.example")
    row.locator("button", has_text="Claim").click()
    page.wait_for_selector("button:has-text('Release')")
    page.screenshot(path=str(SCREENSHOTS / "console-queue.png"), full_page=True)

    # The item page: the report, its routing, the assessment form.
    page.locator("tr", has_text="browser-test.example").locator("a").first.click()
    page.wait_for_selector("h2#routing-h")
    assert "hosting-unknown" in page.content()
    page.select_option("select[name=classification]", "national")
    page.click("text=Record the assessment")
    page.wait_for_selector("h2#routing-h")
    assert "national" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "console-item.png"), full_page=True)

    # A second report with the same phone: the two pages form a network, drawn by d3
    # (served by Tipline itself) from the network's JSON.
    page.goto(f"{base}/report/")
    page.select_option("select[name=category]", "trafficking")
    page.fill("textarea[name=urls]", "https://browser-test-2.example/ad/9")
    page.fill("textarea[name=excerpt]", "Nouvelle, appelez le 01 99 00 12 34")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    deadline = time.monotonic() + 30
    while True:
        page.goto(f"{base}/console/search/?type=phone&value=0199001234")
        if page.locator("a[href^='/console/networks/']").count():
            break
        assert time.monotonic() < deadline, "the two reports were never linked"
        time.sleep(0.5)
    page.locator("a[href^='/console/networks/']").first.click()
    page.wait_for_selector("#network-graph[data-rendered='3']")
    assert page.locator("#network-graph g.item circle").count() == 2
    assert page.locator("#network-graph g.value rect").count() == 1
    page.wait_for_timeout(1500)  # let the layout settle for the picture
    page.screenshot(path=str(SCREENSHOTS / "console-network.png"), full_page=True)

    # Switching to French: the choice stays with the analyst.
    page.click("button[name=language][value=fr]")
    page.goto(f"{base}/console/")
    assert page.locator("h1").inner_text() == "Éléments en attente de qualification"
    assert page.get_attribute("html", "lang") == "fr"


def sign_in(page, base: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Password, then the TOTP code: enrolling on the first sign-in, reusing it after."""
    page.goto(f"{base}/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#id_token")
    if page.locator("#totp-secret").count():
        SECRETS[username] = page.inner_text("#totp-secret").strip()
    totp = TOTP(base64.b32decode(SECRETS[username]))
    while totp.t() == USED_STEP.get(username):
        time.sleep(0.5)
    USED_STEP[username] = totp.t()
    page.fill("#id_token", f"{totp.token():06d}")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url, page.inner_text("main")


def report(page, base: str, url: str, text: str, image: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/report/")
    page.select_option("select[name=category]", "trafficking")
    page.fill("textarea[name=urls]", url)
    page.fill("textarea[name=excerpt]", text)
    if image is not None:
        page.set_input_files("input[name=image]", str(image))
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_queue_order_keyboard_unblur_and_a_second_person_confirming(
    server: tuple[str, str], browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw

    base, password = server
    picture = Image.new("RGB", (240, 160), (200, 220, 240))
    ImageDraw.Draw(picture).ellipse((60, 30, 180, 130), fill=(180, 40, 40))
    image = tmp_path / "screenshot.png"
    picture.save(image)
    public = browser.new_page()
    # A routine report first, then one saying someone is held: P1 goes first anyway.
    report(public, base, "https://order-routine.example/ad/1", "Massage relaxant, 01 99 00 55 01")
    report(
        public,
        base,
        "https://order-urgent.example/ad/2",
        "They took my passport, she is not allowed to leave. 01 99 00 55 02",
        image=image,
    )

    analyst = browser.new_page(viewport={"width": 1280, "height": 900})
    analyst.on(
        "console",
        lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security" in m.text else None,
    )
    sign_in(analyst, base, "analyst", password)
    if analyst.locator("button[name=language][value=en]").count():  # French since the last test
        analyst.click("button[name=language][value=en]")
        analyst.wait_for_load_state()
    deadline = time.monotonic() + 30
    while True:
        analyst.goto(f"{base}/console/")
        html = analyst.content()
        if "order-routine.example" in html and "order-urgent.example" in html:
            break
        assert time.monotonic() < deadline, analyst.inner_text("main")
        time.sleep(0.5)
    rows = analyst.locator("tbody tr[data-item]")
    order = [rows.nth(i).inner_text() for i in range(rows.count())]
    urgent = next(i for i, text in enumerate(order) if "order-urgent.example" in text)
    routine = next(i for i, text in enumerate(order) if "order-routine.example" in text)
    assert order[urgent].startswith("P1") and urgent < routine

    # Keyboard: j moves to the first item, j again to the next, k back; c claims it.
    analyst.keyboard.press("j")
    first = rows.nth(0).get_attribute("data-item")
    assert analyst.evaluate("document.activeElement.dataset.item") == first
    analyst.keyboard.press("j")
    analyst.keyboard.press("k")
    assert analyst.evaluate("document.activeElement.dataset.item") == first
    analyst.keyboard.press("c")
    analyst.wait_for_selector(f"tr[data-item='{first}'] button:has-text('Release')")
    assert analyst.evaluate("document.activeElement.dataset.item") == first  # htmx kept it

    # The picture: blurred until an explicit click, which the item's history records.
    analyst.goto(f"{base}/console/")
    analyst.locator("tr", has_text="order-urgent.example").locator("a").first.click()
    analyst.wait_for_selector("h2#routing-h")
    url_item = analyst.url
    deadline = time.monotonic() + 30
    while not analyst.locator("img.blurred").count():
        assert time.monotonic() < deadline, "the picture never showed on the item page"
        time.sleep(0.5)
        analyst.reload()
    assert not analyst.locator("img.original").count()
    analyst.click("text=Un-blur (logged)")
    analyst.wait_for_selector("img.original[data-exposure]")
    assert analyst.evaluate("document.querySelector('img.original').naturalWidth") == 240
    assert "media.unblur" in analyst.inner_text("#history")
    analyst.screenshot(path=str(SCREENSHOTS / "console-unblurred.png"), full_page=True)
    analyst.click("text=Blur it again")
    analyst.wait_for_selector("img.blurred")

    # The analyst proposes sending it to the police; a senior analyst confirms it.
    analyst.goto(url_item)
    analyst.select_option("select[name=destination]", "police-trafficking")
    analyst.click("button:has-text('Propose')")
    analyst.wait_for_selector("#routing td:has-text('proposed')")
    assert not analyst.locator("#routing button:has-text('Confirm')").count()
    out = tipline("staff", "add", "sen", "--role", "senior_analyst", env=ENV)
    senior_password = out.split("password: ")[1].split()[0]
    senior = browser.new_page(viewport={"width": 1280, "height": 900})
    senior.on(
        "console",
        lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security" in m.text else None,
    )
    sign_in(senior, base, "sen", senior_password)
    senior.goto(url_item)
    row = senior.locator("#routing tr[data-dispatch]", has_text="police-trafficking")
    row.locator("button:has-text('Confirm')").click()
    senior.wait_for_selector(
        "#routing tr[data-dispatch]:has-text('police-trafficking'):not(:has-text('proposed'))"
    )
    assert not row.locator("button:has-text('Confirm')").count()
    senior.screenshot(path=str(SCREENSHOTS / "console-confirmed.png"), full_page=True)
    # The API's own documentation page is served locally too, under the same policy.
    senior.goto(f"{base}/api/v1/docs")
    senior.wait_for_selector(".swagger-ui .info")
    assert CSP_VIOLATIONS == []
