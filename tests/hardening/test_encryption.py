"""Reporters' personal data is encrypted at rest: what the database holds is not what the
reporter typed, the application reads it back, old keys still read until rotation, and a
wrong or missing key says what is wrong instead of showing garbage."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tipline.common import crypto
from tipline.intake import core, services
from tipline.intake.choices import Channel
from tipline.intake.models import Report

NAME, EMAIL, PHONE = "Camille Exemple", "camille@mail.example", "01 99 00 12 34"
OLD_KEY = base64.urlsafe_b64encode(b"o" * 32).decode()
NEW_KEY = base64.urlsafe_b64encode(b"n" * 32).decode()


def receive(**reporter: str) -> Report:
    draft = core.parse_report(
        {"urls": ["https://ads.example/p/1"], "reporter": {"country": "FR", **reporter}},
        max_media_bytes=1024,
    )
    [received] = services.reports_receive(drafts=[(0, draft)], channel=Channel.PUBLIC)
    assert isinstance(received, services.Received)
    return Report.objects.get(pk=received.report_id)


def stored(report_id: int) -> dict[str, Any]:
    """The row as the database holds it, past the ORM."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_name, reporter_email, reporter_phone, reporter_country, payload "
            "FROM intake_report WHERE id = %s",
            [report_id],
        )
        row = cursor.fetchone()
    return dict(zip(["name", "email", "phone", "country", "payload"], row, strict=True))


@pytest.fixture
def keys(settings: Any) -> Any:
    settings.DATA_KEYS = [OLD_KEY]
    return settings


@pytest.mark.django_db
def test_the_database_holds_ciphertext_and_the_application_reads_plain_text(keys: Any) -> None:
    report = receive(name=NAME, email=EMAIL, phone=PHONE)
    raw = stored(report.pk)
    for field, plain in (("name", NAME), ("email", EMAIL), ("phone", PHONE)):
        assert raw[field] and plain not in raw[field]
        assert crypto.decrypt(raw[field]) == plain
    # Neither is the contact left in the payload kept beside it.
    payload = str(raw["payload"])
    assert EMAIL not in payload and NAME not in payload and PHONE not in payload
    assert raw["country"] == "FR"  # not personal on its own: kept for statistics

    report = Report.objects.get(pk=report.pk)
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == (
        NAME,
        EMAIL,
        PHONE,
    )
    assert Report.objects.filter(pk=report.pk).values_list("reporter_email", flat=True)[0] == EMAIL
    assert not report.is_anonymous


@pytest.mark.django_db
def test_an_anonymous_report_stores_empty_fields_and_can_be_told_apart(keys: Any) -> None:
    anonymous = receive()
    named = receive(email=EMAIL)
    assert stored(anonymous.pk)["email"] == ""
    assert anonymous.is_anonymous
    with_contact = Report.objects.exclude(reporter_email="").values_list("pk", flat=True)
    assert list(with_contact) == [named.pk]


@pytest.mark.django_db
def test_searching_an_encrypted_field_by_value_is_refused(keys: Any) -> None:
    receive(email=EMAIL)
    with pytest.raises(TypeError, match="encrypted"):
        list(Report.objects.filter(reporter_email=EMAIL))
    with pytest.raises(Exception, match="Unsupported lookup 'icontains'"):
        list(Report.objects.filter(reporter_email__icontains="camille"))


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_new_key_and_old_values_read_until_then(
    keys: Any,
) -> None:
    before = receive(name=NAME, email=EMAIL)
    token = stored(before.pk)["email"]

    keys.DATA_KEYS = [NEW_KEY, OLD_KEY]  # a new key goes first; the old one still reads
    assert Report.objects.get(pk=before.pk).reporter_email == EMAIL
    after = receive(phone=PHONE)  # new values are written with the new key
    assert crypto.is_current(stored(after.pk)["phone"])
    assert not crypto.is_current(token)

    out = io.StringIO()
    call_command("datakeys", "status", stdout=out)
    assert "reporter_email: 1 value(s), 1 on an older key" in out.getvalue()
    assert stored(before.pk)["email"] == token  # status changes nothing

    out = io.StringIO()
    call_command("datakeys", "rotate", stdout=out)
    assert "intake_report.reporter_name: 1 value(s), 1 re-encrypted" in out.getvalue()
    assert "intake_report.reporter_phone: 1 value(s), 0 re-encrypted" in out.getvalue()
    assert stored(before.pk)["email"] != token

    keys.DATA_KEYS = [NEW_KEY]  # the old key can go now
    report = Report.objects.get(pk=before.pk)
    assert (report.reporter_name, report.reporter_email) == (NAME, EMAIL)
    out = io.StringIO()
    call_command("datakeys", "rotate", stdout=out)
    assert "re-encrypted" in out.getvalue() and " 1 re-encrypted" not in out.getvalue()


@pytest.mark.django_db
def test_a_wrong_key_is_a_clear_error_not_garbage(keys: Any) -> None:
    report = receive(email=EMAIL)
    keys.DATA_KEYS = [NEW_KEY]
    with pytest.raises(crypto.DataKeyError, match="TIPLINE_DATA_KEYS"):
        Report.objects.get(pk=report.pk)
    with pytest.raises(Exception, match="TIPLINE_DATA_KEYS"):
        call_command("datakeys", "rotate", stdout=io.StringIO())
    keys.DATA_KEYS = []
    with pytest.raises(crypto.DataKeyError, match="no data key"):
        Report.objects.get(pk=report.pk)


def test_generated_keys_are_fernet_keys_and_each_is_new() -> None:
    a, b = crypto.generate_key(), crypto.generate_key()
    assert a != b
    assert crypto._fernets((a,))[0].decrypt(crypto._fernets((a, b))[1].encrypt(b"x")) == b"x"


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_reports_and_drops_contacts_from_payloads(
    keys: Any,
) -> None:
    now = timezone.now()
    executor = MigrationExecutor(connection)
    before, after = (
        [("intake", "0003_report_view_reporter")],
        [("intake", "0004_reporter_encrypted")],
    )
    executor.migrate(before)
    try:
        json_value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        payload = {"reporter": {"name": NAME, "email": EMAIL, "country": "FR"}}
        columns = (
            "channel, received_at, receipt, category, urls, description, excerpt, "
            "reporter_name, reporter_email, reporter_phone, reporter_country, payload, "
            "payload_sha256, state, state_changed_at, attempts, last_error, failed_stage"
        )
        values = (
            f"'public', %s, 'R1', '', {json_value}, '', '', %s, %s, '', 'FR', {json_value}, "
            "'x', 'received', %s, 0, '', ''"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO intake_report ({columns}) VALUES ({values})",  # noqa: S608 - constants
                [now, "[]", NAME, EMAIL, json.dumps(payload), now],
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        [row_id] = Report.objects.values_list("id", flat=True)
        raw = stored(row_id)
        assert crypto.decrypt(raw["name"]) == NAME and crypto.decrypt(raw["email"]) == EMAIL
        assert raw["phone"] == ""
        assert EMAIL not in str(raw["payload"]) and NAME not in str(raw["payload"])
        assert Report.objects.get().payload == {"reporter": {"country": "FR"}}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
