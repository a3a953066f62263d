"""The harmonize stage on the database: items, assessment inheritance, theme, language, media."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw

from tipline.common.evidence import default_store
from tipline.harmonize import services as harmonize
from tipline.harmonize.models import Harmonization, Item, MediaFile, ReportItem
from tipline.harmonize.taxonomy import Classification, Theme
from tipline.intake import core, services
from tipline.intake.choices import Channel, ReportState
from tipline.intake.models import Report

pytestmark = pytest.mark.django_db


def send(run_tasks, *reports: dict[str, Any], provider=None) -> list[Report]:  # type: ignore[no-untyped-def]
    drafts = [(i, core.parse_report(r, max_media_bytes=1 << 24)) for i, r in enumerate(reports)]
    outcomes = services.reports_receive(
        drafts=drafts, channel=Channel.PROVIDER if provider else Channel.PUBLIC, provider=provider
    )
    run_tasks()
    return [Report.objects.get(id=o.report_id) for o in outcomes]  # type: ignore[union-attr]


def png(seed: int) -> str:
    image = Image.new("RGB", (160, 120), (seed * 37 % 256, 90, 200))
    draw = ImageDraw.Draw(image)
    for i in range(0, 160, 8 + seed % 5):
        draw.line((i, 0, 160 - i, 120), fill=(255, seed * 11 % 256, 0), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


SPELLINGS = [
    "https://Escorts.Example/ads/4217",
    "https://escorts.example./ads/%34%32%31%37",
    "https://escorts.example/ads/4217#gallery",
    "https://escorts.example/ads/./4217?utm_source=mail&fbclid=xyz",
    "https://escorts.example/ads/4217?gclid=abc",
]


def test_five_spellings_of_one_url_make_one_item_with_five_reports(run_tasks) -> None:
    reports = send(run_tasks, *({"urls": [u], "category": "trafficking"} for u in SPELLINGS))
    assert {r.state for r in reports} == {ReportState.ORIENTED}
    [item] = Item.objects.all()
    assert item.url == "https://escorts.example/ads/4217"
    assert (item.kind, item.host, item.domain, item.host_kind) == (
        "url",
        "escorts.example",
        "escorts.example",
        "domain",
    )
    assert item.report_count == 5
    assert ReportItem.objects.filter(item=item).count() == 5
    assert sorted(ReportItem.objects.values_list("as_reported", flat=True)) == sorted(SPELLINGS)
    assert item.theme == Theme.TRAFFICKING


def test_a_different_page_is_a_different_item(run_tasks) -> None:
    send(
        run_tasks,
        {
            "urls": [
                "https://escorts.example/ads/4217",
                "https://escorts.example/ads/4218",
                "https://escorts.example/ads/4217?page=2",
            ]
        },
    )
    assert Item.objects.count() == 3


def test_an_assessed_item_new_report_needs_no_analyst_work(run_tasks) -> None:
    [first] = send(run_tasks, {"urls": [SPELLINGS[0]], "excerpt": "new in town, call me"})
    item = Item.objects.get()
    assert item.needs_assessment
    assert ReportItem.objects.get(report=first).effect == "new_work"
    harmonize.item_assess(
        item_id=item.id, theme=Theme.TRAFFICKING, classification=Classification.NATIONAL
    )

    [again] = send(run_tasks, {"urls": [SPELLINGS[3]], "excerpt": "New in town,  CALL me"})
    link = ReportItem.objects.get(report=again)
    assert link.effect == "inherited" and link.inherited_assessment
    item.refresh_from_db()
    assert not item.needs_assessment
    assert item.classification == Classification.NATIONAL
    assert item.report_count == 2


@pytest.mark.parametrize(
    "new_information",
    [
        {"excerpt": "now also offering a second girl, 16"},
        {"media": [{"filename": "new.png", "content_base64": png(3)}]},
    ],
)
def test_new_media_or_text_reopens_an_assessed_item(run_tasks, new_information) -> None:
    send(run_tasks, {"urls": [SPELLINGS[0]], "excerpt": "new in town, call me"})
    item = Item.objects.get(kind="url")
    harmonize.item_assess(
        item_id=item.id, theme=Theme.TRAFFICKING, classification=Classification.NATIONAL
    )
    [again] = send(run_tasks, {"urls": [SPELLINGS[1]], **new_information})
    assert ReportItem.objects.get(report=again, item=item).effect == "reopened"
    item.refresh_from_db()
    assert item.needs_assessment
    assert item.classification == Classification.NATIONAL  # kept until analysts look again


def test_an_item_counts_its_reports_channels_and_countries(run_tasks, provider) -> None:
    send(run_tasks, {"urls": [SPELLINGS[0]], "reporter": {"country": "BE"}})
    send(run_tasks, {"urls": [SPELLINGS[2]], "reporter": {"country": "FR"}}, provider=provider[0])
    item = Item.objects.get()
    reports = Report.objects.order_by("received_at")
    assert item.report_count == 2
    assert item.channels == ["provider", "public"]
    assert item.reporter_countries == ["BE", "FR"]
    assert item.first_reported_at == reports.first().received_at  # type: ignore[union-attr]
    assert item.last_reported_at == reports.last().received_at  # type: ignore[union-attr]


def test_a_text_without_url_is_an_item_whatever_its_spacing_and_case(run_tasks) -> None:
    send(
        run_tasks,
        {"excerpt": "Tu as quel âge ? Ne le dis pas à tes parents."},
        {"excerpt": "  tu as QUEL âge ?\n\nNe le dis pas à tes parents. "},
    )
    [item] = Item.objects.all()
    assert item.kind == "text" and item.report_count == 2


def test_media_is_fingerprinted_once_with_a_safe_thumbnail(run_tasks) -> None:
    image = {"filename": "ad.png", "content_base64": png(1)}
    send(run_tasks, {"urls": [SPELLINGS[0]], "media": [image]}, {"media": [image]})
    media = MediaFile.objects.get()
    item = Item.objects.get(kind="media")
    assert item.sha256 == media.sha256 and item.report_count == 2
    assert (media.width, media.height, media.format) == (160, 120, "PNG")
    assert len(media.pdq) == 64 and media.pdq_quality > 0
    assert len(media.md5) == 32 and len(media.sha1) == 40
    thumbnail = Image.open(io.BytesIO(default_store().get(media.thumbnail_sha256)))
    assert thumbnail.mode == "L" and max(thumbnail.size) <= 256


def test_a_file_that_cannot_be_decoded_is_recorded_not_fatal(run_tasks) -> None:
    [report] = send(
        run_tasks,
        {"urls": [SPELLINGS[0]], "media": [{"filename": "a.png", "content_base64": png(2)}]},
    )
    # The same bytes stored again, damaged in the evidence store since.
    sha = report.media.get().sha256
    MediaFile.objects.all().delete()
    path = default_store()._path(sha)  # type: ignore[attr-defined]
    path.write_bytes(path.read_bytes()[:40])
    harmonize.media_files_ensure(sha256s={sha})
    assert "image" in MediaFile.objects.get(sha256=sha).problem.lower()


def test_theme_comes_from_the_category_and_the_providers_own_labels(run_tasks, provider) -> None:
    harmonize.provider_label_set(
        provider=provider[0], label="Cat-7 (adult svc)", theme=Theme.TRAFFICKING
    )
    reports = send(
        run_tasks,
        {"urls": ["https://a.example/1"], "category": "cat-7 (ADULT svc)"},
        {"urls": ["https://a.example/2"], "category": "Child Pornography"},
        {"urls": ["https://a.example/3"], "category": "whatever this is"},
        provider=provider[0],
    )
    rows = {h.report_id: h for h in Harmonization.objects.all()}
    got = [(rows[r.id].theme, rows[r.id].category_source) for r in reports]
    assert got == [("trafficking", "provider"), ("csam", "cybertipline"), ("other", "unknown")]
    assert reports[2].category == "whatever this is"  # kept verbatim


def test_language_of_the_excerpt_is_stored(run_tasks) -> None:
    [fr, en] = send(
        run_tasks,
        {
            "excerpt": "Nouvelle en ville, disponible ce soir, appelez-moi "
            "pour un rendez-vous discret à l'hôtel"
        },
        {"excerpt": "New in town, available tonight, call me for a discreet meeting at the hotel"},
    )
    assert Harmonization.objects.get(report=fr).language == "fr"
    assert Harmonization.objects.get(report=en).language == "en"
    assert Harmonization.objects.get(report=en).language_confidence > 0.5


def test_a_url_that_cannot_be_read_is_recorded_and_the_report_goes_on(run_tasks) -> None:
    # A report stored before the door refused such URLs (or from a partner's raw data).
    now = timezone.now()
    report = Report.objects.create(
        channel=Channel.PARTNER,
        receipt="ZZZZZZZZZZZZZZZZ",
        received_at=now,
        urls=["javascript:alert(1)", "https://ok.example/page"],
        payload={},
        payload_sha256="0" * 64,
    )
    services.reports_advance(report_ids=[report.id], worker_id="t")
    report.refresh_from_db()
    assert report.state == ReportState.ORIENTED
    assert Harmonization.objects.get(report=report).problems == [
        {"field": "urls[0]", "message": "scheme 'javascript' not accepted: use http, https or ftp"}
    ]
    assert [i.url for i in Item.objects.all()] == ["https://ok.example/page"]


def test_the_report_api_lists_the_items(api, run_tasks) -> None:
    created = api.post(
        "/api/v1/reports", {"urls": SPELLINGS[:2]}, content_type="application/json"
    ).json()
    run_tasks()
    view = api.get(f"/api/v1/reports/{created['id']}").json()
    assert view["item_ids"] == [Item.objects.get().id]


IP_SPELLINGS = [
    "http://192.0.2.10/ad",
    "http://3221225994/ad",  # decimal
    "http://0xC000020A/%61d",  # hex, escaped path
    "HTTP://0300.0.2.012./ad#top",  # octal, trailing dot, fragment
    "http://192.0.2.10/ad?utm_campaign=spring",
]


def test_five_spellings_of_an_address_make_one_item(run_tasks) -> None:
    send(run_tasks, *({"urls": [u]} for u in IP_SPELLINGS))
    [item] = Item.objects.all()
    assert (item.url, item.host_kind, item.domain) == ("http://192.0.2.10/ad", "ipv4", "")
    assert item.report_count == 5
