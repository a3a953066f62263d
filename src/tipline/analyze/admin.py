"""Staff views of Analyze's tables until the console exists: banks and entries are edited
here (disable a false positive), abuse contacts overridden by hand; the rest is read-only."""

from __future__ import annotations

from django.contrib import admin

from tipline.intake.admin import ReadOnly

from .models import AbuseContactOverride, BankEntry, Capture, HashBank, HostingLookup


@admin.register(HashBank)
class HashBankAdmin(admin.ModelAdmin):
    list_display = ("name", "theme", "classification", "source", "enabled", "created_at")
    list_filter = ("enabled", "theme")


@admin.register(BankEntry)
class BankEntryAdmin(admin.ModelAdmin):
    list_display = ("bank", "kind", "value", "label", "enabled")
    list_filter = ("bank", "kind", "enabled")
    search_fields = ("=value", "label")
    fields = ("bank", "kind", "value", "label", "enabled")
    readonly_fields = ("bank", "kind", "value")


@admin.register(AbuseContactOverride)
class AbuseContactOverrideAdmin(admin.ModelAdmin):
    list_display = ("key", "email", "note")
    search_fields = ("key", "email")


@admin.register(Capture)
class CaptureAdmin(ReadOnly):
    list_display = ("item", "requested_url", "status", "error", "fetched_at")
    list_filter = ("status",)


@admin.register(HostingLookup)
class HostingLookupAdmin(ReadOnly):
    list_display = ("host", "country", "asn", "abuse_email", "looked_up_at")
    search_fields = ("host",)
