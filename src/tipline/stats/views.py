"""The supervisors' statistics pages: the dashboard (a chart per figure, the table behind
it one click away, a CSV of exactly that table), the CSV files, the annual report and
asking for the figures to be brought up to date."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from tipline.console.views import staff_required

from . import core, report, selectors, tables, tasks
from .tables import TR

PERMISSION = "stats.view_statistics"
UNIT_CHOICES = [
    ("", gettext_lazy("Automatic")),
    ("day", gettext_lazy("Day")),
    ("week", gettext_lazy("ISO week")),
    ("month", gettext_lazy("Month")),
]


class FiltersForm(forms.Form):
    """The period (first and last day, both included), the theme and the time unit."""

    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("To (included)"), required=False)
    theme = forms.ChoiceField(label=gettext_lazy("Theme"), required=False)
    unit = forms.ChoiceField(
        label=gettext_lazy("Over time by"), choices=UNIT_CHOICES, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        theme = cast(forms.ChoiceField, self.fields["theme"])
        theme.choices = [("", _("Every theme"))] + [
            (k, str(v)) for k, v in tables.THEMES.items() if k
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        start = data.get("start") or date(today.year, 1, 1)
        end = data.get("end") or date(start.year, 12, 31)
        if end < start:
            raise forms.ValidationError(_("The period ends before it starts."))
        if (end - start).days > 3 * 366:
            raise forms.ValidationError(_("Choose a period of three years at most."))
        data["period"] = core.Period(start, end + timedelta(days=1))
        return data


def _filters(request: HttpRequest) -> tuple[FiltersForm, selectors.Filters]:
    """The filters asked for; this year's figures while they are not valid (the form
    then shows why)."""
    form = FiltersForm(request.GET)
    if form.is_valid():
        period, theme, unit = (
            form.cleaned_data["period"],
            form.cleaned_data["theme"],
            form.cleaned_data["unit"],
        )
    else:
        period, theme, unit = core.Period.year(timezone.localdate().year), "", ""
    return form, selectors.Filters(
        period=period, theme=theme or None, unit=unit or core.auto_unit(period)
    )


def _query(f: selectors.Filters) -> str:
    params = {
        "start": f.period.start.isoformat(),
        "end": (f.period.end - timedelta(days=1)).isoformat(),
        "unit": f.unit,
    }
    if f.theme:
        params["theme"] = f.theme
    return urlencode(params)


def _presets(today: date) -> list[tuple[str, str]]:
    month = today.replace(day=1)
    last_month = core.add_months(month, -1)
    week = today - timedelta(days=today.weekday())

    def q(start: date, end: date) -> str:
        return urlencode({"start": start.isoformat(), "end": end.isoformat()})

    return [
        (_("This year"), q(date(today.year, 1, 1), date(today.year, 12, 31))),
        (_("Last year"), q(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))),
        (_("This month"), q(month, core.add_months(month, 1) - timedelta(days=1))),
        (_("Last month"), q(last_month, month - timedelta(days=1))),
        (_("This week"), q(week, week + timedelta(days=6))),
        (_("Last week"), q(week - timedelta(days=7), week - timedelta(days=1))),
    ]


def _dashboard(f: selectors.Filters) -> selectors.Dashboard:
    """The figures from the read replica when one is configured: summaries are minutes old
    by design, so a replica's lag changes nothing a reader could notice."""
    return selectors.dashboard(
        start=f.period.start,
        end=f.period.end,
        theme=f.theme,
        unit=f.unit,
        using=settings.LAGGING_READS_DATABASE,
    )


@staff_required(PERMISSION)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every figure for the period and theme chosen."""
    form, f = _filters(request)
    d = _dashboard(f)
    lang = translation.get_language() or "en"
    built = tables.build(d)
    return render(
        request,
        "stats/dashboard.html",
        {
            "form": form,
            "filters": f,
            "theme_label": tables.label(tables.THEMES, f.theme) if f.theme else "",
            "dashboard": d,
            "commentary": core.commentary(selectors.summary(d), lang=lang, tr=TR),
            "figures": [tables.shown(t, lang) for t in built.values()],
            "last_day": f.period.end - timedelta(days=1),
            "query": _query(f),
            "presets": _presets(timezone.localdate()),
            "years": list(range(timezone.localdate().year, timezone.localdate().year - 5, -1)),
            "refresh_every_min": tasks.REFRESH_EVERY_S // 60,
        },
    )


@staff_required(PERMISSION)
def table_csv(request: HttpRequest, key: str) -> HttpResponse:
    """One table of the dashboard as CSV: the very rows its chart draws."""
    if key not in tables.BUILDERS:
        raise Http404(_("No such figure."))
    _form, f = _filters(request)
    d = _dashboard(f)
    table = tables.BUILDERS[key](d)
    name = f"tipline-{key}-{f.period.start}-{f.period.end - timedelta(days=1)}"
    if f.theme:
        name += f"-{f.theme}"
    response = HttpResponse(core.csv_text(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


# The HTML report is one standalone file: its style is inline, allowed by a nonce.
REPORT_CSP = cast(
    "dict[str, Collection[str] | str]",
    {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.NONCE]},
)


@csp_override(REPORT_CSP)
@staff_required(PERMISSION)
def annual_report(request: HttpRequest, year: int, fmt: str) -> HttpResponse:
    """The annual report, in the language asked for (else the reader's)."""
    lang = request.GET.get("lang") or translation.get_language() or "en"
    if lang not in report.LANGUAGES or fmt not in report.FORMATS or not 2000 <= year <= 2100:
        raise Http404(_("No such report."))
    nonce = get_nonce(request)
    content, content_type = report.render(
        year=year, fmt=fmt, lang=lang, nonce=str(nonce) if nonce is not None else None
    )
    response = HttpResponse(content, content_type=content_type)
    if fmt != "html":
        response["Content-Disposition"] = (
            f'attachment; filename="{report.filename(year, fmt, lang)}"'
        )
    return response


@require_POST
@staff_required(PERMISSION)
def refresh(request: HttpRequest) -> HttpResponse:
    """Ask a worker to bring the figures up to date now."""
    tasks.refresh_soon()
    _form, f = _filters(request)
    return redirect(f"{reverse('stats:dashboard')}?{_query(f)}")
