"""The provider API: submit reports one by one or in bulk, and follow them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Path, Router, Schema, Status
from pydantic import field_validator

from . import core, selectors, services
from .auth import ProviderAuth
from .choices import Channel
from .core import BodyInvalid, FieldError, MediaDraft, TooLarge, UnsupportedMediaType


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


class ReportCreatedOut(Schema):
    id: int
    receipt: str
    state: str
    external_id: str | None


class BulkAcceptedOut(Schema):
    index: int
    id: int
    external_id: str | None
    repeat: bool


class BulkRejectedOut(Schema):
    index: int
    errors: list[FieldErrorOut]


class BulkOut(Schema):
    detail: str
    accepted: list[BulkAcceptedOut]
    rejected: list[BulkRejectedOut]


class ReportOut(Schema):
    id: int
    external_id: str | None
    receipt: str
    state: str
    received_at: datetime
    failed_stage: str | None
    item_ids: list[int]
    network_ids: list[int]
    observables: list[dict[str, Any]]
    risk: int | None = None
    priority: str | None = None
    routing: list[dict[str, Any]]


# Row ids are 64-bit integers: a larger number is refused (422) before it reaches the
# database, which cannot even compare it (SQLite raises OverflowError). Paging stops at a
# billion rows, far past any list here, so offset + limit stays within 64 bits too.
MAX_ID = 2**63 - 1
MAX_OFFSET = 10**9
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


NO_NUL = "^[^\\u0000]*$"


class InSchema(Schema):
    """What a caller sends (a body, query parameters): no text in it may hold a NUL
    character, which is no text and which PostgreSQL can neither store nor compare. The
    published schema says so (`NO_NUL`, added to every text by `tipline.api`)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("a NUL character (\\u0000) is not text: remove it")
        return value


def errors(*codes: int) -> dict[int, Any]:
    """The refusals an operation documents, each answered with an ErrorOut body."""
    return {code: ErrorOut for code in codes}


# Every operation behind a staff token can answer 401 (no token or a bad one), 403 (a role
# without the permission) and 422 (parameters or body outside the schema); operations add
# their own: 400 for a body that is not JSON, 404, 409.
TOKEN_ERRORS = errors(401, 403, 422)
# Reports: 503 when the database or the evidence store cannot take them (nothing stored).
ERRORS = errors(400, 401, 409, 413, 415, 422, 503)

# The request bodies are read by hand (JSON or multipart, and bulk entries one by one so
# good entries survive bad ones), so their shapes are documented here.
_REPORT_REF = {"$ref": "#/components/schemas/ReportIn"}
REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _REPORT_REF},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["report"],
                    "properties": {
                        "report": {"type": "string", "description": "The report as JSON"},
                        "media": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "Image files (JPEG, PNG, GIF, WebP)",
                        },
                    },
                }
            },
        },
    }
}
BULK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": _REPORT_REF,
                    "minItems": 1,
                    "maxItems": 10_000,
                }
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One report JSON object per line"}
            },
        },
    }
}

router = Router(tags=["reports"], auth=ProviderAuth())


def _multipart_media(request: HttpRequest) -> list[MediaDraft]:
    limit = settings.INTAKE_MAX_MEDIA_BYTES
    files = request.FILES.getlist("media")
    if len(files) > core.MAX_MEDIA:
        raise core.ReportInvalid(
            "too many files", [FieldError("media", f"at most {core.MAX_MEDIA} files")]
        )
    media = []
    for i, f in enumerate(files):
        if f.size is not None and f.size > limit:
            raise TooLarge(
                f"media[{i}] is larger than the limit of {limit} bytes",
                [FieldError(f"media[{i}]", f"file larger than {limit} bytes")],
            )
        try:
            media.append(
                core.check_image(
                    f.read(), f.name or f"media-{i}", max_bytes=limit, content_type=f.content_type
                )
            )
        except core.IntakeError as e:
            raise type(e)(e.detail, [FieldError(f"media[{i}]", e.detail)]) from None
    return media


@router.post(
    "/reports",
    response={200: ReportCreatedOut, 201: ReportCreatedOut, **ERRORS},
    openapi_extra=REPORT_BODY,
    summary="Submit one report",
    description="201 with the new report; 200 with the first report when external_id repeats "
    "an earlier submission unchanged; 409 when it names a different report.",
)
def report_create(request: HttpRequest) -> Status[dict[str, Any]]:
    extra_media: list[MediaDraft] = []
    if request.content_type == "application/json":
        obj = core.read_json_object(request.body)
    elif request.content_type == "multipart/form-data":
        raw = request.POST.get("report")
        if raw is None:
            raise BodyInvalid(
                "a multipart report needs a 'report' field holding its JSON",
                [FieldError("report", "missing")],
            )
        obj = core.read_json_object(raw.encode())
        extra_media = _multipart_media(request)
    else:
        raise UnsupportedMediaType(
            f"Content-Type {request.content_type or 'missing'} is not accepted: send "
            "application/json, or multipart/form-data with a 'report' field and 'media' files"
        )
    draft = core.parse_report(
        obj, max_media_bytes=settings.INTAKE_MAX_MEDIA_BYTES, extra_media=extra_media
    )
    provider = request.auth  # type: ignore[attr-defined]
    [outcome] = services.reports_receive(
        drafts=[(0, draft)], channel=Channel.PROVIDER, provider=provider
    )
    if isinstance(outcome, services.Refused):
        raise core.Conflict(outcome.errors[0].message, outcome.errors)
    return Status(
        201 if outcome.created else 200,
        {
            "id": outcome.report_id,
            "receipt": outcome.receipt,
            "state": outcome.state,
            "external_id": outcome.external_id,
        },
    )


@router.post(
    "/reports/bulk",
    response={202: BulkOut, **ERRORS},
    openapi_extra=BULK_BODY,
    summary="Submit up to 10,000 reports",
    description="Good entries are stored even when others are refused: `accepted` lists them "
    "(by index in the body), `rejected` says what is wrong with the others.",
)
def report_bulk(request: HttpRequest) -> Status[dict[str, Any]]:
    entries = core.read_bulk(
        request.body, request.content_type or "", max_reports=settings.INTAKE_MAX_BULK_REPORTS
    )
    drafts: list[tuple[int, core.ReportDraft]] = []
    rejected: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        try:
            drafts.append(
                (
                    index,
                    core.parse_bulk_entry(entry, max_media_bytes=settings.INTAKE_MAX_MEDIA_BYTES),
                )
            )
        except core.IntakeError as e:
            errors = e.errors or [FieldError("body", e.detail)]
            rejected.append({"index": index, "errors": [x.as_dict() for x in errors]})
    accepted: list[dict[str, Any]] = []
    if drafts:
        for outcome in services.reports_receive(
            drafts=drafts,
            channel=Channel.PROVIDER,
            provider=request.auth,  # type: ignore[attr-defined]
        ):
            if isinstance(outcome, services.Refused):
                rejected.append(
                    {"index": outcome.index, "errors": [x.as_dict() for x in outcome.errors]}
                )
            else:
                accepted.append(
                    {
                        "index": outcome.index,
                        "id": outcome.report_id,
                        "external_id": outcome.external_id,
                        "repeat": not outcome.created,
                    }
                )
    rejected.sort(key=lambda r: r["index"])
    detail = f"{len(accepted)} accepted, {len(rejected)} rejected"
    if rejected:
        detail += "; accepted entries are stored, fix and resend only the rejected ones"
    return Status(202, {"detail": detail, "accepted": accepted, "rejected": rejected})


@router.get(
    "/reports/{report_id}",
    response={200: ReportOut, **errors(401, 404, 422)},
    summary="Follow a report you sent",
)
def report_detail(request: HttpRequest, report_id: IdPath) -> Status[dict[str, Any]]:
    provider = request.auth  # type: ignore[attr-defined]
    view = selectors.report_for_provider(provider=provider, report_id=report_id)
    if view is None:
        return Status(404, {"detail": f"no report {report_id} from your organisation"})
    return Status(200, view)
