"""Intake's tables: who may use the API, and the reports as received."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tipline.common.fields import EncryptedTextField

from .choices import Channel, ReportState


class Provider(models.Model):
    """A service provider allowed to submit reports through the API with its own token."""

    name = models.CharField(max_length=200, unique=True)
    # SHA-256 of the token: the token itself is shown once and never stored.
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=16, help_text="First characters, to recognise it")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class StaffToken(models.Model):
    """An API token held by a staff member, good for the scopes it lists until revoked or
    expired; like a provider's, only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="api_tokens", on_delete=models.CASCADE
    )
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for")
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=16, help_text="First characters, to recognise it")
    scopes = models.JSONField(default=list, help_text="TokenScope values this token grants")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.token_prefix}… ({self.user})"


# Fields a service may change after a report is stored; everything else is what we received.
PROCESSING_FIELDS = frozenset(
    {"state", "state_changed_at", "attempts", "last_error", "failed_stage", "task_id"}
)


class Report(models.Model):
    """One report exactly as received (never edited), and where it is in the pipeline."""

    # What was received.
    channel = models.CharField(max_length=16, choices=Channel.choices)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.PROTECT)
    # NULL, not "": the uniqueness of (provider, external_id) applies only when one is given.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    receipt = models.CharField(max_length=16, unique=True)
    category = models.CharField(max_length=200, blank=True)
    urls = models.JSONField(default=list)
    description = models.TextField(blank=True)
    excerpt = models.TextField(blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    # Reporters' personal data, encrypted at rest (TIPLINE_DATA_KEYS) and erased by
    # retention; their country alone does not identify them and feeds statistics.
    reporter_name = EncryptedTextField(blank=True)
    reporter_email = EncryptedTextField(blank=True)
    reporter_phone = EncryptedTextField(blank=True)
    reporter_country = models.CharField(max_length=2, blank=True)
    payload = models.JSONField(
        help_text="The report as received, file bytes replaced by hashes and the reporter's "
        "contact details left out (they are in the encrypted fields)"
    )
    payload_sha256 = models.CharField(max_length=64)

    # Where it is in the pipeline.
    state = models.CharField(
        max_length=16, choices=ReportState.choices, default=ReportState.RECEIVED
    )
    state_changed_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Failed tries of the current stage"
    )
    last_error = models.TextField(blank=True)
    failed_stage = models.CharField(max_length=16, blank=True)
    task_id = models.UUIDField(null=True, blank=True, help_text="The task due to process it")

    class Meta:
        permissions = [("view_reporter", "See reporters' names and contact details")]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"],
                condition=Q(external_id__isnull=False),
                name="report_unique_provider_external_id",
            )
        ]
        indexes = [models.Index(fields=["state", "state_changed_at"], name="report_state_idx")]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.channel}, {self.state})"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and not self._state.adding:
            if update_fields is None or not set(update_fields) <= PROCESSING_FIELDS:
                raise ValueError("a report is an immutable record; only processing state changes")
        super().save(*args, **kwargs)

    @property
    def is_anonymous(self) -> bool:
        return not (self.reporter_name or self.reporter_email or self.reporter_phone)


class ReportMedia(models.Model):
    """A file that came with a report; its bytes live in the evidence store under `sha256`."""

    report = models.ForeignKey(Report, related_name="media", on_delete=models.PROTECT)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"


class StageRun(models.Model):
    """A pipeline stage completed for a report: once per stage, never twice."""

    report = models.ForeignKey(Report, related_name="stage_runs", on_delete=models.CASCADE)
    stage = models.CharField(max_length=16)
    finished_at = models.DateTimeField(default=timezone.now)
    worker_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "stage"], name="stagerun_once_per_stage")
        ]

    def __str__(self) -> str:
        return f"{self.stage} of report {self.report_id}"
