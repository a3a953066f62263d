"""Harmonize's pure logic: which items a report points at, and what a new report means for
an item analysts already assessed. No Django here."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tipline.common.urls import InvalidURL

from .taxonomy import Classification
from .urls import item_url, registrable_domain


class ItemKind(StrEnum):
    URL = "url"
    MEDIA = "media"
    TEXT = "text"


@dataclass(frozen=True)
class ItemRef:
    """An item as a report points at it: its identity and what is known from the report."""

    kind: ItemKind
    key: str  # unique across items: SHA-256 of kind and identity
    as_reported: str  # the URL as written, the file name, the first words of the text
    url: str = ""
    host: str = ""
    host_kind: str = ""
    domain: str = ""
    sha256: str = ""
    text: str = ""


@dataclass(frozen=True)
class Problem:
    field: str
    template: str
    params: dict[str, object]

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template


def item_key(kind: ItemKind, identity: str) -> str:
    return hashlib.sha256(f"{kind}:{identity}".encode("utf-8", "surrogatepass")).hexdigest()


_SPACES = re.compile(r"\s+")


def normalized_text(text: str) -> str:
    """Text as compared across reports: compatibility forms, case and spacing folded."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_hash(text: str) -> str:
    return hashlib.sha256(normalized_text(text).encode("utf-8", "surrogatepass")).hexdigest()


def items_for(
    *, urls: Sequence[str], media: Sequence[tuple[str, str]], excerpt: str
) -> tuple[list[ItemRef], list[Problem]]:
    """The items a report points at: each URL's page, each media file's content, and the
    excerpt when the report gives no URL. `media` is (file name, SHA-256) pairs.

    A URL that cannot be canonicalized is a problem for that field, not for the report.
    """
    refs: dict[str, ItemRef] = {}
    problems = []
    for i, raw in enumerate(urls):
        try:
            canonical = item_url(raw)
        except InvalidURL as e:
            problems.append(Problem(f"urls[{i}]", e.template, e.params))
            continue
        url = str(canonical)
        key = item_key(ItemKind.URL, url)
        refs.setdefault(
            key,
            ItemRef(
                ItemKind.URL,
                key,
                raw,
                url=url,
                host=canonical.host,
                host_kind=canonical.host_kind,
                domain=registrable_domain(canonical.host) or "",
            ),
        )
    for filename, sha256 in media:
        key = item_key(ItemKind.MEDIA, sha256)
        refs.setdefault(key, ItemRef(ItemKind.MEDIA, key, filename, sha256=sha256))
    if excerpt.strip() and not urls:
        key = item_key(ItemKind.TEXT, text_hash(excerpt))
        refs.setdefault(key, ItemRef(ItemKind.TEXT, key, excerpt[:200], text=excerpt))
    return list(refs.values()), problems


def evidence_of(*, media_sha256: Iterable[str], excerpt: str) -> set[str]:
    """What a report brings besides where the content is: its files and its text."""
    evidence = set(media_sha256)
    if excerpt.strip():
        evidence.add(text_hash(excerpt))
    return evidence


class Effect(StrEnum):
    """What a new report means for the item it points at."""

    NEW_WORK = "new_work"  # not assessed yet: analysts will see it
    INHERITED = "inherited"  # already assessed, nothing new: the report takes the assessment
    REOPENED = "reopened"  # already assessed, but the report brings new media or text


def assessment_effect(
    *, classification: str, item_evidence: Iterable[str], report_evidence: Iterable[str]
) -> Effect:
    if classification == Classification.UNASSESSED:
        return Effect.NEW_WORK
    if set(report_evidence) - set(item_evidence):
        return Effect.REOPENED
    return Effect.INHERITED
