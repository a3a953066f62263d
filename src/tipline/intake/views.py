"""Public pages: report content, then follow the report with its receipt code."""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_http_methods

from tipline.common.codes import format_receipt, new_receipt, normalize_receipt
from tipline.common.ratelimit import rate_hit

from . import selectors, services
from .choices import PUBLIC_STATE_TEXT, Channel
from .forms import HONEYPOT, PublicReportForm, ReceiptLookupForm

log = logging.getLogger(__name__)


def _names(lang: str) -> dict[str, str]:
    suffix = "_fr" if lang == "fr" else ""
    return {
        "form": f"intake:report_form{suffix}",
        "done": f"intake:report_done{suffix}",
        "status": f"intake:status{suffix}",
        "lookup": f"intake:status_lookup{suffix}",
    }


def home(request: HttpRequest, lang: str = "en") -> HttpResponse:
    with translation.override(lang):
        return render(
            request,
            "intake/home.html",
            {"lang": lang, "names": _names(lang), "lookup": ReceiptLookupForm()},
        )


def _too_many(response: HttpResponse, retry_after: int) -> HttpResponse:
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def report_form(request: HttpRequest, lang: str = "en") -> HttpResponse:
    names = _names(lang)
    retry_after = None
    if request.method == "POST":
        retry_after = rate_hit(
            scope="public_report", request=request, rate=settings.PUBLIC_REPORT_RATE
        )
    with translation.override(lang):
        if retry_after is not None:
            # Nothing is read, but what the person typed is given back to send later.
            kept = {k: v for k, v in request.POST.items() if k != HONEYPOT}
            return _too_many(
                render(
                    request,
                    "intake/report_form.html",
                    {
                        "form": PublicReportForm(initial=kept),
                        "lang": lang,
                        "names": names,
                        "retry_minutes": math.ceil(retry_after / 60),
                    },
                    status=429,
                ),
                retry_after,
            )
        form = PublicReportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_robot:
            # The same thanks as anyone gets, so the robot learns nothing; nothing stored.
            log.warning("public report discarded: the hidden trap field was filled in")
            request.session["receipt"] = new_receipt()
            return redirect(names["done"])
        if request.method == "POST" and form.is_valid():
            [outcome] = services.reports_receive(drafts=[(0, form.draft)], channel=Channel.PUBLIC)
            assert isinstance(outcome, services.Received)
            # Post/redirect/get, with the receipt in the session rather than in the URL.
            request.session["receipt"] = outcome.receipt
            return redirect(names["done"])
        status = 400 if request.method == "POST" else 200
        return render(
            request,
            "intake/report_form.html",
            {"form": form, "lang": lang, "names": names},
            status=status,
        )


def report_done(request: HttpRequest, lang: str = "en") -> HttpResponse:
    names = _names(lang)
    receipt = request.session.pop("receipt", None)
    if receipt is None:
        return redirect(names["form"])
    with translation.override(lang):
        return render(
            request,
            "intake/report_done.html",
            {
                "lang": lang,
                "names": names,
                "receipt": format_receipt(receipt),
                "status_url": reverse(names["status"], args=[format_receipt(receipt)]),
            },
        )


def status_lookup(request: HttpRequest, lang: str = "en") -> HttpResponse:
    names = _names(lang)
    form = ReceiptLookupForm(request.GET or None)
    if form.is_valid():
        code = normalize_receipt(form.cleaned_data["code"])
        if code:
            return redirect(names["status"], code=format_receipt(code))
    return status(request, code="", lang=lang)


def status(request: HttpRequest, code: str, lang: str = "en") -> HttpResponse:
    """The report's state in plain words, and nothing else about it."""
    if code:
        retry_after = rate_hit(
            scope="public_status", request=request, rate=settings.PUBLIC_STATUS_RATE
        )
        if retry_after is not None:
            with translation.override(lang):
                response = render(
                    request,
                    "intake/status.html",
                    {
                        "lang": lang,
                        "names": _names(lang),
                        "retry_minutes": math.ceil(retry_after / 60),
                    },
                    status=429,
                )
            response["X-Robots-Tag"] = "noindex"
            return _too_many(response, retry_after)
    state = selectors.report_state_by_receipt(code=code) if code else None
    with translation.override(lang):
        response = render(
            request,
            "intake/status.html",
            {
                "lang": lang,
                "names": _names(lang),
                "lookup": ReceiptLookupForm(),
                "found": state is not None,
                "text": PUBLIC_STATE_TEXT[state] if state is not None else "",
            },
            status=200 if state is not None else 404,
        )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
