"""The statistics dashboard and the annual report in a real browser (Debian's Chromium
driven by Playwright) against a real `tipline serve`, on a year of generated data.
Screenshots are saved under docs/screenshots/."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..processes import instance_env, serving, tipline

pytestmark = pytest.mark.slow

if os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"):
    pytest.skip(
        "runs on its own fresh SQLite data dir; once per suite is enough", allow_module_level=True
    )

from ..console.test_browser import browser, sign_in  # noqa: E402, F401  (a fixture and a helper)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
YEAR = 2025

# A year of generated work (tipline.ops.scale), its figures computed, and a supervisor. The
# page's rendering is what is checked here; which roles see it: test_views.py.
SEED = textwrap.dedent(
    f"""
    import django
    django.setup()
    from django.contrib.auth.models import Permission, User
    from tipline.ops.scale import fill
    fill(items=3000, year={YEAR}, seed=7)
    User.objects.get(username="sup").user_permissions.add(
        Permission.objects.get(content_type__app_label="stats", codename="view_statistics")
    )
    """
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("stats")
    env = instance_env(root) | {"DJANGO_SETTINGS_MODULE": "tipline.settings"}
    tipline("setup", env=env)
    out = tipline("staff", "add", "sup", "--role", "supervisor", env=env)
    password = out.split("password: ")[1].split()[0]
    subprocess.run([sys.executable, "-c", SEED], env=env, check=True, timeout=600)
    tipline("stats", "refresh", "--full", env=env)
    with serving(env, root) as base:
        yield base, password


def test_a_supervisor_reads_the_dashboard_and_the_annual_report(
    server: tuple[str, str], browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    base, password = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    sign_in(page, base, "sup", password)

    page.goto(f"{base}/stats/?start={YEAR}-01-01&end={YEAR}-12-31")
    assert page.locator("h1").inner_text() == "Statistics"
    charts = page.locator("section.stat figure.chart svg")
    assert charts.count() == 12
    for i in range(charts.count()):  # every chart is drawn with a size
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 80
    assert "reports received in 2025" in page.inner_text("section.commentary")
    # Drawn in colour with no inline style (the Content-Security-Policy allows none).
    bar = page.locator("#figure-channels svg path[fill='#0072b2']").first
    assert bar.evaluate("e => getComputedStyle(e).fill") == "rgb(0, 114, 178)"

    # The table behind a chart is one click away, and its CSV is exactly that table.
    timings = page.locator("#figure-timings")
    assert not timings.locator("table").is_visible()
    timings.locator("summary").click()
    assert timings.locator("table").is_visible()
    shown = [
        c.strip() for c in timings.locator("tbody tr").first.locator("th, td").all_inner_texts()
    ]
    assert shown[0] == "Time to assess"
    with page.expect_download() as download:
        timings.locator("a[download]").click()
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0].startswith("Clock,Started,Stopped,Median (s)")
    assert rows[1].split(",")[:3] == [
        "Time to assess",
        shown[1].replace(",", ""),
        shown[2].replace(",", ""),
    ]
    page.screenshot(
        path=str(SCREENSHOTS / "stats-dashboard.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1400, "height": 2400},
    )

    # A theme and weeks: the page follows.
    page.select_option("select[name=theme]", "trafficking")
    page.select_option("select[name=unit]", "week")
    page.click("button:has-text('Show')")
    page.wait_for_load_state()
    assert "Theme: Trafficking and sexual exploitation" in page.inner_text("p.period")
    assert "2025-W01" in (page.locator("#figure-volumes table").text_content() or "")

    # The annual report: HTML with its charts, a PDF, in French too.
    page.goto(f"{base}/stats/report/{YEAR}.html?lang=fr")
    assert page.get_attribute("html", "lang") == "fr"
    assert page.locator("h1").inner_text() == f"Tipline — rapport annuel {YEAR}"
    assert page.locator("figure.chart svg").count() == 12
    page.screenshot(path=str(SCREENSHOTS / "stats-report.png"), full_page=False)
    assert (
        page.locator("h2").first.evaluate("e => getComputedStyle(e).borderBottomStyle") == "solid"
    )
    assert not refused, refused
    pdf = page.request.get(f"{base}/stats/report/{YEAR}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
