"""Refuse oversized request bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse


def body_limit_for(path: str) -> int:
    """The largest body (bytes) accepted on `path`; the limits are documented in README."""
    if path.startswith("/api/v1/reports/bulk"):
        return settings.INTAKE_MAX_BULK_BYTES
    if path.startswith("/api/"):
        return settings.INTAKE_MAX_REPORT_BYTES
    if path.startswith(("/report", "/fr/signaler")):
        return settings.INTAKE_MAX_FORM_BYTES
    return 1024 * 1024


class BodySizeLimitMiddleware:
    """Answer 413 from the Content-Length header alone, so a 2 GB body is never buffered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit_for(request.path)
        if length > limit:
            message = (
                f"request body is {length} bytes; the limit on {request.path} is {limit} bytes"
            )
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Answer 503 with a plain explanation when the database cannot be reached.

    A report is only acknowledged once committed, so the sender knows to send it again.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        message = "the database is unavailable; nothing was stored, please try again later"
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": message, "errors": []}, status=503)
        else:
            response = HttpResponse(
                "Tipline is temporarily unavailable. Nothing was stored: please try again in a "
                "few minutes.\nTipline est momentanément indisponible. Rien n'a été enregistré : "
                "merci de réessayer dans quelques minutes.\n",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        response["Retry-After"] = "60"
        return response
