"""Staff views of Orient until the console exists: the destinations directory and the
routing rules are edited here (rules are checked by the same validator as the YAML
import); the outbox is read-only, with confirm, retry and cancel actions that go through
the services (four eyes included)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tipline.common.admin import AuditedAdmin
from tipline.intake.admin import ReadOnly

from . import exchange, services
from .models import Destination, Dispatch, Routing, Rule, Takedown


class DestinationForm(forms.ModelForm):
    class Meta:
        model = Destination
        fields = (
            "kind",
            "code",
            "name",
            "country",
            "themes",
            "email",
            "language",
            "endpoint_url",
            "instance_id",
            "public_jwks",
            "inhope_member",
            "is_active",
            "note",
        )

    def clean_public_jwks(self) -> Any:
        jwks = self.cleaned_data.get("public_jwks") or {}
        if self.cleaned_data.get("kind") != "partner" or not jwks:
            return jwks
        try:
            return exchange.check_public_jwks(jwks)
        except exchange.ExchangeError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == "partner":
            missing = [f for f in ("country", "endpoint_url", "instance_id") if not data.get(f)]
            if missing:
                raise forms.ValidationError(f"a partner hotline needs {', '.join(missing)}")
        elif kind in ("office", "host") and not data.get("email"):
            raise forms.ValidationError("offices and hosts are reached by e-mail: give one")
        return data


@admin.register(Destination)
class DestinationAdmin(AuditedAdmin, admin.ModelAdmin):
    form = DestinationForm
    list_display = ("code", "name", "kind", "country", "email", "endpoint_url", "is_active")
    list_filter = ("kind", "is_active", "country")
    search_fields = ("code", "name", "email", "instance_id")
    filter_horizontal = ("liaisons",)


@admin.register(Rule)
class RuleAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ("position", "name", "description", "final", "enabled", "updated_at")
    list_editable = ("enabled",)
    list_display_links = ("name",)
    ordering = ("position", "id")
    search_fields = ("name", "description")


@admin.register(Routing)
class RoutingAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("item", "rules", "hold", "escalate", "close_as", "is_current", "decided_at")
    list_filter = ("is_current", "hold", "escalate", "close_as")
    raw_id_fields = ("item",)


@admin.register(Dispatch)
class DispatchAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "item",
        "destination",
        "address",
        "state",
        "waiting_for",
        "attempts",
        "last_error",
        "created_at",
    )
    list_filter = ("state", "kind", "destination__kind")
    search_fields = ("envelope_id", "reference", "destination__code")
    raw_id_fields = ("item", "routing")
    actions = ("confirm", "retry", "cancel")

    def _each(self, request: HttpRequest, queryset: QuerySet[Dispatch], call: Any) -> None:
        done = 0
        for d in queryset:
            try:
                call(d)
                done += 1
            except services.OrientError as exc:
                self.message_user(request, f"#{d.id}: {exc}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} dispatch(es) done", messages.SUCCESS)

    def has_confirm_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orient.confirm_dispatch")

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orient.cancel_dispatch")

    @admin.action(description="Confirm (not your own proposal)", permissions=["confirm"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[Dispatch]) -> None:
        self._each(
            request,
            queryset,
            lambda d: services.dispatch_confirm(dispatch_id=d.id, user=request.user),  # type: ignore[arg-type]
        )

    @admin.action(description="Retry (failed or undeliverable)", permissions=["manage"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Dispatch]) -> None:
        self._each(
            request,
            queryset,
            lambda d: services.dispatch_retry(dispatch_id=d.id, user=request.user),  # type: ignore[arg-type]
        )

    @admin.action(description="Cancel (not sent yet)", permissions=["manage"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Dispatch]) -> None:
        self._each(
            request,
            queryset,
            lambda d: services.dispatch_cancel(
                dispatch_id=d.id,
                user=request.user,  # type: ignore[arg-type]
                reason=f"cancelled in the admin by {request.user}",
            ),
        )


@admin.register(Takedown)
class TakedownAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "item",
        "host",
        "country",
        "state",
        "notices",
        "escalated_at",
        "first_notice_at",
        "last_check",
        "removed_at",
    )
    list_filter = ("state", "country")
    search_fields = ("host",)
    raw_id_fields = ("item",)
