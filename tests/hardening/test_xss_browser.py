"""Stored XSS in a real browser (Debian's Chromium, Playwright) against a real `tipline
serve`: script sent through the public form and the provider API, then every console page
that shows it opened by a signed-in analyst. No dialog may open, no element the payloads
tried to create may exist, and the strict CSP must never have had to block anything (it
would mean markup got through)."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from ..console.test_browser import browser, sign_in  # noqa: F401 - the browser fixture
from ..processes import instance_env, serving, tipline

pytestmark = pytest.mark.slow

if os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"):
    pytest.skip(
        "runs on its own fresh SQLite data dir; once per suite is enough", allow_module_level=True
    )

XSS = (
    '<script>alert("xss-script")</script> "><img src=x onerror=alert("xss-img")> '
    "'><svg onload=alert('xss-svg')> </textarea><script>alert(\"xss-close\")</script> "
    "<a href=\"javascript:alert('xss-link')\">xss-link</a>"
)
PHONE = "01 99 00 12 34"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("xss")
    env = instance_env(root)
    password = tipline("setup", env=env).split("password:")[1].split()[0]
    token = tipline("providers", "add", "Example Platform", env=env).splitlines()[-1]
    with serving(env, root) as base:
        yield {"base": base, "password": password, "token": token}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 160, 90)).save(buffer, "PNG")
    return buffer.getvalue()


def test_script_sent_everywhere_never_runs_in_the_console(
    server: dict[str, str],
    browser: Any,
) -> None:
    base = server["base"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    blocked: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{page.url}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda m: blocked.append(f"{page.url}: {m.text}") if "Content Security" in m.text else None,
    )

    # A reporter: script in the address, the description, the text and their name; and
    # an image whose file name is script.
    page.goto(f"{base}/report/")
    page.select_option("select[name=category]", "trafficking")
    page.fill("textarea[name=urls]", 'https://xss-browser.example/"><svg/onload=alert("xss-url")>')
    page.fill("textarea[name=description]", XSS)
    page.fill("textarea[name=excerpt]", f"{XSS} appelle {PHONE}")
    page.fill("input[name=reporter_name]", XSS[:200])
    page.set_input_files(
        "input[name=image]",
        files=[
            {"name": '"><img src=x onerror=alert(1)>.png', "mimeType": "image/png", "buffer": png()}
        ],
    )
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/report/done/" in page.url, page.inner_text("main")

    # A provider: script in the category, the external id, the reporter's name.
    sent = httpx.post(
        f"{base}/api/v1/reports",
        headers={"Authorization": f"Bearer {server['token']}"},
        json={
            "external_id": XSS[:200],
            "category": XSS[:200],
            "urls": ['https://xss-browser.example/?q=<script>alert("xss-query")</script>'],
            "excerpt": f"{XSS} appelle {PHONE}",
            "reporter": {"name": XSS[:200]},
        },
    )
    assert sent.status_code == 201, sent.text

    sign_in(page, base, "analyst", server["password"])
    deadline = time.monotonic() + 60
    while page.locator("a[href^='/console/items/']").count() < 3:
        assert time.monotonic() < deadline, "the reports never reached the queue"
        time.sleep(0.5)
        page.goto(f"{base}/console/")
    assert "xss-browser.example" in page.inner_text("main")

    # Every page that shows what was sent, and the search that echoes what is typed.
    pages = [f"{base}/console/"]
    pages += [
        base + href
        for href in page.eval_on_selector_all(
            "a[href^='/console/items/']", "els => els.map(e => e.getAttribute('href'))"
        )
    ]
    deadline = time.monotonic() + 60
    while True:
        page.goto(f"{base}/console/search/?type=phone&value=0199001234")
        if page.locator("a[href^='/console/networks/']").count():
            break
        assert time.monotonic() < deadline, "the two reports were never linked"
        time.sleep(0.5)
    pages.append(base + page.locator("a[href^='/console/networks/']").first.get_attribute("href"))
    pages.append(f"{base}/console/search/?type=phone&value={httpx.URL(XSS)}")
    pages.append(f"{base}/console/dispatches/")  # the audit page is a supervisor's: test_xss.py
    for url in pages:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        found = page.evaluate(
            """() => ({
                handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
                images: document.querySelectorAll('img[src="x"]').length,
                links: [...document.querySelectorAll('a[href]')]
                    .filter(a => a.href.startsWith('javascript:')).length,
                scripts: [...document.scripts].filter(s => !s.src).length,
            })"""
        )
        assert found == {"handlers": 0, "images": 0, "links": 0, "scripts": 0}, (url, found)
    page.goto(pages[1])
    assert 'alert("xss-script")' in page.inner_text("main")  # shown, as text
    assert dialogs == [], dialogs
    assert blocked == [], blocked
