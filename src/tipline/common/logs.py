"""Logs without reporters' contact data: a filter that masks e-mail addresses and phone
numbers, and a formatter writing one JSON object per line (TIPLINE_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers as people write them: international (+33 1 99 00 12 34, 0033…), national
# with a trunk 0 (01 99 00 12 34, 020 7946 0123, 01.99.00.12.34) and North American
# (555-555-0100, (555) 555-0100). Not matched: dates, times, IP addresses, ids and counts
# (no leading + or 0, or too few digits), hashes and UUIDs (digits inside a word).
_PHONE = re.compile(
    r"(?<![\w.:/+-])"
    r"(?:"
    r"(?:\+|00)\d[\d ().\-/]{6,22}\d"
    r"|\(?0\d[\d ().\-/]{7,16}\d"
    r"|\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}"
    r")"
    r"(?![\w.:/-]?\d)"
)
_PHONE_DIGITS = range(9, 16)


def redact(text: str) -> str:
    """`text` with e-mail addresses and phone numbers replaced by placeholders."""
    if "@" in text:
        text = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(_phone_mask, text)


def _phone_mask(match: re.Match[str]) -> str:
    found = match.group()
    digits = sum(c.isdigit() for c in found)
    if digits not in _PHONE_DIGITS or _looks_like_a_date(found):
        return found
    return PHONE_MASK


def _looks_like_a_date(text: str) -> bool:
    # 2026-11-28 or 28/11/2026 10:00 start with a 0 or a digit too; phones never have a
    # four-digit group followed by two-digit month and day.
    return bool(re.match(r"\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}", text))


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class RedactContacts(logging.Filter):
    """Masks e-mail addresses and phone numbers in the message, its `extra` fields and
    any traceback, before a handler formats the record. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it as usual
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _redact_value(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the
    record's `extra` fields, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Objects passed in `extra` (a request…) are written as their text, masked too.
        return json.dumps(entry, ensure_ascii=False, default=lambda o: redact(str(o)))
