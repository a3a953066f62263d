"""Staff views of intake until the console exists: read-only, since reports never change;
staff API tokens are made with `tipline tokens add` and can be revoked here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import Provider, Report, ReportMedia, StaffToken, StageRun


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MediaInline(ReadOnlyInline):
    model = ReportMedia
    fields = ("filename", "content_type", "size", "width", "height", "sha256")
    readonly_fields = fields


class StageRunInline(ReadOnlyInline):
    model = StageRun
    fields = ("stage", "finished_at", "worker_id")
    readonly_fields = fields


@admin.register(Report)
class ReportAdmin(ReadOnly):
    list_display = ("id", "received_at", "channel", "category", "state", "provider")
    list_filter = ("state", "channel", "received_at")
    search_fields = ("=receipt", "=external_id", "description", "excerpt")
    inlines = [MediaInline, StageRunInline]
    list_select_related = ("provider",)


@admin.register(Provider)
class ProviderAdmin(ReadOnly):
    list_display = ("name", "token_prefix", "is_active", "created_at")
    exclude = ("token_hash",)


@admin.register(StaffToken)
class StaffTokenAdmin(admin.ModelAdmin):
    list_display = (
        "token_prefix",
        "user",
        "name",
        "scope_list",
        "is_active",
        "last_used_at",
        "expires_at",
        "created_at",
    )
    list_filter = ("is_active",)
    search_fields = ("=token_prefix", "user__username", "name")
    list_select_related = ("user",)
    fields = (
        "token_prefix",
        "user",
        "name",
        "scopes",
        "is_active",
        "created_at",
        "last_used_at",
        "expires_at",
    )
    # Every field is read-only: a token is created by `tipline tokens add` (which shows it
    # once) and changed only by revoking it, with the action below.
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="scopes")
    def scope_list(self, obj: StaffToken) -> str:
        return ", ".join(obj.scopes)

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[StaffToken]) -> None:
        ids = list(queryset.filter(is_active=True).values_list("id", flat=True))
        for token_id in ids:
            services.staff_token_revoke(token_id=token_id)
        self.message_user(request, f"{len(ids)} token(s) revoked.", messages.SUCCESS)
