"""Language detection: synthetic ads and chats in the hotline's main languages are
recognised, text without language gets no answer, and nothing ever raises."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import py3langid.langid
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tipline.harmonize import language
from tipline.harmonize.language import LANGUAGES, detect_language

# Synthetic, written for these tests: short ads and chat lines.
SAMPLES = {
    "en": [
        "New in town, available tonight, call me for a relaxing massage",
        "hey are you home alone? send me a picture of you",
    ],
    "fr": [
        "Nouvelle en ville, disponible ce soir, appelez-moi",
        "salut tu as quel age? on peut se voir demain apres l'ecole",
    ],
    "de": [
        "Neu in der Stadt, heute Abend verfügbar, ruf mich an",
        "Hübsche junge Frau, diskrete Treffen, nur Hausbesuche",
    ],
    "es": [
        "Nueva en la ciudad, disponible esta noche, llámame",
        "Chica joven y guapa, encuentros discretos, solo a domicilio",
    ],
    "nl": [
        "Nieuw in de stad, vanavond beschikbaar, bel me",
        "hoi, ben je alleen thuis? stuur me een foto van jezelf",
    ],
    "it": [
        "Nuova in città, disponibile stasera, chiamami",
        "Ragazza giovane e carina, incontri discreti, solo a domicilio",
    ],
}


@pytest.mark.parametrize(
    ("code", "text"), [(code, text) for code, texts in SAMPLES.items() for text in texts]
)
def test_synthetic_texts_are_recognised(code: str, text: str) -> None:
    detected, confidence = detect_language(text)
    assert detected == code
    assert confidence > 0.9


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("hi", "क्या तुम आज रात घर पर अकेली हो"),  # vowel signs are marks, and kept
        ("th", "คุณอยู่บ้านคนเดียวคืนนี้ไหม"),
        ("ru", "Привет, ты сегодня вечером одна дома?"),
        ("ar", "مرحبا، هل أنت وحدك في المنزل الليلة"),
    ],
)
def test_other_scripts_are_recognised(code: str, text: str) -> None:
    assert detect_language(text)[0] == code


def test_shouting_urls_numbers_and_emoji_do_not_change_the_answer() -> None:
    text = (
        "NOUVELLE EN VILLE 🔥🔥 disponible ce soir, appelez-moi au 01 99 00 12 34 "
        "ou https://ads.example/annonce/42 — contact@ads.example"
    )
    assert detect_language(text)[0] == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "https://ads.example/listing/1?ref=abc",
        "www.ads.example/p/12 ads.example",
        "+33 1 99 00 12 34",
        "0199001234 / 020 7946 0123",
        "201-555-0123",
        "🔥😘💋",
        "contact@ads.example @someone",
        "ok",
        "?!... 42",
    ],
)
def test_text_without_language_gets_no_answer(text: str) -> None:
    assert detect_language(text) == ("", 0.0)


@pytest.mark.parametrize("unit", ["x", "ab:", "a.", "a/", "a-", "contact@", "https://a"])
def test_a_huge_unbroken_token_is_cheap(unit: str) -> None:
    # A pattern that backtracks takes seconds here; a linear one, milliseconds.
    language._get_identifier()
    started = time.perf_counter()
    detect_language(unit * (100_000 // len(unit)))
    assert time.perf_counter() - started < 0.5


def test_languages_are_iso_639_1_codes_the_model_knows() -> None:
    labels = set(language._get_identifier().labels)
    assert all(len(code) == 2 and code.islower() for code in LANGUAGES)
    assert set(LANGUAGES) <= labels
    assert len(set(LANGUAGES)) == len(LANGUAGES)


def test_restricting_languages_leaves_py3langids_shared_identifier_alone() -> None:
    shared = py3langid.langid._get_identifier()
    every_label = list(shared.nb_classes)
    detect_language("Nouvelle en ville, disponible ce soir")
    assert language._get_identifier() is not shared
    assert shared.nb_classes == every_label
    assert len(set(every_label)) > len(LANGUAGES) + 1


def test_the_model_loads_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("language detection tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(language, "_identifier", None)
    assert detect_language("Neu in der Stadt, heute Abend verfügbar")[0] == "de"


def test_the_model_is_loaded_once_by_concurrent_first_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads = []
    real_load = language._load_identifier

    def counting_load() -> Any:
        loads.append(1)
        return real_load()

    monkeypatch.setattr(language, "_identifier", None)
    monkeypatch.setattr(language, "_load_identifier", counting_load)
    start = threading.Barrier(8)
    results: list[tuple[str, float]] = []

    def detect() -> None:
        start.wait()
        results.append(detect_language("hoi, ben je alleen thuis?"))

    threads = [threading.Thread(target=detect) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert [code for code, _ in results] == ["nl"] * 8


@given(st.text())
def test_detect_language_never_raises(text: str) -> None:
    code, confidence = detect_language(text)
    assert code in LANGUAGES or (code, confidence) == ("", 0.0)
    assert 0.0 <= confidence <= 1.0


@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=50))
def test_detect_language_never_raises_on_long_text(text: str) -> None:
    code, confidence = detect_language(text)
    assert code in LANGUAGES or (code, confidence) == ("", 0.0)
    assert 0.0 <= confidence <= 1.0
