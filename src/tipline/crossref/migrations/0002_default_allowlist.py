"""Values that never link, to start with: big platforms, webmail and URL shorteners.
Hotlines add their own contacts in the admin."""

from django.db import migrations

PLATFORMS = (
    "facebook.com",
    "instagram.com",
    "twitter.com",
    "x.com",
    "tiktok.com",
    "youtube.com",
    "snapchat.com",
    "reddit.com",
    "telegram.org",
    "t.me",
    "whatsapp.com",
    "wa.me",
    "google.com",
    "discord.com",
    "linkedin.com",
    "pinterest.com",
    "tumblr.com",
    "vk.com",
)
WEBMAIL = (
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
)
SHORTENERS = ("bit.ly", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "buff.ly", "t.co", "cutt.ly")


def add(apps, schema_editor):  # type: ignore[no-untyped-def]
    AllowedValue = apps.get_model("crossref", "AllowedValue")
    for values, note in (
        (PLATFORMS, "big platform"),
        (WEBMAIL, "webmail"),
        (SHORTENERS, "URL shortener"),
    ):
        for value in values:
            AllowedValue.objects.get_or_create(
                kind="shared_domain", value=value, defaults={"note": note}
            )


class Migration(migrations.Migration):
    dependencies = [("crossref", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
