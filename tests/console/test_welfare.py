"""Welfare: pictures blurred and in grayscale by default, un-blurred one at a time on an
explicit click that is logged and counted; a daily cap warns, then hides media; known
content is not shown unless asked for."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from tipline.analyze.models import ItemAnalysis
from tipline.common.models import AuditRecord
from tipline.harmonize.models import Item
from tipline.intake import core, services

from ..analyze.test_banks import encoded, picture
from ..conftest import drain, staff_user

pytestmark = pytest.mark.django_db


def reported_picture() -> tuple[Item, bytes]:
    data = encoded(picture(7))
    draft = core.parse_report(
        {"media": [{"filename": "a.png", "content_base64": base64.b64encode(data).decode()}]},
        max_media_bytes=1 << 20,
    )
    [outcome] = services.reports_receive(drafts=[(0, draft)], channel="public")  # type: ignore[arg-type]
    drain()
    return Item.objects.get(report_links__report_id=outcome.report_id, kind="media"), data  # type: ignore[union-attr]


def analyst() -> Client:
    client = Client()
    client.force_login(staff_user("ana"))
    return client


def test_a_picture_is_blurred_until_un_blurred_once_with_a_log_entry() -> None:
    item, data = reported_picture()
    client = analyst()
    page = client.get(f"/console/items/{item.id}/").content.decode()
    blurred = f"/console/items/{item.id}/media/{item.sha256}/blurred"
    original = f"/console/items/{item.id}/media/{item.sha256}/original"
    assert blurred in page and original not in page
    thumb = client.get(blurred)
    assert thumb.status_code == 200 and thumb.content != data
    assert client.get(original).status_code == 403  # not without the logged click
    clicked = client.post(f"/console/items/{item.id}/unblur", {"sha256": item.sha256})
    assert clicked.status_code == 302 and f"shown={item.sha256}" in clicked["Location"]
    assert original in client.get(clicked["Location"]).content.decode()
    shown = client.get(original)
    assert shown.status_code == 200 and shown.content == data
    assert shown["Content-Type"] == "image/png" and shown["Cache-Control"] == "no-store"
    assert client.get(original).status_code == 403  # one look per click
    [record] = AuditRecord.objects.filter(action="media.unblur")
    assert (record.actor, record.target, record.detail) == (
        "ana",
        f"item:{item.id}",
        {"sha256": item.sha256},
    )
    assert (
        "Viewing time today: 1 of 240 minutes."
        in client.get(f"/console/items/{item.id}/").content.decode()
    )


def test_the_daily_cap_warns_then_hides_media(settings) -> None:
    settings.CONSOLE_EXPOSURE_CAP_S = 180.0
    settings.CONSOLE_UNBLUR_S = 60.0
    item, _ = reported_picture()
    client = analyst()
    for _ in range(3):
        assert (
            client.post(f"/console/items/{item.id}/unblur", {"sha256": item.sha256}).status_code
            == 302
        )
    page = client.get(f"/console/items/{item.id}/").content.decode()
    assert "media are hidden for the rest of the day" in page
    assert f"/media/{item.sha256}/blurred" not in page
    refused = client.post(f"/console/items/{item.id}/unblur", {"sha256": item.sha256})
    assert refused.status_code == 429 and "used up" in refused.content.decode()
    assert client.get(f"/console/items/{item.id}/media/{item.sha256}/blurred").status_code == 404
    # Another analyst has their own day.
    other = Client()
    other.force_login(staff_user("bob"))
    assert (
        f"/media/{item.sha256}/blurred" in other.get(f"/console/items/{item.id}/").content.decode()
    )


def test_near_the_cap_the_page_warns(settings) -> None:
    settings.CONSOLE_EXPOSURE_CAP_S = 100.0
    settings.CONSOLE_UNBLUR_S = 60.0
    item, _ = reported_picture()
    client = analyst()
    client.post(f"/console/items/{item.id}/unblur", {"sha256": item.sha256})
    client.post(f"/console/items/{item.id}/unblur", {"sha256": item.sha256})  # 120 s > 80 %
    assert (
        "hidden for the rest of the day"
        in client.get(f"/console/items/{item.id}/").content.decode()
    )
    settings.CONSOLE_EXPOSURE_CAP_S = 140.0
    assert "take a break" in client.get(f"/console/items/{item.id}/").content.decode()


def test_known_content_is_not_shown_unless_asked_for() -> None:
    item, data = reported_picture()
    ItemAnalysis.objects.update_or_create(
        item=item, defaults={"known_content": True, "updated_at": item.last_reported_at}
    )
    client = analyst()
    page = client.get(f"/console/items/{item.id}/").content.decode()
    assert "Known content (hash bank match): not shown." in page
    assert f"/media/{item.sha256}/blurred" not in page and "Show anyway" in page
    client.post(f"/console/items/{item.id}/unblur", {"sha256": item.sha256})
    assert client.get(f"/console/items/{item.id}/media/{item.sha256}/original").content == data
    assert AuditRecord.objects.filter(action="media.unblur_known").count() == 1


def test_a_picture_not_of_this_item_is_refused() -> None:
    item, _ = reported_picture()
    client = analyst()
    response = client.post(f"/console/items/{item.id}/unblur", {"sha256": "0" * 64})
    assert response.status_code == 404
    assert not AuditRecord.objects.filter(action="media.unblur").exists()


def test_with_the_script_viewing_time_is_measured_in_beats(settings) -> None:
    settings.CONSOLE_EXPOSURE_BEAT_S = 15.0
    settings.CONSOLE_EXPOSURE_CAP_S = 60.0
    item, _ = reported_picture()
    client = analyst()
    clicked = client.post(
        f"/console/items/{item.id}/unblur", {"sha256": item.sha256, "measured": "1"}
    )
    page = client.get(clicked["Location"]).content.decode()
    # Measured: the picture carries the beat marker and no re-blurring refresh is set.
    assert 'data-exposure="1"' in page and 'http-equiv="refresh"' not in page
    beats = [client.post("/console/exposure/beat").json() for _ in range(3)]
    assert [b["seconds"] for b in beats] == [30.0, 45.0, 60.0]  # 15 s counted at the click
    assert (beats[1]["capped"], beats[2]["capped"]) == (False, True)
    # Over the cap a beat adds nothing more, and the page hides media.
    assert client.post("/console/exposure/beat").json()["seconds"] == 60.0
    assert "media are hidden" in client.get(f"/console/items/{item.id}/").content.decode()


def test_without_the_script_an_unblur_counts_the_allowance_and_blurs_again(settings) -> None:
    settings.CONSOLE_UNBLUR_S = 60.0
    item, _ = reported_picture()
    client = analyst()
    clicked = client.post(f"/console/items/{item.id}/unblur", {"sha256": item.sha256})
    page = client.get(clicked["Location"]).content.decode()
    assert 'http-equiv="refresh" content="60;' in page and "data-exposure" not in page


def test_blur_and_grayscale_are_on_by_default_and_each_persons_choice() -> None:
    item, data = reported_picture()
    client = analyst()
    settings_page = client.get("/console/preferences/").content.decode()
    assert settings_page.count("checked") == 2
    original = f"/console/items/{item.id}/media/{item.sha256}/original"
    client.post("/console/preferences/", {"grayscale": "1"})  # blur off, grayscale kept
    page = client.get(f"/console/items/{item.id}/").content.decode()
    assert original in page and 'class="original grayscale"' in page
    assert client.get(original).content == data
    # Shown because blurring is off: still logged and counted.
    record = AuditRecord.objects.filter(action="media.unblur").get()
    assert record.detail == {"sha256": item.sha256, "blur_off": True}
    assert AuditRecord.objects.filter(action="setting.welfare").count() == 1
    # Another analyst still gets blurred thumbnails.
    other = Client()
    other.force_login(staff_user("bob"))
    assert original not in other.get(f"/console/items/{item.id}/").content.decode()


def test_a_picture_deleted_by_retention_is_a_404_that_says_so() -> None:
    from tipline.common.evidence import default_store
    from tipline.harmonize.models import MediaFile

    item, _ = reported_picture()
    thumb = MediaFile.objects.get(sha256=item.sha256).thumbnail_sha256
    default_store().delete(thumb)
    client = analyst()
    gone = client.get(f"/console/items/{item.id}/media/{item.sha256}/blurred")
    assert gone.status_code == 404
