"""Reading hash-bank files. Pure: no Django.

Two formats, told apart line by line:
- Tipline's CSV: `hash,type[,label]` with type md5, sha256 or pdq (a header line
  `hash,type,label` is skipped);
- ThreatExchange / HMA signal files: `signal_type signal` (space) or
  `signal_type,signal[,tags]`, with signal types pdq, md5, video_md5, photo_md5, sha256.

Bad lines do not stop an import: every good line is imported and every bad line is
reported with its number and the reason, so the file can be fixed and re-imported
(entries already in the bank are not duplicated).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

HASH_KINDS = {"md5": 32, "sha256": 64, "pdq": 64}
# ThreatExchange / HMA signal type names, by the hash they carry.
SIGNAL_TYPES = {
    "pdq": "pdq",
    "md5": "md5",
    "video_md5": "md5",
    "photo_md5": "md5",
    "sha256": "sha256",
}
_HEX = re.compile(r"[0-9a-f]+")
MAX_LABEL = 200


@dataclass(frozen=True)
class BankLine:
    line: int
    kind: str
    value: str
    label: str


@dataclass(frozen=True)
class BadLine:
    line: int
    text: str
    reason: str


def _hash_problem(kind: str, value: str) -> str | None:
    length = HASH_KINDS[kind]
    if len(value) != length or not _HEX.fullmatch(value):
        return f"a {kind} hash is {length} hexadecimal digits, got {value[:80]!r}"
    return None


def _fields(text: str) -> list[str]:
    if "," in text or '"' in text:
        return [f.strip() for f in next(csv.reader([text]))]
    return text.split(None, 1)


def parse_bank_file(content: str) -> tuple[list[BankLine], list[BadLine]]:
    """Every hash in `content`, and every line that is not one, with its reason."""
    good: list[BankLine] = []
    bad: list[BadLine] = []
    for number, raw in enumerate(io.StringIO(content), start=1):
        text = raw.strip().lstrip("\ufeff")
        if not text or text.startswith("#"):
            continue
        try:
            fields = _fields(text)
        except csv.Error as e:
            bad.append(BadLine(number, text[:200], f"not CSV: {e}"))
            continue
        lowered = [f.lower() for f in fields]
        if lowered[:2] in (["hash", "type"], ["signal_type", "signal"]):
            continue  # a header
        if len(fields) >= 2 and lowered[1] in HASH_KINDS:  # hash,type[,label]
            value, kind, label = lowered[0], lowered[1], (fields[2] if len(fields) > 2 else "")
        elif len(fields) >= 2 and lowered[0] in SIGNAL_TYPES:  # signal_type signal [tags]
            kind, value = SIGNAL_TYPES[lowered[0]], lowered[1].split()[0] if lowered[1] else ""
            label = fields[2] if len(fields) > 2 else ""
        else:
            bad.append(
                BadLine(
                    number,
                    text[:200],
                    "expected 'hash,type[,label]' with type "
                    "md5, sha256 or pdq, or 'signal_type signal' (pdq, md5, "
                    "video_md5, sha256)",
                )
            )
            continue
        problem = _hash_problem(kind, value)
        if problem:
            bad.append(BadLine(number, text[:200], problem))
            continue
        good.append(BankLine(number, kind, value, label[:MAX_LABEL]))
    return good, bad
