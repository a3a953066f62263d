"""Staff views of cross-reference until the console exists. The allowlist is edited here
(through the services, so links are withdrawn or re-made at once); common values are
confirmed or released; links and networks are read-only records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tipline.common.admin import AuditedAdmin
from tipline.intake.admin import ReadOnly

from . import services
from .models import AllowedValue, CommonValue, Link, Network, NetworkEvent


@admin.register(AllowedValue)
class AllowedValueAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ("kind", "value", "note", "created_at")
    list_filter = ("kind",)
    search_fields = ("value", "note")
    fields = ("kind", "value", "note")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("kind", "value") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: AllowedValue, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["note"])
            return
        saved = services.allowed_value_add(kind=obj.kind, value=obj.value, note=obj.note)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: AllowedValue) -> None:
        services.allowed_value_remove(allowed_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AllowedValue]) -> None:
        for pk in list(queryset.values_list("pk", flat=True)):
            services.allowed_value_remove(allowed_id=pk)


@admin.register(CommonValue)
class CommonValueAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("kind", "value", "item_count", "listed_at", "decision", "decided_by")
    list_filter = ("decision", "kind")
    search_fields = ("value",)
    actions = ("confirm", "release")

    def _decide(self, request: HttpRequest, queryset: QuerySet[CommonValue], decision: str) -> None:
        for row in queryset:
            services.common_value_decide(
                kind=row.kind,
                value=row.value,
                decision=decision,
                by=request.user,  # type: ignore[arg-type]
            )
        self.message_user(request, f"{queryset.count()} value(s) {decision}", messages.SUCCESS)

    @admin.action(description="Confirm: common, never links")
    def confirm(self, request: HttpRequest, queryset: QuerySet[CommonValue]) -> None:
        self._decide(request, queryset, CommonValue.Decision.CONFIRMED)

    @admin.action(description="Release: links again")
    def release(self, request: HttpRequest, queryset: QuerySet[CommonValue]) -> None:
        self._decide(request, queryset, CommonValue.Decision.RELEASED)


@admin.register(Link)
class LinkAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "item_a", "item_b", "kind", "value", "state", "created_at")
    list_filter = ("kind", "state")
    search_fields = ("value",)
    raw_id_fields = ("item_a", "item_b")


class EventInline(admin.TabularInline):
    model = NetworkEvent
    fk_name = "network"
    fields = ("kind", "other", "link", "detail", "at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Network)
class NetworkAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "item_count", "created_at", "updated_at", "merged_into")
    inlines = (EventInline,)
