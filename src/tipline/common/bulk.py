"""Fast multi-row INSERT for hot paths (bulk intake, pipeline bookkeeping).

Django's bulk_create compiles SQL value by value (about 0.1 ms a row here); one
executemany with per-field converters does the same insert several times faster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from django.db import connection, models

_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """None where the database takes the Python value as it is."""
    if isinstance(field, models.ForeignKey):
        return None
    if isinstance(field, _PLAIN) and not isinstance(field, models.JSONField):
        return None
    return lambda value: field.get_db_prep_save(value, connection=connection)


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
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


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
