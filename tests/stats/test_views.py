"""The statistics pages: supervisors only; every chart with its table and a CSV of exactly
what the chart draws; filters; the annual report from the dashboard."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from django.test import Client

from tipline.stats import core, selectors, tables

from ..conftest import staff_user

pytestmark = pytest.mark.django_db

YEAR = "start=2026-01-01&end=2026-12-31"


def client(role: str) -> Client:
    c = Client()
    c.force_login(staff_user(f"user-{role}", role))
    return c


@pytest.fixture
def supervisor(db: Any) -> Client:
    """Someone holding the statistics permission (which roles hold it is tested below)."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("reader", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="stats", codename="view_statistics")
    )
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_see_the_dashboard(refreshed: Any, role: str) -> None:
    response = client(role).get("/stats/")
    assert response.status_code == 200
    assert b"Reports and new items over time" in response.content


@pytest.mark.parametrize("role", ["analyst", "senior_analyst", "liaison"])
def test_other_roles_are_refused(refreshed: Any, role: str) -> None:
    c = client(role)
    assert c.get("/stats/").status_code == 403
    assert c.get(f"/stats/csv/timings?{YEAR}").status_code == 403
    assert c.get("/stats/report/2026.pdf").status_code == 403
    assert c.post("/stats/refresh").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(db: Any) -> None:
    for path in ("/stats/", "/stats/csv/timings", "/stats/report/2026.html"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/console/login/")


def figure_section(page: str, key: str) -> str:
    start = page.index(f'id="figure-{key}"')
    return page[start : page.index("</section>", start)]


def svg_texts(section: str) -> str:
    """Every text the chart writes, in order, spaces dropped (a long label is wrapped)."""
    svg = section[section.index("<svg") : section.index("</svg>")]
    return (
        "".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S))
        .replace(" ", "")
        .replace("\n", "")
    )


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_each_csv_is_the_table_its_chart_draws(refreshed: Any, supervisor: Client) -> None:
    page = supervisor.get(f"/stats/?{YEAR}").content.decode()
    d = selectors.dashboard(year=2026)
    for key, table in tables.build(d).items():
        response = supervisor.get(f"/stats/csv/{key}?{YEAR}")
        assert response.status_code == 200, key
        assert response["Content-Type"].startswith("text/csv")
        assert f"tipline-{key}-2026-01-01-2026-12-31.csv" in response["Content-Disposition"]
        rows = parse(response.content.decode())
        assert rows == parse(core.csv_text(table)), key
        section = figure_section(page, key)
        assert f'href="/stats/csv/{key}?' in section
        assert "<details" in section and "<table" in section
        if table.chart == "none" or table.is_empty:
            continue
        drawn = svg_texts(section)
        kinds = table.kinds
        for row in rows[1:]:
            label = " · ".join(v for v, k in zip(row, kinds, strict=True) if k == "label")
            assert label.replace(" ", "") in drawn, (key, label)
            for column in table.plotted:
                value: core.Cell = row[column]
                if kinds[column] == "count":
                    value = int(row[column])
                elif row[column]:
                    value = float(row[column])
                else:
                    value = None
                written = core.fmt_cell(value, kinds[column])
                assert written.replace(" ", "") in drawn, (key, label, written)


def test_csv_values_by_hand(refreshed: Any, supervisor: Client) -> None:
    timings = parse(supervisor.get(f"/stats/csv/timings?{YEAR}").content.decode())
    assert timings == [
        [
            "Clock",
            "Started",
            "Stopped",
            "Median (s)",
            "90th percentile (s)",
            "Within 24 hours",
            "Within 3 days",
            "Within 7 days",
        ],
        ["Time to assess", "6", "4", "86400", "864000", "0.3333", "0.3333", "0.5"],
        ["Time to forward", "3", "2", "93600", "865800", "0", "0.3333", "0.3333"],
        ["Time to removal", "4", "3", "172800", "691200", "0.25", "0.5", "0.5"],
    ]
    weeks = parse(supervisor.get(f"/stats/csv/volumes?{YEAR}&unit=week").content.decode())
    assert weeks[0] == ["ISO week", "First day", "Last day", "Reports", "New items"]
    assert weeks[1] == ["2026-W01", "2026-01-01", "2026-01-04", "3", "2"]
    assert weeks[-1] == ["2026-W53", "2026-12-28", "2026-12-31", "1", "1"]
    assert len(weeks) == 1 + 53
    hosting = parse(supervisor.get(f"/stats/csv/hosting?{YEAR}&theme=trafficking").content.decode())
    assert hosting == [["Country", "Pages", "Assessed illegal"], ["FR", "2", "1"], ["DE", "1", "0"]]
    empty = parse(
        supervisor.get("/stats/csv/dispatches?start=2026-02-01&end=2026-02-28").content.decode()
    )
    assert empty == [["Destination", "Where it stands", "Dispatches"]]


def test_filters(refreshed: Any, supervisor: Client) -> None:
    page = supervisor.get(f"/stats/?{YEAR}&theme=trafficking").content.decode()
    assert "Theme: Trafficking and sexual exploitation" in page
    assert "3 reports received in 2026" in page
    wrong = supervisor.get("/stats/?start=2026-03-01&end=2026-02-01")
    assert wrong.status_code == 200
    assert "The period ends before it starts." in wrong.content.decode()
    assert supervisor.get(f"/stats/csv/nothing?{YEAR}").status_code == 404
    assert supervisor.get("/stats/?start=not-a-date").status_code == 200


def test_the_dashboard_in_french(refreshed: Any, supervisor: Client) -> None:
    from django.contrib.auth.models import User

    from tipline.console.models import Preference

    Preference.objects.create(user=User.objects.get(username="reader"), language="fr")
    page = supervisor.get(f"/stats/?{YEAR}").content.decode()
    assert "Signalements et nouveaux éléments dans le temps" in page
    assert "9 signalements reçus en 2026" in page


def test_annual_report_downloads(refreshed: Any, supervisor: Client) -> None:
    pdf = supervisor.get("/stats/report/2026.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="tipline-report-2026-en.pdf"' in pdf["Content-Disposition"]
    page = supervisor.get("/stats/report/2026.html?lang=fr").content.decode()
    assert '<html lang="fr">' in page
    assert supervisor.get("/stats/report/2026.doc").status_code == 404
    assert supervisor.get("/stats/report/2026.html?lang=de").status_code == 404


def test_asking_for_fresh_figures_queues_a_refresh(refreshed: Any, supervisor: Client) -> None:
    from django_tasks_db.models import DBTaskResult

    response = supervisor.post(f"/stats/refresh?{YEAR}")
    assert response.status_code == 302
    assert response["Location"].startswith("/stats/?start=2026-01-01")
    assert DBTaskResult.objects.filter(task_path__endswith="summaries_refresh").count() == 1
