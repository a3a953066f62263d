"""Generated reports for benchmarks: fictional sites, fiction-range phone numbers."""

from __future__ import annotations

import random
from typing import Any

CITIES = ["Lyon", "Lille", "Nantes", "Metz", "Brest", "Dijon", "Rouen", "Nice"]
WORDS = ["new", "in", "town", "sweet", "discreet", "available", "call", "now", "young", "hotel"]


def synthetic_report(n: int, rng: random.Random) -> dict[str, Any]:
    """A generated ad-like report: fictional site, fiction-range phone number."""
    phone = f"01 99 00 {rng.randrange(100):02d} {rng.randrange(100):02d}"
    text = " ".join(rng.choice(WORDS) for _ in range(25))
    return {
        "external_id": f"bench-{n}",
        "category": rng.choice(["sex ad", "trafficking", "csam", "fraud"]),
        "urls": [f"https://ads{rng.randrange(50)}.example/{rng.choice(CITIES).lower()}/{n}"],
        "description": "generated for a benchmark",
        "excerpt": f"{text} {phone}",
        "reporter": {"country": rng.choice(["FR", "BE", "DE", "ES"])},
    }
