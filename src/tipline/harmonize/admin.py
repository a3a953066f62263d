"""Staff views of Harmonize's tables until the console exists. Provider labels are edited
here; items, links and fingerprints are read-only records."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from tipline.intake.admin import ReadOnly

from .models import Item, MediaFile, ProviderLabel, ReportItem


@admin.register(ProviderLabel)
class ProviderLabelAdmin(admin.ModelAdmin):
    list_display = ("provider", "label", "theme")
    list_filter = ("provider", "theme")
    search_fields = ("label",)


class ReportLinkInline(admin.TabularInline):
    model = ReportItem
    fields = ("report", "as_reported", "effect")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(ReadOnly):
    list_display = (
        "id",
        "kind",
        "__str__",
        "theme",
        "classification",
        "report_count",
        "needs_assessment",
        "last_reported_at",
    )
    list_filter = ("kind", "theme", "classification", "needs_assessment")
    search_fields = ("=key", "url", "host", "=sha256")
    inlines = [ReportLinkInline]


@admin.register(MediaFile)
class MediaFileAdmin(ReadOnly):
    list_display = ("sha256", "format", "width", "height", "pdq_quality", "problem")
    search_fields = ("=sha256", "=md5", "=sha1", "=pdq")
