"""Who is calling the API: a service provider, or a staff member with a scoped token."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from . import selectors, services
from .choices import TokenScope
from .models import Provider, StaffToken


class ProviderAuth(HttpBearer):
    """A service provider's token; `request.auth` is the Provider."""

    def authenticate(self, request: HttpRequest, token: str) -> Provider | None:
        return selectors.provider_by_token(token)


class StaffTokenAuth(HttpBearer):
    """A staff member's token granting `scope`; `request.auth` is the StaffToken, so
    `request.auth.user` is the staff member calling."""

    def __init__(self, *, scope: str) -> None:
        # An unknown scope fails here, where the route is declared, not on every request.
        self.scope = TokenScope(scope)
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> StaffToken | None:
        staff_token = selectors.staff_by_token(token, scope=self.scope)
        if staff_token is not None:
            services.staff_token_touch(token=staff_token)
        return staff_token


class Forbidden(Exception):
    """The caller is known but their role does not allow this; answered 403."""


def require_perm(request: HttpRequest, perm: str, doing: str) -> None:
    """Refuse the call unless the staff member behind the token holds `perm` through
    their role (a Django group) — `doing` says what was refused, in words."""
    user = getattr(request.auth, "user", None)  # type: ignore[attr-defined]
    if user is None or not user.is_active or not user.has_perm(perm):
        raise Forbidden(f"your role does not allow you to {doing} ({perm})")
