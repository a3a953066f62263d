"""Refuse oversized request bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from tipline.common.evidence import EvidenceStoreError


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


def holds_nul(value: Any) -> bool:
    """Whether a value (text, or lists and mappings of them) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


class NulCharacterMiddleware:
    """Refuse a NUL character in a page's address, query string or form (400).

    No parameter means one, and PostgreSQL can neither store nor compare text holding it
    (every filter given one would fail). Files in a form are not looked at (they hold
    NULs). The API's schemas refuse NUL themselves, naming the field
    (`tipline.intake.api.InSchema`, and intake's report checks).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return self.get_response(request)
        where = ""
        if "\x00" in request.path_info:
            where = "the address"
        elif "%00" in request.META.get("QUERY_STRING", "").lower():
            where = "the query string"
        elif request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            if any(holds_nul({key: values}) for key, values in request.POST.lists()):
                where = "the form"
        if not where:
            return self.get_response(request)
        return HttpResponse(
            f"A NUL character (%00) is not accepted in {where}.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )


class DatabaseUnavailableMiddleware:
    """Answer 503 with a plain explanation when the database cannot be reached, or when
    the evidence store cannot keep an upload (a full disk; the API says so itself).

    A report is only acknowledged once committed, so the sender knows to send it again.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError | EvidenceStoreError):
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
