"""The console in a real browser (Debian's Chromium driven by Playwright) against a real
`tipline serve`: a public report sent through the form, an analyst's first sign-in with
a TOTP authenticator, the report in the queue, claiming it. Screenshots are saved under
docs/screenshots/."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django_otp.oath import TOTP

from ..conftest import start_tipline, wait_for
from ..ops.test_serve import free_port, tipline

pytestmark = pytest.mark.slow

if os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"):
    pytest.skip(
        "runs on its own fresh SQLite data dir; once per suite is enough", allow_module_level=True
    )

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("console")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_DATA_DIR=str(root),
        TIPLINE_ANALYZE_NETWORK="off",  # no test reaches the internet
        TIPLINE_WORKER_POLL_S="0.2",
    )
    out = tipline("setup", env=env)
    password = out.split("password:")[1].split()[0]
    port = free_port()
    process = start_tipline("serve", "--port", str(port), env=env, log=root / "serve.log")
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return bool(httpx.get(f"{base}/healthz").json()["workers"]["alive"] >= 1)
        except (httpx.HTTPError, ValueError, KeyError):
            return False

    wait_for(up, 60, "the server")
    yield base, password
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:  # pragma: no cover
        process.kill()
    assert "Traceback" not in (root / "serve.log").read_text()


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
    totp = TOTP(base64.b32decode(secret))
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
