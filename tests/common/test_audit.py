"""The audit log: decisions and views append to a hash chain; `tipline audit verify`
names the first record that was changed or removed; records cannot be changed through
the application; supervisors export them."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection

from tipline.common import audit
from tipline.common.models import AuditRecord
from tipline.harmonize.taxonomy import Classification, Theme
from tipline.orient import services

from ..orient.conftest import report_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(db) -> User:  # type: ignore[no-untyped-def]
    return User.objects.create_user("ana", password="x", is_staff=True)


def verify() -> str:
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


def test_decisions_are_recorded_in_a_chain_that_verifies(ana) -> None:
    item = report_page("https://audit.example/x")
    services.item_classify(
        item_id=item.id, theme=Theme.TRAFFICKING, classification=Classification.NATIONAL, user=ana
    )
    d = services.dispatch_propose(item_id=item.id, destination_code="police-cyber", user=ana)
    services.dispatch_cancel(dispatch_id=d.id, user=ana, reason="wrong office")
    rows = list(AuditRecord.objects.order_by("seq"))
    assert [(r.actor, r.action, r.target) for r in rows] == [
        ("ana", "item.assess", f"item:{item.id}"),
        ("ana", "dispatch.propose", f"dispatch:{d.id}"),
        ("ana", "dispatch.cancel", f"dispatch:{d.id}"),
    ]
    assert rows[0].detail == {"theme": "trafficking", "classification": "national"}
    assert rows[0].prev_hash == audit.GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert verify() == "audit chain intact: 3 record(s)\n"


def tamper(sql: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def three_records() -> list[AuditRecord]:
    for n in range(3):
        audit.audit_record(actor="ana", action="item.view", target=f"item:{n}")
    return list(AuditRecord.objects.order_by("seq"))


def test_a_changed_record_is_named(ana) -> None:
    rows = three_records()
    tamper("UPDATE common_auditrecord SET actor = %s WHERE id = %s", "someone", rows[1].id)
    with pytest.raises(CommandError, match=r"broken at record #2: its content does not match"):
        verify()


def test_a_deleted_record_is_named() -> None:
    rows = three_records()
    tamper("DELETE FROM common_auditrecord WHERE id = %s", rows[1].id)
    with pytest.raises(CommandError, match=r"broken at record #3: expected record #2 here"):
        verify()


def test_a_rewritten_chain_is_caught_where_it_was_rewritten() -> None:
    """Even a tamperer who recomputes the changed row's own hash breaks the next link."""
    rows = three_records()
    changed = audit.record_hash(
        prev_hash=rows[0].prev_hash,
        seq=1,
        at=rows[0].at,
        actor="someone",
        action=rows[0].action,
        target=rows[0].target,
        detail=rows[0].detail,
    )
    tamper(
        "UPDATE common_auditrecord SET actor = %s, hash = %s WHERE id = %s",
        "someone",
        changed,
        rows[0].id,
    )
    with pytest.raises(CommandError, match=r"record #2: does not point at the previous"):
        verify()


def test_the_application_cannot_change_or_delete_a_record() -> None:
    row = three_records()[0]
    row.actor = "someone"
    with pytest.raises(ValueError, match="append-only"):
        row.save()
    with pytest.raises(ValueError, match="append-only"):
        row.delete()
    assert verify() == "audit chain intact: 3 record(s)\n"


@pytest.mark.django_db(transaction=True)
def test_writers_at_once_never_share_a_predecessor() -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for k in range(10):
                audit.audit_record(actor=f"user{n}", action="item.view", target=f"item:{k}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert verify() == "audit chain intact: 30 record(s)\n"


def test_supervisors_export_records_filtered(ana) -> None:
    audit.audit_record(actor=ana, action="item.view", target="item:1")
    audit.audit_record(actor="bob", action="item.assess", target="item:1", detail={"x": "é"})
    audit.audit_record(actor=ana, action="dispatch.confirm", target="dispatch:4")
    out = io.StringIO()
    call_command("audit", "export", "--action", "item.", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("ana", "item.view"),
        ("bob", "item.assess"),
    ]
    assert rows[1]["detail"] == '{"x": "é"}'
    out = io.StringIO()
    call_command("audit", "export", "--actor", "ana", stdout=out)
    assert [r["action"] for r in csv.DictReader(io.StringIO(out.getvalue()))] == [
        "item.view",
        "dispatch.confirm",
    ]


def test_a_rule_changed_in_the_admin_is_recorded() -> None:
    from django.contrib.auth.models import Group
    from django.test import Client

    from tipline.console import services as console
    from tipline.orient.models import Rule

    console.roles_ensure()
    sup = User.objects.create_user("sup", password="x", is_staff=True)
    sup.groups.add(Group.objects.get(name="supervisor"))
    client = Client()
    client.force_login(sup)
    rule = Rule.objects.get(name="no-hotline")
    form = {
        "position": rule.position,
        "name": rule.name,
        "description": "changed",
        "when": '{"hosting": "none"}',
        "then": '[{"do": "dispatch", "to": "office"}]',
        "final": "on",
    }
    response = client.post(f"/admin/orient/rule/{rule.pk}/change/", form)
    assert response.status_code == 302, response.content[:500]
    [record] = AuditRecord.objects.filter(action="rule.change")
    assert (record.actor, record.target) == ("sup", f"rule:{rule.pk}")
    assert "description" in record.detail["change"].lower()
    assert verify() == "audit chain intact: 1 record(s)\n"
