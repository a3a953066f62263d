"""GET /healthz: is the database reachable, and is the pipeline keeping up?"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from tipline.intake.selectors import pipeline_health

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
