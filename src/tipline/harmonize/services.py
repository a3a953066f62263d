"""Harmonize's writes: the pipeline step that turns reports into items, and labels."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tipline.common.bulk import insert_rows, update_rows
from tipline.common.evidence import EvidenceStore, default_store
from tipline.intake.models import Provider, Report, ReportMedia

from . import core
from .language import detect_language
from .media import MediaRefused, analyse
from .models import Harmonization, Item, MediaFile, ProviderLabel, ReportItem
from .taxonomy import (
    AgeCategory,
    Classification,
    ContentType,
    Theme,
    map_category,
    normalize_label,
)


def reports_prepare(report_ids: Sequence[int]) -> dict[int, tuple[str, float]]:
    """What harmonize can do before its transaction (`pipeline.Prepare`): fingerprint the
    reports' new files (their rows are facts about the files, right whatever becomes of
    the reports) and detect each report's language. Returns the languages."""
    media_files_ensure(
        sha256s=set(
            ReportMedia.objects.filter(report_id__in=report_ids).values_list("sha256", flat=True)
        )
    )
    return {
        rid: detect_language(excerpt or description)
        for rid, excerpt, description in Report.objects.filter(id__in=report_ids).values_list(
            "id", "excerpt", "description"
        )
    }


def reports_harmonize(
    report_ids: Sequence[int], languages: Mapping[int, tuple[str, float]] | None = None
) -> None:
    """The harmonize step of the pipeline, run inside the runner's transaction, with the
    reports' languages when the pipeline detected them beforehand (`reports_prepare`).

    Each report gets its items (created or counted), its theme and its language; a report
    pointing at an item analysts already assessed inherits the assessment unless it brings
    new media or text, which reopens the item.
    """
    languages = languages or {}
    reports = list(
        Report.objects.filter(id__in=report_ids)
        .only(
            "id",
            "provider_id",
            "channel",
            "received_at",
            "category",
            "urls",
            "description",
            "excerpt",
            "reporter_country",
        )
        .order_by("id")
    )
    media_by_report: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for rid, filename, sha256 in (
        ReportMedia.objects.filter(report_id__in=report_ids)
        .order_by("id")
        .values_list("report_id", "filename", "sha256")
    ):
        media_by_report[rid].append((filename, sha256))
    media_files_ensure(sha256s={sha for m in media_by_report.values() for _, sha in m})
    labels = _provider_labels({r.provider_id for r in reports if r.provider_id})

    now = timezone.now()
    plans = []
    harmonizations = []
    for report in reports:
        media = media_by_report.get(report.pk, [])
        refs, problems = core.items_for(urls=report.urls, media=media, excerpt=report.excerpt)
        mapped = map_category(report.category, provider_labels=labels.get(report.provider_id or 0))
        language, confidence = languages.get(report.pk) or detect_language(
            report.excerpt or report.description
        )
        evidence = core.evidence_of(media_sha256=[sha for _, sha in media], excerpt=report.excerpt)
        plans.append((report, refs, evidence, mapped))
        harmonizations.append(
            (
                report.pk,
                mapped.theme,
                mapped.classification or "",
                mapped.content_type or "",
                mapped.source,
                language,
                round(confidence, 4),
                [{"field": p.field, "message": p.message} for p in problems],
                now,
            )
        )
    insert_rows(Harmonization, _HARMONIZATION, harmonizations)
    items = _items_locked({ref.key: ref for _, refs, _, _ in plans for ref in refs}, now)
    links = []
    for report, refs, evidence, mapped in plans:
        for ref in refs:
            item = items[ref.key]
            effect = core.assessment_effect(
                classification=item.classification,
                item_evidence=item.evidence,
                report_evidence=evidence,
            )
            if effect == core.Effect.REOPENED:
                item.needs_assessment = True
            _count_report(item, report, evidence, mapped.theme)
            links.append((report.pk, item.pk, ref.as_reported, effect))
    update_rows(
        Item, _COUNTED, ([getattr(i, f) for f in _COUNTED] + [i.pk] for i in items.values())
    )
    insert_rows(ReportItem, ("report", "item", "as_reported", "effect"), links)


_HARMONIZATION = (
    "report",
    "theme",
    "classification",
    "content_type",
    "category_source",
    "language",
    "language_confidence",
    "problems",
    "harmonized_at",
)
_NEW_ITEM = (
    "site_type",
    "kind",
    "key",
    "url",
    "host",
    "host_kind",
    "domain",
    "sha256",
    "text",
    "theme",
    "content_type",
    "classification",
    "needs_assessment",
    "report_count",
    "first_reported_at",
    "last_reported_at",
    "channels",
    "reporter_countries",
    "evidence",
)
_COUNTED = (
    "needs_assessment",
    "report_count",
    "first_reported_at",
    "last_reported_at",
    "channels",
    "reporter_countries",
    "evidence",
    "theme",
)


def _content_type(ref: core.ItemRef) -> str:
    return {core.ItemKind.MEDIA: ContentType.IMAGE, core.ItemKind.TEXT: ContentType.TEXT}.get(
        ref.kind, ""
    )


def _items_locked(refs: dict[str, core.ItemRef], now: datetime) -> dict[str, Item]:
    """The items for these refs, created when new, locked for this transaction."""
    if not refs:
        return {}
    # Another worker may create the same item at the same time: the first insert wins.
    insert_rows(
        Item,
        _NEW_ITEM,
        (
            (
                "",
                ref.kind,
                key,
                ref.url,
                ref.host,
                ref.host_kind,
                ref.domain,
                ref.sha256,
                ref.text,
                Theme.OTHER,
                _content_type(ref),
                Classification.UNASSESSED,
                True,
                0,
                now,
                now,
                [],
                [],
                [],
            )
            for key, ref in refs.items()
        ),
        ignore_conflicts=True,
    )
    # Locked in key order, so two workers never wait on each other in a cycle.
    return {
        item.key: item
        for item in Item.objects.select_for_update().filter(key__in=list(refs)).order_by("key")
    }


def _count_report(item: Item, report: Report, evidence: set[str], theme: str) -> None:
    if item.report_count == 0:
        item.first_reported_at = report.received_at
        item.theme = theme
    elif item.theme == Theme.OTHER and item.classification == Classification.UNASSESSED:
        item.theme = theme  # a later report may name what the first one did not
    item.report_count += 1
    item.first_reported_at = min(item.first_reported_at, report.received_at)
    item.last_reported_at = max(item.last_reported_at, report.received_at)
    item.channels = sorted({*item.channels, report.channel})
    if report.reporter_country:
        item.reporter_countries = sorted({*item.reporter_countries, report.reporter_country})
    item.evidence = sorted({*item.evidence, *evidence})


def _provider_labels(provider_ids: set[int]) -> dict[int, dict[str, str]]:
    labels: dict[int, dict[str, str]] = defaultdict(dict)
    for pid, label, theme in ProviderLabel.objects.filter(provider_id__in=provider_ids).values_list(
        "provider_id", "label", "theme"
    ):
        labels[pid][label] = theme
    return labels


def media_files_ensure(*, sha256s: set[str], store: EvidenceStore | None = None) -> None:
    """Fingerprint each file not seen before (hashes, PDQ, a blurred grayscale thumbnail).

    A file that cannot be decoded is recorded with its problem rather than failing the
    report; a store that cannot be read raises, so the stage is retried later.
    """
    known = set(MediaFile.objects.filter(sha256__in=sha256s).values_list("sha256", flat=True))
    store = store or default_store()
    rows = []
    for sha256 in sorted(sha256s - known):
        data = store.get(sha256)
        try:
            fp, thumbnail = analyse(data)
        except MediaRefused as e:
            rows.append(MediaFile(sha256=sha256, md5="", sha1="", problem=e.message))
            continue
        rows.append(
            MediaFile(
                sha256=fp.sha256,
                md5=fp.md5,
                sha1=fp.sha1,
                pdq=fp.pdq,
                pdq_quality=fp.pdq_quality,
                width=fp.width,
                height=fp.height,
                format=fp.format,
                thumbnail_sha256=store.put(thumbnail),
            )
        )
    # Another worker may fingerprint the same new file at the same time: same result.
    MediaFile.objects.bulk_create(rows, ignore_conflicts=True)


@transaction.atomic
def provider_label_set(*, provider: Provider, label: str, theme: Theme) -> ProviderLabel:
    """Map one of a provider's own labels onto a theme (it wins over the built-in tables)."""
    # "Sex Ad" and "sex-ad" are one label to map_category, so one row here.
    wanted = normalize_label(label)
    for row in ProviderLabel.objects.select_for_update().filter(provider=provider):
        if normalize_label(row.label) == wanted:
            row.label, row.theme = label.strip(), theme
            row.save(update_fields=["label", "theme"])
            return row
    return ProviderLabel.objects.create(provider=provider, label=label.strip(), theme=theme)


@transaction.atomic
def item_assess(
    *,
    item_id: int,
    theme: Theme,
    classification: Classification,
    age_category: AgeCategory | None = None,
    duplicate_of: int | None = None,
) -> Item:
    """Record analysts' assessment of an item (the console calls this; its reports then
    inherit it). The age category is kept for child sexual abuse material assessed as
    illegal, and cleared otherwise; `duplicate_of` closes it as the same content as
    another item."""
    item = Item.objects.select_for_update().get(id=item_id)
    item.theme = theme
    item.classification = classification
    illegal = classification in (Classification.BASELINE, Classification.NATIONAL)
    item.age_category = (age_category or "") if theme == Theme.CSAM and illegal else ""
    item.duplicate_of_id = duplicate_of  # type: ignore[assignment]
    item.assessed_at = timezone.now()
    item.needs_assessment = False
    item.save(
        update_fields=[
            "theme",
            "classification",
            "age_category",
            "duplicate_of",
            "assessed_at",
            "needs_assessment",
        ]
    )
    return item
