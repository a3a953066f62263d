"""The language a report's text is written in, detected offline with py3langid.

`detect_language(text)` returns an ISO 639-1 code and a confidence in 0..1, or ("", 0.0)
when the text carries too little language to tell (empty, only URLs, e-mail addresses,
digits, phone numbers or emoji, or fewer than `MIN_LETTERS` letters once those are gone).

Detection is restricted to `LANGUAGES`, the languages a European hotline meets: guessing
among py3langid's 140 labels turns short ads into Occitan or Kabyle, and each language
left out is one fewer way to be wrong. The list is:

- the EU's 24 official languages: bg cs da de el en es et fi fr ga hr hu it lt lv mt nl
  pl pt ro sk sl sv;
- the rest of Europe and its neighbours: ca eu gl cy lb is no sq sr bs mk uk ru be tr ka
  hy az;
- the languages of the people trafficked to, and of the communities living in, Europe,
  and of the platforms reports come from: ar fa ps ku ur hi bn pa he am so sw ha yo ig
  ln zh ja ko vi th tl id ms.

Galician, Catalan, Bosnian, Malay and the like are kept although they take short texts
from their neighbours now and then: the hotline does receive them, and a text in
Catalan reported as Spanish would be routed wrong with high confidence.

The model ships inside the py3langid package (`py3langid/data/model.npz.xz`); nothing is
downloaded. It is loaded once per process, on first use, into an identifier of our own,
so restricting its languages never changes what other users of py3langid's shared
module-level identifier see.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any, Final

from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGUAGES: Final = (
    # EU official languages
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it",
    "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
    # the rest of Europe and its neighbours
    "ca", "eu", "gl", "cy", "lb", "is", "no", "sq", "sr", "bs", "mk", "uk", "ru", "be",
    "tr", "ka", "hy", "az",
    # migration, trafficking routes, platforms
    "ar", "fa", "ps", "ku", "ur", "hi", "bn", "pa", "he", "am", "so", "sw", "ha", "yo",
    "ig", "ln", "zh", "ja", "ko", "vi", "th", "tl", "id", "ms",
)  # fmt: skip

# py3langid's label for "no linguistic content" (code, keyboard mashing, base64...).
# Kept in the model as a sink so such text is not forced into a language; never returned.
_NO_LANGUAGE: Final = "zxx"

MIN_LETTERS: Final = 3
# The first characters say which language a text is in; past that, detection only costs.
MAX_CHARS: Final = 10_000

UNDETERMINED: Final = ("", 0.0)

# Each alternative starts at the start of a token and never backtracks into it
# (possessive quantifiers), so a long unbroken token costs linear time, not quadratic.
_NOT_LANGUAGE = re.compile(
    r"""
    (?<![\w.+-])
    (?:
        [a-z][a-z0-9+.-]*+://\S*             # URLs with a scheme
      | [\w.+-]*+@\S*                        # e-mail addresses and @handles
      | (?:[\w-]++\.)+[a-z]{2,}\b/?\S*       # host names, www. included, with any path
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)


class _LetterTable(dict[int, int]):
    """str.translate table keeping letters and their combining marks (Devanagari and Thai
    vowel signs are marks) and making every other character a space; filled as
    characters are met, since the Unicode table is too big to build up front."""

    def __missing__(self, codepoint: int) -> int:
        kept = unicodedata.category(chr(codepoint))[0] in "LM"
        value = codepoint if kept else ord(" ")
        if len(self) < 1 << 16:
            self[codepoint] = value
        return value


_LETTERS = _LetterTable()

_lock = threading.Lock()
_identifier: Any = None  # py3langid has no type hints


def _load_identifier() -> Any:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([*LANGUAGES, _NO_LANGUAGE])
    return identifier


def _get_identifier() -> Any:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                _identifier = _load_identifier()
    return _identifier


def language_text(text: str) -> str:
    """The letters of `text` that carry its language: URLs, addresses, handles, digits,
    punctuation, symbols and emoji replaced by spaces, whitespace collapsed."""
    text = _NOT_LANGUAGE.sub(" ", text[: MAX_CHARS * 2])
    return " ".join(text.translate(_LETTERS).split())[:MAX_CHARS]


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, confidence 0..1) of `text`, or ("", 0.0) when it has too little
    language to tell. The code is always one of `LANGUAGES`."""
    cleaned = language_text(text)
    if sum(1 for c in cleaned if c.isalpha()) < MIN_LETTERS:
        return UNDETERMINED
    code, confidence = _get_identifier().classify(cleaned)
    if code == _NO_LANGUAGE:
        return UNDETERMINED
    return str(code), min(1.0, max(0.0, float(confidence)))
