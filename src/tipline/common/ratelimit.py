"""Rate limits for public pages, counted in the database.

The database, not a per-process cache: waitress answers from several threads, `tipline
serve` may run beside other instances, and only a shared table counts every request once.
One upsert per request (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, on SQLite and
PostgreSQL) increments the client's count for the current window and returns it, so two
requests at once never both see room for one. Windows are fixed (a burst of up to twice
the rate can straddle two of them): simple to explain in a Retry-After."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from .models import RateCount
from .rates import Rate, client_key

_clock = time.time  # tests move it to the next window


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind a reverse proxy the last address in the
    header it sets (TIPLINE_CLIENT_IP_HEADER), which clients cannot choose."""
    header = settings.CLIENT_IP_HEADER
    if header:
        forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return str(request.META.get("REMOTE_ADDR", ""))


def rate_hit(*, scope: str, request: HttpRequest, rate: Rate | None) -> int | None:
    """Count this request against its client; None if it may go on, else the whole seconds
    until the client's window ends (for Retry-After)."""
    if rate is None:
        return None
    now = _clock()
    window, left = rate.window(now)
    client = client_key(client_address(request), settings.SECRET_KEY)
    table = connection.ops.quote_name(RateCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, client, period_start, expires, count) "  # noqa: S608 - table name from the model, values bound
            "VALUES (%s, %s, %s, %s, 1) "
            "ON CONFLICT (scope, client, period_start) "
            f"DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [scope, client, window, math.ceil(now + left)],
        )
        (count,) = cursor.fetchone()
        if count == 1:  # a new window for this client: forget windows that have ended
            cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [int(now)])  # noqa: S608
    return None if count <= rate.count else max(1, math.ceil(left))
