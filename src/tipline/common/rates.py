"""Rates such as "20/hour", the fixed windows they are counted in, and the key a client
is counted under. Pure: settings read rates with it, `ratelimit` counts with it."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_UNITS = {**PERIODS, **{name[0]: seconds for name, seconds in PERIODS.items()}}
_RATE = re.compile(r"\s*(\d{1,9})\s*/\s*(\d{0,6})\s*([a-z]+?)s?\s*")


@dataclass(frozen=True)
class Rate:
    """At most `count` requests in each window of `period_s` seconds."""

    count: int
    period_s: int

    def window(self, now: float) -> tuple[int, float]:
        """(the window `now` falls in, seconds until the next one starts)."""
        index = int(now // self.period_s)
        return index, (index + 1) * self.period_s - now

    def __str__(self) -> str:
        return f"{self.count}/{self.period_s}s"


def parse_rate(text: str) -> Rate | None:
    """ "20/hour" (also 20/h, 20/hours, 5/10minutes) as a Rate; "off" or "" as None (no
    limit). ValueError says what is expected."""
    if text.strip().lower() in ("", "off", "none"):
        return None
    match = _RATE.fullmatch(text.lower())
    unit = _UNITS.get(match.group(3)) if match else None
    if match is None or unit is None or int(match.group(1)) < 1 or match.group(2) == "0":
        raise ValueError(
            f"{text!r} is not a rate: expected a count per period, e.g. 20/hour, 5/minute, "
            "100/day, 30/10minutes, or off"
        )
    return Rate(int(match.group(1)), int(match.group(2) or 1) * unit)


def client_key(address: str, secret: str) -> str:
    """Whom to count a request against, without keeping their address: a keyed hash of the
    address (of its /64 network for IPv6, which a household or phone holds whole)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        network = address.strip()[:64]
    else:
        if isinstance(ip, ipaddress.IPv6Address):
            mapped = ip.ipv4_mapped  # ::ffff:192.0.2.1 is that IPv4 address
            network = str(mapped or ipaddress.IPv6Network((ip, 64), strict=False))
        else:
            network = str(ip)
    return hmac.new(secret.encode(), network.encode(), hashlib.sha256).hexdigest()[:32]
