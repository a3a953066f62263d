"""Logs never carry reporters' contact data, and TIPLINE_LOG_FORMAT=json writes one JSON
object per line that a log collector can read."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tipline.common.logs import JsonFormatter, RedactContacts, redact

CONTACTS = [
    "camille@mail.example",
    "c.exemple+hotline@sub.mail.example",
    "+33 1 99 00 12 34",
    "01 99 00 12 34",
    "01.99.00.12.34",
    "0199001234",
    "0033 1 99 00 12 34",
    "020 7946 0123",
    "0161 496 0999",
    "555-555-0100",
    "(555) 555-0199",
    "+1 555 555 0142",
]
NOT_CONTACTS = [
    "2026-11-28 18:30:25,802",
    "2026-11-28T18:30:25+00:00",
    "28/11/2026 10:00",
    "report 123456789",
    "task 3f2a1b4c-0d9e-4a5b-8c7d-6e5f4a3b2c1d",
    "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "192.168.100.200",
    "127.0.0.1:8000",
    "took 0.123456789 s",
    "1000000 items",
    "receipt ABCD-1234-EFGH",
]


@pytest.mark.parametrize("contact", CONTACTS)
def test_contacts_are_masked(contact: str) -> None:
    masked = redact(f"reporter wrote from {contact}, please call back")
    assert contact not in masked
    assert "[email]" in masked or "[phone]" in masked
    assert masked.startswith("reporter wrote from [") and masked.endswith("], please call back")


@pytest.mark.parametrize("text", NOT_CONTACTS)
def test_times_ids_hashes_and_addresses_are_left_alone(text: str) -> None:
    assert redact(f"seen {text} here") == f"seen {text} here"


def logged(logger_name: str, emit: object) -> list[dict[str, object]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactContacts())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        assert callable(emit)
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_time_level_logger_message_and_extra_fields() -> None:
    [entry] = logged(
        "tipline.test.json",
        lambda log: log.warning(
            "report %s from %s", 12, "camille@mail.example", extra={"report_id": 12}
        ),
    )
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "tipline.test.json"
    assert entry["message"] == "report 12 from [email]"
    assert entry["report_id"] == 12
    assert str(entry["time"]).endswith("+00:00")


def test_extra_fields_and_tracebacks_are_masked_too() -> None:
    def fail(log: logging.Logger) -> None:
        try:
            raise ValueError("no such reporter 01 99 00 12 34")
        except ValueError:
            log.exception("lookup failed", extra={"reporter": {"email": "camille@mail.example"}})

    [entry] = logged("tipline.test.exc", fail)
    text = json.dumps(entry)
    assert "01 99 00 12 34" not in text and "camille@mail.example" not in text
    assert entry["reporter"] == {"email": "[email]"}
    assert "ValueError: no such reporter [phone]" in str(entry["exception"])


def test_objects_in_extra_fields_are_written_as_masked_text() -> None:
    class Caller:
        def __str__(self) -> str:
            return "<caller camille@mail.example>"

    [entry] = logged("tipline.test.obj", lambda log: log.info("seen", extra={"who": Caller()}))
    assert entry["who"] == "<caller [email]>"


def test_the_configured_logs_are_json_and_masked(tmp_path: Path) -> None:
    """`tipline` itself, with TIPLINE_LOG_FORMAT=json: every line on stderr is JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(TIPLINE_DATA_DIR=str(tmp_path), TIPLINE_LOG_FORMAT="json")
    code = (
        "import logging; logging.getLogger('tipline.test').warning("
        "'reporter %s wrote', '01 99 00 12 34')"
    )
    done = subprocess.run(
        [sys.executable, "-m", "tipline.cli", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    mine = [e for e in entries if e["logger"] == "tipline.test"]
    assert [e["message"] for e in mine] == ["reporter [phone] wrote"]
