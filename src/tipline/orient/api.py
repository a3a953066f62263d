"""Orient's API: the exchange inbox partners post envelopes to and our public keys
(no token: envelopes are signed), and the analysts' routing actions (staff tokens)."""

from __future__ import annotations

import logging
import re
import time
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Path, Router, Schema, Status
from pydantic import Field, field_validator

from tipline.analyze.services import hosting_record_by_hand
from tipline.common.audit import audit_record
from tipline.harmonize.models import Item
from tipline.harmonize.taxonomy import AgeCategory, Classification, Theme
from tipline.intake.api import MAX_ID, TOKEN_ERRORS, IdPath, InSchema, errors
from tipline.intake.auth import StaffTokenAuth, require_perm
from tipline.intake.choices import TokenScope

from . import keys, selectors, services
from .models import Dispatch

log = logging.getLogger(__name__)

exchange_router = Router(tags=["exchange"])
router = Router(tags=["routing"], auth=StaffTokenAuth(scope=TokenScope.ANALYST))

# How each refusal of an envelope is answered. A sender treats 4xx as final.
EXCHANGE_STATUS = {
    "malformed": 400,
    "bad_claims": 400,
    "expired": 400,
    "unknown_key": 400,
    "unknown_sender": 403,
    "bad_signature": 403,
    "not_for_us": 403,
    "replayed": 409,
}


# A JWE in compact serialization: five base64url parts separated by dots.
JWE_COMPACT = r"^[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){4}$"


class ReceiptOut(Schema):
    receipt: str = Field(description="Our signed receipt (JWS): keep it as proof of delivery")
    status: str = Field(description="received, or duplicate (already received: nothing stored)")
    reference: str


@exchange_router.post(
    "/exchange/inbox",
    auth=None,
    response={200: ReceiptOut, **errors(400, 403, 409, 413)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/jose": {"schema": {"type": "string", "pattern": JWE_COMPACT}}},
            "description": "A sealed envelope (JWE compact). See docs/exchange.md.",
        }
    },
)
def exchange_inbox(request: HttpRequest) -> Status[Any]:
    """A partner hotline delivers an envelope: a report or a status update."""
    token = request.body.decode("ascii", "replace").strip()
    accepted = services.envelope_receive(token=token, remote=request.META.get("REMOTE_ADDR", ""))
    if settings.EXCHANGE_TEST_DELAY_S:
        time.sleep(settings.EXCHANGE_TEST_DELAY_S)
    return Status(
        200,
        {
            "receipt": accepted.receipt,
            "status": "duplicate" if accepted.duplicate else "received",
            "reference": accepted.reference,
        },
    )


@exchange_router.get("/exchange/jwks", auth=None, response=dict[str, Any])
def exchange_jwks(request: HttpRequest) -> dict[str, Any]:
    """Our public keys (JWK Set) and the instance id partners must address us as."""
    return {"instance_id": settings.INSTANCE_ID, **keys.public_jwks()}


class AssessIn(InSchema):
    theme: Theme
    classification: Classification
    age_category: AgeCategory | None = Field(
        None, description="Child sexual abuse material assessed illegal: the apparent age"
    )


class DuplicateIn(InSchema):
    of_item: int = Field(ge=1, le=MAX_ID, description="The item it is the same content as")
    note: str = Field("", max_length=500)


class RemovedIn(InSchema):
    note: str = Field("", max_length=150, description="How you know it is gone")


class ProposeIn(InSchema):
    destination: str = Field(description="A destination code, e.g. police-cyber")
    note: str = Field("", max_length=200)


class CancelIn(InSchema):
    reason: str = Field(min_length=1, max_length=300)


def _user(request: HttpRequest) -> Any:
    return request.auth.user  # type: ignore[attr-defined]


def _item_or_404(item_id: int) -> None:
    if not Item.objects.filter(id=item_id).exists():
        raise services.OrientError(f"there is no item {item_id}", status=404)


# A host as items carry it (canonical: IDNs in their xn-- form, IPv6 in brackets, odd bytes
# %-escaped): printable ASCII, no spaces.
HOST_PATTERN = r"^[!-~]+$"


class HostingIn(InSchema):
    country: str = Field(
        min_length=2,
        max_length=2,
        json_schema_extra={"pattern": "^[A-Za-z]{2}$"},  # checked below, with a clear message
        description="ISO 3166 alpha-2, e.g. DE",
    )
    abuse_email: str = Field("", max_length=254)
    note: str = Field("", max_length=200)

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", v):
            raise ValueError(f"{v!r}: expected an ISO 3166 alpha-2 code such as DE")
        return v


@router.post("/hosts/{host}/hosting", response={200: dict[str, Any], **TOKEN_ERRORS, **errors(400)})
def host_hosting(
    request: HttpRequest,
    host: Annotated[str, Path(pattern=HOST_PATTERN, max_length=253)],
    body: HostingIn,
) -> dict[str, Any]:
    """State where a host is served from and its abuse contact, when the lookup cannot see
    it; its items are routed again."""
    require_perm(request, "orient.state_hosting", "state where a host is")
    try:
        row = hosting_record_by_hand(
            host=host, country=body.country, abuse_email=body.abuse_email, note=body.note
        )
    except ValueError as exc:
        raise services.OrientError(str(exc), status=422) from exc
    audit_record(
        actor=_user(request),
        action="host.hosting",
        target=f"host:{row.host}",
        detail={"country": row.country, "abuse_email": row.abuse_email},
    )
    return {"host": row.host, "country": row.country, "abuse_email": row.abuse_email}


@router.get(
    "/items/{item_id}/routing", response={200: dict[str, Any], **TOKEN_ERRORS, **errors(404)}
)
def item_routing(request: HttpRequest, item_id: IdPath) -> dict[str, Any]:
    """The item's routing decision with its rule and reason, its dispatches, its takedown."""
    require_perm(request, "orient.view_routing", "read routing decisions")
    _item_or_404(item_id)
    audit_record(actor=_user(request), action="item.view", target=f"item:{item_id}")
    return selectors.item_routing(item_id)


@router.post(
    "/items/{item_id}/assess", response={200: dict[str, Any], **TOKEN_ERRORS, **errors(400, 404)}
)
def item_assess(request: HttpRequest, item_id: IdPath, body: AssessIn) -> dict[str, Any]:
    """Record the assessment; the item is routed again on it."""
    require_perm(request, "orient.assess_item", "assess items")
    _item_or_404(item_id)
    return services.item_classify(
        item_id=item_id,
        theme=body.theme,
        classification=body.classification,
        age_category=body.age_category,
        user=_user(request),
    )


@router.post(
    "/items/{item_id}/duplicate", response={200: dict[str, Any], **TOKEN_ERRORS, **errors(400, 404)}
)
def item_duplicate(request: HttpRequest, item_id: IdPath, body: DuplicateIn) -> dict[str, Any]:
    """Close the item as the same content as another: it takes that item's assessment."""
    require_perm(request, "orient.assess_item", "close items as duplicates")
    _item_or_404(item_id)
    return services.item_close_duplicate(
        item_id=item_id, of_item_id=body.of_item, note=body.note, user=_user(request)
    )


@router.post(
    "/items/{item_id}/removed", response={200: dict[str, Any], **TOKEN_ERRORS, **errors(400, 404)}
)
def item_removed(request: HttpRequest, item_id: IdPath, body: RemovedIn) -> dict[str, Any]:
    """An analyst records that the content is gone (checked, or the host said so)."""
    require_perm(request, "orient.record_removal", "record that content is gone")
    _item_or_404(item_id)
    who = getattr(_user(request), "username", "an analyst")
    services.item_removed(
        item_id=item_id,
        how=f"{who}: {body.note or 'checked by an analyst'}",
        user=_user(request),
    )
    return selectors.item_routing(item_id)


@router.post(
    "/items/{item_id}/dispatches",
    response={201: dict[str, Any], **TOKEN_ERRORS, **errors(400, 404, 409)},
)
def dispatch_propose(request: HttpRequest, item_id: IdPath, body: ProposeIn) -> Status[Any]:
    require_perm(request, "orient.propose_dispatch", "propose dispatches")
    d = services.dispatch_propose(
        item_id=item_id, destination_code=body.destination, user=_user(request), note=body.note
    )
    return Status(201, selectors.dispatch_view(d))


@router.post(
    "/dispatches/{dispatch_id}/confirm",
    response={200: dict[str, Any], **TOKEN_ERRORS, **errors(404, 409)},
)
def dispatch_confirm(request: HttpRequest, dispatch_id: IdPath) -> dict[str, Any]:
    """Confirm a proposed dispatch (not your own proposal)."""
    require_perm(request, "orient.confirm_dispatch", "confirm dispatches to police or partners")
    return selectors.dispatch_view(
        services.dispatch_confirm(dispatch_id=_dispatch_id(dispatch_id), user=_user(request))
    )


@router.post(
    "/dispatches/{dispatch_id}/cancel",
    response={200: dict[str, Any], **TOKEN_ERRORS, **errors(400, 404, 409)},
)
def dispatch_cancel(request: HttpRequest, dispatch_id: IdPath, body: CancelIn) -> dict[str, Any]:
    require_perm(request, "orient.cancel_dispatch", "cancel dispatches")
    return selectors.dispatch_view(
        services.dispatch_cancel(
            dispatch_id=_dispatch_id(dispatch_id), user=_user(request), reason=body.reason
        )
    )


class AcknowledgeIn(InSchema):
    reference: str = Field("", max_length=200, description="The office's own reference")


@router.post(
    "/dispatches/{dispatch_id}/acknowledge",
    response={200: dict[str, Any], **TOKEN_ERRORS, **errors(400, 404, 409)},
)
def dispatch_acknowledge(
    request: HttpRequest, dispatch_id: IdPath, body: AcknowledgeIn
) -> dict[str, Any]:
    """An office confirmed, by other means (a liaison officer, a reply), that it has the
    referral we e-mailed."""
    require_perm(request, "orient.acknowledge_dispatch", "record an office's acknowledgement")
    return selectors.dispatch_view(
        services.dispatch_acknowledge(
            dispatch_id=_dispatch_id(dispatch_id), reference=body.reference, user=_user(request)
        )
    )


@router.get("/dispatches", response={200: list[dict[str, Any]], **TOKEN_ERRORS})
def dispatches_list(request: HttpRequest) -> list[dict[str, Any]]:
    """What was dispatched to offices: a liaison officer sees their own office's only."""
    require_perm(request, "orient.view_dispatch", "read dispatches")
    return selectors.dispatches_for_liaison(_user(request))


@router.get("/outbox/problems", response={200: list[dict[str, Any]], **TOKEN_ERRORS})
def outbox_problems(request: HttpRequest) -> list[dict[str, Any]]:
    """Messages refused by their receiver or given up on: the console's alerts."""
    require_perm(request, "orient.view_routing", "read the outbox")
    return [selectors.dispatch_view(d) for d in selectors.outbox_problems()]


def _dispatch_id(dispatch_id: int) -> int:
    if not Dispatch.objects.filter(id=dispatch_id).exists():
        raise services.OrientError(f"there is no dispatch {dispatch_id}", status=404)
    return dispatch_id
