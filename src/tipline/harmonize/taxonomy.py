"""The common taxonomy, and the tables that map the category labels reports arrive with
onto it (docs/taxonomy.md says why each label maps where it does)."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Theme(StrEnum):
    """What a report is about: which team looks at it and which partners receive it."""

    CSAM = "csam"
    GROOMING = "grooming"
    # Trafficking in human beings, pimping, sexual-exploitation ads.
    TRAFFICKING = "trafficking"
    TERRORISM = "terrorism"
    HATE = "hate"
    # Fraud, scams and phishing.
    FRAUD = "fraud"
    OTHER = "other"


class Classification(StrEnum):
    """ICCAM's legal classification of suspected child sexual abuse material."""

    BASELINE = "baseline"  # illegal in every country (INTERPOL's baseline criteria)
    NATIONAL = "national"  # illegal under the assessing hotline's national law
    DOUBTFUL = "doubtful"  # the analyst could not settle it (age, nature)
    NOT_ILLEGAL = "not_illegal"
    UNASSESSED = "unassessed"  # no analyst has classified it yet


class AgeCategory(StrEnum):
    """ICCAM's apparent age of the youngest victim, recorded with an assessment of child
    sexual abuse material ("" when not relevant)."""

    INFANT = "infant"  # infant or toddler
    PREPUBESCENT = "prepubescent"
    PUBESCENT = "pubescent"
    UNDETERMINED = "undetermined"  # a minor, age not determinable


class ContentType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    TEXT = "text"
    LINK = "link"
    CONTAINER = "container"  # archive, folder, album
    OTHER = "other"


class SiteType(StrEnum):
    FORUM = "forum"
    IMAGE_HOST = "image_host"
    FILE_HOST = "file_host"
    SOCIAL_NETWORK = "social_network"
    CLASSIFIED_ADS = "classified_ads"
    CHAT = "chat"
    OTHER = "other"


class Source(StrEnum):
    """Which vocabulary a label was found in."""

    PUBLIC_FORM = "public_form"
    PROVIDER = "provider"
    CYBERTIPLINE = "cybertipline"
    ICCAM = "iccam"
    COMMON_LABEL = "common_label"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Rule:
    """What a known label means."""

    theme: Theme
    classification: Classification | None = None
    content_type: ContentType | None = None


@dataclass(frozen=True, slots=True)
class Mapped:
    """A label mapped onto the taxonomy. `label` is the label as it arrived, verbatim."""

    theme: Theme
    classification: Classification | None
    content_type: ContentType | None
    source: Source
    label: str


# --- The vocabularies: one table each. Keys are written as they arrive; lookups compare
# normalised forms (normalize_label), with and without any parenthesised part.

# The public form's category keys (tipline.intake.choices.PUBLIC_CATEGORIES; a test keeps
# the two in step, since this module may not import Django).
PUBLIC_FORM: Final[Mapping[str, Rule]] = {
    "child_sexual_abuse": Rule(Theme.CSAM),
    "grooming": Rule(Theme.GROOMING),
    "trafficking": Rule(Theme.TRAFFICKING),
    "terrorism": Rule(Theme.TERRORISM),
    "hate": Rule(Theme.HATE),
    "fraud": Rule(Theme.FRAUD),
    "other": Rule(Theme.OTHER),
}

# NCMEC CyberTipline incident types, as NCMEC spells them, and the short names in use.
CYBERTIPLINE: Final[Mapping[str, Rule]] = {
    "Child Pornography (possession, manufacture, and distribution)": Rule(Theme.CSAM),
    "Child Sex Trafficking": Rule(Theme.TRAFFICKING),
    "Child Sex Tourism": Rule(Theme.TRAFFICKING),
    "Child Sexual Molestation": Rule(Theme.CSAM),
    "Misleading Domain Name": Rule(Theme.OTHER, content_type=ContentType.LINK),
    "Misleading Words or Digital Images on the Internet": Rule(
        Theme.OTHER, content_type=ContentType.LINK
    ),
    "Online Enticement of Children for Sexual Acts": Rule(Theme.GROOMING),
    "Unsolicited Obscene Material Sent to a Child": Rule(Theme.GROOMING),
    # Short names
    "Online Enticement": Rule(Theme.GROOMING),
    "Unsolicited Obscene Material": Rule(Theme.GROOMING),
    "Misleading Words or Digital Images": Rule(Theme.OTHER, content_type=ContentType.LINK),
}

# ICCAM's classifications. ICCAM carries only suspected CSAM, so each is theme csam.
ICCAM: Final[Mapping[str, Rule]] = {
    "Baseline": Rule(Theme.CSAM, Classification.BASELINE),
    "National": Rule(Theme.CSAM, Classification.NATIONAL),
    "Doubtful": Rule(Theme.CSAM, Classification.DOUBTFUL),
    "Not illegal": Rule(Theme.CSAM, Classification.NOT_ILLEGAL),
}
# "ICCAM:<code>", "iccam baseline"...: with this prefix, a code ICCAM does not have (or
# none) still says the item came through ICCAM, hence suspected CSAM, not yet classified.
ICCAM_PREFIX: Final = "iccam"
ICCAM_UNRECOGNISED: Final = Rule(Theme.CSAM, Classification.UNASSESSED)

# Labels providers commonly send, in English and French.
COMMON_LABELS: Final[Mapping[str, Rule]] = {
    # csam
    "csam": Rule(Theme.CSAM),
    "csem": Rule(Theme.CSAM),
    "child sexual abuse material": Rule(Theme.CSAM),
    "child sexual exploitation material": Rule(Theme.CSAM),
    "child sexual exploitation": Rule(Theme.CSAM),
    "child abuse material": Rule(Theme.CSAM),
    "child abuse images": Rule(Theme.CSAM),
    "child porn": Rule(Theme.CSAM),
    "pédopornographie": Rule(Theme.CSAM),
    "contenu pédopornographique": Rule(Theme.CSAM),
    "images pédopornographiques": Rule(Theme.CSAM),
    "pédocriminalité": Rule(Theme.CSAM),
    "abus sexuels sur mineurs": Rule(Theme.CSAM),
    "abus sexuels sur enfants": Rule(Theme.CSAM),
    "matériel d'abus sexuels sur enfants": Rule(Theme.CSAM),
    # grooming
    "online grooming": Rule(Theme.GROOMING),
    "child grooming": Rule(Theme.GROOMING),
    "enticement": Rule(Theme.GROOMING),
    "sextortion": Rule(Theme.GROOMING),
    "sextorsion": Rule(Theme.GROOMING),
    "sexual extortion": Rule(Theme.GROOMING),
    "pédopiégeage": Rule(Theme.GROOMING),
    "sollicitation sexuelle de mineur": Rule(Theme.GROOMING),
    "propositions sexuelles à un mineur": Rule(Theme.GROOMING),
    "corruption de mineur": Rule(Theme.GROOMING),
    # trafficking
    "human trafficking": Rule(Theme.TRAFFICKING),
    "trafficking in human beings": Rule(Theme.TRAFFICKING),
    "thb": Rule(Theme.TRAFFICKING),
    "sex trafficking": Rule(Theme.TRAFFICKING),
    "traite des êtres humains": Rule(Theme.TRAFFICKING),
    "teh": Rule(Theme.TRAFFICKING),
    "sexual exploitation": Rule(Theme.TRAFFICKING),
    "exploitation sexuelle": Rule(Theme.TRAFFICKING),
    "sex ad": Rule(Theme.TRAFFICKING, content_type=ContentType.TEXT),
    "escort ad": Rule(Theme.TRAFFICKING, content_type=ContentType.TEXT),
    "prostitution ad": Rule(Theme.TRAFFICKING, content_type=ContentType.TEXT),
    "annonce sexuelle": Rule(Theme.TRAFFICKING, content_type=ContentType.TEXT),
    "annonce d'escorte": Rule(Theme.TRAFFICKING, content_type=ContentType.TEXT),
    "annonce escort": Rule(Theme.TRAFFICKING, content_type=ContentType.TEXT),
    "escort": Rule(Theme.TRAFFICKING),
    "escorting": Rule(Theme.TRAFFICKING),
    "prostitution": Rule(Theme.TRAFFICKING),
    "child prostitution": Rule(Theme.TRAFFICKING),
    "prostitution de mineurs": Rule(Theme.TRAFFICKING),
    "pimping": Rule(Theme.TRAFFICKING),
    "proxénétisme": Rule(Theme.TRAFFICKING),
    "racolage": Rule(Theme.TRAFFICKING),
    "forced labour": Rule(Theme.TRAFFICKING),
    "forced labor": Rule(Theme.TRAFFICKING),
    "travail forcé": Rule(Theme.TRAFFICKING),
    # terrorism
    "terrorist content": Rule(Theme.TERRORISM),
    "terrorist propaganda": Rule(Theme.TERRORISM),
    "violent extremism": Rule(Theme.TERRORISM),
    "tco": Rule(Theme.TERRORISM),
    "terrorisme": Rule(Theme.TERRORISM),
    "contenu terroriste": Rule(Theme.TERRORISM),
    "propagande terroriste": Rule(Theme.TERRORISM),
    "apologie du terrorisme": Rule(Theme.TERRORISM),
    "provocation au terrorisme": Rule(Theme.TERRORISM),
    "extrémisme violent": Rule(Theme.TERRORISM),
    # hate
    "hate speech": Rule(Theme.HATE),
    "hateful content": Rule(Theme.HATE),
    "incitement to hatred": Rule(Theme.HATE),
    "racism": Rule(Theme.HATE),
    "antisemitism": Rule(Theme.HATE),
    "holocaust denial": Rule(Theme.HATE),
    "discours de haine": Rule(Theme.HATE),
    "contenu haineux": Rule(Theme.HATE),
    "haine": Rule(Theme.HATE),
    "incitation à la haine": Rule(Theme.HATE),
    "provocation à la haine": Rule(Theme.HATE),
    "racisme": Rule(Theme.HATE),
    "antisémitisme": Rule(Theme.HATE),
    "négationnisme": Rule(Theme.HATE),
    # fraud
    "scam": Rule(Theme.FRAUD),
    "online fraud": Rule(Theme.FRAUD),
    "phishing": Rule(Theme.FRAUD, content_type=ContentType.LINK),
    "sextortion scam": Rule(Theme.FRAUD),
    "fraude": Rule(Theme.FRAUD),
    "escroquerie": Rule(Theme.FRAUD),
    "arnaque": Rule(Theme.FRAUD),
    "hameçonnage": Rule(Theme.FRAUD, content_type=ContentType.LINK),
    "filoutage": Rule(Theme.FRAUD, content_type=ContentType.LINK),
    # known, and outside the themes
    "autre": Rule(Theme.OTHER),
    "adult content": Rule(Theme.OTHER),
    "pornography": Rule(Theme.OTHER),
    "pornographie": Rule(Theme.OTHER),
    "harassment": Rule(Theme.OTHER),
    "cyberharcèlement": Rule(Theme.OTHER),
    "non consensual intimate images": Rule(Theme.OTHER),
    "revenge porn": Rule(Theme.OTHER),
    "spam": Rule(Theme.OTHER),
}

# Searched in this order; a test checks that no two tables share a normalised key, so the
# order matters only for the provider's own table, which is searched first.
VOCABULARIES: Final[tuple[tuple[Source, Mapping[str, Rule]], ...]] = (
    (Source.PUBLIC_FORM, PUBLIC_FORM),
    (Source.CYBERTIPLINE, CYBERTIPLINE),
    (Source.ICCAM, ICCAM),
    (Source.COMMON_LABEL, COMMON_LABELS),
)

_NON_WORD = re.compile(r"[\W_]+")
_PARENTHESISED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
# Letters that compatibility decomposition keeps whole.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})


def normalize_label(label: str) -> str:
    """`label` casefolded, accents stripped, every run of punctuation, separators and
    spaces made one space: "Pédo-Pornographie " -> "pedo pornographie"."""
    text = unicodedata.normalize("NFKD", label.casefold().translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", text).strip()


def lookup_keys(label: str) -> tuple[str, ...]:
    """The normalised forms a label is looked up under, in order: as is, without its
    parenthesised parts ("Child Pornography (possession, …)" -> "child pornography"),
    then each without spaces ("pedo-pornographie", "#SexAd")."""
    spaced = [normalize_label(label), normalize_label(_PARENTHESISED.sub(" ", label))]
    keys = [*spaced, *(key.replace(" ", "") for key in spaced)]
    return tuple(key for key in dict.fromkeys(keys) if key)


def _index(table: Mapping[str, Rule]) -> dict[str, Rule]:
    return {key: rule for label, rule in table.items() for key in lookup_keys(label)}


_INDEXES: Final = tuple((source, _index(table)) for source, table in VOCABULARIES)
_ICCAM_INDEX: Final = dict(_INDEXES)[Source.ICCAM]


@functools.lru_cache(maxsize=256)
def _provider_index(provider_labels: frozenset[tuple[str, str]]) -> dict[str, Theme]:
    """A provider's table keyed like the built-in ones; cached, since one provider's table
    serves a whole batch of its reports."""
    index = {}
    # Sorted, so rows that normalise alike ("Sex Ad", "sex ad") resolve the same way in
    # every process; the admin should keep one row per normalised label anyway.
    for label, value in sorted(provider_labels):
        try:
            theme = Theme(normalize_label(value).replace(" ", "_"))
        except ValueError:
            # A mistyped theme in the provider's table must not stop the report; the
            # built-in vocabularies still get their turn.
            continue
        index.update(dict.fromkeys(lookup_keys(label), theme))
    return index


def _provider_theme(keys: tuple[str, ...], provider_labels: Mapping[str, str]) -> Theme | None:
    index = _provider_index(frozenset(provider_labels.items()))
    return next((index[key] for key in keys if key in index), None)


def map_category(label: str, *, provider_labels: Mapping[str, str] | None = None) -> Mapped:
    """Map a report's category label onto the taxonomy.

    `provider_labels` is the sending provider's own table (label -> theme value); it wins
    over the built-in vocabularies. A label found nowhere maps to theme `other`, source
    `unknown`; the label is always kept verbatim in the result.
    """
    keys = lookup_keys(label)
    if provider_labels:
        theme = _provider_theme(keys, provider_labels)
        if theme is not None:
            return Mapped(theme, None, None, Source.PROVIDER, label)
    for source, index in _INDEXES:
        for key in keys:
            rule = index.get(key)
            if rule is not None:
                return Mapped(rule.theme, rule.classification, rule.content_type, source, label)
    for key in keys:
        prefix, _, code = key.partition(" ")
        if prefix == ICCAM_PREFIX:
            rule = _ICCAM_INDEX.get(code, ICCAM_UNRECOGNISED)
            return Mapped(rule.theme, rule.classification, rule.content_type, Source.ICCAM, label)
    return Mapped(Theme.OTHER, None, None, Source.UNKNOWN, label)
