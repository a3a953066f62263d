"""The public report form: the same checks as the API, with errors shown by the fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import core
from .choices import PUBLIC_CATEGORIES


def _translated(template: str, params: Mapping[str, Any] | None) -> str:
    """One of core's messages in the page's language (core marks them with gettext_noop)."""
    text = gettext(template)
    return text % params if params else text


HONEYPOT = "website"


class PublicReportForm(forms.Form):
    # No default: a pre-selected category would be sent by anyone who skips the question.
    category = forms.ChoiceField(
        choices=[("", _("Choose…")), *PUBLIC_CATEGORIES], label=_("What kind of content is it?")
    )
    urls = forms.CharField(
        label=_("Web address(es) of the content"),
        help_text=_("One address per line, for example https://site.example/page"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    description = forms.CharField(
        label=_("What did you see?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=core.MAX_DESCRIPTION_CHARS,
        required=False,
    )
    excerpt = forms.CharField(
        label=_("Text of the ad, message or post (optional)"),
        help_text=_("Copy the text here if there is no web address, e.g. a chat message."),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=core.MAX_EXCERPT_CHARS,
        required=False,
    )
    image = forms.FileField(
        label=_("Screenshot or image (optional)"),
        help_text=_(
            "JPEG, PNG, GIF or WebP. Never send images of child sexual abuse: "
            "give the web address instead."
        ),
        required=False,
    )
    reporter_name = forms.CharField(label=_("Your name (optional)"), max_length=200, required=False)
    reporter_email = forms.CharField(
        label=_("Your e-mail (optional)"), max_length=254, required=False
    )
    reporter_phone = forms.CharField(
        label=_("Your phone (optional)"), max_length=40, required=False
    )
    consent = forms.BooleanField(
        label=_(
            "I understand that my report, and my contact details if I give them, will be "
            "processed by the hotline to handle this report and may be passed to the "
            "police or to the hotline of another country. I can report anonymously."
        ),
        required=True,
    )
    # A trap for robots: people never see this field (hidden by the page's style, from
    # assistive technology and from the keyboard); robots filling every field fill it in.
    # Its label asks anyone who meets it anyway to leave it empty.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    @property
    def is_robot(self) -> bool:
        """The trap field was filled in: what was sent is discarded, whatever it holds."""
        return bool(self.data.get(HONEYPOT, "").strip())

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        limit = settings.INTAKE_MAX_MEDIA_BYTES
        media: list[core.MediaDraft] = []
        upload = data.get("image")
        if upload:
            if upload.size > limit:
                self.add_error("image", _("The file is larger than %(n)s MB.") % {"n": limit >> 20})
                return data
            try:
                media.append(
                    core.check_image(
                        upload.read(),
                        upload.name,
                        max_bytes=limit,
                        content_type=upload.content_type,
                    )
                )
            except core.IntakeError as e:
                self.add_error("image", _translated(e.template, e.params))
                return data
        obj = {
            "category": data["category"],
            "urls": [line.strip() for line in data["urls"].splitlines() if line.strip()],
            "description": data["description"],
            "excerpt": data["excerpt"],
            "reporter": {
                "name": data["reporter_name"],
                "email": data["reporter_email"],
                "phone": data["reporter_phone"],
            },
        }
        try:
            self.draft = core.parse_report(obj, max_media_bytes=limit, extra_media=media)
        except core.IntakeError as e:
            for err in e.errors:
                name = err.field.split("[")[0].split(".")[-1]
                name = {
                    "email": "reporter_email",
                    "phone": "reporter_phone",
                    "name": "reporter_name",
                }.get(name, name)
                if err == core.NOTHING_TO_ACT_ON:  # core's wording names the API's fields
                    message = gettext(
                        "Give at least a web address, the text of the message, or an image."
                    )
                else:
                    message = _translated(err.template, err.params)
                self.add_error(name if name in self.fields else None, message)
        return data


class ReceiptLookupForm(forms.Form):
    code = forms.CharField(label=_("Your receipt code"), max_length=40)
