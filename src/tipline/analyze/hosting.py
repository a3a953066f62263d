"""Where reported content is hosted: its addresses, their country, the network (ASN) and the
abuse contact to notify, and whether that has changed since an earlier look.

DNS, RDAP and the ASN database sit behind small interfaces; each call is bounded in time and
`lookup` never raises: a step that fails is written to `HostingFacts.errors` and the others
still run.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import dns.exception
import dns.resolver
import geoip2.database
import geoip2.errors
import httpx
import iptocc
from ipwhois import IPWhois

from tipline.harmonize.urls import registrable_domain

__all__ = [
    "AbuseDirectory",
    "AsnDatabase",
    "DnsResolver",
    "HostingFacts",
    "LookupFailed",
    "RdapAbuse",
    "Resolver",
    "TtlCache",
    "abuse_email_from_rdap",
    "country_of",
    "lookup",
    "moved",
]


@dataclass(frozen=True)
class HostingFacts:
    """What one look at a host found, and where each fact came from."""

    host: str
    addresses: list[str]  # A and AAAA answers, or the address itself when host is one
    country: str  # ISO 3166-1 alpha-2 of the first address; "" if unknown
    countries: list[str]  # the known countries of all addresses, each once, in address order
    asn: int | None  # of the first address
    as_org: str
    abuse_email: str
    sources: dict[str, str]  # step -> where its answer came from
    looked_up_at: datetime  # UTC
    errors: list[str]  # "<step>: why" for each step that failed or found nothing


class LookupFailed(Exception):
    """A step could not give an answer; the message says why, in words for an analyst."""


# --- Interfaces ---------------------------------------------------------------------------
# An implementation may also have a `source: str` attribute naming where it looks
# ("127.0.0.1:5353", "rdap:https://…"); `lookup` records it in HostingFacts.sources.


class Resolver(Protocol):
    def addresses(self, host: str) -> list[str]:
        """The host's IPv4 and IPv6 addresses; raises (LookupFailed) when it cannot say."""
        ...


class AbuseDirectory(Protocol):
    def abuse_email(self, ip: str) -> str:
        """The abuse contact of the network holding `ip`, "" if it names none; raises
        (LookupFailed) when it cannot say."""
        ...


# --- DNS ----------------------------------------------------------------------------------


class DnsResolver:
    """A and AAAA lookups with dnspython, at most `timeout_s` for both together. Without
    nameservers it uses the system's (/etc/resolv.conf)."""

    def __init__(
        self, *, nameservers: list[str] | None = None, port: int = 53, timeout_s: float = 3.0
    ) -> None:
        if nameservers:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = list(nameservers)
        else:
            resolver = dns.resolver.Resolver()
        resolver.port = port
        resolver.timeout = timeout_s
        resolver.lifetime = timeout_s
        self._resolver = resolver
        self._timeout_s = timeout_s

    @property
    def source(self) -> str:
        return ",".join(
            f"[{ns}]:{self._resolver.port}" if ":" in str(ns) else f"{ns}:{self._resolver.port}"
            for ns in self._resolver.nameservers
        )

    def addresses(self, host: str) -> list[str]:
        deadline = time.monotonic() + self._timeout_s
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LookupFailed(f"no answer from {self.source} within {self._timeout_s:g} s")
            try:
                answer = self._resolver.resolve(
                    host, rdtype, lifetime=remaining, search=False, raise_on_no_answer=False
                )
            except dns.resolver.NXDOMAIN:
                raise LookupFailed(f"{host} does not exist (NXDOMAIN)") from None
            except dns.exception.Timeout:
                raise LookupFailed(
                    f"no answer from {self.source} within {self._timeout_s:g} s"
                ) from None
            except dns.resolver.NoNameservers:
                raise LookupFailed(
                    f"no nameserver could answer for {host} (SERVFAIL or REFUSED)"
                ) from None
            except dns.exception.DNSException as exc:
                raise LookupFailed(f"{host}: {exc}") from None
            found.extend(rdata.address for rdata in (answer.rrset or ()))
        return found


# --- Country ------------------------------------------------------------------------------


def country_of(ip: str) -> str:
    """The ISO 3166-1 alpha-2 country an address is registered to, from iptocc's offline
    table; "" for private, reserved, unknown or malformed addresses."""
    try:
        code = iptocc.country_code(ip)
    except Exception:  # iptocc answers None for bad input; a future version might raise
        return ""
    return code or ""


# --- ASN ----------------------------------------------------------------------------------


class AsnDatabase:
    """A MaxMind-format ASN database (.mmdb, as GeoLite2-ASN), opened on first use so that a
    missing file is an error in a lookup rather than a crash at start-up."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._reader: geoip2.database.Reader | None = None
        self._lock = threading.Lock()

    @property
    def source(self) -> str:
        return f"mmdb:{self.path}"

    def lookup(self, ip: str) -> tuple[int | None, str]:
        """(AS number, organisation) of the network holding `ip`; (None, "") if the
        database has no network for it. Raises if the file cannot be read."""
        try:
            record = self._open().asn(ip)
        except geoip2.errors.AddressNotFoundError:
            return None, ""
        return record.autonomous_system_number, record.autonomous_system_organization or ""

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def _open(self) -> geoip2.database.Reader:
        with self._lock:
            if self._reader is None:
                self._reader = geoip2.database.Reader(self.path)
            return self._reader


# --- Abuse contact (RDAP) -----------------------------------------------------------------


class TtlCache[K: Hashable, V]:
    """A small in-memory cache: an entry lives `ttl_s` seconds; past `max_entries` the
    oldest is dropped. Thread-safe."""

    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self._clock() + self._ttl_s, value)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class RdapAbuse:
    """The abuse contact of an address's network from RDAP: the entity with role "abuse",
    its vCard e-mail. With `base_url` the queries go to `<base_url>/ip/<address>`; without,
    ipwhois finds the registry through ARIN's RDAP bootstrap (ipwhois has no setting for
    another base URL, hence the small client of our own for that case).

    Answers, including "no contact named", are kept `cache_ttl_s` seconds per address; not
    per network, because a more specific sub-allocation inside a cached network may name
    another contact. Failures are not kept."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout_s: float = 5.0,
        cache_ttl_s: float = 24 * 3600.0,
        cache: TtlCache[str, str] | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/") if base_url else None
        self._timeout_s = timeout_s
        self.cache: TtlCache[str, str] = cache if cache is not None else TtlCache(cache_ttl_s)

    @property
    def source(self) -> str:
        return f"rdap:{self._base_url}" if self._base_url else "rdap:bootstrap"

    def abuse_email(self, ip: str) -> str:
        try:
            address = ipaddress.ip_address(ip).compressed
        except ValueError:
            raise LookupFailed(f"{ip!r} is not an IP address") from None
        cached = self.cache.get(address)
        if cached is not None:
            return cached
        fetch = self._from_base_url if self._base_url else self._from_bootstrap
        try:
            network = _within(self._timeout_s, lambda: fetch(address))
        except TimeoutError:
            raise LookupFailed(
                f"no RDAP answer for {address} within {self._timeout_s:g} s"
            ) from None
        email = abuse_email_from_rdap(network)
        self.cache.put(address, email)
        return email

    def _from_base_url(self, address: str) -> dict[str, Any]:
        url = f"{self._base_url}/ip/{address}"
        try:
            response = httpx.get(
                url,
                headers={"Accept": "application/rdap+json"},
                timeout=self._timeout_s,
                follow_redirects=True,
            )
        except httpx.HTTPError as exc:
            raise LookupFailed(f"RDAP query {url} failed: {exc}") from None
        if response.status_code != 200:
            raise LookupFailed(f"RDAP answered {response.status_code} for {url}")
        try:
            data = response.json()
        except ValueError:
            raise LookupFailed(f"RDAP answer for {url} is not JSON") from None
        if not isinstance(data, dict) or data.get("objectClassName") != "ip network":
            raise LookupFailed(f"RDAP answer for {url} is not an IP network")
        return data

    def _from_bootstrap(self, address: str) -> dict[str, Any]:
        # retry_count=0: ipwhois would otherwise sleep out rate limits (120 s) and retry.
        # inc_nir=False: with bootstrap it has no ASN data to choose a NIR and would fail.
        try:
            result = IPWhois(address, timeout=self._timeout_s).lookup_rdap(
                inc_raw=True,
                retry_count=0,
                depth=0,
                bootstrap=True,
                inc_nir=False,
                root_ent_check=False,
            )
        except Exception as exc:  # ipwhois raises its own kinds, and urllib's through them
            raise LookupFailed(f"RDAP lookup of {address} failed: {exc}") from None
        raw = result.get("raw")
        if not isinstance(raw, dict):
            raise LookupFailed(f"RDAP lookup of {address} gave no answer")
        return raw


def abuse_email_from_rdap(network: Mapping[str, Any]) -> str:
    """The e-mail of the entity with role "abuse" nearest the top of an RDAP ip network
    object (RIPE puts it at the top; ARIN nests it under the organisation), "" if none."""
    level: list[Any] = list(network.get("entities") or [])
    while level:
        for entity in level:
            if isinstance(entity, dict) and "abuse" in (entity.get("roles") or []):
                email = _vcard_email(entity.get("vcardArray"))
                if email:
                    return email
        level = [
            child
            for entity in level
            if isinstance(entity, dict)
            for child in (entity.get("entities") or [])
        ]
    return ""


def _vcard_email(vcard_array: Any) -> str:
    # jCard (RFC 7095): ["vcard", [[name, params, type, value], ...]]
    if not (isinstance(vcard_array, list) and len(vcard_array) == 2):
        return ""
    for prop in vcard_array[1] if isinstance(vcard_array[1], list) else []:
        if isinstance(prop, list) and len(prop) >= 4 and prop[0] == "email":
            value = prop[3]
            if isinstance(value, str) and value.strip():
                return value.strip().removeprefix("mailto:")
    return ""


def _within[T](timeout_s: float, fn: Callable[[], T]) -> T:
    """fn() if it returns within timeout_s, else TimeoutError. Libraries' own timeouts bound
    each socket operation, not a whole lookup of several requests; this bounds the whole.
    A call that overruns finishes in its daemon thread, held only by its socket timeouts."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="hosting-lookup", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --- The whole look -----------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


def lookup(
    host: str,
    *,
    resolver: Resolver,
    asn_db: AsnDatabase | None = None,
    abuse: AbuseDirectory | None = None,
    overrides: Mapping[str, str] | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> HostingFacts:
    """Where `host` (a domain, or an IPv4/IPv6 address, bracketed or not) is hosted now.

    The country, ASN and abuse contact are those of the first address. `overrides` are
    abuse contacts set by hand, keyed by host, registrable domain ("example.co.uk") or AS
    number ("AS64500"), most specific first; one that applies wins over RDAP, which is then
    not asked. Never raises: see HostingFacts.errors."""
    looked_up_at = now()
    errors: list[str] = []
    sources: dict[str, str] = {}
    name = host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")

    addresses: list[str] = []
    literal = _ip_literal(name)
    if literal:
        addresses = [literal]
    elif name == "onion" or name.endswith(".onion"):
        # RFC 7686: onion names must not leak to DNS, and have no address to find.
        errors.append("dns: an onion service has no public address")
    else:
        sources["dns"] = _source_of(resolver)
        try:
            addresses = _unique(_ip_literal(a) or a for a in resolver.addresses(name))
            if not addresses:
                errors.append(f"dns: {name} has no A or AAAA record")
        except Exception as exc:
            errors.append(f"dns: {_reason(exc)}")

    first = addresses[0] if addresses else None
    country, countries = "", []
    if addresses:
        sources["country"] = "iptocc"
        each = [country_of(a) for a in addresses]
        country = each[0]
        countries = _unique(c for c in each if c)
        if not country:
            errors.append(f"country: {first} is in no country's registered ranges")

    asn: int | None = None
    as_org = ""
    if asn_db is not None and first is not None:
        sources["asn"] = _source_of(asn_db)
        try:
            asn, as_org = asn_db.lookup(first)
            if asn is None:
                errors.append(f"asn: {first} is not in the ASN database")
        except Exception as exc:
            errors.append(f"asn: {_reason(exc)}")

    abuse_email = ""
    override = _override(name, asn, overrides or {})
    if override:
        abuse_email = override
        sources["abuse"] = "override"
    elif abuse is not None and first is not None:
        sources["abuse"] = _source_of(abuse)
        try:
            abuse_email = abuse.abuse_email(first)
            if not abuse_email:
                errors.append(f"abuse: the registry names no abuse contact for {first}")
        except Exception as exc:
            errors.append(f"abuse: {_reason(exc)}")

    return HostingFacts(
        host=host,
        addresses=addresses,
        country=country,
        countries=countries,
        asn=asn,
        as_org=as_org,
        abuse_email=abuse_email,
        sources=sources,
        looked_up_at=looked_up_at,
        errors=errors,
    )


def moved(before: HostingFacts, after: HostingFacts) -> list[str]:
    """What changed between two looks at a host, in words; [] if nothing did. A fact that
    one of the looks could not find is not compared: a failed lookup is not a move."""
    changes: list[str] = []
    if before.addresses and after.addresses and set(before.addresses) != set(after.addresses):
        changes.append(
            f"addresses changed from {', '.join(before.addresses)} to {', '.join(after.addresses)}"
        )
    if before.country and after.country and before.country != after.country:
        changes.append(f"country changed from {before.country} to {after.country}")
    elif before.countries and after.countries and set(before.countries) != set(after.countries):
        changes.append(
            f"countries changed from {', '.join(before.countries)} to {', '.join(after.countries)}"
        )
    if before.asn is not None and after.asn is not None and before.asn != after.asn:
        changes.append(
            f"ASN changed from {_as_name(before.asn, before.as_org)}"
            f" to {_as_name(after.asn, after.as_org)}"
        )
    if before.abuse_email and after.abuse_email and before.abuse_email != after.abuse_email:
        changes.append(f"abuse contact changed from {before.abuse_email} to {after.abuse_email}")
    return changes


def _override(name: str, asn: int | None, overrides: Mapping[str, str]) -> str:
    table = {key.strip().lower(): value.strip() for key, value in overrides.items()}
    keys = [name]
    try:
        domain = registrable_domain(name)
    except Exception:  # a host the URL rules refuse has no domain to match
        domain = None
    if domain and domain != name:
        keys.append(domain)
    if asn is not None:
        keys.append(f"as{asn}")
    return next((table[k] for k in keys if table.get(k)), "")


def _ip_literal(text: str) -> str | None:
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def _unique[T](items: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(items))


def _source_of(obj: object) -> str:
    return str(getattr(obj, "source", "") or type(obj).__name__)


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, LookupFailed) else f"{type(exc).__name__}: {exc}"


def _as_name(asn: int, org: str) -> str:
    return f"AS{asn} ({org})" if org else f"AS{asn}"
