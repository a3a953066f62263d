"""The outside world as settings configure it: page fetcher, DNS, ASN database, RDAP."""

from __future__ import annotations

from django.conf import settings

from .capture import Fetcher, SafeFetcher
from .hosting import AbuseDirectory, AsnDatabase, DnsResolver, RdapAbuse, Resolver


def fetcher() -> Fetcher:
    return SafeFetcher(
        timeout_s=settings.CAPTURE_TIMEOUT_S,
        max_bytes=settings.CAPTURE_MAX_BYTES,
        allow_loopback=settings.CAPTURE_ALLOW_LOOPBACK,
    )


def resolver() -> Resolver:
    servers = settings.DNS_SERVERS
    if not servers:
        return DnsResolver()
    hosts, ports = zip(*(s.rsplit(":", 1) if ":" in s else (s, "53") for s in servers), strict=True)
    return DnsResolver(nameservers=list(hosts), port=int(ports[0]))


def asn_database() -> AsnDatabase | None:
    return AsnDatabase(settings.ASN_DB) if settings.ASN_DB else None


def abuse_directory() -> AbuseDirectory:
    return RdapAbuse(base_url=settings.RDAP_URL or None)
