"""Django choices from the pure layers' enums (which may not import Django)."""

from __future__ import annotations

from enum import StrEnum


def enum_choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    """(value, label) pairs: the label is the value with spaces for underscores."""
    return [(member.value, member.value.replace("_", " ")) for member in enum]
