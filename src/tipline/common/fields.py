"""Model fields shared by the stages: text encrypted at rest, and its key rotation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models.lookups import Exact, IsNull

from . import crypto


class EncryptedTextField(models.Field[str, str]):
    """Text stored encrypted with the data keys (`tipline.common.crypto`); read back as
    plain text. An empty value stays empty, so "was anything given?" is still a query
    (`field=""`); any other lookup is refused, since the same text encrypts differently
    every time.

    Not a CharField or TextField subclass on purpose: bulk inserts (`common.bulk`) pass
    those to the database as they are, and this one must go through get_prep_value."""

    description = "Text encrypted at rest"

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str:
        return crypto.decrypt(value) if value else ""

    def to_python(self, value: Any) -> str:
        return "" if value is None else str(value)

    def get_prep_value(self, value: Any) -> str:
        text = self.to_python(super().get_prep_value(value))
        return crypto.encrypt(text) if text else ""

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return EncryptedIsEmpty
        if lookup_name == "isnull":
            return IsNull
        return None

    def get_transform(self, name: str) -> Any:
        return None


class EncryptedIsEmpty(Exact):
    """`field=""` only: compares with the stored empty string."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise TypeError(
                f"{self.lhs.output_field.name} is encrypted: it can only be compared with "
                '"" (empty); search by value is not possible'
            )
        return ""


# --- Key rotation: every encrypted column of every model --------------------------------------


@dataclass(frozen=True)
class Rotated:
    table: str
    column: str
    checked: int
    rewritten: int


def encrypted_columns() -> Iterator[tuple[type[models.Model], models.Field[Any, Any]]]:
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, cast("models.Field[Any, Any]", field)


def encrypted_columns_rotate(*, chunk: int = 1000, dry_run: bool = False) -> list[Rotated]:
    """Re-encrypt with the newest data key every stored value that is not already. Values
    are read and written as stored tokens (never as plain text), `chunk` rows per
    transaction; running it again rewrites nothing."""
    return [
        _column_rotate(model, field, chunk=chunk, dry_run=dry_run)
        for model, field in encrypted_columns()
    ]


def _column_rotate(
    model: type[models.Model], field: models.Field[Any, Any], *, chunk: int, dry_run: bool
) -> Rotated:
    quote = connection.ops.quote_name
    table, column = model._meta.db_table, quote(field.column or field.name)
    pk = quote(cast("models.Field[Any, Any]", model._meta.pk).column or "id")
    # Names come from the model's metadata, never from input; values go as parameters.
    select = (
        f"SELECT {pk}, {column} FROM {quote(table)} "  # noqa: S608
        f"WHERE {pk} > %s AND {column} <> '' ORDER BY {pk} LIMIT %s"
    )
    update = f"UPDATE {quote(table)} SET {column} = %s WHERE {pk} = %s"  # noqa: S608
    after, checked, rewritten = 0, 0, 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(select, [after, chunk])
            rows: Sequence[tuple[Any, str]] = cursor.fetchall()
            if not rows:
                break
            after = rows[-1][0]
            checked += len(rows)
            fresh = [(new, key) for key, token in rows if (new := crypto.rotated(token))]
            rewritten += len(fresh)
            if fresh and not dry_run:
                cursor.executemany(update, fresh)
    return Rotated(table, field.column or field.name, checked, rewritten)
