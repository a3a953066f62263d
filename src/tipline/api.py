"""The HTTP API at /api/v1/: routers from each stage, errors mapped to HTTP in one place."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from tipline.common.evidence import EvidenceStoreError
from tipline.console.api import router as console_router
from tipline.crossref.api import router as crossref_router
from tipline.intake.api import NO_NUL
from tipline.intake.api import router as intake_router
from tipline.intake.auth import Forbidden
from tipline.intake.core import FieldError, IntakeError, ReportIn
from tipline.orient.api import EXCHANGE_STATUS, exchange_router
from tipline.orient.api import router as orient_router
from tipline.orient.exchange import ExchangeError
from tipline.orient.services import OrientError

log = logging.getLogger("tipline.exchange")


def _texts_without_nul(node: Any) -> None:
    """Say of every text the API takes that it holds no NUL character (InSchema and intake
    refuse one); texts with a pattern of their own already exclude it."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(node):
            node["pattern"] = NO_NUL
        for value in node.values():
            _texts_without_nul(value)
    elif isinstance(node, list):
        for value in node:
            _texts_without_nul(value)


class TiplineAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        # ReportIn documents bodies that are read by hand; publish it as a component.
        report = ReportIn.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(report.pop("$defs", {}))
        components["ReportIn"] = report
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                _texts_without_nul(operation.get("parameters", []))
                _texts_without_nul(operation.get("requestBody", {}))
        # What callers send is named …In (ReportIn, ReporterIn, CutIn…); answers are not.
        _texts_without_nul([v for k, v in components.items() if k.endswith("In")])
        return schema


api = TiplineAPI(
    title="Tipline API",
    version="1",
    description="Report illegal online content to the hotline, and follow what happens to it.",
    urls_namespace="api",
)
api.add_router("/", intake_router)
api.add_router("/", crossref_router)
api.add_router("/", orient_router)
api.add_router("/", exchange_router)
api.add_router("/", console_router)


def _error(
    request: HttpRequest, status: int, detail: str, errors: list[FieldError]
) -> HttpResponse:
    return api.create_response(
        request, {"detail": detail, "errors": [e.as_dict() for e in errors]}, status=status
    )


@api.exception_handler(IntakeError)
def on_intake_error(request: HttpRequest, exc: IntakeError) -> HttpResponse:
    return _error(request, exc.status, exc.detail, exc.errors)


@api.exception_handler(EvidenceStoreError)
def on_evidence_store_error(request: HttpRequest, exc: EvidenceStoreError) -> HttpResponse:
    # Nothing was stored: the report's files are written before the report itself.
    response = _error(request, 503, f"{exc}; nothing was stored, send the report again later", [])
    response["Retry-After"] = "60"
    return response


@api.exception_handler(Forbidden)
def on_forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
    return _error(request, 403, str(exc), [])


@api.exception_handler(OrientError)
def on_orient_error(request: HttpRequest, exc: OrientError) -> HttpResponse:
    return _error(request, exc.status, str(exc), [])


@api.exception_handler(ExchangeError)
def on_exchange_error(request: HttpRequest, exc: ExchangeError) -> HttpResponse:
    # Refused envelopes are logged (who, why), never stored.
    log.warning(
        "envelope refused (%s) from %s: %s", exc.code, request.META.get("REMOTE_ADDR", "?"), exc
    )
    response = _error(request, EXCHANGE_STATUS.get(exc.code, 400), str(exc), [])
    response["X-Tipline-Refusal"] = exc.code
    return response


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request,
        401,
        "missing or invalid token: send 'Authorization: Bearer <token>' with the token "
        "created by `tipline providers add`",
        [],
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    """A field as the caller names it: ("body", "body", "country") is "country"."""
    parts = list(loc)
    if parts[:1] == ["body"] and len(parts) > 2:
        parts = parts[2:]  # the location, then the view's name for the body
    elif parts[:1] and parts[0] in ("path", "query", "header", "cookie", "body"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        FieldError(
            _field_name(tuple(e.get("loc", ()))),
            str(e.get("msg", "invalid")).removeprefix("Value error, "),
        )
        for e in exc.errors
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
    return _error(request, 422, f"invalid request parameters ({detail})", errors)
