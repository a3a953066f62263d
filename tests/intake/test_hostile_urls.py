"""URLs nobody should send: each refused by field with a clear message, the rest stored."""

from __future__ import annotations

import json

import pytest

from tipline.intake.models import Report

pytestmark = pytest.mark.django_db

HOSTILE = {
    "javascript:alert(document.cookie)": "scheme 'javascript' not accepted",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==": "scheme 'data' not accepted",
    "https://ads.example/" + "a" * 100_000: "longer than 8192 characters",
    "https://ads.example/\x00\x07": "cannot contain control characters",
    "https://ads.example/\u202eexe.jpg": None,  # right-to-left override: escaped, accepted
    # A lone surrogate is no text at all (nor can PostgreSQL store it).
    "https://ads.example/\ud800": "unable to parse raw data as a unicode string",
    "https://xn--bcher-kva.example/": None,
    "https://bücher.example/": None,
    "http://0x7f000001/": None,
    "http://[::1]/": None,
    "http://[::1": "must end with ']'",
    "http://localhost/": "no host name",
    "   ": "empty URL",
}


def test_each_hostile_url_is_refused_by_field_and_the_others_are_stored(api) -> None:
    entries = [{"urls": [url], "external_id": f"h{i}"} for i, url in enumerate(HOSTILE)]
    body = json.dumps(entries).encode()
    response = api.post("/api/v1/reports/bulk", body, content_type="application/json")
    assert response.status_code == 202, response.content[:300]
    result = response.json()
    refused = {r["index"]: r["errors"] for r in result["rejected"]}
    for i, expected in enumerate(HOSTILE.values()):
        if expected is None:
            assert i not in refused, (i, refused.get(i))
        else:
            assert len(refused[i]) == 1, refused[i]
            [error] = refused[i]
            assert error["field"] == "urls[0]"
            assert expected in error["message"]
    assert Report.objects.count() == sum(1 for e in HOSTILE.values() if e is None)
