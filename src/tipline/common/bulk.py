"""Fast multi-row INSERT for hot paths (bulk intake, pipeline bookkeeping).

Django's bulk_create compiles SQL value by value (about 0.1 ms a row here); one
executemany with per-field converters does the same insert several times faster.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from django.conf import settings
from django.db import connection, models

_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """None where the database takes the Python value as it is."""
    if isinstance(field, models.ForeignKey):
        return None
    if isinstance(field, _PLAIN) and not isinstance(field, models.JSONField):
        return None
    django_way: Callable[[Any], Any] = lambda value: field.get_db_prep_save(  # noqa: E731
        value, connection=connection
    )
    if connection.vendor == "sqlite":
        return _sqlite_converter(field, django_way) or django_way
    return django_way


def _sqlite_converter(
    field: models.Field[Any, Any], django_way: Callable[[Any], Any]
) -> Callable[[Any], Any] | None:
    """What Django's SQLite backend makes of a value, without its per-value dispatch (a
    third of a bulk insert's time went there): the same text, for the common cases."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder

        def text(value: Any) -> Any:
            if value is None:
                return None
            if not value and type(value) in (list, dict):
                return "[]" if type(value) is list else "{}"
            return json.dumps(value, cls=encoder)

        return text
    if isinstance(field, models.DateTimeField) and settings.USE_TZ and connection.timezone == UTC:

        def moment(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is datetime and value.tzinfo is not None:
                if value.tzinfo is UTC:  # str() of the naive time: isoformat less "+00:00"
                    return value.isoformat(" ")[:-6]
                return str(value.astimezone(UTC).replace(tzinfo=None))
            return django_way(value)

        return moment
    if isinstance(field, models.UUIDField):
        return lambda value: value.hex if type(value) is uuid.UUID else django_way(value)
    return None


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT rows given as Python values in the order of `columns` (model attribute names).

    No signals, no defaults filled in: every NOT NULL column must be given. With
    ignore_conflicts, a row that breaks a unique constraint is skipped (another writer
    inserted the same thing first).
    """
    sql, params = prepared_insert(model, columns, rows, ignore_conflicts=ignore_conflicts)
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def prepared_insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> tuple[str, list[list[Any]]]:
    """`insert_rows`' statement and its parameters, converted for the database but not
    run: another process can make them (a forked one, sharing the settings)."""
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in columns]
    converters = [_converter(f) for f in fields]
    quote = connection.ops.quote_name
    # Names come from the model's metadata, never from input; values go as parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(f.column or f.name) for f in fields),
        ", ".join(["%s"] * len(fields)),
    ) + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    params = [
        [v if conv is None else conv(v) for conv, v in zip(converters, row, strict=True)]
        for row in rows
    ]
    return sql, params


def update_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """UPDATE rows by primary key: each row is the values of `columns` followed by the pk.

    Django's bulk_update writes one CASE WHEN per column over all rows, which grows
    quadratically; this sends one small UPDATE per row in a single executemany.
    """
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in columns]
    converters = [_converter(f) for f in fields]
    quote = connection.ops.quote_name
    pk = cast("models.Field[Any, Any]", model._meta.pk)
    # Names come from the model's metadata, never from input; values go as parameters.
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(f"{quote(f.column or f.name)} = %s" for f in fields),
        quote(pk.column or pk.name),
    )
    params = [
        [
            *(v if conv is None else conv(v) for conv, v in zip(converters, row[:-1], strict=True)),
            row[-1],
        ]
        for row in rows
    ]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def select_in(
    model: type[models.Model],
    columns: Sequence[str],
    field: str,
    values: Iterable[Any],
    *,
    chunk: int = 900,
    **equal: Any,
) -> list[tuple[Any, ...]]:
    """SELECT columns WHERE field IN (values) [AND column = value …], in chunks.

    For hot paths that look up thousands of keys per batch: Django compiles an IN list
    parameter by parameter, which costs more than the indexed lookup itself. Values and
    equalities are plain column values (ints, strings); no conversion is applied.
    """
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        f = cast("models.Field[Any, Any]", model._meta.get_field(name))
        return quote(f.column or f.name)

    wanted = list(values)
    if not wanted:
        return []
    head = "SELECT {} FROM {} WHERE ".format(  # noqa: S608 - names from model metadata
        ", ".join(column(c) for c in columns), quote(model._meta.db_table)
    ) + "".join(f"{column(name)} = %s AND " for name in equal)
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for i in range(0, len(wanted), chunk):
            part = wanted[i : i + chunk]
            cursor.execute(
                head + f"{column(field)} IN ({', '.join(['%s'] * len(part))})",
                [*equal.values(), *part],
            )
            rows.extend(cursor.fetchall())
    return rows


def chunked[T](values: Sequence[T], size: int = 500) -> Iterable[Sequence[T]]:
    """Slices of at most `size` values, for IN (...) lookups of bounded length."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


def reset_sequences(*models: type[models.Model]) -> None:
    """After rows were inserted with explicit ids: PostgreSQL's id sequences continue after
    the highest id (SQLite needs nothing: it takes the next id after the highest)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            # Names come from the model's metadata, never from input.
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
