"""The provider API at /api/v1/: submitting reports one by one or in bulk, following them,
and every error a provider can meet on the way. Also /healthz, which watches the queue."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import mimetypes
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult
from PIL import Image

from tipline.harmonize.models import Item
from tipline.intake import services
from tipline.intake.core import payload_hash
from tipline.intake.models import Provider, Report, ReportMedia

REPORTS = "/api/v1/reports"
BULK = "/api/v1/reports/bulk"
NDJSON = "application/x-ndjson"
GOOD_URL = "https://ads.example/listing/1"

FULL_REPORT: dict[str, Any] = {
    "external_id": "case-0001",
    "category": "trafficking",
    # A URL pasted without its scheme is kept too, port and all.
    "urls": ["https://ads.example/listing/42", "mirror.example:8080/l/42?ref=home"],
    "description": "An escort ad that looks like it involves a minor.",
    "excerpt": "Nouvelle en ville, 17 ans, appelle le 01 99 00 12 34",
    "occurred_at": "2025-03-01T10:30:00+00:00",
    "reporter": {
        "name": "Camille Exemple",
        "email": "camille@mail.example",
        "phone": "01 99 00 12 34",
        "country": "fr",
    },
}


# --- Helpers ------------------------------------------------------------------------------


def a_report(n: int = 1, **fields: Any) -> dict[str, Any]:
    """A small valid report, different for each `n`."""
    return {"urls": [f"https://ads.example/listing/{n}"], **fields}


def send(
    client: Client, body: Any, *, url: str = REPORTS, content_type: str = "application/json"
) -> Any:
    """POST `body`: objects are sent as JSON, str/bytes as they are."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type=content_type)


def ndjson(*lines: Any) -> str:
    return "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)


def multipart(report: Any, *files: tuple[str, bytes]) -> dict[str, Any]:
    """A multipart body: `report` (JSON, unless None or already a string) and `media` files,
    each declared with the type its name suggests, as browsers and curl do."""
    data: dict[str, Any] = {
        "media": [
            SimpleUploadedFile(name, content, mimetypes.guess_type(name)[0] or "")
            for name, content in files
        ]
    }
    if report is not None:
        data["report"] = report if isinstance(report, str) else json.dumps(report)
    return data


def png(width: int = 3, height: int = 2, *, noise: bool = False) -> bytes:
    img = Image.new("RGB", (width, height), (200, 30, 30))
    if noise:  # incompressible, so the file is about 3 bytes per pixel
        img = Image.frombytes(
            "RGB", (width, height), bytes(range(256)) * (width * height * 3 // 256 + 1)
        )
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def errors_of(response: Any, status: int) -> dict[str, str]:
    """Check the status and the error body ({detail, errors}); return errors by field."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return {e["field"]: e["message"] for e in body.get("errors", [])}


def evidence_path(settings: Any, sha256: str) -> Path:
    """Where the evidence store keeps a file: <EVIDENCE_DIR>/<sha[:2]>/<sha>."""
    return Path(settings.EVIDENCE_DIR) / sha256[:2] / sha256


def evidence_files(settings: Any) -> list[Path]:
    root = Path(settings.EVIDENCE_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def queue_depth() -> int:
    return DBTaskResult.objects.ready().count()


@pytest.fixture
def other_api(db: None) -> Client:
    """A second provider, who must not see the first one's reports."""
    _, token = services.provider_create(name="Other Platform")
    return Client(headers={"Authorization": f"Bearer {token}"})


# --- Submitting one report ----------------------------------------------------------------


def test_submit_stores_everything_and_queues_processing(
    api: Client, provider: tuple[Provider, str], run_tasks: Any
) -> None:
    response = send(api, FULL_REPORT)

    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {"id", "receipt", "state", "external_id"}
    assert created["state"] == "received"
    assert created["external_id"] == "case-0001"
    assert created["receipt"]

    report = Report.objects.get()
    assert report.pk == created["id"]
    assert report.receipt == created["receipt"]
    assert report.channel == "provider"
    assert report.provider == provider[0]
    assert report.external_id == "case-0001"
    assert report.category == "trafficking"
    assert report.urls == FULL_REPORT["urls"]
    assert report.description == FULL_REPORT["description"]
    assert report.excerpt == FULL_REPORT["excerpt"]
    assert report.occurred_at is not None
    assert report.occurred_at.isoformat() == "2025-03-01T10:30:00+00:00"
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == (
        "Camille Exemple",
        "camille@mail.example",
        "01 99 00 12 34",
    )
    assert report.reporter_country == "FR"
    # As received, "fr" and all, but for the contact details: those are kept only in the
    # encrypted fields above (the hash still covers them, so a resubmission is recognised).
    assert report.payload == {**FULL_REPORT, "reporter": {"country": "fr"}}
    assert report.payload_sha256 == payload_hash(FULL_REPORT)

    task = DBTaskResult.objects.ready().get()
    assert report.task_id == task.id
    assert created["id"] in task.args_kwargs["kwargs"]["report_ids"]

    run_tasks()

    followed = api.get(f"{REPORTS}/{created['id']}")
    assert followed.status_code == 200, followed.content
    view = followed.json()
    assert view["id"] == created["id"]
    assert view["receipt"] == created["receipt"]
    assert view["external_id"] == "case-0001"
    assert view["state"] == "oriented"
    assert view["failed_stage"] is None
    # One item per URL; the excerpt is evidence for them, not an item of its own.
    items = Item.objects.filter(report_links__report_id=created["id"]).order_by("id")
    assert view["item_ids"] == [item.id for item in items]
    assert [item.url for item in items] == [
        "https://ads.example/listing/42",
        "http://mirror.example/l/42?ref=home",
    ]
    assert view["network_ids"] == []
    assert queue_depth() == 0


def test_follow_before_processing_says_received(api: Client) -> None:
    created = send(api, a_report()).json()

    view = api.get(f"{REPORTS}/{created['id']}").json()

    assert view["state"] == "received"
    assert view["external_id"] is None
    assert view["received_at"]


# --- Idempotency --------------------------------------------------------------------------


def test_resubmitting_unchanged_returns_the_first_report(api: Client) -> None:
    first = send(api, a_report(external_id="ext-7"))
    # Same content, keys in another order: still the same report.
    again = send(api, dict(reversed(list(a_report(external_id="ext-7").items()))))

    assert first.status_code == 201
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert Report.objects.count() == 1
    assert queue_depth() == 1


def test_same_external_id_with_other_content_is_a_conflict(api: Client) -> None:
    first = send(api, a_report(1, external_id="ext-7")).json()

    response = send(api, a_report(2, external_id="ext-7"))

    errors = errors_of(response, 409)
    assert "ext-7" in errors["external_id"]
    assert str(first["id"]) in response.json()["detail"]
    assert Report.objects.count() == 1


def test_another_provider_may_reuse_an_external_id(api: Client, other_api: Client) -> None:
    mine = send(api, a_report(external_id="ext-7"))
    theirs = send(other_api, a_report(external_id="ext-7"))

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert Report.objects.filter(external_id="ext-7").count() == 2


# --- Bulk ---------------------------------------------------------------------------------


def test_bulk_json_stores_good_entries_and_rejects_bad_ones(api: Client) -> None:
    entries = [
        a_report(1, external_id="b-1"),
        a_report(2, reporter={"email": "not-an-address"}),
        a_report(3),
        a_report(1, external_id="b-1"),  # repeats entry 0
        a_report(4, external_id="b-1"),  # same external_id, other content
        42,
    ]

    response = send(api, entries, url=BULK)

    assert response.status_code == 202, response.content
    body = response.json()
    accepted = {a["index"]: a for a in body["accepted"]}
    rejected = {
        r["index"]: {e["field"]: e["message"] for e in r["errors"]} for r in body["rejected"]
    }
    assert sorted(accepted) == [0, 2, 3]
    assert sorted(rejected) == [1, 4, 5]
    assert body["detail"].startswith("3 accepted, 3 rejected")

    assert accepted[0]["external_id"] == "b-1" and accepted[0]["repeat"] is False
    assert accepted[2]["external_id"] is None and accepted[2]["repeat"] is False
    assert accepted[3]["id"] == accepted[0]["id"] and accepted[3]["repeat"] is True
    assert "reporter.email" in rejected[1]
    assert "b-1" in rejected[4]["external_id"]
    assert "JSON object" in rejected[5]["body"]

    assert Report.objects.count() == 2
    assert set(Report.objects.values_list("id", flat=True)) == {
        accepted[0]["id"],
        accepted[2]["id"],
    }
    assert Report.objects.get(id=accepted[2]["id"]).urls == ["https://ads.example/listing/3"]
    assert queue_depth() == 1  # one task carries the whole chunk

    # Resending the body stores only the entry that has no external_id to recognise it by.
    again = {a["index"]: a for a in send(api, entries, url=BULK).json()["accepted"]}
    assert [(i, a["id"], a["repeat"]) for i, a in again.items() if i != 2] == [
        (0, accepted[0]["id"], True),
        (3, accepted[0]["id"], True),
    ]
    assert again[2]["repeat"] is False and again[2]["id"] != accepted[2]["id"]
    assert Report.objects.count() == 3


def test_bulk_ndjson_rejects_an_unparsable_line_by_index(api: Client, run_tasks: Any) -> None:
    body = ndjson(a_report(1), "{this is not json", a_report(2, external_id="n-2"))

    response = send(api, body, url=BULK, content_type=NDJSON)

    assert response.status_code == 202, response.content
    result = response.json()
    assert [(a["index"], a["external_id"]) for a in result["accepted"]] == [(0, None), (2, "n-2")]
    [bad] = result["rejected"]
    assert bad["index"] == 1
    assert bad["errors"][0]["field"] == "body"
    assert "line 2 is not valid JSON" in bad["errors"][0]["message"]
    assert Report.objects.count() == 2

    run_tasks()
    assert set(Report.objects.values_list("state", flat=True)) == {"oriented"}


def test_bulk_over_10000_entries_is_refused_whole(api: Client) -> None:
    response = send(api, [a_report()] * 10_001, url=BULK)

    errors_of(response, 413)
    assert "10001 reports in one body; the limit is 10000" in response.json()["detail"]
    assert Report.objects.count() == 0


# --- Errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "says"),
    [
        (REPORTS, '{"urls": ["https://ads.example/1"]', "not valid JSON"),
        (BULK, "[{]", "not valid JSON"),
        (BULK, "[]", "holds no reports"),
        (BULK, json.dumps(a_report()), "JSON array"),
    ],
    ids=["truncated-json", "bulk-invalid-json", "bulk-empty", "bulk-not-an-array"],
)
def test_unreadable_body_is_400(api: Client, url: str, body: str, says: str) -> None:
    response = send(api, body, url=url)

    errors_of(response, 400)
    assert says in response.json()["detail"]
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [("post", REPORTS, a_report()), ("post", BULK, [a_report()]), ("get", f"{REPORTS}/1", None)],
    ids=["submit", "bulk", "follow"],
)
@pytest.mark.parametrize("token", [None, "tpl_not-a-real-token", "revoked"])
def test_missing_or_wrong_token_is_401(
    provider: tuple[Provider, str], token: str | None, method: str, url: str, body: Any
) -> None:
    if token == "revoked":
        services.provider_revoke(name=provider[0].name)
        token = provider[1]
    client = Client(headers={"Authorization": f"Bearer {token}"} if token else {})

    response = client.get(url) if method == "get" else send(client, body, url=url)

    errors_of(response, 401)
    assert "Bearer" in response.json()["detail"]
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "setting", "body"),
    [
        (REPORTS, "INTAKE_MAX_REPORT_BYTES", a_report(excerpt="x" * 500)),
        (BULK, "INTAKE_MAX_BULK_BYTES", [a_report(excerpt="x" * 500)]),
    ],
    ids=["submit", "bulk"],
)
def test_body_over_the_size_limit_is_413(
    api: Client, settings: Any, url: str, setting: str, body: Any
) -> None:
    size = len(json.dumps(body))
    setattr(settings, setting, size - 1)

    response = send(api, body, url=url)

    assert response.status_code == 413, response.content
    assert f"{size} bytes" in response.json()["detail"]
    assert f"limit on {url} is {size - 1} bytes" in response.json()["detail"]
    assert Report.objects.count() == 0

    setattr(settings, setting, size)  # exactly at the limit is fine
    assert send(api, body, url=url).status_code in {201, 202}


@pytest.mark.parametrize("url", [REPORTS, BULK])
def test_other_content_types_are_415(api: Client, url: str) -> None:
    response = send(api, "https://ads.example/listing/1", url=url, content_type="text/plain")

    errors_of(response, 415)
    assert "text/plain" in response.json()["detail"]
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (a_report(reporter={"email": "camille.mail.example"}), "reporter.email", "e-mail"),
        (a_report(reporter={"country": "XQ"}), "reporter.country", "ISO 3166-1"),
        (a_report(reporter={"phone": "call me maybe"}), "reporter.phone", "digits"),
        ({"urls": [GOOD_URL, "https://ads.example/a page"]}, "urls[1]", "spaces"),
        ({"urls": [GOOD_URL, "javascript:alert(1)"]}, "urls[1]", "'javascript' not accepted"),
        # No "//", so it must not be read as "http://" + userinfo@host.
        (
            {"urls": [GOOD_URL, "javascript:alert(1)%0A%2F%2F@ads.example"]},
            "urls[1]",
            "'javascript' not accepted",
        ),
        ({"urls": [GOOD_URL, "mailto:abuse@ads.example"]}, "urls[1]", "'mailto' not accepted"),
        ({"urls": [GOOD_URL, "\x01javascript:x@ads.example"]}, "urls[1]", "control characters"),
        ({"urls": [GOOD_URL, "https://localhost/x"]}, "urls[1]", "no host name"),
        ({"urls": [GOOD_URL, 7]}, "urls[1]", "string"),
        ({"url": GOOD_URL}, "url", "did you mean 'urls'?"),
        (a_report(reporter={"emial": "c@mail.example"}), "reporter.emial", "did you mean 'email'?"),
        ({"description": "Only words, nothing to act on."}, "urls", "at least one of urls"),
        ([a_report()], "body", "JSON object"),
    ],
    ids=[
        "email",
        "country",
        "phone",
        "url-with-space",
        "javascript-url",
        "javascript-url-with-host",
        "mailto-url",
        "url-with-control-character",
        "url-without-host",
        "url-not-a-string",
        "unknown-field",
        "unknown-reporter-field",
        "nothing-to-act-on",
        "array-not-object",
    ],
)
def test_invalid_report_is_422_naming_the_field(
    api: Client, body: Any, field: str, says: str
) -> None:
    errors = errors_of(send(api, body), 422)

    assert says in errors[field], errors
    assert Report.objects.count() == 0


def test_422_names_every_bad_field_at_once(api: Client) -> None:
    body = a_report(
        urls=[GOOD_URL, "https://ads.example/a b"],
        reporter={"email": "nope", "country": "XQ"},
        url=GOOD_URL,
    )

    errors = errors_of(send(api, body), 422)

    assert set(errors) == {"urls[1]", "reporter.email", "reporter.country", "url"}
    assert "urls" in errors["url"]


# --- Media --------------------------------------------------------------------------------


def test_inline_image_is_kept_in_the_evidence_store(api: Client, settings: Any) -> None:
    image = png(3, 2)

    response = send(api, a_report(media=[{"filename": "ad.png", "content_base64": b64(image)}]))

    assert response.status_code == 201, response.content
    media = ReportMedia.objects.get()
    assert media.report_id == response.json()["id"]
    sha = hashlib.sha256(image).hexdigest()
    assert (media.sha256, media.width, media.height) == (sha, 3, 2)
    assert (media.filename, media.content_type, media.size) == ("ad.png", "image/png", len(image))
    assert evidence_path(settings, sha).read_bytes() == image
    # The payload keeps the file by hash, not its bytes.
    assert media.report.payload["media"] == [{"filename": "ad.png", "sha256": sha}]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b64(b"Just some words, not a picture.\n"), "not an image"),
        (
            b64(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"),
            "not an image",
        ),
        ("not base64 at all!", "not valid base64"),
    ],
    ids=["text", "pdf", "bad-base64"],
)
def test_inline_media_that_is_not_an_image_is_422_and_nothing_is_kept(
    api: Client, settings: Any, content: str, says: str
) -> None:
    body = a_report(
        media=[
            {"filename": "a.png", "content_base64": b64(png())},
            {"filename": "doc.png", "content_base64": content},
        ]
    )

    errors = errors_of(send(api, body), 422)

    assert says in errors["media[1].content_base64"]
    assert Report.objects.count() == 0
    assert evidence_files(settings) == []


def test_inline_media_over_the_limit_is_413(api: Client, settings: Any) -> None:
    image = png(16, 16, noise=True)
    settings.INTAKE_MAX_MEDIA_BYTES = len(image) // 2

    response = send(api, a_report(media=[{"filename": "big.png", "content_base64": b64(image)}]))

    errors = errors_of(response, 413)
    assert str(len(image) // 2) in errors["media[0].content_base64"]
    assert Report.objects.count() == 0
    assert evidence_files(settings) == []


def test_multipart_report_with_files(api: Client, settings: Any) -> None:
    images = [png(4, 5), png(6, 7)]

    response = api.post(
        REPORTS,
        data=multipart(
            a_report(external_id="mp-1"), ("one.png", images[0]), ("two.png", images[1])
        ),
    )

    assert response.status_code == 201, response.content
    report = Report.objects.get(id=response.json()["id"])
    assert report.external_id == "mp-1"
    rows = list(report.media.order_by("id").values_list("filename", "sha256", "width", "height"))
    shas = [hashlib.sha256(i).hexdigest() for i in images]
    assert rows == [("one.png", shas[0], 4, 5), ("two.png", shas[1], 6, 7)]
    assert report.payload["media_files"] == [
        {"filename": "one.png", "sha256": shas[0]},
        {"filename": "two.png", "sha256": shas[1]},
    ]
    for sha, image in zip(shas, images, strict=True):
        assert evidence_path(settings, sha).read_bytes() == image


def test_multipart_media_alone_is_enough(api: Client) -> None:
    response = api.post(REPORTS, data=multipart({}, ("ad.png", png())))

    assert response.status_code == 201, response.content
    assert ReportMedia.objects.get().report_id == response.json()["id"]


@pytest.mark.parametrize(
    ("report", "files", "status", "field"),
    [
        (None, [("ad.png", png())], 400, "report"),
        ("{nope", [("ad.png", png())], 400, None),
        (a_report(), [("ad.png", png()), ("a.txt", b"hello")], 422, "media[1]"),
    ],
    ids=["no-report-field", "report-not-json", "not-an-image"],
)
def test_multipart_errors(
    api: Client,
    settings: Any,
    report: Any,
    files: list[tuple[str, bytes]],
    status: int,
    field: str | None,
) -> None:
    errors = errors_of(api.post(REPORTS, data=multipart(report, *files)), status)

    if field:
        assert field in errors, errors
    assert Report.objects.count() == 0
    assert evidence_files(settings) == []


def test_multipart_file_over_the_limit_is_413(api: Client, settings: Any) -> None:
    image = png(16, 16, noise=True)
    settings.INTAKE_MAX_MEDIA_BYTES = len(image) - 1

    response = api.post(REPORTS, data=multipart({}, ("big.png", image)))

    assert "media[0]" in errors_of(response, 413)
    assert Report.objects.count() == 0
    assert evidence_files(settings) == []


# --- Following a report -------------------------------------------------------------------


def test_another_providers_report_is_404(api: Client, other_api: Client) -> None:
    report_id = send(api, a_report()).json()["id"]

    assert api.get(f"{REPORTS}/{report_id}").status_code == 200
    errors_of(other_api.get(f"{REPORTS}/{report_id}"), 404)


@pytest.mark.parametrize("report_id", ["1000", str(2**63 - 1)])
def test_nonexistent_report_is_404(api: Client, report_id: str) -> None:
    send(api, a_report())

    response = api.get(f"{REPORTS}/{report_id}")

    errors_of(response, 404)
    assert f"no report {report_id}" in response.json()["detail"]


@pytest.mark.parametrize("report_id", ["0", "-1", str(2**63), "99999999999999999999"])
def test_a_report_id_outside_64_bits_is_422(api: Client, report_id: str) -> None:
    """Ids are 64-bit and positive: the schema says so, and the database is never asked."""
    errors = errors_of(api.get(f"{REPORTS}/{report_id}"), 422)

    assert "report_id" in errors


@pytest.mark.parametrize("report_id", ["abc", "1.5", "1e3"])
def test_non_integer_report_id_is_422(api: Client, report_id: str) -> None:
    errors = errors_of(api.get(f"{REPORTS}/{report_id}"), 422)

    assert "integer" in errors["report_id"]


# --- OpenAPI and health -------------------------------------------------------------------


def test_openapi_schema_documents_the_api(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert {"/api/v1/reports", "/api/v1/reports/bulk", "/api/v1/reports/{report_id}"} <= set(
        schema["paths"]
    )
    report_in = schema["components"]["schemas"]["ReportIn"]
    assert {"urls", "excerpt", "media", "reporter", "external_id"} <= set(report_in["properties"])
    post = schema["paths"]["/api/v1/reports"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReportIn"
    }
    assert {"201", "200", "409", "422"} <= set(post["responses"])


def test_healthz_reports_the_database_and_queue_depth(
    api: Client, client: Client, run_tasks: Any
) -> None:
    for n in range(3):
        send(api, a_report(n))

    response = client.get("/healthz")

    assert response.status_code == 200
    health = response.json()
    assert health["database"]["ok"] is True
    assert health["queue"]["depth"] == 3
    assert health["queue"]["reports_unfinished"] == 3

    run_tasks()

    health = client.get("/healthz").json()
    assert health["queue"]["depth"] == 0
    assert health["queue"]["reports_unfinished"] == 0
