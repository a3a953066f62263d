"""GET /healthz: is the database reachable, and is the pipeline keeping up? GET /metrics:
the same and more for Prometheus, to holders of the metrics token."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from tipline.intake.selectors import pipeline_health

from . import metrics as tipline_metrics
from .models import WorkerHeartbeat


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        queue = pipeline_health()
        cutoff = timezone.now() - timedelta(seconds=settings.WORKER_DEAD_AFTER_S)
        workers = WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).count()
    except DatabaseError as e:
        return JsonResponse(
            {"status": "error", "database": {"ok": False, "error": str(e)[:500]}}, status=503
        )
    return JsonResponse(
        {
            "status": "ok",
            "database": {"ok": True, "vendor": connection.vendor},
            "queue": queue,
            "workers": {"alive": workers},
        }
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics for `Authorization: Bearer $TIPLINE_METRICS_TOKEN`: 401 without
    credentials, 403 with others (or when no token is configured: metrics are off)."""
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        response = HttpResponse("metrics need a bearer token\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    expected = settings.METRICS_TOKEN
    if not expected or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        return HttpResponse("not the metrics token\n", status=403)
    response = HttpResponse(tipline_metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
