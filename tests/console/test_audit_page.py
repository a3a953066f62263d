"""Supervisors search the audit log in the console, page through it, download what they
found as CSV and check the hash chain; their searches and exports are recorded too."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tipline.common import audit
from tipline.common.models import AuditRecord

from ..conftest import staff_user

pytestmark = pytest.mark.django_db

PAGE = "/console/audit/"
CSV = "/console/audit.csv"


def signed_in(role: str = "supervisor", name: str = "sup") -> Client:
    client = Client()
    client.force_login(staff_user(name, role))
    return client


def record(
    action: str, target: str = "", *, actor: str = "ana", at: datetime | None = None, **detail: Any
) -> AuditRecord:
    if at is None:
        return audit.audit_record(actor=actor, action=action, target=target, detail=detail)
    with mock.patch("django.utils.timezone.now", return_value=at):
        return audit.audit_record(actor=actor, action=action, target=target, detail=detail)


def seqs(response: Any) -> list[int]:
    """The records a page shows, in its order."""
    return [int(s) for s in re.findall(r'data-seq="(\d+)"', response.content.decode())]


def link(response: Any, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


def csv_rows(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_a_supervisor_sees_the_records_newest_first_with_links_to_their_targets() -> None:
    first = record("item.view", "item:42")
    record("media.unblur", "item:42", sha256="ab" * 32)
    record("network.view", "network:7")
    last = record("dispatch.confirm", "dispatch:3", actor="bob", note="é, ok")
    page = signed_in().get(PAGE)
    assert page.status_code == 200
    assert seqs(page) == list(range(last.seq, first.seq - 1, -1))
    html = page.content.decode()
    assert '<a href="/console/items/42/">item:42</a>' in html
    assert '<a href="/console/networks/7/">network:7</a>' in html
    assert "<td>dispatch:3</td>" in html  # no page for dispatches: no link
    assert "{&quot;note&quot;:&quot;é, ok&quot;}" in html  # compact JSON, escaped
    assert f'<time datetime="{last.at.isoformat()}">' in html
    # Looking at the page is not a search: nothing recorded.
    assert not AuditRecord.objects.filter(action__startswith="audit.").exists()


def test_filters_by_actor_action_target_and_days_the_to_day_included() -> None:
    day = datetime(2025, 3, 30, 12, tzinfo=UTC)
    a = record("media.unblur", "item:1", at=day.replace(day=29, hour=23, minute=59, second=59))
    b = record("media.unblur_known", "item:2", at=day)
    c = record("item.view", "item:1", actor="bob", at=day.replace(day=31, hour=23, minute=59))
    d = record("mediation.start", "item:1", at=day.replace(month=4, day=1, hour=0))
    client = signed_in()

    def shown(**filters: str) -> list[int]:
        response = client.get(PAGE, filters)
        assert response.status_code == 200, response.content
        return seqs(response)

    def searches() -> list[int]:
        done = AuditRecord.objects.filter(action="audit.search").order_by("-seq")
        return list(done.values_list("seq", flat=True))

    assert shown(actor="bob") == [c.seq]
    assert shown(action="media.") == [b.seq, a.seq]  # a prefix: the family of actions
    assert shown(action="media.*") == [b.seq, a.seq]
    assert shown(action="media.unblur") == [a.seq]  # otherwise exact
    assert shown(target="item:1") == [d.seq, c.seq, a.seq]
    assert shown(target="item:1", actor="ana") == [d.seq, a.seq]
    # UTC days; "to" includes its whole day.
    assert shown(**{"from": "2025-03-30", "to": "2025-03-31"}) == [c.seq, b.seq]
    assert shown(**{"from": "2025-03-31", "to": "2025-04-01"}) == [d.seq, c.seq]
    earlier = [*searches(), d.seq, c.seq]  # the searches above happened after 2025-03-31 too
    assert shown(**{"from": "2025-03-31"}) == earlier
    assert shown(**{"to": "2025-03-29"}) == [a.seq]
    assert shown(**{"from": "2025-03-30", "to": "2025-03-30"}) == [b.seq]
    assert shown(**{"from": "0001-01-01", "to": "9999-12-31"})[-4:] == [d.seq, c.seq, b.seq, a.seq]
    assert shown(actor="nobody") == []
    assert "No record matches these filters." in client.get(PAGE, {"actor": "x"}).content.decode()


def test_text_in_the_detail_is_found_in_any_case() -> None:
    hit = record("value.search", actor="ana", phone="+33199001234", note="Hôtel Nord")
    record("value.search", actor="ana", phone="+33199009999")
    client = signed_in()
    assert seqs(client.get(PAGE, {"text": "99001234"})) == [hit.seq]
    assert seqs(client.get(PAGE, {"text": "hôtel nord"})) == [hit.seq]


def test_pages_of_fifty_keep_the_filters_and_come_back() -> None:
    for n in range(120):
        record("item.view", f"item:{n}")
        if n % 2:
            record("network.view", "network:1")
    views = list(
        AuditRecord.objects.filter(action="item.view")
        .order_by("-seq")
        .values_list("seq", flat=True)
    )
    client = signed_in()
    first = client.get(PAGE, {"action": "item."})
    assert seqs(first) == views[:50]
    assert link(first, "prev") is None
    older = link(first, "next")
    assert older is not None and "action=item." in older
    second = client.get(PAGE + older)
    assert seqs(second) == views[50:100]
    third = client.get(PAGE + link(second, "next"))  # type: ignore[operator]
    assert seqs(third) == views[100:]
    assert link(third, "next") is None
    back = client.get(PAGE + link(third, "prev"))  # type: ignore[operator]
    assert seqs(back) == views[50:100]
    assert seqs(client.get(PAGE + link(back, "prev"))) == views[:50]  # type: ignore[operator]
    # Only the first page counts as a search.
    assert AuditRecord.objects.filter(action="audit.search").count() == 1


def test_a_page_costs_the_same_queries_with_five_records_or_fifty(
    django_assert_num_queries: Any,
) -> None:
    client = signed_in()
    client.get(PAGE)  # the session and permissions cached as in any later request
    for n in range(5):
        record("item.view", f"item:{n}")
    with CaptureQueriesContext(connection) as few:
        assert len(seqs(client.get(PAGE, {"before": "999999"}))) == 5
    for n in range(60):
        record("item.view", f"item:{n}")
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(seqs(client.get(PAGE, {"before": "999999"}))) == 50


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2025-13-01"}, "From: “2025-13-01” is not a day. Write it as YYYY-MM-DD"),
        ({"to": "31/03/2025"}, "To: “31/03/2025” is not a day"),
        ({"from": "20250301"}, "From: “20250301” is not a day"),
        ({"from": "2025-04-01", "to": "2025-03-01"}, "The “from” day comes after the “to” day."),
    ],
)
def test_a_bad_filter_is_explained_not_a_crash(query: dict[str, str], message: str) -> None:
    record("item.view", "item:1")
    client = signed_in()
    for path in (PAGE, CSV):
        response = client.get(path, query)
        assert response.status_code == 422
        html = response.content.decode()
        assert 'role="alert"' in html and message in html, html
        assert seqs(response) == []
    assert not AuditRecord.objects.filter(action__startswith="audit.").exists()


def test_a_page_that_does_not_exist_is_explained() -> None:
    response = signed_in().get(PAGE, {"actor": "ana", "before": "abc"})
    assert response.status_code == 422
    assert "That page does not exist: start again from the first page." in response.content.decode()


@pytest.mark.parametrize("role", ["analyst", "senior_analyst", "liaison"])
def test_other_roles_are_refused(role: str) -> None:
    client = signed_in(role, f"u-{role}")
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE).status_code == 403
    assert client.get(CSV).status_code == 403


def test_admins_may_and_anonymous_visitors_are_sent_to_sign_in() -> None:
    assert signed_in("admin", "adm").get(PAGE).status_code == 200
    for path in (PAGE, CSV):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/console/login/?next={path}"


def test_the_csv_holds_the_pages_records_with_formulas_disarmed() -> None:
    record("item.view", "item:1", actor='=HYPERLINK("http://evil.example")', q="+1")
    record("item.view", "item:2", actor="@bob")
    record("item.view", "item:3", actor="carol")
    record("media.unblur", "item:1", actor="carol")
    client = signed_in()
    page = seqs(client.get(PAGE, {"action": "item.view"}))
    response = client.get(CSV, {"action": "item.view"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = datetime.now(UTC).date().isoformat()
    assert response["Content-Disposition"] == (f'attachment; filename="tipline-audit-{today}.csv"')
    rows = csv_rows(response)
    assert list(rows[0]) == ["seq", "at", "actor", "action", "target", "detail", "hash"]
    assert [int(r["seq"]) for r in rows] == sorted(page)  # the same records, oldest first
    assert [r["actor"] for r in rows] == ['\'=HYPERLINK("http://evil.example")', "'@bob", "carol"]
    assert rows[0]["detail"] == '{"q": "+1"}'
    first = AuditRecord.objects.get(seq=rows[0]["seq"])
    assert (rows[0]["at"], rows[0]["hash"]) == (first.at.isoformat(), first.hash)


def test_searches_and_exports_are_recorded_with_their_filters() -> None:
    record("item.view", "item:1")
    client = signed_in()
    client.get(PAGE, {"actor": "ana", "action": "item.", "from": "2025-01-01", "text": ""})
    b"".join(client.get(CSV, {"target": "item:1", "to": "2030-12-31"}).streaming_content)
    everything = client.get(CSV)
    assert [r["action"] for r in csv_rows(everything)] == [
        "item.view",
        "audit.search",
        "audit.export",
    ]
    done = list(
        AuditRecord.objects.filter(action__startswith="audit.")
        .order_by("seq")
        .values_list("actor", "action", "detail")
    )
    assert done == [
        ("sup", "audit.search", {"actor": "ana", "action": "item.", "since": "2025-01-01"}),
        ("sup", "audit.export", {"target": "item:1", "until": "2030-12-31"}),
        ("sup", "audit.export", {}),
    ]


def test_verify_reports_an_intact_chain_then_names_the_changed_record() -> None:
    rows = [record("item.view", f"item:{n}") for n in range(3)]
    client = signed_in()
    assert "Verify the chain" in client.get(PAGE).content.decode()
    intact = client.post(PAGE + "?action=item.")
    assert intact.status_code == 200
    assert "The chain is intact, 3 rows." in intact.content.decode()
    assert seqs(intact) == [r.seq for r in reversed(rows)]  # the filters still apply
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE common_auditrecord SET actor = %s WHERE id = %s", ["someone", rows[1].id]
        )
    broken = client.post(PAGE).content.decode()
    assert (
        f"The chain is broken at record #{rows[1].seq}: its content does not match its hash "
        "(changed). 1 record before it holds."
    ) in broken
    checks = AuditRecord.objects.filter(action="audit.verify").order_by("seq")
    assert [c.detail for c in checks] == [
        {"checked": 3, "broken": None},
        {"checked": 1, "broken": rows[1].seq},
    ]


def test_verify_needs_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user("sup", "supervisor"))
    assert client.post(PAGE).status_code == 403
    page = client.get(PAGE).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    response = client.post(PAGE, {"csrfmiddlewaretoken": token.group(1)})
    assert "The chain is intact, 0 rows." in response.content.decode()
