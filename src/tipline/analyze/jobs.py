"""Analyze's jobs that reach the outside world: capturing a reported page, looking up
where a host is. Each records what it found, or why it could not."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from tipline.common.evidence import default_store
from tipline.harmonize.models import Item, MediaFile
from tipline.harmonize.services import media_files_ensure

from . import edges
from .capture import Capture as Fetched
from .hosting import HostingFacts, lookup, moved
from .matching import match_media
from .models import AbuseContactOverride, Capture, HostingLookup
from .pages import image_urls

OFF = "network lookups are switched off (TIPLINE_ANALYZE_NETWORK)"


def capture_item_run(*, item_id: int, attempt: int) -> Capture:
    """Fetch a reported page once and keep what came back. An image, or each image a
    page shows (up to 10), is kept, hashed and matched against the banks like an upload."""
    item = Item.objects.get(id=item_id)
    url = _url_to_fetch(item)
    if not settings.ANALYZE_NETWORK:
        return Capture.objects.create(
            item=item, requested_url=url, error=OFF, attempt=attempt, fetched_at=timezone.now()
        )
    got = edges.fetcher().fetch(url)
    capture = _record_capture(item, got, attempt)
    body_sha256 = capture.body_sha256
    if body_sha256 and got.content_type.startswith("image/"):
        _match_image(item, body_sha256)
    elif got.body is not None and got.content_type == "text/html":
        for image_url in image_urls(got.body, base_url=got.final_url or url):
            _capture_image(item, image_url, attempt)
    return capture


def capture_failure_record(*, item_id: int, attempt: int, error: BaseException) -> None:
    """A capture that broke before what it fetched was kept (the evidence store's disk
    full): recorded as a failed fetch, so the item says why, and tried again later."""
    item = Item.objects.filter(id=item_id).first()
    if item is None:
        return  # deleted since (retention): nothing to capture any more
    Capture.objects.create(
        item=item,
        requested_url=_url_to_fetch(item),
        error=f"{type(error).__name__}: {error}"[:2000],
        attempt=attempt,
        fetched_at=timezone.now(),
    )


def _capture_image(item: Item, url: str, attempt: int) -> None:
    """An image a captured page shows: kept, hashed and matched like an upload."""
    got = edges.fetcher().fetch(url)
    capture = _record_capture(item, got, attempt)
    if capture.body_sha256 and got.content_type.startswith("image/"):
        _match_image(item, capture.body_sha256)


def _record_capture(item: Item, got: Fetched, attempt: int) -> Capture:
    """What one fetch brought back, its body in the evidence store."""
    return Capture.objects.create(
        item=item,
        requested_url=got.requested_url,
        final_url=got.final_url,
        status=got.status,
        headers=got.headers,
        content_type=got.content_type[:200],
        body_sha256=default_store().put(got.body) if got.body is not None else "",
        redirects=got.redirects,
        addresses=got.addresses,
        error=got.error,
        attempt=attempt,
        fetched_at=got.fetched_at,
    )


def _match_image(item: Item, sha256: str) -> None:
    media_files_ensure(sha256s={sha256})
    match_media(item_id=item.id, media=MediaFile.objects.get(sha256=sha256))


def _url_to_fetch(item: Item) -> str:
    """The URL as first reported: the canonical form identifies the item but drops what a
    fetch needs, such as the port."""
    first = item.report_links.order_by("id").values_list("as_reported", flat=True).first()
    if not first:
        return item.url
    first = first.strip()
    return first if "://" in first else f"{item.url.split('://', 1)[0]}://{first.lstrip('/')}"


def host_look_up_run(*, host: str) -> HostingLookup:
    """Where `host` is served from now; what moved since the last lookup is recorded."""
    now = timezone.now()
    if not settings.ANALYZE_NETWORK:
        return HostingLookup.objects.create(host=host, errors=[OFF], looked_up_at=now)
    overrides = dict(AbuseContactOverride.objects.values_list("key", "email"))
    facts = lookup(
        host,
        resolver=edges.resolver(),
        asn_db=edges.asn_database(),
        abuse=edges.abuse_directory(),
        overrides=overrides,
    )
    previous = (
        HostingLookup.objects.filter(host=host)
        .exclude(addresses=[])
        .order_by("-looked_up_at")
        .first()
    )
    changes = moved(_facts(previous), facts) if previous is not None else []
    return HostingLookup.objects.create(
        host=host,
        addresses=facts.addresses,
        country=facts.country,
        countries=facts.countries,
        asn=facts.asn,
        as_org=facts.as_org[:255],
        abuse_email=facts.abuse_email[:254],
        sources=facts.sources,
        errors=facts.errors,
        changes=changes,
        looked_up_at=facts.looked_up_at,
    )


def _facts(row: HostingLookup) -> HostingFacts:
    return HostingFacts(
        host=row.host,
        addresses=row.addresses,
        country=row.country,
        countries=row.countries,
        asn=row.asn,
        as_org=row.as_org,
        abuse_email=row.abuse_email,
        sources=row.sources,
        looked_up_at=row.looked_up_at,
        errors=row.errors,
    )
