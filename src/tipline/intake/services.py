"""Intake's writes: API tokens, receiving reports, and moving reports through the pipeline."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tipline.common import pipeline
from tipline.common.bulk import insert_rows
from tipline.common.codes import new_receipt
from tipline.common.evidence import EvidenceStore, EvidenceStoreError, default_store

from .choices import Channel, ReportState, TokenScope
from .core import FieldError, ReportDraft
from .models import Provider, Report, ReportMedia, StaffToken, StageRun

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

TOKEN_PREFIX = "tpl_"  # noqa: S105 - a prefix that marks our tokens, not a secret


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str, str]:
    """A fresh token, its hash (what is stored) and its prefix (what people recognise)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token), token[:10]


def provider_create(*, name: str) -> tuple[Provider, str]:
    """Create a provider and return it with its token, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValueError("a provider needs a name")
    if Provider.objects.filter(name=name).exists():
        raise ValueError(f"a provider named {name!r} already exists")
    token, digest, prefix = _new_token()
    provider = Provider.objects.create(name=name, token_hash=digest, token_prefix=prefix)
    return provider, token


def provider_revoke(*, name: str) -> None:
    provider = Provider.objects.get(name=name)
    provider.is_active = False
    provider.save(update_fields=["is_active"])


# --- Staff API tokens ---------------------------------------------------------------------

# A token's last use is written at most this often, so a busy client adds no writes.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


class StaffTokenRefused(ValueError):
    """A staff token that cannot be created, and why, in words for the operator."""


def staff_token_create(
    *,
    user: User,
    name: str,
    scopes: Collection[str],
    expires_at: datetime | None = None,
) -> tuple[StaffToken, str]:
    """Give a staff member a token for `scopes`; the token is returned now and never again."""
    username = user.get_username()
    if not user.is_active:
        raise StaffTokenRefused(f"user {username!r} is inactive")
    if not user.is_staff:
        raise StaffTokenRefused(f"user {username!r} is not staff: only staff hold API tokens")
    known = ", ".join(TokenScope.values)
    unknown = sorted(set(scopes) - set(TokenScope.values))
    if unknown:
        raise StaffTokenRefused(
            f"unknown scope {', '.join(map(repr, unknown))}; known scopes: {known}"
        )
    if not scopes:
        raise StaffTokenRefused(f"a token needs at least one scope ({known})")
    name = name.strip()
    max_name = StaffToken._meta.get_field("name").max_length or 0
    if len(name) > max_name:
        raise StaffTokenRefused(f"a token's name is at most {max_name} characters")
    if expires_at is not None and expires_at <= timezone.now():
        raise StaffTokenRefused("a token cannot expire in the past")
    token, digest, prefix = _new_token()
    staff_token = StaffToken.objects.create(
        user=user,
        name=name,
        token_hash=digest,
        token_prefix=prefix,
        scopes=[s for s in TokenScope.values if s in scopes],
        expires_at=expires_at,
    )
    return staff_token, token


def staff_token_revoke(*, token_id: int) -> None:
    """Disable a token for good; the row stays, as the record of who held what."""
    if not StaffToken.objects.filter(pk=token_id).update(is_active=False):
        raise StaffToken.DoesNotExist(f"no staff token {token_id}")


def staff_token_touch(*, token: StaffToken) -> None:
    """Record that `token` was used now, at most once per TOKEN_TOUCH_INTERVAL."""
    now = timezone.now()
    stale = now - TOKEN_TOUCH_INTERVAL
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    # Filtered again in SQL so that concurrent requests write once between them.
    StaffToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    token.last_used_at = now


# --- Receiving ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """The outcome for one submitted report: stored now, or the earlier copy of a repeat."""

    index: int
    report_id: int
    receipt: str
    state: str
    external_id: str | None
    created: bool


@dataclass(frozen=True)
class Refused:
    index: int
    errors: list[FieldError]


def _conflict_message(external_id: str, report_id: int) -> str:
    """Why a resubmission is refused: its external_id names a different report already."""
    return (
        f"external_id {external_id!r} already names report {report_id} with different "
        "content; resubmit it unchanged, or use a new external_id for new content"
    )


def reports_receive(
    *,
    drafts: Sequence[tuple[int, ReportDraft]],
    channel: Channel,
    provider: Provider | None = None,
    store: EvidenceStore | None = None,
) -> list[Received | Refused]:
    """Store reports and enqueue their processing in one transaction.

    A provider's external_id makes a resubmission return the first report, in the same
    body or across requests; the same external_id with different content is refused.
    """
    store = store or default_store()
    # Evidence first, outside the transaction: content-addressed, so a rollback leaves at
    # most an unreferenced file, never a report pointing at a missing one.
    for _, draft in drafts:
        for media in draft.media:
            store.put(media.data)
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _store_reports(drafts, channel, provider)
        except IntegrityError:
            # A concurrent request stored the same external_id first: read it back.
            if attempt == 2:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _store_reports(
    drafts: Sequence[tuple[int, ReportDraft]], channel: Channel, provider: Provider | None
) -> list[Received | Refused]:
    external_ids = {d.report.external_id for _, d in drafts if d.report.external_id}
    earlier: dict[str, tuple[int, str, str, str]] = {}
    if provider is not None and external_ids:
        for rid, ext, sha, receipt, state in Report.objects.filter(
            provider=provider, external_id__in=external_ids
        ).values_list("id", "external_id", "payload_sha256", "receipt", "state"):
            if ext:
                earlier[ext] = (rid, sha, receipt, state)

    outcomes: list[Received | Refused | None] = []
    new_rows: list[tuple[Any, ...]] = []
    new_positions: list[int] = []
    in_body: dict[str, tuple[int, str]] = {}  # external_id -> (position, payload sha)
    repeats_in_body: list[tuple[int, int]] = []  # (position, position of first)
    now = timezone.now()
    provider_id = provider.pk if provider is not None else None
    for position, (index, draft) in enumerate(drafts):
        r = draft.report
        ext = r.external_id if provider is not None else None
        if ext and ext in earlier:
            rid, sha, receipt, state = earlier[ext]
            if sha != draft.payload_sha256:
                outcomes.append(
                    Refused(index, [FieldError("external_id", _conflict_message(ext, rid))])
                )
            else:
                outcomes.append(Received(index, rid, receipt, state, ext, created=False))
            continue
        if ext and ext in in_body:
            first, sha = in_body[ext]
            if sha != draft.payload_sha256:
                outcomes.append(
                    Refused(
                        index,
                        [
                            FieldError(
                                "external_id",
                                f"external_id {ext!r} appears earlier in this body with "
                                "different content",
                            )
                        ],
                    )
                )
            else:
                outcomes.append(None)
                repeats_in_body.append((position, first))
            continue
        if ext:
            in_body[ext] = (position, draft.payload_sha256)
        who = r.reporter
        new_rows.append(
            (
                channel,
                now,
                provider_id,
                ext,
                new_receipt(),
                r.category,
                r.urls,
                r.description,
                r.excerpt,
                r.occurred_at,
                who.name,
                who.email,
                who.phone,
                who.country,
                draft.payload,
                draft.payload_sha256,
                ReportState.RECEIVED,
                now,
                0,
                "",
                "",
            )
        )
        new_positions.append(position)
        outcomes.append(None)

    insert_rows(Report, _REPORT_COLUMNS, new_rows)
    receipts = [row[4] for row in new_rows]
    ids = _ids_by_receipt(receipts)
    media_rows: list[ReportMedia] = []
    for row, position in zip(new_rows, new_positions, strict=True):
        index, draft = drafts[position]
        report_id = ids[row[4]]
        outcomes[position] = Received(
            index, report_id, row[4], ReportState.RECEIVED, row[3], created=True
        )
        media_rows.extend(
            ReportMedia(
                report_id=report_id,
                filename=m.filename,
                content_type=m.content_type,
                size=len(m.data),
                sha256=m.sha256,
                width=m.width,
                height=m.height,
            )
            for m in draft.media
        )
    ReportMedia.objects.bulk_create(media_rows, batch_size=500)
    for position, first in repeats_in_body:
        done = outcomes[first]
        assert isinstance(done, Received)
        outcomes[position] = Received(
            drafts[position][0],
            done.report_id,
            done.receipt,
            done.state,
            done.external_id,
            created=False,
        )
    _enqueue([ids[r] for r in receipts])
    return [o for o in outcomes if o is not None]


_REPORT_COLUMNS = (
    "channel",
    "received_at",
    "provider",
    "external_id",
    "receipt",
    "category",
    "urls",
    "description",
    "excerpt",
    "occurred_at",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "reporter_country",
    "payload",
    "payload_sha256",
    "state",
    "state_changed_at",
    "attempts",
    "last_error",
    "failed_stage",
)


def _ids_by_receipt(receipts: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(receipts), 5000):
        ids.update(
            Report.objects.filter(receipt__in=receipts[start : start + 5000]).values_list(
                "receipt", "id"
            )
        )
    return ids


def _enqueue(report_ids: Sequence[int], *, delay_s: float = 0.0) -> None:
    """Queue processing for reports, in chunks, inside the caller's transaction."""
    chunk = settings.PIPELINE_CHUNK
    for start in range(0, len(report_ids), chunk):
        ids = list(report_ids[start : start + chunk])
        task_id = pipeline.enqueue(ids, delay_s)
        Report.objects.filter(id__in=ids).update(task_id=task_id)


# --- The pipeline runner ------------------------------------------------------------------


def reports_advance(*, report_ids: Sequence[int], worker_id: str = "") -> None:
    """Run every stage the reports still need, each stage in its own transaction.

    A stage's work and the report's move to the next state commit together, so a worker
    killed anywhere leaves each report either before or after a stage, never half-way.
    """
    remaining = list(report_ids)
    for stage in pipeline.STAGES:
        ids = list(
            Report.objects.filter(id__in=remaining, state=stage.from_state)
            .order_by("id")
            .values_list("id", flat=True)
        )
        if not ids:
            continue
        failed = reports_run_stage(stage=stage, report_ids=ids, worker_id=worker_id)
        remaining = [rid for rid in remaining if rid not in failed]


def reports_run_stage(
    *, stage: pipeline.Stage, report_ids: Sequence[int], worker_id: str
) -> set[int]:
    """Run one stage for a batch in one transaction; on error, isolate the failing reports
    by running them one by one. Returns the ids of those that failed."""
    ids = list(report_ids)
    step = pipeline.step_for(stage.name)
    prepare = pipeline.prepare_for(stage.name)
    try:
        prepared = prepare(ids) if prepare else None
        with transaction.atomic():
            locked = list(
                Report.objects.select_for_update()
                .filter(id__in=ids, state=stage.from_state)
                .values_list("id", flat=True)
            )
            if not locked:
                return set()
            if settings.PIPELINE_STAGE_DELAY_S:
                time.sleep(settings.PIPELINE_STAGE_DELAY_S)
            step(locked, prepared)
            now = timezone.now()
            Report.objects.filter(id__in=locked).update(
                state=stage.to_state, state_changed_at=now, attempts=0, last_error=""
            )
            insert_rows(
                StageRun,
                ("report", "stage", "finished_at", "worker_id"),
                [(rid, stage.name, now, worker_id) for rid in locked],
            )
        return set()
    except Exception as exc:
        if len(ids) > 1:
            failed: set[int] = set()
            for rid in ids:
                failed |= reports_run_stage(stage=stage, report_ids=[rid], worker_id=worker_id)
            return failed
        log.exception("stage %s failed for report %s", stage.name, ids[0])
        report_record_failure(report_id=ids[0], stage=stage.name, error=exc)
        return set(ids)


def report_record_failure(*, report_id: int, stage: str, error: BaseException) -> None:
    """Count a failed try; retry later with backoff, or mark the report failed for good.

    A full evidence disk or a busy database is not the report's fault: such a report is
    tried again (backing off to PIPELINE_RETRY_MAX_S) until it clears, never failed for it.
    """
    message = f"{type(error).__name__}: {error}"[:2000]
    outside = isinstance(error, EvidenceStoreError | OperationalError)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(id=report_id)
        attempts = report.attempts + 1
        if attempts >= settings.PIPELINE_MAX_ATTEMPTS and not outside:
            Report.objects.filter(id=report_id).update(
                state=ReportState.FAILED,
                failed_stage=stage,
                attempts=attempts,
                last_error=message,
                state_changed_at=timezone.now(),
            )
            log.error(
                "report %s failed in %s after %s attempts: %s", report_id, stage, attempts, message
            )
            return
        Report.objects.filter(id=report_id).update(attempts=F("attempts") + 1, last_error=message)
        _enqueue(
            [report_id],
            delay_s=pipeline.retry_delay(
                attempts, base_s=settings.PIPELINE_RETRY_BASE_S, max_s=settings.PIPELINE_RETRY_MAX_S
            ),
        )


def report_retry(*, report_id: int) -> None:
    """Put a failed report back into the pipeline at the stage where it stopped."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(id=report_id)
        if report.state != ReportState.FAILED:
            raise ValueError(f"report {report_id} is {report.state}, not failed")
        stage = next(s for s in pipeline.STAGES if s.name == report.failed_stage)
        Report.objects.filter(id=report_id).update(
            state=stage.from_state, attempts=0, failed_stage="", state_changed_at=timezone.now()
        )
        _enqueue([report_id])


def reports_resume_stalled(*, older_than_s: float) -> int:
    """Re-queue unfinished reports whose task is gone (failed, or lost with its worker).

    A report waiting behind a live task is left alone, so a long backlog is not doubled.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    stalled = list(
        Report.objects.filter(
            state__in=pipeline.ACTIVE_STATES, state_changed_at__lt=cutoff
        ).values_list("id", "task_id")[:10_000]
    )
    if not stalled:
        return 0
    task_ids = {tid for _, tid in stalled if tid is not None}
    live = set(
        DBTaskResult.objects.filter(id__in=task_ids, status__in=["READY", "RUNNING"]).values_list(
            "id", flat=True
        )
    )
    orphans = [rid for rid, tid in stalled if tid not in live]
    if orphans:
        with transaction.atomic():
            Report.objects.filter(id__in=orphans).update(state_changed_at=timezone.now())
            _enqueue(orphans)
        log.warning("re-queued %s stalled reports", len(orphans))
    return len(orphans)
