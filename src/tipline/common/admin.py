"""Admin pieces every stage uses: settings changed in the admin go to the audit log, and
supervisors read (never change) the audit log itself."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .audit import audit_record
from .models import AuditRecord


class AuditedAdmin(admin.ModelAdmin):
    """Every addition, change and deletion made in this admin is an audit record."""

    def _audit(self, request: HttpRequest, obj: Any, verb: str, message: Any) -> None:
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.{verb}",
            target=f"{obj._meta.model_name}:{obj.pk}",
            detail={"object": str(obj), "change": str(message)},
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "add", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "change", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, obj, "delete", "deleted")
        return super().log_deletions(request, queryset)


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("seq", "at", "actor", "action", "target")
    list_filter = ("action",)
    search_fields = ("actor", "action", "target")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
