"""The public pages, as a person using them without JavaScript sees them: report content in
English or French, get a receipt code once, then follow the report with that code."""

from __future__ import annotations

import ast
import inspect
import io
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.utils.translation import gettext, override
from PIL import Image

from tipline.common.codes import format_receipt, new_receipt
from tipline.common.evidence import default_store
from tipline.intake.choices import Channel, ReportState
from tipline.intake.models import Report, ReportMedia

pytestmark = pytest.mark.django_db

RECEIPT_FORMAT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


# --- Helpers ------------------------------------------------------------------------------


class _Text(HTMLParser):
    """The text a person reads on the page (no tags, attributes, title or URLs)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"title", "script", "style"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"title", "script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def field_errors(html: str, field: str) -> list[str]:
    """The error messages shown in the block of the form field named `field`."""
    block = re.search(
        rf'<div class="field[^"]*">(?:(?!<div class="field).)*?name="{field}".*?</div>',
        html,
        re.S,
    )
    assert block is not None, f"no field {field!r} on the page"
    return [visible_text(m) for m in re.findall(r'<p class="error">(.*?)</p>', block.group(0))]


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def browser(path: str) -> tuple[Client, str]:
    """A client that enforces CSRF like a browser, and the token the form page gave it."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200
    return client, client.cookies["csrftoken"].value


def good_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "fraud",
        "urls": "https://phish.example/login\nhttps://files.phish.example/kit.zip",
        "description": "A page imitating a bank's login page.",
        "excerpt": "",
        "reporter_name": "",
        "reporter_email": "",
        "reporter_phone": "",
        "consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit(path: str, **overrides: Any) -> tuple[Client, Any]:
    client, token = browser(path)
    response = client.post(path, {**good_form(**overrides), "csrfmiddlewaretoken": token})
    return client, response


def make_report(*, state: str = ReportState.RECEIVED, **fields: Any) -> Report:
    # A distinctive id: a small one like 1 would be found anywhere in a page.
    data: dict[str, Any] = {
        "id": 7_319_046_285,
        "channel": Channel.PUBLIC,
        "receipt": new_receipt(),
        "category": "zq-category-marker",
        "urls": ["https://zq-distinct-host.example/zq-path-marker"],
        "description": "zq-description-marker lorem",
        "excerpt": "zq-excerpt-marker ipsum",
        "reporter_name": "Zq Marker-Name",
        "reporter_email": "zq.reporter@mail.example",
        "reporter_phone": "01 99 00 12 34",
        "payload": {},
        "payload_sha256": "0" * 64,
        "state": state,
    }
    data.update(fields)
    return Report.objects.create(**data)


# --- The form in both languages -----------------------------------------------------------


def test_report_form_is_in_english() -> None:
    response = Client().get("/report/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    text = visible_text(html)
    for phrase in (
        "Make a report",
        "What kind of content is it?",
        "Send the report",
        "Fraud, scam or phishing",
    ):
        assert phrase in text
    assert "Faire un signalement" not in text
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html


def test_report_form_is_in_french() -> None:
    response = Client().get("/fr/signaler/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    text = visible_text(html)
    for phrase in (
        "Faire un signalement",
        "Envoyer le signalement",
        "Qu'avez-vous vu",
        "Fraude, escroquerie ou hameçonnage",
        "Votre numéro de téléphone (facultatif)",
        "Si une personne est en danger immédiat",
    ):
        assert phrase in text, phrase
    for english in ("Make a report", "Send the report", "What did you see", "(optional)"):
        assert english not in text, english


def test_french_home_page_links_to_french_form() -> None:
    response = Client().get("/fr/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Signaler un contenu illicite" in visible_text(html)
    assert 'href="/fr/signaler/"' in html


def test_every_french_message_is_translated() -> None:
    # A missing or fuzzy entry in django.po falls back to English on the French pages.
    from tipline.intake import core
    from tipline.intake.choices import PUBLIC_CATEGORIES, PUBLIC_STATE_TEXT
    from tipline.intake.forms import PublicReportForm

    labels = [str(f.label) for f in PublicReportForm().fields.values()]
    labels += [str(label) for _, label in PUBLIC_CATEGORIES]
    labels += [str(t) for t in PUBLIC_STATE_TEXT.values()]
    # The validation messages core marks for the form with gettext_noop("...").
    labels += [
        node.args[0].value
        for node in ast.walk(ast.parse(inspect.getsource(core)))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "gettext_noop"
    ]
    with override("fr"):
        untranslated = [s for s in labels if gettext(s) == s]
    assert untranslated == []


# --- Sending a report without JavaScript --------------------------------------------------


@pytest.mark.parametrize(
    ("form_path", "done_path"),
    [("/report/", "/report/done/"), ("/fr/signaler/", "/fr/signaler/merci/")],
)
def test_posting_the_form_stores_the_report_and_shows_the_receipt_once(
    form_path: str, done_path: str
) -> None:
    client, response = submit(form_path)
    assert response.status_code == 302
    assert response["Location"] == done_path

    report = Report.objects.get()
    assert report.channel == "public"
    assert report.category == "fraud"
    assert report.urls == ["https://phish.example/login", "https://files.phish.example/kit.zip"]
    assert report.description == "A page imitating a bank's login page."

    done = client.get(done_path)
    assert done.status_code == 200
    html = done.content.decode()
    code = re.search(r'<p class="receipt" id="receipt">([^<]*)</p>', html)
    assert code is not None
    assert RECEIPT_FORMAT.match(code.group(1))
    assert code.group(1) == format_receipt(report.receipt)
    # The receipt is not in the URL the reporter was sent to, and shown once on the page.
    assert report.receipt not in response["Location"]
    assert visible_text(html).count(code.group(1)) == 1
    if form_path.startswith("/fr/"):
        assert '<html lang="fr">' in html
        assert "Votre code de suivi" in visible_text(html)
    else:
        assert "Your receipt code:" in visible_text(html)

    # Reloading the page does not show the code again: back to the form.
    again = client.get(done_path)
    assert again.status_code == 302
    assert again["Location"] == form_path
    assert format_receipt(report.receipt) not in client.get(form_path).content.decode()


def test_post_without_csrf_token_is_refused() -> None:
    client, _ = browser("/report/")
    response = client.post("/report/", good_form())
    assert response.status_code == 403
    assert not Report.objects.exists()


def test_done_page_without_a_report_sends_to_the_form() -> None:
    response = Client().get("/fr/signaler/merci/")
    assert response.status_code == 302
    assert response["Location"] == "/fr/signaler/"


def test_optional_image_is_stored() -> None:
    data = png_bytes()
    client, token = browser("/report/")
    upload = io.BytesIO(data)
    upload.name = "screenshot.png"
    response = client.post(
        "/report/", {**good_form(), "image": upload, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    media = ReportMedia.objects.get()
    assert media.report == Report.objects.get()
    assert (media.filename, media.content_type, media.size) == (
        "screenshot.png",
        "image/png",
        len(data),
    )
    assert (media.width, media.height) == (8, 6)
    assert default_store().get(media.sha256) == data


def test_image_alone_is_enough_to_report() -> None:
    client, token = browser("/report/")
    upload = io.BytesIO(png_bytes())
    upload.name = "chat.png"
    response = client.post(
        "/report/", {**good_form(urls=""), "image": upload, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Report.objects.get().urls == []


def test_non_image_upload_is_refused_next_to_the_image_field() -> None:
    client, token = browser("/report/")
    upload = io.BytesIO(b"%PDF-1.4 not really an image\n")
    upload.name = "notes.pdf"
    response = client.post(
        "/report/", {**good_form(), "image": upload, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 400
    html = response.content.decode()
    [error] = field_errors(html, "image")
    assert "notes.pdf" in error and "not an image" in error
    assert field_errors(html, "urls") == []
    assert "Please correct the fields marked below." in visible_text(html)
    assert not Report.objects.exists()
    assert not ReportMedia.objects.exists()


def test_missing_consent_is_an_error_and_nothing_is_stored() -> None:
    _, response = submit("/report/", consent=None)
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "consent") == ["This field is required."]
    assert not Report.objects.exists()


def test_the_category_must_be_chosen_not_defaulted() -> None:
    html = Client().get("/report/").content.decode()
    assert '<option value="" selected>Choose…</option>' in html
    _, response = submit("/report/", category="")
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "category") == ["This field is required."]
    assert not Report.objects.exists()


def test_missing_consent_error_is_in_french_on_the_french_form() -> None:
    _, response = submit("/fr/signaler/", consent=None)
    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "consent") == ["Ce champ est obligatoire."]
    assert "Veuillez corriger les champs indiqués ci-dessous." in visible_text(html)
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://site.example/some page", ("cannot contain spaces",)),
        # Refused as a scheme we do not accept, or as a URL without a host name.
        ("javascript:alert(1)", ("scheme 'javascript' not accepted", "no host name")),
    ],
)
def test_bad_url_is_shown_by_the_urls_field_and_nothing_is_stored(
    url: str, message: tuple[str, ...]
) -> None:
    _, response = submit("/report/", urls=f"https://ok.example/\n{url}")
    assert response.status_code == 400
    html = response.content.decode()
    [error] = field_errors(html, "urls")
    assert any(m in error for m in message), error
    # What the person typed is kept, so they can fix it rather than start again.
    assert "https://ok.example/" in html
    assert not Report.objects.exists()


def test_nothing_to_report_is_an_error() -> None:
    _, response = submit("/report/", urls="", excerpt="", description="I saw something bad.")
    assert response.status_code == 400
    html = response.content.decode()
    [error] = field_errors(html, "urls")
    assert "at least a web address" in error
    assert "I saw something bad." in html  # the description typed is not lost
    assert not Report.objects.exists()


def test_excerpt_alone_is_enough_to_report() -> None:
    _, response = submit("/report/", urls="", excerpt="Escort ad text, call 01 99 00 12 34")
    assert response.status_code == 302
    assert Report.objects.get().excerpt == "Escort ad text, call 01 99 00 12 34"


def test_bad_email_is_shown_by_the_email_field() -> None:
    _, response = submit("/report/", reporter_email="not-an-address")
    assert response.status_code == 400
    [error] = field_errors(response.content.decode(), "reporter_email")
    assert "e-mail" in error
    assert not Report.objects.exists()


# One case per kind of check: the URLs, the image, and the rule that a report needs something.
@pytest.mark.parametrize(
    ("field", "typed", "english", "french"),
    [
        (
            "urls",
            {"urls": "https://site.example/some page"},
            "a URL cannot contain spaces; send one URL per entry",
            "une adresse web ne peut pas contenir d'espaces ; indiquez une adresse par ligne",
        ),
        (
            "urls",
            {"urls": "javascript:alert(1)"},
            "scheme 'javascript' not accepted: use http, https or ftp",
            "les adresses commençant par « javascript: » ne sont pas acceptées : "
            "utilisez http, https ou ftp",
        ),
        (
            "image",
            {"image": ("notes.pdf", b"%PDF-1.4 not really an image\n")},
            "notes.pdf: not an image (accepted: JPEG, PNG, GIF, WebP)",
            "notes.pdf : ce fichier n'est pas une image (formats acceptés : JPEG, PNG, GIF, WebP)",
        ),
        (
            "urls",
            {"urls": "", "excerpt": "", "description": "I saw something bad."},
            "Give at least a web address, the text of the message, or an image.",
            "Indiquez au moins une adresse web, le texte du message ou une image.",
        ),
    ],
    ids=["space-in-url", "javascript-url", "not-an-image", "nothing-to-report"],
)
@pytest.mark.parametrize("path", ["/report/", "/fr/signaler/"])
def test_errors_are_in_the_language_of_the_form(
    path: str, field: str, typed: dict[str, Any], english: str, french: str
) -> None:
    if "image" in typed:
        name, data = typed["image"]
        upload = io.BytesIO(data)
        upload.name = name
        typed = {**typed, "image": upload}
    _, response = submit(path, **typed)
    assert response.status_code == 400
    # visible_text reads the non-breaking spaces of French typography as spaces.
    assert field_errors(response.content.decode(), field) == [
        french if path.startswith("/fr/") else english
    ]
    assert not Report.objects.exists()


def test_anonymous_report_is_accepted() -> None:
    _, response = submit("/report/")
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == ("", "", "")
    assert report.is_anonymous


def test_contact_details_are_kept_when_given() -> None:
    _, response = submit(
        "/report/",
        reporter_name="Camille Exemple",
        reporter_email="camille@mail.example",
        reporter_phone="01 99 00 12 34",
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.reporter_name, report.reporter_email, report.reporter_phone) == (
        "Camille Exemple",
        "camille@mail.example",
        "01 99 00 12 34",
    )


# --- Following a report with its code -----------------------------------------------------


def _spellings(receipt: str) -> list[str]:
    formatted = format_receipt(receipt)
    return [receipt, formatted, formatted.lower(), receipt.lower()]


def test_status_page_shows_the_state_and_nothing_else() -> None:
    report = make_report()
    secrets_on_file = [
        "zq-category-marker",
        "zq-distinct-host",
        "zq-path-marker",
        "zq-description-marker",
        "zq-excerpt-marker",
        "Zq Marker-Name",
        "zq.reporter@mail.example",
        "01 99 00 12 34",
        str(report.pk),
        "public",
    ]
    for code in _spellings(report.receipt):
        response = Client().get(f"/status/{code}")
        assert response.status_code == 200, code
        html = response.content.decode()
        assert "We have received your report. It is waiting to be processed." in html
        for secret in secrets_on_file:
            assert secret not in html, (code, secret)
        assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("state", "sentence"),
    [
        (ReportState.ANALYZED, "Your report is being processed."),
        (
            ReportState.ORIENTED,
            "Your report has been processed and passed on for assessment and action.",
        ),
        (ReportState.FAILED, "processing is delayed and our team has been alerted"),
    ],
)
def test_status_page_follows_the_state(state: str, sentence: str) -> None:
    report = make_report(state=state)
    response = Client().get(f"/status/{format_receipt(report.receipt)}")
    assert response.status_code == 200
    assert sentence in response.content.decode()
    assert "waiting to be processed" not in response.content.decode()


def test_unknown_code_is_not_found() -> None:
    make_report()
    response = Client().get(f"/status/{format_receipt(new_receipt())}")
    assert response.status_code == 404
    assert "We could not find a report with this code" in visible_text(response.content.decode())
    assert response["Cache-Control"] == "no-store"


def test_malformed_code_is_not_found() -> None:
    response = Client().get("/status/not-a-code")
    assert response.status_code == 404
    assert "could not find" in response.content.decode()


def test_french_status_page_is_in_french() -> None:
    report = make_report(state=ReportState.CROSSREFERENCED)
    response = Client().get(f"/fr/statut/{format_receipt(report.receipt).lower()}")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    text = visible_text(html)
    assert "Votre signalement est en cours de traitement." in text
    assert "Suivi du signalement" in text
    assert "processed" not in text
    assert "zq-description-marker" not in html
    assert response["Cache-Control"] == "no-store"

    missing = Client().get(f"/fr/statut/{format_receipt(new_receipt())}")
    assert missing.status_code == 404
    assert "Nous n'avons trouvé aucun signalement" in missing.content.decode()


def test_lookup_form_redirects_to_the_formatted_code() -> None:
    report = make_report()
    typed = " ".join(report.receipt[i : i + 4] for i in range(0, 16, 4)).lower()
    response = Client().get("/status/", {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == f"/status/{format_receipt(report.receipt)}"

    response = Client().get("/fr/statut/", {"code": report.receipt})
    assert response.status_code == 302
    assert response["Location"] == f"/fr/statut/{format_receipt(report.receipt)}"


def test_lookup_form_with_a_bad_code_says_so() -> None:
    response = Client().get("/status/", {"code": "1234"})
    assert response.status_code == 404
    assert "could not find" in response.content.decode()
