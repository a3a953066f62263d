"""The analysts' API over cross-reference: networks, search by value, the path between two
items, cutting a wrong link. Tokens with the `analyst` scope only."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from tipline.intake.api import MAX_ID, MAX_OFFSET, TOKEN_ERRORS, IdPath, InSchema, errors
from tipline.intake.auth import StaffTokenAuth, require_perm
from tipline.intake.choices import TokenScope

from . import core, selectors, services

router = Router(tags=["networks"], auth=StaffTokenAuth(scope=TokenScope.ANALYST))


# What may be searched (crypto is another name for wallet) and what may be decided on:
# closed vocabularies, so a request outside them is refused by its schema (422).
# Spelled out for the type checker; tests/hardening/test_api_fuzz.py holds them to core's.
SearchType = Literal["phone", "email", "handle", "wallet", "crypto", "domain", "image"]
ValueKind = Literal[
    "shared_phone", "shared_email", "shared_handle", "shared_wallet", "shared_domain", "same_image"
]


class SearchIn(InSchema):
    type: SearchType = Field(description="phone, email, handle, wallet, domain or image (SHA-256)")
    value: str = Field(min_length=1, max_length=2048)
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PathIn(InSchema):
    from_item: int = Field(ge=1, le=MAX_ID)
    to_item: int = Field(ge=1, le=MAX_ID)


class CutIn(InSchema):
    reason: str = Field(
        max_length=255,
        pattern=r"^[^\x00]*[^\x00\s][^\x00]*$",  # something said, and no NUL
        description="Why the link is wrong; kept with the cut",
    )


class DecideIn(InSchema):
    kind: ValueKind
    value: str = Field(max_length=core.MAX_VALUE_CHARS)
    decision: Literal["confirmed", "released"] = Field(
        description="'confirmed' (noise, never links) or 'released'"
    )


@router.get("/networks/{network_id}", response={200: dict[str, Any], **TOKEN_ERRORS, **errors(404)})
def network_detail(request: HttpRequest, network_id: IdPath) -> Status[dict[str, Any]]:
    require_perm(request, "crossref.view_network", "read networks")
    summary = selectors.network_summary(network_id)
    if summary is None:
        return Status(404, {"detail": f"there is no network {network_id}", "errors": []})
    return Status(200, summary)


@router.get(
    "/networks/{network_id}/path", response={200: dict[str, Any], **TOKEN_ERRORS, **errors(404)}
)
def network_path(
    request: HttpRequest, network_id: IdPath, q: Query[PathIn]
) -> Status[dict[str, Any]]:
    require_perm(request, "crossref.view_network", "read networks")
    steps = selectors.link_path(q.from_item, q.to_item)
    if steps is None:
        return Status(
            404,
            {
                "detail": f"items {q.from_item} and {q.to_item} are not linked in one network",
                "errors": [],
            },
        )
    return Status(200, {"from_item": q.from_item, "to_item": q.to_item, "steps": steps})


@router.get("/observables/search", response={200: dict[str, Any], **TOKEN_ERRORS})
def observable_search(request: HttpRequest, q: Query[SearchIn]) -> Status[dict[str, Any]]:
    require_perm(request, "crossref.view_network", "search by value")
    try:
        found = selectors.items_for_value(
            type_=q.type, value=q.value, limit=q.limit, offset=q.offset
        )
    except selectors.UnknownType as e:
        return Status(422, {"detail": str(e), "errors": [{"field": "type", "message": str(e)}]})
    return Status(200, found)


@router.post(
    "/links/{link_id}/cut", response={200: dict[str, Any], **TOKEN_ERRORS, **errors(400, 404)}
)
def link_cut(request: HttpRequest, link_id: IdPath, body: CutIn) -> Status[dict[str, Any]]:
    require_perm(request, "crossref.cut_link", "cut links")
    try:
        link = services.link_cut(
            link_id=link_id,
            by=request.auth.user,  # type: ignore[attr-defined]
            reason=body.reason,
        )
    except services.NotFound as e:
        return Status(404, {"detail": str(e), "errors": []})
    except services.CrossrefError as e:
        return Status(422, {"detail": str(e), "errors": [{"field": "reason", "message": str(e)}]})
    return Status(200, selectors.link_out(link))


@router.post(
    "/common-values/decide",
    response={200: dict[str, Any], **TOKEN_ERRORS, **errors(400, 404)},
)
def common_value_decide(request: HttpRequest, body: DecideIn) -> Status[dict[str, Any]]:
    require_perm(request, "crossref.decide_commonvalue", "decide on common values")
    try:
        row = services.common_value_decide(
            kind=body.kind,
            value=body.value,
            decision=body.decision,
            by=request.auth.user,  # type: ignore[attr-defined]
        )
    except services.NotFound as e:
        return Status(404, {"detail": str(e), "errors": []})
    except services.CrossrefError as e:
        return Status(422, {"detail": str(e), "errors": []})
    return Status(
        200,
        {"kind": row.kind, "value": row.value, "decision": row.decision, "items": row.item_count},
    )
