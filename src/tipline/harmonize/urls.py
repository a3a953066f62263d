"""URLs as Harmonize sees them: canonical form, the item a URL stands for, its domain.

`canonicalize` (Safe Browsing v4 / Web Risk rules) lives in tipline.common.urls because
intake refuses bad URLs at the door with the same rules; it is re-exported here.
"""

from __future__ import annotations

from functools import cache

import tldextract

from tipline.common.urls import (
    CanonicalURL,
    HostKind,
    InvalidURL,
    canonicalize,
    host_kind,
    parse,
)

__all__ = [
    "TRACKING_PARAMETERS",
    "CanonicalURL",
    "HostKind",
    "InvalidURL",
    "canonicalize",
    "host_kind",
    "item_url",
    "parse",
    "registrable_domain",
]

# Query parameters that only say how someone arrived at a page, never what the page is.
# URLs that differ only by these are one item. Names ending in "*" are prefixes.
TRACKING_PARAMETERS = (
    "utm_*",
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "rb_clickid",
    "s_cid",
)
_EXACT = frozenset(p for p in TRACKING_PARAMETERS if not p.endswith("*"))
_PREFIXES = tuple(p[:-1] for p in TRACKING_PARAMETERS if p.endswith("*"))


def _is_tracking(pair: str) -> bool:
    name = pair.split("=", 1)[0].lower()
    return name in _EXACT or name.startswith(_PREFIXES)


def item_url(url: str) -> CanonicalURL:
    """The canonical URL that identifies an item: canonical form without tracking parameters."""
    canonical = parse(url)
    if not canonical.query:
        return canonical
    kept = [pair for pair in canonical.query.split("&") if not _is_tracking(pair)]
    query = "&".join(kept) if kept else None
    return CanonicalURL(canonical.scheme, canonical.host, canonical.path, query)


@cache
def _extractor() -> tldextract.TLDExtract:
    # The public-suffix list bundled with tldextract; never fetched, never cached on disk.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
    )


def registrable_domain(url_or_host: str) -> str | None:
    """The domain someone registered (ads.example.co.uk → example.co.uk), or None for IP
    addresses and single-label hosts. An onion address is its own domain."""
    host = url_or_host if "/" not in url_or_host else parse(url_or_host).host
    kind = host_kind(host)
    if kind in ("ipv4", "ipv6"):
        return None
    if kind == "onion":
        return ".".join(host.split(".")[-2:])
    extracted = _extractor()(host)
    if extracted.suffix and extracted.domain:
        return f"{extracted.domain}.{extracted.suffix}"
    # A TLD the list does not know (reserved ones such as .example or .test, private ones):
    # take the last label as the suffix.
    labels = host.split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 and all(labels[-2:]) else None
