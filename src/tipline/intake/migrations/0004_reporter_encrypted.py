"""Reporters' name, e-mail and phone encrypted at rest (TIPLINE_DATA_KEYS), and their
contact details taken out of the stored payloads (the hash of what was sent is kept)."""

import tipline.common.fields
from django.db import migrations, models

from tipline.common import crypto

CONTACT_COLUMNS = ("reporter_name", "reporter_email", "reporter_phone")
CONTACT_KEYS = ("name", "email", "phone")
CHUNK = 1000


def _plain_rows(connection, after):
    """Rows with any contact, as stored (plain text before this migration)."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in CONTACT_COLUMNS)
    anything = " OR ".join(f"{quote(c)} <> ''" for c in CONTACT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {columns} FROM intake_report WHERE id > %s AND ({anything}) "
            "ORDER BY id LIMIT %s",
            [after, CHUNK],
        )
        return cursor.fetchall()


def encrypt_contacts(apps, schema_editor):
    Report = apps.get_model("intake", "Report")
    connection = schema_editor.connection
    after = 0
    while rows := _plain_rows(connection, after):
        after = rows[-1][0]
        for pk, *values in rows:
            # The field encrypts what it is given: the plain text read above.
            Report.objects.filter(pk=pk).update(**dict(zip(CONTACT_COLUMNS, values, strict=True)))
    after = 0
    while True:
        rows = list(
            Report.objects.filter(id__gt=after, payload__has_key="reporter")
            .order_by("id")
            .values_list("id", "payload")[:CHUNK]
        )
        if not rows:
            break
        after = rows[-1][0]
        for pk, payload in rows:
            reporter = payload.get("reporter")
            if isinstance(reporter, dict) and any(k in reporter for k in CONTACT_KEYS):
                payload["reporter"] = {k: v for k, v in reporter.items() if k not in CONTACT_KEYS}
                Report.objects.filter(pk=pk).update(payload=payload)


def decrypt_contacts(apps, schema_editor):
    """Back to plain text (the payloads keep no contact details: those are not restored)."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    after = 0
    while rows := _plain_rows(connection, after):
        after = rows[-1][0]
        sets = ", ".join(f"{quote(c)} = %s" for c in CONTACT_COLUMNS)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE intake_report SET {sets} WHERE id = %s",
                [[crypto.decrypt(v) if v else "" for v in values] + [pk] for pk, *values in rows],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0003_report_view_reporter"),
    ]

    operations = [
        migrations.AlterField(
            model_name="report",
            name="payload",
            field=models.JSONField(
                help_text="The report as received, file bytes replaced by hashes and the "
                "reporter's contact details left out (they are in the encrypted fields)"
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="reporter_email",
            field=tipline.common.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="report",
            name="reporter_name",
            field=tipline.common.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="report",
            name="reporter_phone",
            field=tipline.common.fields.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_contacts, decrypt_contacts, elidable=False),
    ]
