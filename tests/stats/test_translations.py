"""The statistics' French catalogue: every message translated, and compiled."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import tipline.stats

LC_MESSAGES = Path(tipline.stats.__file__).parent / "locale" / "fr" / "LC_MESSAGES"


def entries() -> dict[str, list[str]]:
    """msgid (with its context) → its msgstr, from django.po."""
    out: dict[str, list[str]] = {}
    for block in (LC_MESSAGES / "django.po").read_text().split("\n\n"):
        assert "#, fuzzy" not in block, block
        fields: dict[str, str] = {}
        current = ""
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line.startswith("msg"):
                current, _, rest = line.partition(" ")
                fields[current] = ast.literal_eval(rest)
            elif line.startswith('"'):
                fields[current] += ast.literal_eval(line)
        if fields.get("msgid"):
            key = fields["msgid"]
            if "msgctxt" in fields:
                key = f"{fields['msgctxt']}\x04{key}"
            out[key] = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
    return out


def test_every_message_is_translated_and_compiled() -> None:
    found = entries()
    assert len(found) > 150
    compiled = gettext.GNUTranslations((LC_MESSAGES / "django.mo").open("rb"))
    for msgid, translations in found.items():
        assert all(translations), f"not translated: {msgid!r}"
        if len(translations) == 1:
            assert compiled.gettext(msgid) == translations[0], f"not compiled: {msgid!r}"
