"""The admin site, behind the same two-factor rule as the console."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


class StaffAdminSite(admin.AdminSite):
    """Staff who gave a password alone do not get in when two-factor is required: they
    sign in through the console (password, then a TOTP code)."""

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not settings.REQUIRE_2FA or bool(request.user.is_verified())  # type: ignore[union-attr]

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not settings.REQUIRE_2FA:
            return super().login(request, extra_context)
        target = request.GET.get("next", "/admin/")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "/admin/"
        return redirect(f"{reverse('console:login')}?next={target}")
