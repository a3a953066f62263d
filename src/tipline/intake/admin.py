"""Staff views of intake until the console exists: read-only, since reports never change."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Provider, Report, ReportMedia, StageRun


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
