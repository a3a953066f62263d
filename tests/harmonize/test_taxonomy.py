"""The common taxonomy: every label in every vocabulary maps where docs/taxonomy.md says,
whatever its case, accents or spacing; a provider's own table wins; nothing is dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tipline.harmonize.taxonomy import (
    COMMON_LABELS,
    CYBERTIPLINE,
    ICCAM,
    PUBLIC_FORM,
    VOCABULARIES,
    Classification,
    ContentType,
    Mapped,
    Rule,
    Source,
    Theme,
    lookup_keys,
    map_category,
    normalize_label,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "taxonomy.md"

# The decisions, written out again so that changing a table is a visible choice.
PUBLIC_FORM_THEMES = {
    "child_sexual_abuse": Theme.CSAM,
    "grooming": Theme.GROOMING,
    "trafficking": Theme.TRAFFICKING,
    "terrorism": Theme.TERRORISM,
    "hate": Theme.HATE,
    "fraud": Theme.FRAUD,
    "other": Theme.OTHER,
}

CYBERTIPLINE_TYPES: dict[str, tuple[Theme, ContentType | None]] = {
    "Child Pornography (possession, manufacture, and distribution)": (Theme.CSAM, None),
    "Child Sex Trafficking": (Theme.TRAFFICKING, None),
    "Child Sex Tourism": (Theme.TRAFFICKING, None),
    "Child Sexual Molestation": (Theme.CSAM, None),
    "Misleading Domain Name": (Theme.OTHER, ContentType.LINK),
    "Misleading Words or Digital Images on the Internet": (Theme.OTHER, ContentType.LINK),
    "Online Enticement of Children for Sexual Acts": (Theme.GROOMING, None),
    "Unsolicited Obscene Material Sent to a Child": (Theme.GROOMING, None),
}

ICCAM_CODES = {
    "Baseline": Classification.BASELINE,
    "National": Classification.NATIONAL,
    "Doubtful": Classification.DOUBTFUL,
    "Not illegal": Classification.NOT_ILLEGAL,
}

# Labels providers send, as the brief for this module listed them.
COMMON_EXAMPLES = {
    "csam": Theme.CSAM,
    "child sexual abuse material": Theme.CSAM,
    "pédopornographie": Theme.CSAM,
    "sex ad": Theme.TRAFFICKING,
    "escort ad": Theme.TRAFFICKING,
    "prostitution": Theme.TRAFFICKING,
    "proxénétisme": Theme.TRAFFICKING,
    "traite des êtres humains": Theme.TRAFFICKING,
    "human trafficking": Theme.TRAFFICKING,
    "sextortion": Theme.GROOMING,
    "apologie du terrorisme": Theme.TERRORISM,
    "hate speech": Theme.HATE,
    "discours de haine": Theme.HATE,
    "phishing": Theme.FRAUD,
    "hameçonnage": Theme.FRAUD,
    "scam": Theme.FRAUD,
    "escroquerie": Theme.FRAUD,
}


def variants(label: str) -> list[str]:
    """The same label as people type it: shouting, without accents, snake_case, padded."""
    words = label.split()
    return [
        label.upper(),
        label.lower(),
        normalize_label(label),
        "_".join(words),
        "-".join(w.upper() for w in words),
        f"  {'   '.join(words)}  ",
    ]


def test_public_form_table_matches_the_form() -> None:
    from tipline.intake.choices import PUBLIC_CATEGORIES

    assert set(PUBLIC_FORM) == {key for key, _ in PUBLIC_CATEGORIES} == set(PUBLIC_FORM_THEMES)


@pytest.mark.parametrize("key", PUBLIC_FORM_THEMES)
def test_public_form_keys(key: str) -> None:
    assert map_category(key) == Mapped(PUBLIC_FORM_THEMES[key], None, None, Source.PUBLIC_FORM, key)


def test_cybertipline_table_has_every_incident_type() -> None:
    official = {normalize_label(label) for label in CYBERTIPLINE_TYPES}
    assert official <= {normalize_label(label) for label in CYBERTIPLINE}


@pytest.mark.parametrize("incident_type", CYBERTIPLINE_TYPES)
def test_cybertipline_incident_types(incident_type: str) -> None:
    theme, content_type = CYBERTIPLINE_TYPES[incident_type]
    without_parenthesis = incident_type.split(" (")[0]
    for label in [incident_type, without_parenthesis, *variants(without_parenthesis)]:
        assert map_category(label) == Mapped(theme, None, content_type, Source.CYBERTIPLINE, label)


@pytest.mark.parametrize(
    "label",
    [
        "child pornography",
        "CHILD_PORNOGRAPHY",
        "Child Pornography (possession, manufacture & distribution)",
        "child pornography [possession]",
    ],
)
def test_child_pornography_however_written(label: str) -> None:
    mapped = map_category(label)
    assert (mapped.theme, mapped.source) == (Theme.CSAM, Source.CYBERTIPLINE)


@pytest.mark.parametrize("code", ICCAM_CODES)
def test_iccam_codes(code: str) -> None:
    snake = "_".join(code.lower().split())
    for label in [code, snake, f"ICCAM:{code}", f"iccam {snake}", f"ICCAM - {code.upper()}"]:
        assert map_category(label) == Mapped(
            Theme.CSAM, ICCAM_CODES[code], None, Source.ICCAM, label
        ), label


@pytest.mark.parametrize("label", ["ICCAM", "iccam:", "ICCAM:pending", "ICCAM/unknown code"])
def test_iccam_prefix_with_an_unknown_code_is_unassessed_csam(label: str) -> None:
    assert map_category(label) == Mapped(
        Theme.CSAM, Classification.UNASSESSED, None, Source.ICCAM, label
    )


def test_iccam_table_covers_every_classification_but_unassessed() -> None:
    assert {rule.classification for rule in ICCAM.values()} == set(Classification) - {
        Classification.UNASSESSED
    }


@pytest.mark.parametrize("label", COMMON_EXAMPLES)
def test_common_labels_from_the_brief(label: str) -> None:
    mapped = map_category(label)
    assert (mapped.theme, mapped.source) == (COMMON_EXAMPLES[label], Source.COMMON_LABEL)


@pytest.mark.parametrize(("label", "rule"), COMMON_LABELS.items())
def test_every_common_label_maps_as_its_table_says(label: str, rule: Rule) -> None:
    for typed in [label, *variants(label)]:
        assert map_category(typed) == Mapped(
            rule.theme, rule.classification, rule.content_type, Source.COMMON_LABEL, typed
        )


@pytest.mark.parametrize(
    ("label", "theme"),
    [
        ("PÉDOPORNOGRAPHIE", Theme.CSAM),
        ("pedo-pornographie", Theme.CSAM),
        ("Traite des etres humains", Theme.TRAFFICKING),
        ("traite_des_êtres_humains", Theme.TRAFFICKING),
        ("Annonce d\u2019escorte", Theme.TRAFFICKING),
        ("HAMECONNAGE", Theme.FRAUD),
        ("Child  Sexual\tAbuse\nMaterial", Theme.CSAM),
        ("Sex-Ad", Theme.TRAFFICKING),
        ("Phishing (bank)", Theme.FRAUD),
        ("#SexAd", Theme.TRAFFICKING),
        ("childporn", Theme.CSAM),
    ],
)
def test_case_accents_and_spacing_do_not_matter(label: str, theme: Theme) -> None:
    assert map_category(label).theme == theme


def test_no_label_is_in_two_vocabularies() -> None:
    seen: dict[str, Source] = {}
    for source, table in VOCABULARIES:
        keys = {key for label in table for key in lookup_keys(label)}
        for key in keys:
            assert key not in seen, f"{key!r} is in both {seen[key]} and {source}"
            seen[key] = source


def test_ad_and_phishing_labels_name_their_content() -> None:
    assert map_category("sex ad").content_type == ContentType.TEXT
    assert map_category("phishing").content_type == ContentType.LINK
    assert map_category("csam").content_type is None


def test_provider_labels_win_over_every_vocabulary() -> None:
    table = {"sex ad": "other", "child_sexual_abuse": "fraud", "baseline": "hate"}
    assert map_category("Sex Ad", provider_labels=table) == Mapped(
        Theme.OTHER, None, None, Source.PROVIDER, "Sex Ad"
    )
    assert map_category("child_sexual_abuse", provider_labels=table).theme == Theme.FRAUD
    baseline = map_category("Baseline", provider_labels=table)
    assert (baseline.theme, baseline.classification) == (Theme.HATE, None)


def test_provider_labels_teach_unknown_labels() -> None:
    table = {"annonce rose": "trafficking", "Contenu Illicite Mineur": "CSAM"}
    assert map_category("ANNONCE-ROSE", provider_labels=table).theme == Theme.TRAFFICKING
    assert map_category("contenu illicite mineur", provider_labels=table) == Mapped(
        Theme.CSAM, None, None, Source.PROVIDER, "contenu illicite mineur"
    )


def test_an_edited_provider_table_takes_effect_at_once() -> None:
    table: dict[str, str] = {"annonce rose": Theme.TRAFFICKING}
    assert map_category("annonce rose", provider_labels=table).theme == Theme.TRAFFICKING
    table["annonce rose"] = Theme.OTHER
    assert map_category("annonce rose", provider_labels=table).theme == Theme.OTHER
    del table["annonce rose"]
    assert map_category("annonce rose", provider_labels=table).source == Source.UNKNOWN


def test_other_labels_fall_through_the_provider_table() -> None:
    table = {"annonce rose": "trafficking"}
    assert map_category("phishing", provider_labels=table).source == Source.COMMON_LABEL
    assert map_category("nothing known", provider_labels=table).source == Source.UNKNOWN


def test_a_mistyped_provider_theme_does_not_stop_the_report() -> None:
    mapped = map_category("sex ad", provider_labels={"sex ad": "trafiking"})
    assert (mapped.theme, mapped.source) == (Theme.TRAFFICKING, Source.COMMON_LABEL)


@pytest.mark.parametrize(
    "label", ["Weird Stuff ™", "cp", "contenu choquant", "Sexual approach of a minor", "🙂"]
)
def test_unknown_labels_are_other_and_kept_verbatim(label: str) -> None:
    assert map_category(label) == Mapped(Theme.OTHER, None, None, Source.UNKNOWN, label)


@pytest.mark.parametrize("label", ["", "   ", "()", "---"])
def test_empty_labels_are_other(label: str) -> None:
    assert map_category(label) == Mapped(Theme.OTHER, None, None, Source.UNKNOWN, label)


def test_known_labels_outside_the_themes_are_recognised() -> None:
    assert map_category("autre") == Mapped(Theme.OTHER, None, None, Source.COMMON_LABEL, "autre")


def test_docs_name_every_incident_type_and_iccam_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for label in [*CYBERTIPLINE_TYPES, *ICCAM, *(theme.value for theme in Theme)]:
        assert label in text, label


@given(st.text(), st.dictionaries(st.text(max_size=8), st.sampled_from([*Theme, "junk"])))
def test_map_category_never_raises_and_keeps_the_label(
    label: str, provider_labels: dict[str, str]
) -> None:
    mapped = map_category(label, provider_labels=provider_labels)
    assert mapped.label == label
    assert mapped.theme in Theme
    assert mapped.source in Source
