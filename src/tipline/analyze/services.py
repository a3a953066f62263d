"""Analyze's pipeline step: observables, indicators, risk and priority, bank matches; and
queuing the capture and hosting jobs that reach the outside world."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tipline.common.bulk import insert_rows
from tipline.harmonize.models import Harmonization, Item, ReportItem
from tipline.intake.models import Report

from .indicators import Hit, find_indicators, priority, risk
from .matching import items_match_banks
from .models import Analysis, Capture, HostingLookup, IndicatorHit, Observable
from .observables import extract
from .tasks import capture_items, hosts_look_up

TEXT_FIELDS = ("excerpt", "description")


@dataclass
class Scan:
    """What a report's own text holds: observables and indicator hits, as rows to insert,
    and the problems met finding them."""

    observables: list[tuple[int, str, str, str, int, int]] = field(default_factory=list)
    hits: list[tuple[int, str, str, int, int, int]] = field(default_factory=list)
    found: list[Hit] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)


def reports_scan(report_ids: Sequence[int]) -> dict[int, Scan]:
    """Scan the reports' texts: no write, and nothing another stage changes, so the
    pipeline runs it before the stage's transaction (`pipeline.Prepare`)."""
    reports = Report.objects.filter(id__in=report_ids).only("id", "urls", "excerpt", "description")
    return {report.pk: _scan(report) for report in reports}


def _scan(report: Report) -> Scan:
    scan = Scan()
    texts = {f: getattr(report, f) for f in TEXT_FIELDS}
    texts["urls"] = "\n".join(report.urls)
    try:
        for name, text in texts.items():
            scan.observables.extend(
                (report.pk, name, o.type, o.value[:2048], o.start, o.end)
                for o in extract(text, region=settings.COUNTRY)
            )
    except Exception as e:  # a bad text must not stop the pipeline
        scan.problems.append(_problem("observables", e))
    try:
        for name in TEXT_FIELDS:
            for hit in find_indicators(texts[name]):
                scan.found.append(hit)
                scan.hits.append((report.pk, name, hit.code, hit.start, hit.end, hit.weight))
    except Exception as e:
        scan.problems.append(_problem("indicators", e))
    return scan


def reports_analyze(report_ids: Sequence[int], scans: Mapping[int, Scan] | None = None) -> None:
    """The analyze step of the pipeline, run inside the runner's transaction, with the
    reports' scans when the pipeline made them beforehand (`reports_scan`).

    Each step that fails marks the report's analysis partial with the reason; the
    report still moves on. Page captures and hosting lookups are queued as their own
    jobs: they wait on the outside world, the pipeline does not.
    """
    scans = dict(scans or {})
    missing = [rid for rid in report_ids if rid not in scans]
    if missing:
        scans.update(reports_scan(missing))
    reports = sorted(rid for rid in report_ids if rid in scans)
    themes = dict(
        Harmonization.objects.filter(report_id__in=report_ids).values_list("report_id", "theme")
    )
    problems: dict[int, list[dict[str, str]]] = defaultdict(list)
    observables: list[tuple[int, str, str, str, int, int]] = []
    hits: list[tuple[int, str, str, int, int, int]] = []
    scores: dict[int, tuple[int, str]] = {}
    for rid in reports:
        scan = scans[rid]
        observables.extend(scan.observables)
        hits.extend(scan.hits)
        problems[rid].extend(scan.problems)
        theme = themes.get(rid, "other")
        score = risk(scan.found, theme=theme)
        scores[rid] = (score, priority(scan.found, theme=theme, risk=score))

    item_ids = list(
        ReportItem.objects.filter(report_id__in=report_ids).values_list("item_id", flat=True)
    )
    try:
        # A savepoint: a failed match must not abort the stage's own transaction.
        with transaction.atomic():
            items_match_banks(item_ids=item_ids)
    except Exception as e:
        for rid in reports:
            problems[rid].append(_problem("hash banks", e))
    now = timezone.now()
    insert_rows(Observable, ("report", "field", "type", "value", "start", "end"), observables)
    insert_rows(IndicatorHit, ("report", "field", "code", "start", "end", "weight"), hits)
    insert_rows(
        Analysis,
        ("report", "risk", "priority", "partial", "problems", "analyzed_at"),
        [(r, *scores[r], bool(problems[r]), problems[r], now) for r in reports],
    )
    _queue_outside_jobs(item_ids)


def _problem(step: str, error: BaseException) -> dict[str, str]:
    return {"step": step, "reason": f"{type(error).__name__}: {error}"[:500]}


# --- The outside world: captures and hosting ----------------------------------------------


def _queue_outside_jobs(item_ids: Sequence[int]) -> None:
    """One capture job for the pages never captured, one lookup job for the hosts not
    looked up lately: a batch each, not a job per item."""
    urls = list(Item.objects.filter(id__in=item_ids, kind="url").values_list("id", "host"))
    captured = set(
        Capture.objects.filter(item_id__in=[i for i, _ in urls]).values_list("item_id", flat=True)
    )
    new_pages = sorted(item_id for item_id, _ in urls if item_id not in captured)
    if new_pages:
        capture_items.enqueue(item_ids=new_pages, attempt=1)
    recent = timezone.now() - timedelta(seconds=settings.HOSTING_REFRESH_S)
    hosts = {h for _, h in urls}
    known = set(
        HostingLookup.objects.filter(host__in=hosts, looked_up_at__gte=recent).values_list(
            "host", flat=True
        )
    )
    if hosts - known:
        hosts_look_up.enqueue(hosts=sorted(hosts - known))


def hosting_record_by_hand(
    *, host: str, country: str, abuse_email: str, note: str = ""
) -> HostingLookup:
    """An analyst states where a host is served from and who its abuse desk is (a lookup
    that cannot see it: a closed network, a host behind a CDN, a provider's own answer).
    It is recorded as the newest lookup, its sources saying so."""
    country = country.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ValueError(f"country {country!r}: expected an ISO 3166 alpha-2 code such as DE")
    return HostingLookup.objects.create(
        host=host.strip().lower(),
        country=country,
        countries=[country],
        abuse_email=abuse_email.strip()[:254],
        sources={"country": "analyst", "abuse_email": "analyst", "note": note[:200]},
        looked_up_at=timezone.now(),
    )
