"""Intake's closed vocabularies."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tipline.common import pipeline


class Channel(models.TextChoices):
    PUBLIC = "public", _("Public web form")
    PROVIDER = "provider", _("Service provider API")
    PARTNER = "partner", _("Partner hotline")


class TokenScope(models.TextChoices):
    """What a staff API token lets its holder do; a token carries one or more."""

    ANALYST = "analyst", _("Analyst: read networks and observables")
    SUPERVISOR = "supervisor", _("Supervisor")


class ReportState(models.TextChoices):
    RECEIVED = pipeline.RECEIVED, _("Received")
    HARMONIZED = "harmonized", _("Harmonized")
    ANALYZED = "analyzed", _("Analyzed")
    CROSSREFERENCED = "crossreferenced", _("Cross-referenced")
    ORIENTED = pipeline.FINAL, _("Oriented")
    FAILED = pipeline.FAILED, _("Failed")


# What a reporter reads on /status/<code>: plain words, nothing about the content.
PUBLIC_STATE_TEXT = {
    ReportState.RECEIVED: _("We have received your report. It is waiting to be processed."),
    ReportState.HARMONIZED: _("Your report is being processed."),
    ReportState.ANALYZED: _("Your report is being processed."),
    ReportState.CROSSREFERENCED: _("Your report is being processed."),
    ReportState.ORIENTED: _(
        "Your report has been processed and passed on for assessment and action."
    ),
    ReportState.FAILED: _(
        "Your report is kept safely; processing is delayed and our team has been alerted."
    ),
}

# Categories offered on the public form. The value is stored verbatim as the report's
# category; Harmonize maps it to the common taxonomy.
PUBLIC_CATEGORIES = [
    ("child_sexual_abuse", _("Child sexual abuse images or videos")),
    ("grooming", _("Sexual approach of a minor (grooming)")),
    ("trafficking", _("Human trafficking, pimping, sexual exploitation ads")),
    ("terrorism", _("Terrorism or violent extremism")),
    ("hate", _("Hate speech or incitement")),
    ("fraud", _("Fraud, scam or phishing")),
    ("other", _("Something else")),
]
