"""The analyze stage on the database: what it finds, partial analyses, captures, hosting."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tipline.analyze import jobs, matching
from tipline.analyze import services as analyze
from tipline.analyze.models import (
    AbuseContactOverride,
    Analysis,
    BankMatch,
    Capture,
    HashBank,
    HostingLookup,
    IndicatorHit,
    Observable,
)
from tipline.common.evidence import default_store
from tipline.harmonize.models import Item
from tipline.intake import core, services
from tipline.intake.choices import Channel, ReportState
from tipline.intake.models import Report

from .test_banks import encoded, picture
from .test_hosting import FR_IP, NL_IP, dns_server, zone  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

AD = (
    "Nouvelle en ville 🌹 elle est dispo ce soir, elle reçoit à l'hôtel, 100 roses/30 min. "
    "Appelez son manager au 01 99 00 12 34 ou telegram @lina_vip_example"
)


def send(run_tasks, report: dict[str, Any]) -> Report:  # type: ignore[no-untyped-def]
    draft = core.parse_report(report, max_media_bytes=1 << 20)
    [outcome] = services.reports_receive(drafts=[(0, draft)], channel=Channel.PUBLIC)
    run_tasks()
    return Report.objects.get(id=outcome.report_id)  # type: ignore[union-attr]


def test_observables_and_indicators_are_found_with_their_spans(run_tasks) -> None:
    report = send(
        run_tasks, {"urls": ["https://ads.example/lina"], "category": "sex ad", "excerpt": AD}
    )
    assert report.state == ReportState.ORIENTED
    found = {(o.type, o.value) for o in Observable.objects.filter(report=report)}
    assert ("phone", "+33199001234") in found
    assert ("handle", "telegram:@lina_vip_example") in found
    for o in Observable.objects.filter(report=report, field="excerpt"):
        assert AD[o.start : o.end]  # the span points into the text analysts see
    codes = set(IndicatorHit.objects.filter(report=report).values_list("code", flat=True))
    assert {"ad.new_in_town", "ad.hotel_incall", "ad.third_person"} <= codes
    hit = IndicatorHit.objects.get(report=report, code="ad.new_in_town")
    assert AD[hit.start : hit.end].lower() == "nouvelle en ville"
    analysis = Analysis.objects.get(report=report)
    assert analysis.risk > 30 and analysis.priority in {"P1", "P2", "P3"}
    assert not analysis.partial


def test_a_step_that_fails_makes_the_analysis_partial_and_the_report_goes_on(
    run_tasks, monkeypatch
) -> None:
    def broken(text: str, region: str = "FR") -> list[Any]:
        raise RuntimeError("phone metadata missing")

    monkeypatch.setattr(analyze, "extract", broken)
    report = send(run_tasks, {"urls": ["https://ads.example/x"], "excerpt": AD})
    assert report.state == ReportState.ORIENTED
    analysis = Analysis.objects.get(report=report)
    assert analysis.partial
    assert analysis.problems == [
        {"step": "observables", "reason": "RuntimeError: phone metadata missing"}
    ]
    assert IndicatorHit.objects.filter(report=report).exists()  # the other steps ran


# --- Evidence capture against a page served on loopback -----------------------------------


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>synthetic ad page</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_reported_page_is_captured_once_with_its_body_kept(run_tasks, settings, site) -> None:
    settings.ANALYZE_NETWORK = True
    settings.CAPTURE_ALLOW_LOOPBACK = True
    send(run_tasks, {"urls": [f"{site}/ad/7"]})
    [capture] = Capture.objects.all()
    assert (capture.status, capture.error, capture.addresses) == (200, "", ["127.0.0.1"])
    assert capture.content_type == "text/html"
    assert default_store().get(capture.body_sha256) == (
        b"<html><body>synthetic ad page</body></html>"
    )
    assert capture.fetched_at <= timezone.now()


def test_an_unreachable_page_is_recorded_and_tried_again_later(run_tasks, settings) -> None:
    settings.ANALYZE_NETWORK = True
    settings.CAPTURE_ALLOW_LOOPBACK = True
    send(run_tasks, {"urls": ["http://127.0.0.1:9/gone"]})  # nothing listens on port 9
    [capture] = Capture.objects.all()
    assert capture.status is None and "refused" in capture.error
    retry = DBTaskResult.objects.filter(
        task_path="tipline.analyze.tasks.capture_items", status="READY"
    ).get()
    assert retry.args_kwargs["kwargs"] == {"item_ids": [capture.item_id], "attempt": 2}
    wait = retry.run_after - timezone.now()
    assert timedelta(minutes=55) < wait <= timedelta(hours=1)


def test_refusing_a_private_address_is_recorded_not_retried_forever(run_tasks, settings) -> None:
    settings.ANALYZE_NETWORK = True  # loopback not allowed: refused before any connection
    send(run_tasks, {"urls": ["http://127.0.0.1:9/admin"]})
    [capture] = Capture.objects.all()
    assert capture.error.startswith("refused: 127.0.0.1")


def test_without_network_capture_and_hosting_say_so(run_tasks) -> None:
    send(run_tasks, {"urls": ["https://ads.example/offline"]})
    assert "switched off" in Capture.objects.get().error
    assert "switched off" in HostingLookup.objects.get(host="ads.example").errors[0]


# --- Hosting against a DNS server on loopback ----------------------------------------------


def test_hosting_is_looked_up_and_a_move_is_detected(settings, zone, dns_server) -> None:
    settings.ANALYZE_NETWORK = True
    settings.DNS_SERVERS = [f"127.0.0.1:{dns_server}"]
    settings.RDAP_URL = "http://127.0.0.1:9"  # answers nothing: recorded as an error
    zone.records["ads.example."] = [NL_IP]
    first = jobs.host_look_up_run(host="ads.example")
    assert (first.addresses, first.country) == ([NL_IP], "NL")
    assert any(e.startswith("abuse") or "rdap" in e.lower() for e in first.errors)
    zone.records["ads.example."] = [FR_IP]
    second = jobs.host_look_up_run(host="ads.example")
    assert second.country == "FR"
    assert any("country changed from NL to FR" in c for c in second.changes)


def test_a_manual_abuse_contact_wins(settings, zone, dns_server) -> None:
    settings.ANALYZE_NETWORK = True
    settings.DNS_SERVERS = [f"127.0.0.1:{dns_server}"]
    settings.RDAP_URL = "http://127.0.0.1:9"
    zone.records["shop.ads.example."] = [NL_IP]
    AbuseContactOverride.objects.create(key="ads.example", email="abuse@host.example")
    lookup = jobs.host_look_up_run(host="shop.ads.example")
    assert lookup.abuse_email == "abuse@host.example"
    assert lookup.sources.get("abuse") == "override"


def test_hosting_is_not_looked_up_again_within_a_day(run_tasks) -> None:
    send(run_tasks, {"urls": ["https://ads.example/1"]})
    send(run_tasks, {"urls": ["https://ads.example/2"]})
    assert HostingLookup.objects.filter(host="ads.example").count() == 1
    assert Item.objects.filter(kind="url").count() == 2


def test_a_long_url_in_a_text_is_kept_whole(run_tasks) -> None:
    url = "https://ads.example/listing?" + "&".join(f"p{i}=value{i}" for i in range(60))
    assert len(url) > 600
    report = send(run_tasks, {"excerpt": f"see {url} for photos"})
    assert Observable.objects.get(report=report, type="url").value == url


PICTURES: dict[str, bytes] = {}


class Gallery(http.server.BaseHTTPRequestHandler):
    """A page showing two images, one by a relative path; and the images themselves."""

    def do_GET(self) -> None:
        if self.path == "/gallery":
            body = (
                b'<html><img src="/img/1.png"><p>text<img data-src="img/2.png">'
                b'<img src="javascript:alert(1)"></html>'
            )
            content_type = "text/html"
        else:
            body, content_type = PICTURES[self.path], "image/png"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_the_images_a_captured_page_shows_are_matched_like_uploads(run_tasks, settings) -> None:
    PICTURES["/img/1.png"], PICTURES["/img/2.png"] = encoded(picture(7)), encoded(picture(8))
    known = HashBank.objects.create(name="Known", theme="csam", classification="baseline")
    digest = hashlib.sha256(PICTURES["/img/2.png"]).hexdigest()
    matching.bank_import(bank=known, content=f"{digest},sha256")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gallery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.ANALYZE_NETWORK = True
    settings.CAPTURE_ALLOW_LOOPBACK = True
    try:
        send(run_tasks, {"urls": [f"http://127.0.0.1:{server.server_address[1]}/gallery"]})
    finally:
        server.shutdown()
        server.server_close()
    captured = sorted(c.requested_url.rsplit("/", 1)[-1] for c in Capture.objects.all())
    assert captured == ["1.png", "2.png", "gallery"]
    page = Item.objects.get(kind="url")
    [match] = BankMatch.objects.all()
    assert (match.item_id, match.entry.value) == (page.id, digest)


def test_the_report_api_shows_observables_risk_and_priority(api, run_tasks) -> None:
    created = api.post(
        "/api/v1/reports",
        {"urls": ["https://ads.example/lina"], "excerpt": AD},
        content_type="application/json",
    ).json()
    run_tasks()
    view = api.get(f"/api/v1/reports/{created['id']}").json()
    assert {"type": "phone", "value": "+33199001234"} in view["observables"]
    assert len(view["observables"]) == len({(o["type"], o["value"]) for o in view["observables"]})
    analysis = Analysis.objects.get(report_id=created["id"])
    assert (view["risk"], view["priority"]) == (analysis.risk, analysis.priority)


def test_a_database_error_in_bank_matching_leaves_the_rest_of_the_analysis(
    run_tasks, monkeypatch
) -> None:
    def broken(*, item_ids: Any) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_bank_table")
        return 0

    monkeypatch.setattr(analyze, "items_match_banks", broken)
    report = send(run_tasks, {"urls": ["https://ads.example/y"], "excerpt": AD})
    assert report.state == ReportState.ORIENTED
    analysis = Analysis.objects.get(report=report)
    assert analysis.partial and analysis.problems[0]["step"] == "hash banks"
    assert Observable.objects.filter(report=report).exists()
