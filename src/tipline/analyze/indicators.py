"""Explainable indicators: the words and signs in an ad or a chat that an analyst should look
at, each with its weight, rationale and source, and the risk and priority they add up to
(docs/indicators.md). Pure Python: patterns run over a folded copy of the text, and every
hit points back at the words in the original."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from tipline.harmonize.taxonomy import Theme


@dataclass(frozen=True)
class Indicator:
    """One thing worth an analyst's attention, and why."""

    code: str  # stable id: "<family>.<name>"
    family: str  # "ad" (trafficking / sexual-exploitation ads) or "chat" (grooming)
    name: str  # short English label shown to analysts
    weight: int  # 1..40, its contribution to risk
    rationale: str
    source: str  # a published source, or "" where none is known


@dataclass(frozen=True)
class Hit:
    """An indicator found in a text: `text[start:end] == matched`, in the original text."""

    code: str
    start: int
    end: int
    weight: int
    matched: str


FAMILIES: Final = ("ad", "chat")

# Sources, short; docs/indicators.md gives them in full, and says what each one supports.
_CHILD_DIRECTIVE: Final = (
    "Directive 2011/93/EU on combating the sexual abuse and sexual exploitation of children "
    "and child pornography (2011)"
)
_LANZAROTE: Final = (
    "Council of Europe Convention on the Protection of Children against Sexual Exploitation "
    "and Sexual Abuse (Lanzarote, 2007), art. 23; Directive 2011/93/EU, art. 6"
)
_BLUE: Final = (
    "U.S. Department of Homeland Security, Blue Campaign, Indicators of Human Trafficking"
)
_POLARIS: Final = (
    "Polaris Project, The Typology of Modern Slavery: Defining Sex and Labor Trafficking "
    "in the United States (2017)"
)
_IBANEZ: Final = (
    "Ibanez & Suthers, Detection of domestic human trafficking indicators and movement trends "
    "using content available on open internet sources (HICSS, 2014)"
)
_LUGO: Final = (
    "Lugo-Graulich et al., Improving sex trafficking victim identification: indicators of "
    "trafficking in online escort ads (Journal of Human Trafficking, 2024)"
)
_NCMEC: Final = (
    "NCMEC, The Online Enticement of Children: An In-Depth Analysis of CyberTipline Reports (2017)"
)
_THORN: Final = (
    "Thorn, Online Grooming: Examining risky encounters amid everyday digital socialization (2022)"
)
_OCONNELL: Final = (
    "O'Connell, A typology of child cybersexploitation and online grooming practices (2003)"
)
_LORENZO_DUS_2016: Final = (
    "Lorenzo-Dus, Izura & Pérez-Tattam, Understanding grooming discourse in computer-mediated "
    "environments (Discourse, Context & Media, 2016)"
)
_LORENZO_DUS_2017: Final = (
    "Lorenzo-Dus & Izura, 'cause ur special': understanding trust and complimenting "
    "behaviour in online grooming discourse (Journal of Pragmatics, 2017)"
)

CATALOGUE: Final[tuple[Indicator, ...]] = (
    # --- ads: trafficking and sexual exploitation
    Indicator(
        "ad.minor_age",
        "ad",
        "Stated age under 18",
        40,
        "The text gives an age under 18 for the person offered or writing: a child, and in "
        "law a victim whatever the rest of the ad says.",
        _CHILD_DIRECTIVE,
    ),
    Indicator(
        "ad.restricted_movement",
        "ad",
        "Restricted movement or documents taken",
        30,
        "Someone is not allowed to leave, is locked in, or has had their passport taken: a "
        "person held, possibly in immediate danger.",
        _BLUE,
    ),
    Indicator(
        "ad.controlled_contact",
        "ad",
        "Contact goes through a third party",
        25,
        "Bookings go through a 'manager', a 'friend' or another number, or the person may not "
        "talk: someone else controls her contacts and speaks for her.",
        _BLUE,
    ),
    Indicator(
        "ad.youth",
        "ad",
        "Language suggesting youth",
        20,
        "Youth is the selling point ('barely legal', 'petite teen', 'tout juste 18 ans', a "
        "stated age of 18 or 19): among the few ad cues found to predict trafficking.",
        _LUGO,
    ),
    Indicator(
        "ad.ethnic_marketing",
        "ad",
        "Nationality or ethnicity as selling point",
        15,
        "'Asian new girls', 'filles de l'Est': women marketed by origin, a cue found to predict "
        "trafficking rather than independent sex work.",
        _LUGO,
    ),
    Indicator(
        "ad.third_person",
        "ad",
        "Written in the third person",
        15,
        "The ad speaks of 'her' or 'my girls': a third party writes and sells, not the person "
        "offered.",
        "",
    ),
    Indicator(
        "ad.multiple_people",
        "ad",
        "Several people in one ad",
        15,
        "One ad offers several women or 'new girls every week': an organisation behind it "
        "rather than one independent person.",
        "",
    ),
    Indicator(
        "ad.no_condom",
        "ad",
        "Unprotected services offered",
        15,
        "Unprotected sex on offer is a health risk the person is seldom free to refuse; it is "
        "read as a sign of pressure or control.",
        "",
    ),
    Indicator(
        "ad.available_now",
        "ad",
        "Available now, around the clock",
        10,
        "Availability tonight or 24/7: long or unusual hours the person does not set, and a "
        "meeting that can happen now.",
        _BLUE,
    ),
    Indicator(
        "ad.short_price",
        "ad",
        "Price for a short time",
        10,
        "Prices per 15-30 minutes ('QV', 'quickie', '100 roses/30 min') or a high hourly rate: "
        "the ad sells sex, at volume.",
        "",
    ),
    Indicator(
        "ad.hotel_incall",
        "ad",
        "Incall in a hotel",
        10,
        "Meetings in a hotel room, its number given on request: a temporary place, typical "
        "of people moved between cities.",
        _POLARIS,
    ),
    Indicator(
        "ad.emoji_youth",
        "ad",
        "Youth emoji",
        10,
        "Emoji used in place of words for youth or virginity (🍒 🍭 🍬 👧 🎒 🧸); weak on "
        "their own, telling next to other cues.",
        "",
    ),
    Indicator(
        "ad.emoji_rose_price",
        "ad",
        "Roses as money",
        10,
        "A number next to 🌹: 'roses' stand for dollars or euros in sex ads, to dodge "
        "moderation of prices.",
        "",
    ),
    Indicator(
        "ad.new_in_town",
        "ad",
        "New in town, just arrived",
        5,
        "'New in town', 'de passage': movement between cities, long read as a sign of "
        "trafficking circuits, though independent workers travel too; kept, lightly weighted.",
        _IBANEZ,
    ),
    # --- chats: grooming
    Indicator(
        "chat.minor_sexual",
        "chat",
        "Sexual talk with a stated minor",
        40,
        "A sexual word within a sentence or two of an age under 18: sexual talk with a child, "
        "the most frequent tactic in online enticement.",
        _NCMEC,
    ),
    Indicator(
        "chat.stated_minor",
        "chat",
        "Writer says they are under 18",
        30,
        "Someone in the conversation says they are under 18 ('I'm 13', 'j'ai 14 ans'): a "
        "child is taking part.",
        _CHILD_DIRECTIVE,
    ),
    Indicator(
        "chat.meeting",
        "chat",
        "Asks to meet",
        20,
        "A request to meet, an offer to come and pick the child up, or where they live: "
        "contact moving into the physical world, an offence in itself toward a child.",
        _LANZAROTE,
    ),
    Indicator(
        "chat.secrecy",
        "chat",
        "Asks for secrecy",
        20,
        "'Don't tell your parents', 'delete this': isolating the child and hiding the "
        "relationship is a core stage of grooming.",
        _LORENZO_DUS_2016,
    ),
    Indicator(
        "chat.photo_request",
        "chat",
        "Asks for pictures",
        20,
        "Requests for photos, selfies or the camera: obtaining images is a main aim of online "
        "enticement, and the first step of sextortion.",
        _NCMEC,
    ),
    Indicator(
        "chat.platform_move",
        "chat",
        "Moves to another app",
        15,
        "'Add me on snap', 'on continue sur Telegram': moving to a private or ephemeral "
        "channel, out of the moderated platform's sight.",
        _THORN,
    ),
    Indicator(
        "chat.gifts",
        "chat",
        "Offers gifts or money",
        15,
        "Robux, gift cards, phone credit or money: incentives that build a debt or a bond.",
        _NCMEC,
    ),
    Indicator(
        "chat.asks_age",
        "chat",
        "Asks the other's age",
        10,
        "Asking the age ('how old are you', 't'as quel âge') is how an offender checks he is "
        "talking to a child, and weighs the risk of going on.",
        _OCONNELL,
    ),
    Indicator(
        "chat.flattery",
        "chat",
        "Compliments on looks",
        10,
        "Compliments on appearance or on being 'mature for your age' build trust and steer "
        "the talk toward the body.",
        _LORENZO_DUS_2017,
    ),
)

BY_CODE: Final[Mapping[str, Indicator]] = {i.code: i for i in CATALOGUE}

# ---------------------------------------------------------------------------------------------
# Folding: matching ignores case, accents, ligatures and zero-width characters, so it runs
# over a folded copy of the text; `origin[i]` is the index in the original text of the
# character that folded character i came from.

_DROPPED_CATEGORIES: Final = frozenset({"Mn", "Me", "Cf"})  # accents, joiners, zero-widths
_FOLD_TABLE: Final = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"}
    # typographic apostrophes (right, left, modifier letter, acute accent) read as "'"
    | dict.fromkeys(["\u2019", "\u2018", "\u02bc", "\u00b4"], "'")
)
_RUNS: Final = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKD", char.casefold().translate(_FOLD_TABLE))
    kept = "".join(c for c in folded if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    return kept.lower()


def _fold(text: str) -> tuple[str, array[int] | None]:
    """The folded text and its origin map (None when folding kept every index: ASCII)."""
    if text.isascii():
        return text.lower(), None
    parts: list[str] = []
    origin = array("q")
    for run in _RUNS.finditer(text):
        chunk, start = run.group(), run.start()
        if chunk.isascii():
            parts.append(chunk.lower())
            origin.extend(range(start, run.end()))
            continue
        for i, char in enumerate(chunk, start):
            folded = _fold_char(char)
            if folded:
                parts.append(folded)
                origin.extend([i] * len(folded))
    return "".join(parts), origin


def _strip_accents(pattern: str) -> str:
    """Patterns are written with their accents, for reading; they match folded text."""
    return "".join(
        c
        for c in unicodedata.normalize("NFKD", pattern.translate(_FOLD_TABLE))
        if unicodedata.category(c) not in _DROPPED_CATEGORIES
    )


# ---------------------------------------------------------------------------------------------
# Pattern syntax: in a phrase, a space stands for 1-3 separators of any kind ("new-in  town",
# "new.in.town"), and " ?" or an apostrophe for 0-3 ("24h/24", "t'as", "tas", "t as"). Every
# repeat is bounded or runs over one character class followed by another it cannot overlap,
# so no regex backtracks more than linearly.

_SEP: Final = r"[\W_]{1,3}"
_OPT: Final = r"[\W_]{0,3}"
_END: Final = r"(?![^\W_])"  # not followed by a letter or digit
_BOUNDARY: Final = r"[\W_](?=[^\W_])"  # consumed: see _after_boundary
_PAD: Final = 1
# Every regex made by _after_boundary, in order: the locator runs them all at once.
_BOUNDED: Final[list[re.Pattern[str]]] = []


def _after_boundary(body: str) -> re.Pattern[str]:
    """`body` as group "m": starting with a letter or digit, preceded by neither.

    The boundary is consumed rather than looked behind at, so that `re` can skip every
    position inside a word without trying the pattern; scans run over the folded text with
    a newline put in front (_PAD), so a match may begin the text.
    """
    rx = re.compile(f"{_BOUNDARY}(?P<m>{body})")
    _BOUNDED.append(rx)
    return rx


def _phrase(pattern: str) -> str:
    return _strip_accents(pattern).replace(" ?", _OPT).replace(" ", _SEP).replace("'", _OPT)


def _words(*phrases: str) -> re.Pattern[str]:
    """A regex matching any of `phrases`, on word boundaries."""
    body = "|".join(_phrase(p) for p in phrases)
    return _after_boundary(f"(?:{body}){_END}")


def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# --- Stated ages -----------------------------------------------------------------------------

_SPELLED: Final[Mapping[str, int]] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "dix sept": 17,
    "dix huit": 18,
    "dix neuf": 19,
}
_SPELLED_KEYS: Final = {word.replace(" ", ""): age for word, age in _SPELLED.items()}
_NUM: Final = (
    r"(?P<n>\d{1,2}|"
    + "|".join(sorted((w.replace(" ", r"[\W_]{0,2}") for w in _SPELLED), key=len, reverse=True))
    + ")"
)
_YEARS_OLD: Final = r"[\W_]{0,3}(?:years?|yrs?|yr)[\W_]{1,3}old"
_YO: Final = r"[\W_]{0,2}(?:yo|y[\W_]{1,2}o)"
_ANS: Final = r"[\W_]{0,3}ans"
# Words that may follow a bare age ("she is 15 and ..."); anything else ("15 minutes") is
# read as a quantity, not an age.
_AFTER_BARE_AGE: Final = _alt(
    "and", "but", "so", "now", "too", "today", "lol", "lmao", "haha", "btw", "tho", "though",
    "wbu", "hbu", "u", "you", "only", "just", "n", "et", "mais", "donc", "mdr", "ptdr", "stp",
    "aussi", "ok", "okay",
)  # fmt: skip
# Words that may follow "N years old": a person, or the sentence going on about one. "18 year
# old whisky" is not an age of anyone.
_AFTER_YEARS_OLD: Final = _alt(
    "girl", "girls", "boy", "boys", "woman", "women", "lady", "ladies", "female", "male",
    "teen", "teenager", "student", "schoolgirl", "virgin", "daughter", "son", "kid", "child",
    "latina", "asian", "ebony", "blonde", "brunette", "redhead", "babe", "escort", "slut",
    "cutie", "hottie", "who", "with", "here", "looking", "available", "ready", "new", "is",
    "and", "but", "so", "lol", "from", "in", "at", "now", "too", "only", "just", "u", "you",
    "me", "myself", "sexy", "hot", "cute", "petite", "fresh", "young",
)  # fmt: skip
_CLAUSE_END: Final = r"(?=[\t\x20]*(?:$|\n|[^\w\s])|[\W_]{1,3}" + _AFTER_BARE_AGE + _END + ")"
# An age range or a lower bound ("ages 12 and up", "12+", "de 12 à 16 ans") is an audience,
# not a person's age.
_NOT_RANGE: Final = (
    r"(?![\W_]{0,3}(?:\+|(?:and|or|et|ou)[\W_]{1,3}(?:up|over|older|above|plus)"
    r"|(?:to|a|-)[\W_]{0,3}\d))"
)
# "j'ai 15 ans d'expérience", "elle a 15 ans de plus", "15 ans plus tard": a duration.
_FR_NOT_AGE: Final = r"(?![\W_]{1,3}(?:de|des|d|depuis|plus|apres|avant|que|qu)" + _END + ")"
# "il y a 15 ans", "il y a à peine 15 ans": years ago.
_NOT_AGO: Final = r"(?<!y\x20a\x20)(?<!ya\x20)"

_FIRST_PERSON_EN: Final = _phrase("(?:i'm|i am|i'am) (?:only |just |almost |nearly )?")
_THIRD_PERSON_EN: Final = _phrase(
    "(?:she's|she is|he's|he is|girl is|she just turned|she turned|just turned|aged) "
    "(?:only |just |almost |nearly )?"
)
# "age 15" and "age: 15", but not "at age 15" or "since age 12", which tell a life story.
_AGE_LABEL_EN: Final = r"(?<!at\x20)(?<!since\x20)(?<!from\x20)(?<!by\x20)age[\W_]{1,3}"
_FIRST_PERSON_FR: Final = _phrase(
    "(?:j'ai|moi j'ai|je viens d'avoir|je vais avoir) (?:que |seulement |presque |bientôt )?"
)
_THIRD_PERSON_FR: Final = _phrase(
    "(?:elle a|il a|elle n'a que|il n'a que|âgée de|âgé de|age de|âge|fille de|gamine de"
    "|ado de|adolescente de|minette de|lycéenne de|collégienne de|écolière de|gamin de"
    "|garçon de|jeune de|petite de|nana de|meuf de|étudiante de|escort de|brune de|blonde de"
    "|à peine|tout juste) (?:que |seulement |presque |bientôt )?"
)
_BARE_AGE_END: Final = f"(?:(?:{_YEARS_OLD}|{_YO}){_END}|{_END}{_CLAUSE_END}){_NOT_RANGE}"

# (regex, is first person, youngest age read as an age in that form: a bare number is
# ambiguous, so it counts from 10 only)
_AGE_FORMS: Final[tuple[tuple[re.Pattern[str], bool, int], ...]] = (
    # "I'm 13", "i am 15 years old", "im 14 yo"
    (_after_boundary(f"{_FIRST_PERSON_EN}{_NUM}{_BARE_AGE_END}"), True, 10),
    # "she is 15", "she's 16 years old", "aged 15", "age: 15"
    (
        _after_boundary(f"(?:{_THIRD_PERSON_EN}|{_AGE_LABEL_EN}){_NUM}{_BARE_AGE_END}"),
        False,
        10,
    ),
    # "15 years old", "a 15-year-old girl" (not "18 year old whisky")
    (
        _after_boundary(
            f"{_NUM}{_YEARS_OLD}{_END}{_NOT_RANGE}"
            rf"(?=[\t\x20]*(?:$|\n|[^\w\s])|[\W_]{{1,3}}{_AFTER_YEARS_OLD}{_END})"
        ),
        False,
        5,
    ),
    # "15yo", "15 y/o"
    (_after_boundary(f"{_NUM}{_YO}{_END}{_NOT_RANGE}"), False, 5),
    # "j'ai 14 ans" (not "j'ai 15 ans d'expérience")
    (_after_boundary(f"{_FIRST_PERSON_FR}{_NUM}{_ANS}{_END}{_FR_NOT_AGE}"), True, 5),
    # "elle a 15 ans", "une fille de 15 ans", "tout juste 18 ans" (not "il y a 15 ans")
    (
        _after_boundary(f"{_NOT_AGO}{_THIRD_PERSON_FR}{_NUM}{_ANS}{_END}{_FR_NOT_AGE}"),
        False,
        5,
    ),
    # "Léa, 15 ans, dispo": an age set off by punctuation, as ads list it
    (
        re.compile(
            rf"[,(|\n•\-\u2013\u2014/][\t\x20]{{0,3}}(?P<m>{_NUM}{_ANS}){_END}"
            r"(?=[\t\x20]*(?:$|[,.;!)|\n•\-\u2013\u2014/]))"
        ),
        False,
        5,
    ),
)


@dataclass(frozen=True, slots=True)
class _Age:
    start: int  # in the folded text
    end: int
    age: int
    first_person: bool


def _age_value(number: str) -> int:
    if number.isdigit():
        return int(number)
    return _SPELLED_KEYS[re.sub(r"[\W_]+", "", number)]


def _stated_ages(scan: _Scan) -> list[_Age]:
    """Every age stated for a person, 5 to 19; where two readings overlap, the longer."""
    found = [
        _Age(m.start("m") - _PAD, m.end("m") - _PAD, age, first_person)
        for rx, first_person, youngest in _AGE_FORMS
        for m in scan.matches(rx)
        if youngest <= (age := _age_value(m.group("n"))) <= 19
    ]
    found.sort(key=lambda a: (a.start, -a.end, not a.first_person))
    kept: list[_Age] = []
    for reading in found:
        if not kept or reading.start >= kept[-1].end:
            kept.append(reading)
    return kept


# --- Sexual vocabulary, for chat.minor_sexual --------------------------------------------------

_SEXUAL: Final = _words(
    "sex", "sexy", "sexting", "sexual", "sexually", "naked", "nude", "nudes", "horny", "dick",
    "cock", "boobs", "tits", "pussy", "blowjob", "suck", "fuck", "fucking", "masturbate",
    "masturbating", "virgin", "porn", "cum", "touch yourself", "take off your", "undress",
    "sexe", "sexuel", "sexuelle", "nue", "nues", "à poil", "bite", "seins", "chatte", "sucer",
    "suce", "baiser", "branler", "te branler", "masturber", "vierge", "porno", "excitée",
    "excité", "déshabille", "te toucher",
)  # fmt: skip
_SEXUAL_WINDOW: Final = 80  # folded characters between the age and the sexual word
_LONGEST_SEXUAL_WORD: Final = 30

# --- The patterns, by indicator ----------------------------------------------------------------

_NATIONALITY_EN: Final = _alt(
    "asian", "thai", "chinese", "korean", "japanese", "vietnamese", "filipina", "latina",
    "latinas", "russian", "romanian", "ukrainian", "bulgarian", "nigerian", "african",
    "brazilian", "colombian", "venezuelan", "eastern european", "exotic", "ebony",
)  # fmt: skip
_NATIONALITY_FR: Final = _alt(
    "asiatiques?", "thaïe?s?", "thaïlandaises?", "chinoises?", "coréennes?", "japonaises?",
    "vietnamiennes?", "philippines?", "latinas?", "latines?", "russes?", "roumaines?",
    "ukrainiennes?", "bulgares?", "nigérianes?", "africaines?", "brésiliennes?",
    "colombiennes?", "vénézuéliennes?", "de l'est", "exotiques?", "blacks?",
)  # fmt: skip
_APPS: Final = _alt(
    "snap", "snapchat", "telegram", "whatsapp", "whats app", "kik", "discord", "insta",
    "instagram", "signal", "wickr", "skype", "viber", "wechat", "threema",
)  # fmt: skip
_AMOUNT: Final = r"\d{2,4}"
_HIGH_AMOUNT: Final = r"(?:[89]\d|[1-9]\d{2,3})"  # 80 and up: lower hourly rates are wages
_CURRENCY: Final = r"(?:\$|€|£|eur|euros?|usd|dollars?|bucks|roses?|🌹{1,5})"
_SHORT_TIME: Final = (
    r"(?:(?:10|15|20|30|45)[\W_]{0,2}(?:min|mins|minutes?|mn)|half[\W_]{0,2}hour"
    r"|demi[\W_]{0,2}heure|1/2[\W_]{0,2}h|hh|qv|quickie|quicky|quick[\W_]{1,2}visit)"
)
_HOUR: Final = r"(?:h|hr|hour|heure|1[\W_]{0,2}(?:h|hr|hour|heure))"
_PER: Final = r"(?:/|per|for|a|an|la|le|les|pour|par|de[\W_]{1,2}l')"
_S: Final = r"[\W_]{0,2}"

# code -> regexes over the folded text. Comments carry the near-misses each one must avoid;
# tests/analyze/test_indicators.py holds a hit in each language and a near-miss for each code.
_PATTERNS: Final[Mapping[str, tuple[re.Pattern[str], ...]]] = {
    "ad.restricted_movement": (
        # not "passengers are not allowed to leave bags": a person is the subject
        _words(
            "(?:she|i|they|we|the girls|girls|she's|i'm|they're|we're) (?:is |am |are |was "
            "|were )?(?:not|never) allowed (?:to )?(?:leave|go out|go outside|go anywhere)",
            "(?:took|take|takes|keeps|keep|kept|confiscated|holds|hold|stole) (?:my|her|their|our"
            "|his) (?:passport|passports|papers|id card|documents)",
            "(?:passport|passports|papers) (?:was |were |is |are )?(?:taken|confiscated|withheld"
            "|kept) (?:by|from)",
            "locked (?:in|inside|up in) (?:the|a|her|my|their|this) (?:room|flat|apartment|house"
            "|basement|hotel room)",
            "(?:elle|je|j|ils|elles|nous|les filles|on) n'(?:a|ai|ont|avons) pas le droit de "
            "(?:sortir|partir|quitter)",
            "(?:interdite?s? de sortir|interdites? de partir)",
            "(?:a pris|ont pris|a confisqué|ont confisqué|confisque|a gardé|ont gardé|garde"
            "|gardent|a volé) (?:mon|son|leur|nos|ses|mes) (?:passeport|passeports|papiers"
            "|pièces d'identité)",
            "enfermées? (?:dans (?:la|une|sa|ma) (?:chambre|pièce|maison|cave|appartement)"
            "|à clé|à clef)",
        ),
    ),
    "ad.controlled_contact": (
        # not "I will call my manager about the invoice": the call is for a booking
        _words(
            "(?:call|text|sms|contact|message|whatsapp|ask|email) (?:my|our|the|her) (?:manager"
            "|agent|booker|driver|boss|daddy|secretary|receptionist|friend|boyfriend|bf|man) "
            "(?:for|to) (?:book|booking|bookings|appointment|appointments|her|them|the girls"
            "|meet|see her|see them|info|details|prices|rates)",
            "(?:text|call|sms|contact|whatsapp|message) (?:this|the|that|my|our) (?:number|phone"
            "|line|cell) (?:for|to (?:book|see|meet)) (?:her|them|the girls)",
            "(?:bookings?|appointments?) (?:only )?(?:through|via|with|by) (?:my |our |her |the )?"
            "(?:manager|agent|booker|driver|boss|daddy)",
            "(?:don't|do not) (?:text|call|contact|message) her directly",
            # "no talking" as a house rule, not "no talking during the exam"
            r"no (?:talking|talk|chit chat|chatting)(?=[\t\x20]*(?:$|\n|[.,;!?])|[\W_]{1,3}"
            r"(?:just|only|with her|to her)(?![^\W_]))",
            "(?:appelez|contactez|textez|écrivez à|envoyez un (?:sms|message) à|demandez à"
            "|passez par) (?:ma|mon) (?:copine|amie|manager|gérant|gérante|patron|patronne"
            "|secrétaire|chauffeur|cousine|soeur|agent)",
            "(?:rdv|rendez vous|réservations?|réservation) (?:uniquement |seulement )?(?:par|via"
            "|avec) (?:mon|ma|notre|son|sa) (?:manager|gérant|gérante|copine|amie|agent"
            "|chauffeur|patron|secrétaire)",
            r"pas de (?:discussion|blabla|bla bla|bavardage|papotage)(?=[\t\x20]*(?:$|\n|[.,;!?])"
            r"|[\W_]{1,3}(?:juste|seulement)(?![^\W_]))",
            "ne (?:l'|la |les )?(?:appelez|contactez) pas directement",
        ),
    ),
    "ad.youth": (
        # not "young professionals", "jeune femme cadre", "18 year old whisky"
        _words(
            "barely legal",
            "just turned (?:18|eighteen)",
            "fresh (?:new )?(?:girl|girls|face|faces|young|teen|teens|meat)",
            "(?:very|so|super) young",
            "young (?:and |& )?(?:fresh|tight|sexy|hot|pretty|cute|girl|girls|lady|ladies"
            "|thing|student|students|teen|teens|babe|babes)",
            "(?:sexy|hot|young|cute|petite|little|tiny|naughty|horny) teens?",
            "teens? (?:girl|girls|babe|babes|escort|escorts|available|slut|pussy)",
            "petite (?:girl|girls|young|teen|asian|latina|blonde|brunette|body|student|schoolgirl)",
            "school ?girls?",
            "innocent (?:girl|girls|young|teen|schoolgirl)",
            "lolitas?",
            "(?:tout juste|à peine) majeure",
            "(?:18|dix huit) ans tout juste",
            "toute jeune",
            "très jeune",
            "(?:jeune et fraîche|fraîche et jeune|toute fraîche|bien fraîche)",
            "jeunes? (?:fille|filles|étudiante|étudiantes|minette|minettes|beurette|ado|ados)",
            "(?:petite|jolie|jeune) (?:minette|lycéenne|collégienne|écolière)",
            "(?:lycéennes?|collégiennes?|écolières?)",
            "(?:sexy|petite|jeune|coquine|jolie) ados?",
        ),
    ),
    "ad.third_person": (
        # not "she is my sister, selling her bike": the ad sells her
        _words(
            "(?:she is|she's) (?:very |so |really )?(?:available|ready|waiting|new|here|visiting"
            "|sweet|sexy|hot|young|open minded|yours|discreet|independent|dispo)",
            "(?:her|their) (?:rates|prices|donation|donations|services|menu)",
            "(?:book|meet|enjoy|call) her (?:now|today|tonight|here|for)",
            "(?:my|the|our) girls (?:are )?(?:available|ready|waiting|here|for you|all new)",
            "elle est (?:très |trop |vraiment )?(?:disponible|dispo|nouvelle|prête|jeune|sexy"
            "|coquine|chaude|ouverte|de passage|à vous|discrète|là pour vous)",
            "(?:ses|leurs) (?:tarifs|prix|prestations|services)",
            "(?:réservez|appelez) la",
            "(?:mes|les|nos) filles (?:sont )?(?:dispo|disponibles|prêtes|là pour vous|vous "
            "attendent)",
        ),
    ),
    "ad.multiple_people": (
        # not "my 2 girls start school": the girls are on offer
        _words(
            r"(?:\d{1,2}|two|three|four|five|several|many|multiple|different|lots of|choice of"
            r"|selection of) (?:new |young |hot |sexy |beautiful )?(?:girls|ladies|women|escorts"
            r"|models) (?:available|ready|waiting|for you|to choose|here now|now|on site"
            r"|every day|24/7)",
            "(?:new|fresh|different) (?:girls|ladies|faces) (?:every|each) (?:week|day|month"
            "|weekend)",
            r"(?:\d{1,2}|deux|trois|quatre|cinq|plusieurs|beaucoup de|choix de|différentes)"
            r" (?:nouvelles |jeunes |belles |jolies )?(?:filles|femmes|escorts|nanas|meufs)"
            r" (?:disponibles|dispo|pour vous|au choix|à choisir|vous attendent|sur place"
            r"|chaque jour|24h)",
            "(?:nouvelles|différentes) (?:filles|femmes|têtes) (?:chaque|toutes les) (?:semaine"
            "|semaines|jour|jours|mois|week end)",
        ),
    ),
    "ad.no_condom": (
        # not "condoms are sold at the pharmacy", "sans protection solaire"
        _words(
            "no (?:condom|condoms|rubber|rubbers)",
            "without (?:a )?(?:condom|condoms|rubber)",
            "condom free",
            "bareback",
            "bbbj",
            "bbfs",
            "raw (?:sex|bj|service)",
            "sans (?:capote|capotes|préservatif|préservatifs|protection(?! (?:solaire|uv|contre"
            "|anti|particulière|sociale|civile)))",
            "(?:fellation|fel|pipe|sodo|rapport|rapports|amour) nature",
            "capote (?:non obligatoire|pas obligatoire)",
        ),
    ),
    "ad.new_in_town": (
        # not "new in town hall meeting", "droit de passage", "votre colis vient d'arriver"
        _words(
            "new (?:in|to) (?:town|the city|the area|your city)(?! (?:hall|council|centre|center"
            "|square|planning|library|house))",
            "just (?:arrived|got) (?:in|to) (?:town|the city|your city)",
            "(?:she|i|we) (?:just|has just|have just|only just) arrived",
            "in town (?:for|until|till) (?:a few days|the weekend|this week|one week|a week"
            "|\\d{1,2} days|\\d{1,2} nights|only)",
            "(?:nouvelle|nouvelles) (?:en ville|dans (?:la|ta|votre) (?:ville|région))",
            "(?:suis|est|sommes|sont|actuellement|juste|seulement|uniquement) de passage",
            "de passage (?:sur|à|dans|pour) (?:\\w+ )?(?:pour )?(?:quelques jours|\\d{1,2} jours"
            "|ce week end|cette semaine|une semaine)",
            "(?:je|elle) (?:viens|vient) d'arriver",
            "(?:tout juste|juste) arrivées? (?:en ville|sur|à)",
        ),
    ),
    "ad.available_now": (
        # not "customer service available 24/7": someone is available
        _words(
            "(?:i'm|i am|she's|she is|we're|we are|they're|they are|girls are|girl is) "
            "(?:available|free|ready) (?:now|right now|tonight|all night|24/7|24 ?h|anytime"
            "|any time|day and night)",
            "(?:and|&) (?:available|ready) (?:now|right now|tonight|all night|24/7)",
            "(?:je suis|suis|elle est|nous sommes|sommes|les filles sont) (?:dispo|disponibles?"
            "|libres?) (?:maintenant|ce soir|cette nuit|tout de suite|24 ?h ?/ ?24|7 ?j ?/ ?7"
            "|h24|jour et nuit|toute la nuit)",
            "dispo (?:maintenant|ce soir|cette nuit|tout de suite|24 ?h ?/ ?24"
            "|7 ?j ?/ ?7|h24|jour et nuit|toute la nuit)",
        ),
    ),
    "ad.short_price": (
        # not "the 15 minute bus", "babysitter 15$/h": a price for a short time, or a high
        # hourly rate
        _after_boundary(
            "(?:"
            f"{_AMOUNT}{_S}{_CURRENCY}{_S}{_PER}?{_S}{_SHORT_TIME}"
            f"|{_HIGH_AMOUNT}{_S}/{_S}{_SHORT_TIME}"
            f"|{_SHORT_TIME}{_S}(?::|=|-|for|pour|a)?{_S}{_AMOUNT}{_S}{_CURRENCY}"
            f"|(?:qv|hh|quickie|quicky){_S}(?::|=|-)?{_S}{_AMOUNT}"
            f"|{_HIGH_AMOUNT}{_S}{_CURRENCY}{_S}(?:/|per|an|par|de[\\W_]{{1,2}}l'|l'){_S}{_HOUR}"
            f"|1{_S}(?:h|hr|hour|heure){_S}(?::|=|-)?{_S}{_HIGH_AMOUNT}{_S}{_CURRENCY}"
            f")(?:{_END}|(?<=[^\\w]))"
        ),
    ),
    "ad.hotel_incall": (
        # not "hotel booking confirmation", "your room number is 214"
        _words(
            "incall (?:at |in )?(?:my |a |the |an |your )?(?:hotel|motel)",
            "(?:hotel|motel) (?:incall|incalls|visits only|room incall)",
            "room (?:number|#|no) (?:given|sent|texted|provided|on arrival|upon arrival|when you"
            " arrive|after you call|by text)",
            "(?:text|call|sms|message|ask) (?:me |us )?(?:for )?(?:the |my )?room (?:number|#|no)",
            "(?:reçois|reçoit|recevons|rdv|rendez vous|dispo|disponible|massage|incall|plan"
            "|reçoit uniquement|reçois uniquement) (?:à|a|en|dans) (?:l'|un |mon |son |votre "
            "|mon )?(?:hôtel|hotel|motel)",
            "(?:numéro|num|no) de chambre (?:donné|communiqué|envoyé|par sms|à l'arrivée|sur "
            "demande|par texto)",
        ),
    ),
    "ad.ethnic_marketing": (
        # not "Korean language lessons", "cours de cuisine asiatique"
        _words(
            f"(?:new |young |fresh |sexy |hot |beautiful )?{_NATIONALITY_EN} (?:new |young "
            "|fresh |sexy |hot |beautiful )?(?:girl|girls|lady|ladies|beauty|beauties|doll"
            "|dolls|escort|escorts|massage|masseuse|masseuses|babe|babes|women|woman|students)",
            "(?:new|fresh|just arrived) (?:from|girls from) (?:asia|thailand|china|korea|romania"
            "|russia|ukraine|brazil|nigeria|africa|eastern europe|colombia|venezuela"
            "|philippines|vietnam)",
            "(?:nouvelles? |jeunes? |belles? |jolies? |sexy )?(?:filles?|masseuses?|femmes?"
            f"|escorts?|beautés?|poupées?|étudiantes?) {_NATIONALITY_FR}",
            f"{_NATIONALITY_FR} (?:nouvelles?|jeunes?|sexy|coquines?|chaudes?|dispo|disponibles?)",
            "(?:nouvelle|nouvelles|fraîchement|tout juste) arrivées? (?:d'|de )(?:asie|thaïlande"
            "|chine|roumanie|russie|ukraine|bulgarie|brésil|nigéria|afrique|europe de l'est"
            "|colombie)",
        ),
    ),
    "ad.emoji_youth": (
        # 🍒 cherry: virginity; 🍭 🍬 lollipop, candy: a young girl; 👧 girl; 🎒 school bag:
        # a schoolgirl; 🧸 teddy bear: a child. Not 🍓 🍎 or other fruit.
        re.compile("(?P<m>[\U0001f352\U0001f36d\U0001f36c\U0001f467\U0001f392\U0001f9f8])"),
    ),
    "ad.emoji_rose_price": (
        # a number next to 🌹, not "🌹 happy valentine's day 🌹"
        re.compile(r"(?P<m>(?<!\d)\d{2,4}[\t\x20]{0,2}🌹|🌹[\t\x20]{0,2}\d{2,4}(?!\d))"),
    ),
    "chat.meeting": (
        # not "let's meet the deadline", "on se voit obligés de fermer"
        _words(
            "(?:let's|lets|we should|we could|can we|could we|wanna|want to|do you want to|u "
            "wanna|you wanna|we can) (?:meet|meet up|hang out|see each other|link up|hook up)"
            "(?! (?:the|our|your|a|all|its) (?:deadline|deadlines|target|targets|goal|goals"
            "|requirement|requirements|needs|expectations|quota|criteria|demand|standard))",
            "(?:i'll|i will|i can|i could|ill|let me|i'm gonna|im gonna) (?:pick (?:you|u) up"
            "|come (?:and )?(?:get|pick up|see) (?:you|u)|come to your (?:house|place|school))",
            "come (?:to|over to|round to) my (?:place|house|flat|car|room|apartment)",
            "(?:where|when) (?:can|could|do|should|shall) (?:we|i) meet",
            "meet (?:me |up )?(?:irl|in person|in real life)",
            "where (?:do|d) (?:you|u|ya) live",
            "on se (?:voit|rejoint|retrouve|capte)(?! (?:obligée?s?|contrainte?s?|refuser"
            "|retirer|infliger|attribuer|confier|décerner|accorder|imposer|offrir|remettre))",
            "on peut se (?:voir|rejoindre|retrouver|rencontrer)",
            "(?:tu veux|t'veux|tu voudrais|ça te dit de|ça te dirait de) (?:qu'on se voie"
            "|qu'on se voit|se voir|me voir|qu'on se rencontre|venir chez moi|qu'on se capte)",
            "je (?:viens|passe|peux venir|peux passer|vais venir|vais passer) te (?:chercher"
            "|prendre|voir)",
            "(?:viens|vient) chez moi",
            "rejoins moi",
            "(?:tu habites|t'habites|tu vis|vous habitez) où",
            "c'est où chez toi",
        ),
    ),
    "chat.secrecy": (
        # not "the secret recipe", "la recette secrète"
        _words(
            "(?:don't|do not|dont|never|don't ever) (?:tell|show|say (?:anything |this )?to) "
            "(?:your|ur|ya) (?:mom|mum|mommy|mother|dad|daddy|father|parents|family|friends"
            "|teacher|teachers|sister|brother|mama|papa)",
            "(?:don't|do not|dont|never) (?:tell|show) (?:anyone|anybody|no one|nobody)",
            "our (?:little )?secret",
            "(?:keep|keeping) (?:this|it|that|us) (?:a )?(?:secret|between us|between you and me)",
            "just between (?:us|you and me)",
            "delete (?:this|the|our|these|those|all|my|ur|your) (?:chat|chats|messages?|msgs?"
            "|convo|conversation|pics?|photos?|pictures?|texts?)",
            "delete this (?:after|when|now|right away|before)",
            "(?:ne |n')?dis (?:rien|pas|jamais) (?:à|a|aux) (?:tes|ta|ton|personne)",
            "ne le dis (?:à|a) personne",
            "(?:ne |n')?(?:en )?parle (?:à|a) (?:personne|tes parents|ta mère|ton père)",
            "c'est notre (?:petit )?secret",
            "notre (?:petit )?secret",
            "(?:ça |ca )?reste entre nous",
            "(?:efface|supprime|effaces|supprimes) (?:ce|ces|les|nos|la|cette|tes|le|mes) "
            "(?:messages?|conversation|conv|discussion|photos?|tofs?|snaps?)",
        ),
    ),
    "chat.photo_request": (
        # not "send a picture of the receipt", "envoie la photo du devis"
        _words(
            "(?:send|snap|show|give) (?:me )?(?:a |an |some |ur |your |more |another |one more )?"
            "(?:pic|pics|picture|pictures|photo|photos|selfie|selfies|nude|nudes|vid|video"
            "|snap)(?! (?:of|from) (?:the|this|that|it|a|an|our|my|his|their)(?![^\\W_]))",
            "(?:can|could|may) i (?:see|have|get) (?:a |an |some |more |another )?(?:pic|pics"
            "|picture|photo|photos|selfie|nudes?)(?! (?:of|from) (?:the|this|that|it|a|an|our|my"
            "|his|their)(?![^\\W_]))",
            "(?:turn on|open|switch on) (?:your|ur) (?:cam|camera|webcam)",
            "show me (?:your|ur) (?:body|boobs|tits|ass|butt|chest|legs|feet|bra|underwear)",
            "show me yourself",
            "(?:envoie|envoies|envoi|envois|tu m'envoies|tu m'envoie|tu peux m'envoyer|tu me "
            "montres|fais|montre|montres) (?:moi |m' )?(?:une |des |un |ta |tes |la |d'autres "
            "|encore |une autre |plus de )?(?:photo|photos|tof|tofs|toff|pic|pics|selfie"
            "|selfies|nude|nudes|vidéo|vid|snap)(?! (?:du|de la|des|de l'|d'|de ce|de cette"
            "|de ton|de ta|de mon|de ma|de son|de sa|de notre|de votre)(?![^\\W_]))",
            "montre moi (?:ton|ta|tes) (?:corps|seins|fesses|cul|poitrine|culotte|soutif"
            "|soutien gorge)",
            "allume (?:ta|ton) (?:cam|caméra|webcam)",
        ),
    ),
    "chat.platform_move": (
        # not "snap peas", "the telegram arrived", "Telegram a eu une panne"
        _words(
            f"(?:add|follow|text|message|dm|hit|find|call|contact) me (?:up )?on {_APPS}",
            "(?:let's|lets|we can|we could|can we|could we|wanna) (?:talk|chat|move|continue|go"
            f"|switch|text) (?:on|to|over to|in|over on) {_APPS}",
            f"(?:switch|move|go|come) (?:over )?(?:to|on) {_APPS}",
            f"(?:what's|what is|whats|wats|wat's|wat is) (?:your|ur|yo) {_APPS}",
            f"(?:do you|you|u|do u) (?:have|got|use) {_APPS}",
            f"(?:ajoute|ajoutes|ajouter|add) moi sur {_APPS}",
            "(?:on se parle|on parle|on continue|on discute|parle moi|parlons|on passe|passe"
            f"|passons|viens|va|on va|écris moi|ecris moi) (?:sur|en) {_APPS}",
            rf"(?:t'as|tu as|t'a|tu a|t'aurais) {_APPS}(?=[\t\x20]*\?)",
            f"(?:c'est quoi|donne moi|envoie moi|tu me donnes) ton {_APPS}",
        ),
    ),
    "chat.gifts": (
        # not "I'll buy a new car", "je dois recharger la batterie"
        _words(
            "(?:i'll|i will|ill|i can|i could|i'd|let me|i wanna|i want to|i'm gonna|im gonna)"
            " buy (?:you|u)",
            "(?:i'll|i will|ill|i can|i could|let me|i'm gonna|im gonna) (?:get|send|give|pay"
            "|transfer) (?:you|u) (?:a |an |some |the |ur |your )?(?:robux|v ?bucks|gift card"
            "|gift cards|money|cash|credit|credits|phone|iphone|present|presents|gift|gifts|skin"
            "|skins|game|games|clothes|makeup|anything you want|whatever you want)",
            "robux",
            "v ?bucks",
            "(?:steam|psn|playstation|xbox|google play|itunes|apple|amazon) (?:gift )?(?:card"
            "|cards|code|codes|wallet)",
            "gift ?cards?",
            "paysafecard",
            "je (?:t'offre|t'achète|te paye|te paie|peux t'offrir|vais t'offrir|peux t'acheter"
            "|vais t'acheter|peux te payer|vais te payer|te rembourse)",
            "je (?:te donne|t'envoie|te fais|te file|peux te donner|vais te donner|peux "
            "t'envoyer|vais t'envoyer|peux te faire|vais te faire) (?:de |des |une |un |du |l')?"
            "(?:argent|thune|sous|fric|robux|v ?bucks|carte cadeau|cartes cadeaux|recharge"
            "|recharges|crédit|forfait|cadeau|cadeaux|iphone|téléphone|virement)",
            "cartes? (?:cadeau|cadeaux|psn|steam|google play|itunes|paysafecard)",
            r"recharges? (?:psn|steam|paysafecard|neosurf|transcash|pcs|de \d{1,3}|téléphone"
            r"|de forfait|de crédit)",
        ),
    ),
    "chat.asks_age": (
        # not "how old is your car", "quel âge a ta voiture"
        _words(
            "(?:how|hw) (?:old|young) (?:are|r|ar) (?:you|u|ya)",
            "(?:how|hw) old (?:ru|r u|are u|u)",
            "(?:what's|whats|what is|wats|wat is) (?:your|ur|yo) age",
            r"(?:your|ur) age(?=[\t\x20]*\?)",
            r"asl(?=[\t\x20]*(?:\?|pls|plz|please))",
            "(?:t'as|tu as|t as|vous avez|t'a) quel âge",
            "quel âge (?:as tu|tu as|t'as|avez vous|vous avez|t'a)",
            r"(?:ton|ta) âge(?=[\t\x20]*\?)",
        ),
    ),
    "chat.flattery": (
        # not "your car is beautiful", "tu es bonne en maths"
        _words(
            "(?:you're|you are|ur|you r|u r|youre|u are) (?:so{1,5} |really |very |such a |the "
            "most |super |rly )?(?:beautiful|pretty|cute|hot|sexy|gorgeous|stunning|adorable"
            "|handsome|attractive|mature for (?:your|ur) age|mature)(?! (?:at|in|with) )",
            "(?:so|very|really) mature for (?:your|ur) age",
            "(?:you|u) look (?:so |really |very )?(?:beautiful|pretty|cute|hot|sexy|gorgeous"
            "|older|mature|stunning)",
            "(?:such|what) (?:a )?(?:beautiful|pretty|cute|sexy|hot) (?:girl|boy|face|smile|body)",
            "(?:t'es|tu es|t es|t'est|vous êtes) (?:trop |tellement |vraiment |si |super |très "
            "|grave )?(?:belle|beau|jolie|joli|mignonne|mignon|canon|bonne|sexy|magnifique"
            "|charmante|sublime|mature pour ton âge|mature|mûre pour ton âge|bien foutue)"
            "(?! (?:en|à|a|au|aux|pour|cuisinière|élève|joueuse|joueur|nouvelle))",
            "(?:tu as|t'as|t as) (?:un|une|de) (?:beau|belle|joli|jolie|magnifique|super) "
            "(?:corps|visage|sourire|yeux|poitrine|cul|fesses|jambes)",
            "(?:tu fais|tu parais|tu fais vraiment) (?:plus que ton âge|plus vieille|plus âgée"
            "|mature)",
        ),
    ),
}

# One scan finds every place where some bounded regex matches; each regex is then tried
# there alone. Thirty scans of a long text cost thirty times the per-position overhead of
# `re`; this costs it once, plus a few anchored matches where something was found.
_LOCATOR: Final = re.compile(
    _BOUNDARY
    + "(?:"
    + "|".join(re.sub(r"\(\?P<\w+>", "(?:", rx.pattern[len(_BOUNDARY) :]) for rx in _BOUNDED)
    + ")"
)
_IS_BOUNDED: Final = frozenset(_BOUNDED)


class _Scan:
    """One text, folded once, with what several indicators share."""

    def __init__(self, text: str) -> None:
        self.text = text
        folded, self.origin = _fold(text)
        self.padded = "\n" * _PAD + folded

    @functools.cached_property
    def _located(self) -> dict[re.Pattern[str], list[re.Match[str]]]:
        found: dict[re.Pattern[str], list[re.Match[str]]] = {}
        pos = 0
        while (candidate := _LOCATOR.search(self.padded, pos)) is not None:
            at = candidate.start()
            for rx in _BOUNDED:
                if (m := rx.match(self.padded, at)) is not None:
                    found.setdefault(rx, []).append(m)
            pos = at + 1
        return found

    def matches(self, rx: re.Pattern[str]) -> list[re.Match[str]]:
        """Every match of `rx` (group "m") in the padded text, in order; a bounded regex may
        match overlapping spans, which the callers settle."""
        if rx in _IS_BOUNDED:
            return self._located.get(rx, [])
        return list(rx.finditer(self.padded))

    def spans_of(self, rx: re.Pattern[str]) -> list[tuple[int, int]]:
        """Where `rx` matches, as spans of the folded text."""
        return [(m.start("m") - _PAD, m.end("m") - _PAD) for m in self.matches(rx)]

    @functools.cached_property
    def ages(self) -> list[_Age]:
        return _stated_ages(self)

    def spans(self, code: str) -> Iterator[tuple[int, int]]:
        """Where `code` matches, in the folded text, non-overlapping, in order."""
        if code == "ad.minor_age":
            return ((a.start, a.end) for a in self.ages if a.age < 18)
        if code == "chat.stated_minor":
            return ((a.start, a.end) for a in self.ages if a.age < 18 and a.first_person)
        if code == "chat.minor_sexual":
            return self._minor_sexual()
        matches = [span for rx in _PATTERNS[code] for span in self.spans_of(rx)]
        if code == "ad.youth":
            matches += [(a.start, a.end) for a in self.ages if a.age >= 18]
        return _without_overlaps(matches)

    def _minor_sexual(self) -> Iterator[tuple[int, int]]:
        minors = [a for a in self.ages if a.age < 18]
        if not minors:
            return iter(())
        words = self.spans_of(_SEXUAL)
        starts = [s for s, _ in words]
        spans = []
        for age in minors:
            # the sexual word nearest the age, either side, within the window
            lo = bisect_left(starts, age.start - _SEXUAL_WINDOW - _LONGEST_SEXUAL_WORD)
            hi = bisect_right(starts, age.end + _SEXUAL_WINDOW)
            near = [w for w in words[lo:hi] if _gap(w, age) <= _SEXUAL_WINDOW]
            if near:
                word = min(near, key=lambda w: _gap(w, age))
                spans.append((min(word[0], age.start), max(word[1], age.end)))
        return _without_overlaps(spans)

    def original(self, start: int, end: int) -> tuple[int, int]:
        """A span of the folded text as a span of the original."""
        if self.origin is None:
            return start, end
        first, last = self.origin[start], self.origin[end - 1] + 1
        # take along the accents and joiners that folding dropped after the last character
        while last < len(self.text) and not _fold_char(self.text[last]):
            last += 1
        return first, last


def _gap(word: tuple[int, int], age: _Age) -> int:
    return max(word[0] - age.end, age.start - word[1], 0)


def _without_overlaps(spans: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Spans in order, dropping any that overlaps one already kept (longest first)."""
    end = -1
    for s, e in sorted(spans, key=lambda span: (span[0], -span[1])):
        if s >= end and e > s:
            end = e
            yield s, e


def find_indicators(text: str, *, family: str | None = None) -> list[Hit]:
    """Every indicator found in `text`, sorted by start; `family` ("ad" or "chat") limits
    the search to one family, None runs both. Spans index the original text."""
    if family is not None and family not in FAMILIES:
        raise ValueError(f"unknown indicator family {family!r}; expected one of {FAMILIES}")
    if not text:
        return []
    scan = _Scan(text)
    hits = []
    for indicator in CATALOGUE:
        if family is not None and indicator.family != family:
            continue
        for s, e in scan.spans(indicator.code):
            start, end = scan.original(s, e)
            hits.append(Hit(indicator.code, start, end, indicator.weight, text[start:end]))
    hits.sort(key=lambda h: (h.start, h.end, h.code))
    return hits


# ---------------------------------------------------------------------------------------------
# Risk and priority (docs/indicators.md, "Risk" and "Priority").

# A report's theme alone sets a floor: a report alleging CSAM is never ranked below one that
# merely matched a price pattern.
THEME_FLOOR: Final[Mapping[str, int]] = {
    Theme.CSAM: 30,
    Theme.GROOMING: 20,
    Theme.TRAFFICKING: 10,
}

# A child's age stated in the first person is found by both families on the same words.
SAME_FACT: Final[tuple[frozenset[str], ...]] = (frozenset({"ad.minor_age", "chat.stated_minor"}),)
_FACT_OF: Final = {code: min(group) for group in SAME_FACT for code in group}

_MINOR: Final = frozenset({"ad.minor_age", "chat.stated_minor", "chat.minor_sexual"})
_YOUTH: Final = _MINOR | {"ad.youth", "ad.emoji_youth"}
# Cues that a meeting with the person can happen, or that the person is on offer.
_CONTACT: Final = frozenset(
    {
        "chat.meeting",
        "ad.available_now",
        "ad.hotel_incall",
        "ad.short_price",
        "ad.controlled_contact",
    }
)
_GROOMING: Final = frozenset({i.code for i in CATALOGUE if i.family == "chat"} - {"chat.meeting"})
# Risk from which a report is P2 or P3 when no rule above it applies. Five ordinary ad cues
# (several women, a manager, no condom, a hotel, a quickie price) reach about 56.
P2_RISK: Final = 50
P3_RISK: Final = 25


def risk(hits: Sequence[Hit], *, theme: str) -> int:
    """0..100: 100 * (1 - Π(1 - w/100)) over the indicators found, rounded, and never below
    the theme's floor (THEME_FLOOR; an unknown theme has none).

    An indicator counts once however often it matched, at its largest weight; indicators
    that read the same fact (SAME_FACT) count once between them. So adding a hit never
    lowers the risk, and no number of weak hits reaches 100 unless they are many and varied.
    """
    weights: dict[str, int] = {}
    for hit in hits:
        fact = _FACT_OF.get(hit.code, hit.code)
        weights[fact] = max(weights.get(fact, 0), min(max(hit.weight, 0), 100))
    remaining = math.prod(1 - w / 100 for w in weights.values())
    score = round(100 * (1 - remaining))
    return min(100, max(score, THEME_FLOOR.get(theme, 0)))


def priority(hits: Sequence[Hit], *, theme: str, risk: int) -> str:
    """P1 (act now) to P4 (routine), from the hits, the report's theme and its risk.

    P1 — a child or a victim possibly in immediate danger: a stated minor with a contact
    cue (meeting, available now, hotel, price, third-party contact); sexual talk with a
    stated minor together with a photo request; a youth cue in a CSAM report; someone held
    (restricted movement). P2 — a stated minor; a meeting request in a grooming report or
    with another grooming cue; or risk ≥ P2_RISK. P3 — risk ≥ P3_RISK. P4 — otherwise, and always
    when nothing was found: the text then gives no reason to hurry, whatever the theme.
    """
    codes = {h.code for h in hits}
    if not codes:
        return "P4"
    minor = bool(codes & _MINOR)
    if (
        (minor and codes & _CONTACT)
        or {"chat.minor_sexual", "chat.photo_request"} <= codes
        or (theme == Theme.CSAM and codes & _YOUTH)
        or "ad.restricted_movement" in codes
    ):
        return "P1"
    if (
        minor
        or ("chat.meeting" in codes and (theme == Theme.GROOMING or codes & _GROOMING))
        or risk >= P2_RISK
    ):
        return "P2"
    if risk >= P3_RISK:
        return "P3"
    return "P4"
