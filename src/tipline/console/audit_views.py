"""The audit log in the console: supervisors search it page by page, download what they
found as CSV and check its hash chain. Searching and exporting are themselves recorded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tipline.common import audit as log
from tipline.common.models import AuditRecord
from tipline.orient.exports import _safe_cell

from .views import staff_required

PERMISSION = "common.view_auditrecord"
PAGE_SIZE = 50
FIELDS = ("actor", "action", "target", "from", "to", "text")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TARGET_PAGES = {"item": "console:item", "network": "console:network"}


class BadFilter(ValueError):
    """A filter value the page cannot use; the message says why, for the reader."""


def _day(query: QueryDict, name: str, label: str) -> date | None:
    value = query.get(name, "").strip()
    if not value:
        return None
    try:
        if not _DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(
            _("%(field)s: “%(value)s” is not a day. Write it as YYYY-MM-DD, e.g. 2025-03-31.")
            % {"field": label, "value": value}
        ) from None


def _cursor(query: QueryDict, name: str) -> int | None:
    value = query.get(name, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        raise BadFilter(_("That page does not exist: start again from the first page."))
    return int(value)


def _filter(query: QueryDict) -> log.AuditFilter:
    since, until = _day(query, "from", _("From")), _day(query, "to", _("To"))
    if since and until and since > until:
        raise BadFilter(_("The “from” day comes after the “to” day."))
    return log.AuditFilter(
        actor=query.get("actor", "").strip(),
        action=query.get("action", "").strip(),
        target=query.get("target", "").strip(),
        since=since,
        until=until,
        text=query.get("text", "").strip(),
    )


def _query(values: dict[str, str], **cursor: int) -> str:
    """The filters as a query string, to keep them on links; empty ones left out."""
    return urlencode({**{k: v for k, v in values.items() if v}, **cursor})


def _target_url(target: str) -> str:
    kind, _colon, key = target.partition(":")
    page = _TARGET_PAGES.get(kind)
    if page is None or not (key.isascii() and key.isdigit()):
        return ""
    return reverse(page, args=[int(key)])


@dataclass(frozen=True)
class Row:
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    target_url: str
    detail: str

    @classmethod
    def of(cls, r: AuditRecord) -> Row:
        detail = json.dumps(r.detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return cls(r.seq, r.at, r.actor, r.action, r.target, _target_url(r.target), detail)


@require_http_methods(["GET", "POST"])
@staff_required(PERMISSION)
def audit(request: HttpRequest) -> HttpResponse:
    """The records matching the filters, newest first, a page at a time. POST (the
    "Verify the chain" button) also walks the whole chain."""
    values = {name: request.GET.get(name, "").strip() for name in FIELDS}
    context: dict[str, Any] = {"values": values, "query": _query(values)}
    try:
        wanted = _filter(request.GET)
        before, after = _cursor(request.GET, "before"), _cursor(request.GET, "after")
    except BadFilter as exc:
        context["error"] = str(exc)
        return render(request, "console/audit.html", context, status=422)
    page = log.audit_page(wanted, before=before, after=after, size=PAGE_SIZE)
    context["rows"] = [Row.of(r) for r in page.records]
    if page.newer is not None:
        context["newer_url"] = "?" + _query(values, after=page.newer)
    if page.older is not None:
        context["older_url"] = "?" + _query(values, before=page.older)
    if request.method == "POST":
        checked, broken = log.audit_verify()
        context["chain"] = {"checked": checked, "broken": broken}
        log.audit_record(
            actor=request.user,
            action="audit.verify",
            detail={"checked": checked, "broken": broken.seq if broken else None},
        )
    elif not wanted.is_empty() and before is None and after is None:
        # Once per search, not per page; a plain visit to the page is not a search.
        log.audit_record(actor=request.user, action="audit.search", detail=wanted.as_detail())
    return render(request, "console/audit.html", context)


@require_GET
@staff_required(PERMISSION)
def audit_csv(request: HttpRequest) -> HttpResponse:
    """The records matching the page's filters as a CSV file, oldest first, streamed."""
    try:
        wanted = _filter(request.GET)
    except BadFilter as exc:
        values = {name: request.GET.get(name, "").strip() for name in FIELDS}
        context = {"values": values, "query": _query(values), "error": str(exc)}
        return render(request, "console/audit.html", context, status=422)
    export = log.audit_record(actor=request.user, action="audit.export", detail=wanted.as_detail())
    # The log as it stood at the click: records appended while this streams are left out.
    records = log.audit_records(wanted).filter(seq__lt=export.seq).order_by("seq")
    response = StreamingHttpResponse(
        log.audit_csv_lines(records.iterator(chunk_size=2000), cell=_safe_cell),
        content_type="text/csv; charset=utf-8",
    )
    name = f"tipline-audit-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    # staff_required types views as returning HttpResponse; a streamed one is a sibling.
    return response  # type: ignore[return-value]
