"""Stored and reflected XSS: script in every text a reporter, a provider or an analyst can
write, then every page that shows it, read as a browser would parse it. Each payload
must appear as text (so the test sees it reach the page) and never as markup: no script
but Tipline's own files, no event handler attribute, no javascript: link, no element a
payload tried to open."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image

from tipline.crossref.models import Link, Membership
from tipline.harmonize.models import Item
from tipline.intake.models import Report

from ..conftest import drain, staff_user

pytestmark = pytest.mark.django_db


def payloads(marker: str) -> list[str]:
    """The usual ways out of a text node or an attribute, each carrying `marker`."""
    return [
        f'<script>alert("{marker}")</script>',
        f'"><img src=x onerror=alert("{marker}")>',
        f"'><svg onload=alert('{marker}')>",
        f'</textarea></title><script>alert("{marker}")</script>',
        f"<a href=\"javascript:alert('{marker}')\">{marker}</a>",
        f'<div hx-get="/console/" hx-trigger="load">{marker}</div>',
        f"{{{{ '{marker}' }}}}{{% debug %}}",
    ]


def text(marker: str) -> str:
    return " ".join(payloads(marker))


class Page(HTMLParser):
    """What a browser would build from the page: its elements and its text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        src = values.get("src") or ""
        if tag == "script" and not (src.startswith("/") and not src.startswith("//")):
            self.problems.append(f"<script> not from Tipline's own address: {attrs}")
        if tag in ("iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag}> {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name.startswith("hx-") and "xss-" in (value or ""):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if re.match(r"\s*(javascript|data|vbscript):", value or "", re.I) and name in (
                "href",
                "src",
                "action",
                "formaction",
                "data",
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and values.get("src") == "x":
            self.problems.append(f"<img src=x> {attrs}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(response: Any, *markers: str) -> None:
    """The page holds each marker's payloads as text, and nothing they tried to open."""
    assert response.status_code in (200, 400, 404, 422, 429), response.status_code
    if response["Content-Type"].startswith("application/json"):
        return  # JSON is data: a browser does not run it (nosniff, no HTML type)
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    html = response.content.decode()
    page = Page(html)
    assert not page.problems, "\n".join(page.problems)
    shown = "".join(page.text) + html  # inputs keep their value in an attribute
    for marker in markers:
        assert f'alert("{marker}")' in "".join(page.text) or marker in shown, (
            f"{marker} is not on the page: the test would prove nothing"
        )


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


PHONE = "01 99 00 12 34"
FILENAME = '"><img src=x onerror=alert("xss-file")>.png'


@pytest.fixture
def stored(provider: Any) -> dict[str, Any]:
    """Every text a reporter and a provider send, each field with its own marker."""
    # The public form: description, excerpt, reporter's name, a URL.
    public = Client()
    public.get("/report/")
    sent = public.post(
        "/report/",
        {
            "category": "fraud",
            "urls": 'https://xss.example/"><svg/onload=alert("xss-url")>',
            "description": text("xss-desc"),
            "excerpt": f"{text('xss-excerpt')} appelle {PHONE}",
            "reporter_name": text("xss-name")[:200],
            "consent": "on",
        },
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    receipt = public.get(sent["Location"]).content.decode()
    code = re.search(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}", receipt).group(0)  # type: ignore[union-attr]

    # The provider API: category, external id, a file name, the same phone (one network).
    api = Client(headers={"Authorization": f"Bearer {provider[1]}"})
    body = {
        "external_id": text("xss-ext")[:200],
        "category": text("xss-cat")[:200],
        "urls": ['https://xss.example/?q=<script>alert("xss-query")</script>'],
        "excerpt": f"{text('xss-api')} appelle {PHONE}",
        "reporter": {"name": text("xss-pname")[:200]},
        "media": [{"filename": FILENAME, "content_base64": base64.b64encode(png()).decode()}],
    }
    created = api.post("/api/v1/reports", body, content_type="application/json")
    assert created.status_code == 201, created.content
    refused = api.post(
        "/api/v1/reports",
        {"urls": ["javascript:alert('xss-js')"]},
        content_type="application/json",
    )
    assert refused.status_code == 422  # a javascript: URL never gets in
    drain()
    return {"receipt": code}


@pytest.fixture
def supervisor() -> Client:
    client = Client()
    client.force_login(staff_user("sup", "supervisor"))
    return client


def test_every_stored_text_is_shown_inert_on_every_page(
    stored: dict[str, Any], supervisor: Client
) -> None:
    items = list(Item.objects.order_by("id"))
    page_item = next(i for i in items if i.kind == "url" and "svg" in (i.url or ""))
    api_item = next(i for i in items if i.kind == "url" and "query" in (i.url or ""))
    link = Link.objects.first()
    assert link is not None, "the two reports share a phone: they should be linked"

    # Analysts write too: a note, a proposal's note, a cancel reason, a link cut's reason.
    note = supervisor.post(
        f"/console/items/{page_item.id}/action", {"action": "note", "text": text("xss-note")}
    )
    assert note.status_code in (200, 302)
    supervisor.post(
        f"/console/items/{api_item.id}/action",
        {"action": "cut", "link": str(link.id), "text": text("xss-cut")[:255]},
    )

    assert_inert(Client().get(f"/status/{stored['receipt']}"))
    assert_inert(supervisor.get("/console/"), "xss-url")
    assert_inert(
        supervisor.get(f"/console/items/{page_item.id}/"),
        "xss-url",
        "xss-desc",
        "xss-excerpt",
        "xss-name",
        "xss-note",
    )
    assert_inert(
        supervisor.get(f"/console/items/{api_item.id}/"),
        "xss-query",
        "xss-cat",
        "xss-api",
        "xss-pname",
        "xss-cut",
    )
    for item in items:
        assert_inert(supervisor.get(f"/console/items/{item.id}/"))
    network_id = Membership.objects.values_list("network_id", flat=True).first()
    assert network_id is not None
    assert_inert(supervisor.get(f"/console/networks/{network_id}/"), "xss-url")
    graph = supervisor.get(f"/console/networks/{network_id}/graph.json")
    assert graph["Content-Type"] == "application/json"
    assert "xss-url" in json.dumps(json.loads(graph.content))  # labels, drawn as text by d3
    assert_inert(supervisor.get("/console/search/", {"type": "phone", "value": PHONE}))
    assert_inert(supervisor.get("/console/dispatches/"))
    assert_inert(supervisor.get("/console/audit/"), "xss-cut")  # the cut's reason


def test_the_admin_shows_file_names_and_fields_inert(stored: dict[str, Any]) -> None:
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@hotline.example", None))
    report = Report.objects.get(channel="provider")
    assert_inert(admin.get("/admin/intake/report/"), "xss-cat")
    change = admin.get(f"/admin/intake/report/{report.id}/change/")
    assert_inert(change, "xss-file", "xss-cat")


@pytest.mark.parametrize(
    ("path", "query", "marker"),
    [
        ("/console/search/", {"type": "phone", "value": text("xss-search")}, "xss-search"),
        ("/console/search/", {"type": text("xss-type"), "value": "x"}, "xss-type"),
        ("/console/", {"theme": text("xss-theme"), "channel": text("xss-channel")}, None),
        ("/console/audit/", {"actor": text("xss-actor"), "text": text("xss-text")}, "xss-actor"),
        ("/console/audit/", {"from": text("xss-from")}, None),
    ],
)
def test_what_a_url_carries_is_reflected_inert(
    supervisor: Client, path: str, query: dict[str, str], marker: str | None
) -> None:
    response = supervisor.get(path, query)
    assert_inert(response, *([marker] if marker else []))


def test_the_public_form_gives_back_what_was_typed_inert() -> None:
    client = Client()
    client.get("/report/")
    response = client.post(
        "/report/",
        {
            "category": "fraud",
            "urls": text("xss-badurl"),  # refused: spaces, no host
            "description": text("xss-desc"),
            "excerpt": text("xss-excerpt"),
            "reporter_name": text("xss-name")[:200],
            "reporter_email": text("xss-mail")[:254],
        },
    )
    assert response.status_code == 400
    assert_inert(response, "xss-desc", "xss-excerpt", "xss-badurl")
    assert not Report.objects.exists()
