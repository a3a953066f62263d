"""The annual report (HTML, PDF, CSV; English and French) and the open-data export."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tipline.stats import report

pytestmark = pytest.mark.django_db


def test_the_html_report_holds_the_figures_and_their_charts(refreshed: Any) -> None:
    content, content_type = report.render(year=2026, fmt="html", lang="en")
    page = content.decode()
    assert content_type.startswith("text/html")
    assert '<html lang="en">' in page
    assert "Tipline — annual report 2026" in page
    assert "9 reports received in 2026, 800% more than in 2025." in page
    assert "4 items were assessed by an analyst; 2 illegal (50%), against 100% in 2025." in page
    assert "Time to removal: median 2 d, 90% within 8 d; 25% within 24 hours" in page
    assert page.count("<svg") == 12  # every figure but the key figures and the networks
    for title in (
        "Reports and new items over time",
        "Where reported pages were hosted",
        "Hosting providers slowest to remove",
        "SLA: assessed after the deadline, or waiting past it",
    ):
        assert title in page
    assert "<script" not in page  # no JavaScript, no CDN
    assert "https://" not in page.replace("https://www.w3.org", "")


def test_the_french_report_is_in_french(refreshed: Any) -> None:
    page = report.render(year=2026, fmt="html", lang="fr")[0].decode()
    assert '<html lang="fr">' in page
    assert "Tipline — rapport annuel 2026" in page
    assert "9 signalements reçus en 2026, 800\u202f% de plus qu\u2019en 2025." in page
    assert "Signalements et nouveaux éléments dans le temps" in page
    assert "Délai de retrait\u00a0: médiane 2 j, 90\u202f% en 8 j" in page
    assert "Reports received" not in page


def pdf_pages(content: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", content))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_pdf_report_is_a_pdf(refreshed: Any, lang: str) -> None:
    content, content_type = report.render(year=2026, fmt="pdf", lang=lang)
    assert content_type == "application/pdf"
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    # The commentary and key figures, then one page per other figure.
    assert pdf_pages(content) == 14


def test_the_pdf_of_an_empty_year(db: Any) -> None:
    content, _ = report.render(year=2030, fmt="pdf", lang="en")
    assert content.startswith(b"%PDF-") and pdf_pages(content) == 14


def test_the_csv_report_has_one_value_a_line(refreshed: Any) -> None:
    content, _ = report.render(year=2026, fmt="csv", lang="en")
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["Figure", "Row", "Column", "Value"]
    assert ["Reports by channel", "Public web form", "Reports", "4"] in rows
    assert [
        "Reports and new items over time",
        "2026-02 · 2026-02-01 · 2026-02-28",
        "Reports",
        "0",
    ] in rows
    assert [
        "How fast: time to assess, to forward, to removal",
        "Time to forward",
        "Median (s)",
        "93600",
    ] in rows
    assert ["Where reported pages were hosted", "Unknown", "Pages", "1"] in rows


def test_open_data_suppresses_small_counts_and_names_nothing(refreshed: Any) -> None:
    data = report.open_data(2026)
    text = report.open_data_json(data)
    for secret in ("example", "http", "AS64501", "Hosting SA", "@"):
        assert secret not in text
    assert data["suppressed_below"] == 5
    assert data["reports"]["total"] == 9  # totals are exact
    assert data["reports"]["by_channel"] == {"partner": None, "provider": None, "public": None}
    assert data["reports"]["by_month"]["2026-01"] == 6
    assert data["reports"]["by_month"]["2026-02"] == 0  # zero is not suppressed
    assert data["time_to_assess"]["started"] == 6
    assert data["time_to_assess"]["stopped"] is None and data["time_to_assess"]["median_s"] is None
    assert data["time_to_assess"]["share_within_24h"] == 0.3333  # 2 of 6 started
    everything = report.open_data(2026, suppress_below=0)
    assert everything["reports"]["by_channel"] == {"partner": 1, "provider": 4, "public": 4}
    assert everything["reports"]["by_theme"] == {
        "csam": 4,
        "fraud": 1,
        "not_harmonized": 1,
        "trafficking": 3,
    }
    assert everything["hosting_countries"]["FR"] == {"pages": 2, "assessed_illegal": 1}
    assert everything["hosting_countries"]["unknown"] == {"pages": 1, "assessed_illegal": 0}
    assert everything["time_to_removal"] == {
        "started": 4,
        "stopped": 3,
        "median_s": 172800.0,
        "p90_s": 691200.0,
        "share_within_24h": 0.25,
        "share_within_3d": 0.5,
        "share_within_7d": 0.5,
    }
    assert everything["dispatches"]["office:sent"] == 2
    assert everything["sla"]["P3"] == {
        "deadline_s": 259200.0,
        "items": 2,
        "assessed_late": 1,
        "waiting_past_deadline": 1,
    }
    rows = list(csv.reader(io.StringIO(report.open_data_csv(everything))))
    assert rows[0] == ["year", "figure", "key", "value"]
    assert ["2026", "reports.by_channel", "public", "4"] in rows
    assert ["2026", "time_to_forward", "median_s", "93600.0"] in rows


def test_the_report_command(refreshed: Any, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "report.pdf"
    call_command(
        "stats", "report", "--year", "2026", "--format", "pdf", "--lang", "fr", "--out", str(out)
    )
    assert out.read_bytes().startswith(b"%PDF-")
    call_command("stats", "report", "--year", "2026", "--format", "html", "--no-refresh")
    assert "Tipline — annual report 2026" in capsys.readouterr().out
    call_command("stats", "opendata", "--year", "2026", "--suppress-below", "0")
    assert json.loads(capsys.readouterr().out)["items"]["by_kind"] == {"media": 1, "url": 6}
    call_command("stats", "opendata", "--year", "2026", "--format", "csv")
    assert capsys.readouterr().out.startswith("year,figure,key,value\n")
