"""SQL-ish, path-traversal, NUL, numeric-edge, odd-Unicode and very long strings in every
path and query parameter of the public pages, the console, the statistics and the API:
never a server error, and a filter fed such a string finds nothing (not everything)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tipline.common.evidence import FileEvidenceStore
from tipline.harmonize.models import Item
from tipline.intake import core
from tipline.intake import services as intake_services
from tipline.intake.choices import Channel, TokenScope

from ..conftest import drain

pytestmark = pytest.mark.django_db

SRC = Path(__file__).parents[2] / "src" / "tipline"
CANARY = "canary-page"  # in every seeded item's URL: a filter that leaks shows it

HOSTILE = [
    # SQL-ish
    "' OR 1=1 --",
    "' OR '1'='1' /*",
    "1; DROP TABLE intake_report; --",
    '" OR ""="',
    "1 UNION SELECT username, password FROM auth_user --",
    "%' OR 1=1 --",
    "\\'; --",
    "*",
    "%",
    "_",
    # path traversal
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "....//....//etc/passwd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    # NUL and control characters
    "\x00",
    "a\x00b",
    "%00",
    "\x1b[31m\r\n",
    # numbers at their edges
    "0",
    "-1",
    "99999999999999999999999",
    "9223372036854775808",
    "1e309",
    "NaN",
    "0x10",
    "١٢",
    "²",
    "\uff19",  # a fullwidth nine: str.isdigit() says yes
    # odd Unicode and very long strings
    "\u202eevil",
    "🙂" * 50,
    "ǅİß",
    "A" * 10_000,
    "é" * 5_000,
]
IDS = [f"hostile-{i}" for i in range(len(HOSTILE))]

# Every query parameter a view reads (checked against the source below).
QUERY_NAMES = {
    "": ["code", "lang"],
    "console/": [
        "theme", "priority", "channel", "country", "network", "mine", "type", "value", "shown",
        "measured", "next", "idle", "actor", "action", "target", "from", "to", "text", "before",
        "after",
    ],
    "stats/": ["start", "end", "theme", "unit", "lang"],
    "api/v1/": [
        "type", "value", "limit", "offset", "from_item", "to_item", "theme", "priority",
        "channel", "country", "network", "mine",
    ],
}  # fmt: skip
# Where a parameter filters a list: fed a hostile string, the list must come back empty.
FILTERS = {
    "/console/": ["theme", "channel", "country"],
    "/console/search/": ["value"],
    "/console/audit/": ["actor", "action", "target", "text"],
    "/api/v1/observables/search": ["value"],
    "/api/v1/queue": ["theme", "channel", "country"],
}


def url_patterns(resolver: Any = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


ROUTES = sorted(
    route
    for route, _ in url_patterns()
    if not route.startswith("admin/") and route not in ("console/logout/", "api/v1/docs")
)


def test_every_query_parameter_in_the_source_is_covered() -> None:
    read = set()
    for path in SRC.rglob("*.py"):
        read |= set(re.findall(r"request\.GET\.get\(\"(\w+)\"", path.read_text()))
    covered = {name for names in QUERY_NAMES.values() for name in names}
    assert read <= covered, f"add {read - covered} to QUERY_NAMES"


@pytest.fixture
def world(provider: Any) -> dict[str, Any]:
    """Two reported pages sharing a phone (a link, a network), a superuser (every console
    page), a provider and a staff token (every API call)."""
    drafts = [
        (
            i,
            core.parse_report(
                {"urls": [f"https://{CANARY}.example/{i}"], "excerpt": "appelle 01 99 00 12 34"},
                max_media_bytes=1,
            ),
        )
        for i in range(2)
    ]
    intake_services.reports_receive(drafts=drafts, channel=Channel.PUBLIC)
    drain()
    root = User.objects.create_superuser("root", "root@hotline.example", None)
    _, staff_token = intake_services.staff_token_create(
        user=root, name="t", scopes=[TokenScope.ANALYST, TokenScope.SUPERVISOR]
    )
    # A server error is an answer like another here: the test names the request.
    console = Client(raise_request_exception=False)
    console.force_login(root)
    item = Item.objects.order_by("id").first()
    assert item is not None
    return {
        "console": console,
        "staff": Client(
            headers={"Authorization": f"Bearer {staff_token}"}, raise_request_exception=False
        ),
        "provider": Client(
            headers={"Authorization": f"Bearer {provider[1]}"}, raise_request_exception=False
        ),
        "item": item,
    }


def client_for(route: str, world: dict[str, Any]) -> Client:
    if route.startswith("api/v1/reports"):
        return world["provider"]  # type: ignore[no-any-return]
    if route.startswith("api/"):
        return world["staff"]  # type: ignore[no-any-return]
    return world["console"]  # type: ignore[no-any-return]


def fill(route: str, value: str | None, world: dict[str, Any]) -> list[str]:
    """The route with each parameter in turn given `value` (the others a real one); with
    value None, every parameter a real one."""
    params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    real = {
        "code": "ABCD-EFGH-JKMN-PQRS",
        "sha256": world["item"].sha256 or "0" * 64,
        "variant": "blurred",
        "key": "themes",
        "year": "2026",
        "fmt": "pdf",
        "host": f"{CANARY}.example",
    }

    def build(chosen: str | None) -> str:
        url = route
        for _converter, name in params:
            given = (
                value
                if name == chosen and value is not None
                else real.get(name, str(world["item"].id))
            )
            url = re.sub(rf"<(?:\w+:)?{name}>", quote(given, safe=""), url, count=1)
        return "/" + url

    if value is None:
        return [build(None)]
    return [build(name) for _, name in params]


def names_for(route: str) -> list[str]:
    prefix = next((p for p in ("api/v1/", "console/", "stats/") if route.startswith(p)), "")
    return QUERY_NAMES[prefix]


ERRORS: list[str] = []  # server errors met by the running test, each with its request


@pytest.fixture(autouse=True)
def _errors() -> Iterator[None]:
    ERRORS.clear()
    yield


def send(client: Client, url: str, query: dict[str, str] | str = "") -> Any:
    if isinstance(query, dict):
        query = urlencode(query)
    full = f"{url}?{query}" if query else url
    response = client.get(full)
    if response.status_code >= 500:
        ERRORS.append(f"{response.status_code} {full[:200]}")
    return response


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_a_hostile_string_in_any_parameter_is_no_server_error(
    world: dict[str, Any], value: str
) -> None:
    for route in ROUTES:
        client = client_for(route, world)
        for url in fill(route, value, world):  # in each path parameter
            send(client, url)
        [url] = fill(route, None, world)
        send(client, url, {name: value for name in names_for(route)})  # in every query one
    assert not ERRORS, "\n".join(ERRORS)


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_a_filter_fed_a_hostile_string_finds_nothing(world: dict[str, Any], value: str) -> None:
    assert CANARY in world["console"].get("/console/").content.decode()  # it would show
    for path, names in FILTERS.items():
        client = client_for(path.lstrip("/"), world)
        for name in names:
            query = {name: value}
            if path.endswith("search") or path.endswith("search/"):
                query["type"] = "phone"
            response = send(client, path, query)
            assert CANARY not in response.content.decode(), (path, name, value[:40])
    assert not ERRORS, "\n".join(ERRORS)


def console_forms(value: str) -> list[tuple[str, dict[str, str]]]:
    """Every form the console posts, each field given `value` (actions keep their name)."""
    v = value
    return [
        ("items/{item}/action", {"action": "note", "text": v}),
        ("items/{item}/action", {"action": "propose", "destination": v, "text": v}),
        ("items/{item}/action", {"action": "confirm", "dispatch": v}),
        ("items/{item}/action", {"action": "cancel", "dispatch": v, "text": v}),
        ("items/{item}/action", {"action": "cut", "link": v, "text": v}),
        ("items/{item}/action", {"action": "duplicate", "of_item": v, "text": v}),
        ("items/{item}/action", {"action": v, "text": v}),
        ("items/{item}/", {"theme": v, "classification": v, "age_category": v}),
        ("items/{item}/claim", {"release": v, "next": v}),
        ("items/{item}/unblur", {"sha256": v, "measured": v}),
        ("language/", {"language": v, "next": v}),
        ("preferences/", {"blur": v, "grayscale": v}),
        ("audit/", {"actor": v}),
        ("login/", {"username": v, "password": v}),
        ("login/code/", {"token": v}),
    ]


def api_bodies(value: str) -> list[tuple[str, dict[str, Any]]]:
    """Every API body, each text field given `value`."""
    v = value
    return [
        ("reports", {"urls": ["https://a.example/"], "excerpt": v, "description": v}),
        ("reports", {"urls": ["https://a.example/"], "category": v, "external_id": v}),
        ("reports", {"urls": [v], "reporter": {"name": v, "email": v, "country": v}}),
        ("links/{link}/cut", {"reason": v}),
        ("common-values/decide", {"kind": "shared_phone", "value": v, "decision": "confirmed"}),
        ("hosts/{host}/hosting", {"country": "FR", "abuse_email": v, "note": v}),
        ("hosts/{host}/hosting", {"country": v}),
        ("items/{item}/assess", {"theme": v, "classification": v}),
        ("items/{item}/duplicate", {"of_item": v, "note": v}),
        ("items/{item}/removed", {"note": v}),
        ("items/{item}/dispatches", {"destination": v, "note": v}),
        ("dispatches/1/cancel", {"reason": v}),
        ("dispatches/1/acknowledge", {"reference": v}),
    ]


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_a_hostile_string_in_any_form_or_body_is_no_server_error(
    world: dict[str, Any], value: str
) -> None:
    item = world["item"]
    targets = {"item": str(item.id), "link": "1", "host": f"{CANARY}.example"}
    for path, form in console_forms(value):
        url = "/console/" + path.format(**targets)
        response = world["console"].post(url, form)
        if response.status_code >= 500:
            ERRORS.append(f"{response.status_code} POST {url} {str(form)[:200]}")
    for path, body in api_bodies(value):
        url = "/api/v1/" + path.format(**targets)
        client = client_for(url.lstrip("/"), world)
        response = client.post(url, body, content_type="application/json")
        if response.status_code >= 500:
            ERRORS.append(f"{response.status_code} POST {url} {str(body)[:200]}")
        elif "\x00" in value:  # refused by the schema, whatever else the body holds
            assert response.status_code == 422, (url, response.content[:300])
    assert not ERRORS, "\n".join(ERRORS)


def test_a_nul_in_an_address_or_a_query_is_refused_plainly(world: dict[str, Any]) -> None:
    console, staff = world["console"], world["staff"]
    page = console.get("/console/search/?type=phone&value=a%00b")
    assert page.status_code == 400
    assert "NUL character" in page.content.decode()
    assert console.get("/status/AB%00CD").status_code == 400
    api = staff.get("/api/v1/observables/search?type=phone&value=%00")
    assert api.status_code == 422 and "NUL character" in api.json()["detail"]
    report = world["provider"].post(
        "/api/v1/reports",
        {"urls": ["https://a.example/"], "excerpt": "a\x00b", "reporter": {"name": "\x00"}},
        content_type="application/json",
    )
    assert report.status_code == 422
    assert {e["field"] for e in report.json()["errors"]} == {"excerpt", "reporter.name"}


def test_json_nested_too_deeply_is_refused_not_a_crash(world: dict[str, Any]) -> None:
    """Python's JSON reader gives up past about a thousand levels (RecursionError)."""
    deep = "[" * 100_000
    for url, client, kind in [
        ("/api/v1/reports", world["provider"], "application/json"),
        ("/api/v1/reports/bulk", world["provider"], "application/json"),
        ("/api/v1/reports/bulk", world["provider"], "application/x-ndjson"),
        (f"/api/v1/items/{world['item'].id}/removed", world["staff"], "application/json"),
    ]:
        response = client.post(url, deep, content_type=kind)
        assert response.status_code in (202, 400), (url, response.status_code)
        assert "nested too deeply" in response.content.decode() or url.endswith("removed")


def test_bytes_that_are_not_utf8_are_no_server_error(world: dict[str, Any]) -> None:
    for route in ROUTES:
        [url] = fill(route, None, world)
        client = client_for(route, world)
        query = "&".join(f"{name}=%ff%fe%00" for name in names_for(route))
        send(client, url, query)
        send(client, url.rstrip("/") + "/%ff%fe", "")
    assert not ERRORS, "\n".join(ERRORS)


def test_the_evidence_store_opens_nothing_outside_itself(tmp_path: Path) -> None:
    store = FileEvidenceStore(tmp_path / "evidence")
    secret = tmp_path / "secret"
    secret.write_bytes(b"not evidence")
    for name in ["../secret", "../../etc/passwd", "/etc/passwd", "ab/../../secret", "0" * 63 + "/"]:
        with pytest.raises(ValueError, match="not a SHA-256"):
            store.get(name)
