"""The analysts' queue over the API: what waits for an assessment, and claiming items.
The console's pages (issue #7) read the same selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from tipline.intake.api import MAX_ID, MAX_OFFSET, TOKEN_ERRORS, IdPath, InSchema, errors
from tipline.intake.auth import StaffTokenAuth, require_perm
from tipline.intake.choices import TokenScope
from tipline.orient.services import OrientError

from . import selectors, services

router = Router(tags=["queue"], auth=StaffTokenAuth(scope=TokenScope.ANALYST))


class QueueIn(InSchema):
    theme: str = ""
    priority: str = Field("", pattern=r"^(P[1-4])?$")
    channel: str = ""
    country: str = Field("", max_length=2)
    network: int | None = Field(None, ge=1, le=MAX_ID)
    mine: bool = False
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def _user(request: HttpRequest) -> Any:
    return request.auth.user  # type: ignore[attr-defined]


@router.get("/queue", response={200: dict[str, Any], **TOKEN_ERRORS})
def queue(request: HttpRequest, q: Query[QueueIn]) -> dict[str, Any]:
    """Items waiting for an assessment: P1 first, then the oldest; with SLA and claims."""
    require_perm(request, "orient.view_routing", "read the queue")
    filters = selectors.QueueFilters(
        theme=q.theme,
        priority=q.priority,
        channel=q.channel,
        country=q.country,
        network=q.network,
        mine=q.mine,
    )
    return selectors.queue_for_analyst(
        user=_user(request), filters=filters, limit=q.limit, offset=q.offset
    )


@router.post(
    "/items/{item_id}/claim", response={200: dict[str, Any], **TOKEN_ERRORS, **errors(404, 409)}
)
def item_claim(request: HttpRequest, item_id: IdPath) -> dict[str, Any]:
    """Take the item (or extend your claim); 409 while someone else holds it."""
    require_perm(request, "orient.assess_item", "claim items")
    try:
        claim = services.item_claim(item_id=item_id, user=_user(request))
    except services.ClaimRefused as exc:
        raise OrientError(str(exc), status=exc.status) from exc
    return {
        "item_id": item_id,
        "claimed_by": _user(request).get_username(),
        "expires_at": claim.expires_at,
    }


@router.post("/items/{item_id}/release", response={200: dict[str, Any], **TOKEN_ERRORS})
def item_release(request: HttpRequest, item_id: IdPath) -> dict[str, Any]:
    require_perm(request, "orient.assess_item", "release items")
    try:
        services.item_release(item_id=item_id, user=_user(request))
    except services.ClaimRefused as exc:
        raise OrientError(str(exc), status=exc.status) from exc
    return {"item_id": item_id, "claimed_by": None}
