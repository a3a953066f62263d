"""The tables behind the charts, built from the dashboard's figures with texts in the
active language: the same tables feed the charts, the HTML tables, the CSV files and the
reports, so what a chart draws is what its CSV holds."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from tipline.intake.choices import Channel

from . import charts, core
from .selectors import CLASSIFICATIONS as CLASSIFICATION_ORDER
from .selectors import DESTINATION_KINDS, DISPATCH_STATES, Dashboard

THEMES: dict[str, str | Promise] = {
    "csam": gettext_lazy("Child sexual abuse material"),
    "grooming": gettext_lazy("Grooming"),
    "trafficking": gettext_lazy("Trafficking and sexual exploitation"),
    "terrorism": gettext_lazy("Terrorism"),
    "hate": gettext_lazy("Hate"),
    "fraud": gettext_lazy("Fraud"),
    "other": pgettext_lazy("theme", "Other"),
    "": gettext_lazy("Not harmonized yet"),
}
KINDS: dict[str, str | Promise] = {
    "url": gettext_lazy("Pages"),
    "media": gettext_lazy("Files"),
    "text": gettext_lazy("Texts"),
}
CLASSIFICATIONS: dict[str, str | Promise] = {
    "baseline": gettext_lazy("Illegal in every country (baseline)"),
    "national": gettext_lazy("Illegal under national law"),
    "doubtful": gettext_lazy("Doubtful"),
    "not_illegal": gettext_lazy("Not illegal"),
    "unassessed": gettext_lazy("Not classified"),
}
DESTINATIONS: dict[str, str | Promise] = {
    "office": gettext_lazy("Police and competent offices"),
    "partner": gettext_lazy("Partner hotlines"),
    "host": gettext_lazy("Hosting providers (notices)"),
    "none": gettext_lazy("No destination"),
}
STATES: dict[str, str | Promise] = {
    "proposed": gettext_lazy("Proposed, waiting"),
    "pending": gettext_lazy("In the outbox"),
    "sent": gettext_lazy("Sent"),
    "acknowledged": gettext_lazy("Acknowledged"),
    "failed": gettext_lazy("Refused by the receiver"),
    "undeliverable": gettext_lazy("Undeliverable"),
    "cancelled": gettext_lazy("Cancelled"),
}
METRICS: dict[str, str | Promise] = {
    "assess": gettext_lazy("Time to assess"),
    "forward": gettext_lazy("Time to forward"),
    "removal": gettext_lazy("Time to removal"),
}


def label(names: dict[str, str | Promise], key: str) -> str:
    return str(names.get(key, key))


def channel_label(code: str) -> str:
    try:
        return str(Channel(code).label)
    except ValueError:
        return code


def country_label(code: str) -> str:
    return code or _("Unknown")


class DjangoTranslator:
    """Django's gettext, for core's sentences and durations."""

    def gettext(self, message: str) -> str:
        return _(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(singular, plural, n)


TR = DjangoTranslator()


def summary_table(d: Dashboard) -> core.Table:
    t, a = d.timings, d.assessment
    notices = d.dispatches.notices_first + d.dispatches.notices_repeat
    # (figure, count, share, duration): one of the three is given per row.
    rows: list[tuple[core.Cell, ...]] = [
        (_("Reports received"), d.volumes.reports, None, None),
        (_("New items reported"), d.volumes.items, None, None),
        (_("Items assessed by an analyst"), a.assessed, None, None),
        (_("Assessed illegal"), a.illegal, a.illegal_share, None),
        (_("Known content handled without an analyst"), a.known_auto, a.known_auto_share, None),
        (_("Networks found"), d.networks.networks, None, None),
        (_("Items forwarded to police or a partner"), t.forward.done, None, None),
        (_("Notices sent to hosts"), notices, None, None),
        (_("Pages removed after a notice"), t.removal.done, None, None),
        (_("Median time to assess"), None, None, t.assess.median_s),
        (_("Median time to forward"), None, None, t.forward.median_s),
        (_("Median time to removal"), None, None, t.removal.median_s),
        (_("Removed within 3 days"), None, t.removal.share_within("3d"), None),
        (
            _("SLA breaches"),
            sum(r.breached for r in d.sla),
            core.share(sum(r.breached for r in d.sla), sum(r.items for r in d.sla)),
            None,
        ),
    ]
    return core.Table(
        key="summary",
        title=_("Key figures"),
        columns=(_("Figure"), _("Number"), _("Share"), _("Time")),
        kinds=("label", "count", "percent", "duration"),
        rows=tuple(rows),
        chart="none",
    )


def _last_day(b: core.Bucket) -> str:
    return (b.end - timedelta(days=1)).isoformat()


def volumes_table(d: Dashboard) -> core.Table:
    unit = {"day": _("Day"), "week": _("ISO week"), "month": _("Month")}[d.filters.unit]
    return core.Table(
        key="volumes",
        title=_("Reports and new items over time"),
        columns=(unit, _("First day"), _("Last day"), _("Reports"), _("New items")),
        kinds=("label", "text", "text", "count", "count"),
        rows=tuple(
            (b.label, b.start.isoformat(), _last_day(b), reports, items)
            for b, reports, items in d.volumes.series
        ),
        chart="lines",
        plotted=(3, 4),
        note=_(
            "A week or month cut by the period's start or end counts only its days inside "
            "the period. ISO weeks start on Monday: 2025-12-29 starts week 2026-W01."
        ),
    )


def channels_table(d: Dashboard) -> core.Table:
    by = d.volumes.reports_by_channel
    return core.Table(
        key="channels",
        title=_("Reports by channel"),
        columns=(_("Channel"), _("Reports")),
        kinds=("label", "count"),
        rows=tuple((channel_label(c), by.get(c, 0)) for c in Channel.values),
        plotted=(1,),
    )


def themes_table(d: Dashboard) -> core.Table:
    reports, items = d.volumes.reports_by_theme, d.volumes.items_by_theme
    keys = [k for k in THEMES if k and (d.filters.theme is None or k == d.filters.theme)]
    if reports.get(""):
        keys.append("")
    return core.Table(
        key="themes",
        title=_("Reports and new items by theme"),
        columns=(_("Theme"), _("Reports"), _("New items")),
        kinds=("label", "count", "count"),
        rows=tuple((label(THEMES, k), reports.get(k, 0), items.get(k, 0)) for k in keys),
        plotted=(1, 2),
    )


def kinds_table(d: Dashboard) -> core.Table:
    by = d.volumes.items_by_kind
    return core.Table(
        key="kinds",
        title=_("New items by kind"),
        columns=(_("Kind"), _("New items")),
        kinds=("label", "count"),
        rows=tuple((label(KINDS, k), by.get(k, 0)) for k in KINDS),
        plotted=(1,),
    )


def assessment_table(d: Dashboard) -> core.Table:
    a = d.assessment
    by = a.by_classification
    keys = [*CLASSIFICATION_ORDER, *sorted(set(by) - set(CLASSIFICATION_ORDER))]
    return core.Table(
        key="assessment",
        title=_("Assessments of new items"),
        columns=(_("Classification"), _("Items"), _("Share of assessed")),
        kinds=("label", "count", "percent"),
        rows=tuple(
            (label(CLASSIFICATIONS, k), by.get(k, 0), core.share(by.get(k, 0), a.assessed))
            for k in keys
        ),
        plotted=(1,),
        note=_(
            "Illegal: illegal in every country or under national law. Share: of the items assessed."
        ),
    )


def known_table(d: Dashboard) -> core.Table:
    a = d.assessment
    return core.Table(
        key="known",
        title=_("Known content"),
        columns=(_("Items"), _("Number"), _("Share of new items")),
        kinds=("label", "count", "percent"),
        rows=(
            (_("Matched a hash bank"), a.known_matched, core.share(a.known_matched, a.items)),
            (
                _("Closed as known content without an analyst"),
                a.known_auto,
                a.known_auto_share,
            ),
        ),
        plotted=(1,),
    )


def hosting_table(d: Dashboard) -> core.Table:
    h = d.hosting
    return core.Table(
        key="hosting",
        title=_("Where reported pages were hosted"),
        columns=(_("Country"), _("Pages"), _("Assessed illegal")),
        kinds=("label", "count", "count"),
        rows=tuple((country_label(c), n, illegal) for c, n, illegal in h.rows),
        plotted=(1, 2),
        note=_("New pages by the country of their server when last routed."),
    )


def networks_table(d: Dashboard) -> core.Table:
    n = d.networks
    return core.Table(
        key="networks",
        title=_("Networks found"),
        columns=(_("Figure"), _("Number")),
        kinds=("label", "count"),
        rows=((_("Networks found and still standing"), n.networks), (_("Items in them"), n.items)),
        chart="none",
        note=_(
            "For a theme: the networks holding one of its items, and their items of that theme."
        ),
    )


def dispatches_table(d: Dashboard) -> core.Table:
    by = d.dispatches.by_outcome
    kinds = [*DESTINATION_KINDS, *sorted({k for k, _s in by} - set(DESTINATION_KINDS))]
    states = [*DISPATCH_STATES, *sorted({s for _k, s in by} - set(DISPATCH_STATES))]
    rows = tuple(
        (label(DESTINATIONS, k), label(STATES, s), by[(k, s)])
        for k in kinds
        for s in states
        if by.get((k, s))
    )
    return core.Table(
        key="dispatches",
        title=_("Dispatches and notices by destination and outcome"),
        columns=(_("Destination"), _("Where it stands"), _("Dispatches")),
        kinds=("label", "label", "count"),
        rows=rows,
        plotted=(2,),
        note=_("Created in the period; where each one stands now."),
    )


def notices_table(d: Dashboard) -> core.Table:
    r = d.timings.removal
    return core.Table(
        key="notices",
        title=_("Notices and removals"),
        columns=(_("Figure"), _("Number")),
        kinds=("label", "count"),
        rows=(
            (_("First notices sent"), d.dispatches.notices_first),
            (_("Repeated notices sent"), d.dispatches.notices_repeat),
            (_("Pages noticed"), r.started),
            (_("Removed"), r.done),
            (_("Still online"), r.running),
        ),
        plotted=(1,),
    )


def timings_table(d: Dashboard) -> core.Table:
    return core.Table(
        key="timings",
        title=_("How fast: time to assess, to forward, to removal"),
        columns=(
            _("Clock"),
            _("Started"),
            _("Stopped"),
            _("Median"),
            _("90th percentile"),
            _("Within 24 hours"),
            _("Within 3 days"),
            _("Within 7 days"),
        ),
        kinds=("label", "count", "count", "duration", "duration", "percent", "percent", "percent"),
        rows=tuple(
            (
                label(METRICS, metric),
                dist.started,
                dist.done,
                dist.median_s,
                dist.p90_s,
                dist.share_within("24h"),
                dist.share_within("3d"),
                dist.share_within("7d"),
            )
            for metric, dist in d.timings.each()
        ),
        plotted=(5, 6, 7),
        note=_(
            "Median and 90th percentile of the stopped clocks; shares within a limit are "
            "of all clocks started, a clock still running counting as not within."
        ),
    )


def sla_table(d: Dashboard) -> core.Table:
    return core.Table(
        key="sla",
        title=_("SLA: assessed after the deadline, or waiting past it"),
        columns=(
            _("Priority"),
            _("Deadline"),
            _("Items to assess"),
            _("Assessed late"),
            _("Waiting past the deadline"),
            _("Share breached"),
        ),
        kinds=("label", "duration", "count", "count", "count", "percent"),
        rows=tuple(
            (r.priority, r.limit_s, r.items, r.late, r.waiting, core.share(r.breached, r.items))
            for r in d.sla
        ),
        plotted=(3, 4),
    )


def providers_table(d: Dashboard) -> core.Table:
    return core.Table(
        key="providers",
        title=_("Hosting providers slowest to remove"),
        columns=(
            _("Provider"),
            _("Removed"),
            _("Still online"),
            _("Median time to removal"),
            _("90th percentile"),
            _("Slowest"),
        ),
        kinds=("label", "count", "count", "duration", "duration", "duration"),
        rows=tuple(
            (r.provider, r.removed, r.online, r.median_s, r.p90_s, r.slowest_s) for r in d.providers
        ),
        plotted=(3,),
        note=_("The ten slowest by median time from the first notice to removal."),
    )


BUILDERS: dict[str, Callable[[Dashboard], core.Table]] = {
    "summary": summary_table,
    "volumes": volumes_table,
    "channels": channels_table,
    "themes": themes_table,
    "kinds": kinds_table,
    "assessment": assessment_table,
    "known": known_table,
    "hosting": hosting_table,
    "networks": networks_table,
    "dispatches": dispatches_table,
    "notices": notices_table,
    "timings": timings_table,
    "sla": sla_table,
    "providers": providers_table,
}


def build(d: Dashboard) -> dict[str, core.Table]:
    """Every table of the dashboard, by key, in the dashboard's order."""
    return {key: make(d) for key, make in BUILDERS.items()}


@dataclass(frozen=True)
class Shown:
    """A table as the page shows it: its chart, its cells written for people."""

    table: core.Table
    svg: str
    header: list[tuple[str, bool]]  # text, is a number
    rows: list[list[tuple[str, bool]]]


@functools.lru_cache(maxsize=256)
def chart_svg(table: core.Table, lang: str) -> str:
    """The table's chart as SVG ("" without one). Kept: the figures change only when the
    summaries are refreshed, and drawing takes a tenth of a second a chart."""
    fig = charts.draw(table, lang=lang, tr=TR)
    return charts.svg(fig, title=table.title) if fig is not None else ""


def shown(table: core.Table, lang: str) -> Shown:
    """A table with its chart and its cells written for people in `lang`."""
    numeric = [k not in ("label", "text") for k in table.kinds]
    return Shown(
        table=table,
        svg=chart_svg(table, lang),
        header=list(zip(table.columns, numeric, strict=True)),
        rows=[
            [
                (core.fmt_cell(v, k, lang, TR), n)
                for v, k, n in zip(row, table.kinds, numeric, strict=True)
            ]
            for row in table.rows
        ],
    )
