"""Where content is hosted, against real DNS and RDAP servers on loopback and a small ASN
database written for the test. No query leaves this machine: the public addresses below are
only answer data, looked up in iptocc's offline table."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from dnslib import AAAA, QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import DNSHandler, DNSLogger, DNSServer

from tipline.analyze.hosting import (
    AsnDatabase,
    DnsResolver,
    HostingFacts,
    RdapAbuse,
    TtlCache,
    abuse_email_from_rdap,
    country_of,
    lookup,
    moved,
)

# Answer data only: these are never contacted. iptocc maps them offline to NL and FR.
NL_IP = "145.100.0.1"
NL_IP6 = "2001:610::1"
FR_IP = "193.51.0.1"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def now() -> datetime:
    return NOW


# --- A DNS server on loopback -------------------------------------------------------------


class Zone:
    """Records a dnslib server answers from; tests change them to make content move."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {
            "ads.example.": ["192.0.2.10", "198.51.100.7", "2001:db8::1"],
            "nl.example.": [NL_IP, NL_IP6],
            "fr.example.": [FR_IP],
            "shop.ads.example.": [NL_IP],
            "nothing.example.": [],
        }

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        qname = str(request.q.qname).lower()
        if qname not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for address in self.records[qname]:
            if request.q.qtype == QTYPE.A and ":" not in address:
                reply.add_answer(RR(qname, QTYPE.A, rdata=A(address), ttl=60))
            elif request.q.qtype == QTYPE.AAAA and ":" in address:
                reply.add_answer(RR(qname, QTYPE.AAAA, rdata=AAAA(address), ttl=60))
        return reply


@pytest.fixture
def zone() -> Zone:
    return Zone()


@pytest.fixture
def dns_server(zone: Zone) -> Iterator[int]:
    """A dnslib server on 127.0.0.1 at a free UDP port; yields the port."""
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=DNSLogger(logf=lambda _: None))
    # A short poll so that stopping the server does not wait out the default half second.
    threading.Thread(
        target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    yield server.server.server_address[1]
    server.stop()
    server.server.server_close()


@pytest.fixture
def resolver(dns_server: int) -> DnsResolver:
    return DnsResolver(nameservers=["127.0.0.1"], port=dns_server, timeout_s=2.0)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A UDP port on loopback that takes queries and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


# --- An RDAP server on loopback -----------------------------------------------------------


def _vcard(name: str, email: str, kind: str = "group") -> list[Any]:
    return [
        "vcard",
        [
            ["version", {}, "text", "4.0"],
            ["fn", {}, "text", name],
            ["kind", {}, "text", kind],
            ["email", {"type": "abuse"} if kind == "group" else {}, "text", email],
        ],
    ]


def ripe_style_network() -> dict[str, Any]:
    """As RIPE answers: the abuse entity at the top, beside the registrant."""
    return {
        "rdapConformance": ["cidr0", "rdap_level_0", "nro_rdap_profile_0"],
        "objectClassName": "ip network",
        "handle": "145.100.0.0 - 145.100.255.255",
        "startAddress": "145.100.0.0",
        "endAddress": "145.100.255.255",
        "ipVersion": "v4",
        "name": "EXAMPLE-HOSTING-NET",
        "type": "ASSIGNED PA",
        "country": "NL",
        "entities": [
            {
                "objectClassName": "entity",
                "handle": "ORG-EH1-TEST",
                "roles": ["registrant"],
                "vcardArray": _vcard("Example Hosting B.V.", "noc@hosting.example", "org"),
            },
            {
                "objectClassName": "entity",
                "handle": "AR1-TEST",
                "roles": ["abuse"],
                "vcardArray": _vcard("Abuse contact", "abuse@hosting.example"),
            },
        ],
        "links": [
            {
                "value": "https://rdap.test/ip/145.100.0.1",
                "rel": "self",
                "href": "https://rdap.test/ip/145.100.0.0/16",
            }
        ],
        "events": [{"eventAction": "registration", "eventDate": "2019-05-02T10:00:00Z"}],
        "port43": "whois.test",
    }


def arin_style_network() -> dict[str, Any]:
    """As ARIN answers: the abuse entity nested under the organisation."""
    return {
        "rdapConformance": ["nro_rdap_profile_0", "rdap_level_0", "cidr0"],
        "objectClassName": "ip network",
        "handle": "NET-193-51-0-0-1",
        "startAddress": "193.51.0.0",
        "endAddress": "193.51.255.255",
        "ipVersion": "v4",
        "name": "EXAMPLE-CLOUD",
        "entities": [
            {
                "objectClassName": "entity",
                "handle": "EXCL",
                "roles": ["registrant"],
                "vcardArray": _vcard("Example Cloud SAS", "contact@cloud.example", "org"),
                "entities": [
                    {
                        "objectClassName": "entity",
                        "handle": "NOC-EXCL",
                        "roles": ["technical"],
                        "vcardArray": _vcard("NOC", "noc@cloud.example", "individual"),
                    },
                    {
                        "objectClassName": "entity",
                        "handle": "ABUSE-EXCL",
                        "roles": ["abuse"],
                        "vcardArray": _vcard("Abuse", "abuse@cloud.example"),
                    },
                ],
            }
        ],
    }


class Rdap:
    """What the loopback RDAP server answers, and the paths it was asked for."""

    def __init__(self) -> None:
        self.networks: dict[str, dict[str, Any]] = {
            NL_IP: ripe_style_network(),
            FR_IP: arin_style_network(),
        }
        self.slow: set[str] = set()
        self.asked: list[str] = []
        self.release = threading.Event()  # lets slow answers end when the test does


@pytest.fixture
def rdap() -> Iterator[tuple[Rdap, str]]:
    """An RDAP server on 127.0.0.1; yields what it serves and its base URL."""
    state = Rdap()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.asked.append(self.path)
            ip = self.path.removeprefix("/rdap/ip/")
            if ip in state.slow:
                state.release.wait(10)
            network = state.networks.get(ip)
            body = json.dumps(
                network
                if network
                else {"errorCode": 404, "title": "Not Found", "description": [ip]}
            ).encode()
            self.send_response(200 if network else 404)
            self.send_header("Content-Type", "application/rdap+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/rdap/"
    state.release.set()
    server.shutdown()
    server.server_close()


# --- DNS ----------------------------------------------------------------------------------


def test_lookup_gives_every_a_and_aaaa_answer(resolver: DnsResolver, dns_server: int) -> None:
    facts = lookup("ads.example", resolver=resolver, now=now)

    assert facts.addresses == ["192.0.2.10", "198.51.100.7", "2001:db8::1"]
    assert facts.sources["dns"] == f"127.0.0.1:{dns_server}"
    assert facts.looked_up_at == NOW
    # Documentation ranges belong to no country: said, not raised.
    assert facts.country == "" and facts.countries == []
    assert facts.errors == ["country: 192.0.2.10 is in no country's registered ranges"]


def test_countries_of_all_addresses_country_of_the_first(resolver: DnsResolver) -> None:
    facts = lookup("NL.example.", resolver=resolver, now=now)

    assert facts.host == "NL.example."
    assert facts.addresses == [NL_IP, NL_IP6]
    assert (facts.country, facts.countries) == ("NL", ["NL"])
    assert facts.sources["country"] == "iptocc"
    assert facts.errors == []


def test_an_address_is_its_own_answer_without_asking_dns(silent_port: int) -> None:
    deaf = DnsResolver(nameservers=["127.0.0.1"], port=silent_port, timeout_s=0.3)

    for host in (FR_IP, f"[{NL_IP6}]", "2001:0610:0000::1"):
        facts = lookup(host, resolver=deaf, now=now)
        assert "dns" not in facts.sources
        assert facts.errors == []
    assert lookup(FR_IP, resolver=deaf).country == "FR"
    assert lookup("2001:0610:0000::1", resolver=deaf).addresses == [NL_IP6]


def test_nxdomain_is_an_error_not_an_exception(resolver: DnsResolver) -> None:
    facts = lookup("gone.example", resolver=resolver, now=now)

    assert facts.addresses == [] and facts.country == ""
    assert facts.errors == ["dns: gone.example does not exist (NXDOMAIN)"]


def test_a_name_without_addresses_says_so(resolver: DnsResolver) -> None:
    facts = lookup("nothing.example", resolver=resolver)

    assert facts.addresses == []
    assert facts.errors == ["dns: nothing.example has no A or AAAA record"]


def test_a_server_that_never_answers_times_out_within_the_bound(silent_port: int) -> None:
    deaf = DnsResolver(nameservers=["127.0.0.1"], port=silent_port, timeout_s=0.3)

    started = time.monotonic()
    facts = lookup("ads.example", resolver=deaf, now=now)

    assert time.monotonic() - started < 1.5
    assert facts.addresses == []
    assert facts.errors == [f"dns: no answer from 127.0.0.1:{silent_port} within 0.3 s"]


def test_an_onion_service_is_never_sent_to_dns(silent_port: int) -> None:
    deaf = DnsResolver(nameservers=["127.0.0.1"], port=silent_port, timeout_s=5.0)

    started = time.monotonic()
    facts = lookup("abcdefghijklmnop.onion", resolver=deaf)

    assert time.monotonic() - started < 0.5
    assert facts.errors == ["dns: an onion service has no public address"]


def test_country_of_is_offline_and_empty_when_unknown() -> None:
    assert (country_of(NL_IP), country_of(NL_IP6), country_of(FR_IP)) == ("NL", "NL", "FR")
    assert country_of("10.1.2.3") == ""
    assert country_of("2001:db8::1") == ""
    assert country_of("not an address") == ""


# --- Abuse contact ------------------------------------------------------------------------


def test_abuse_contact_from_rdap_at_the_top_or_nested(
    resolver: DnsResolver, rdap: tuple[Rdap, str]
) -> None:
    state, base = rdap
    directory = RdapAbuse(base_url=base, timeout_s=2.0)

    nl = lookup("nl.example", resolver=resolver, abuse=directory, now=now)
    fr = lookup("fr.example", resolver=resolver, abuse=directory, now=now)

    assert nl.abuse_email == "abuse@hosting.example"
    assert fr.abuse_email == "abuse@cloud.example"
    assert nl.sources["abuse"] == f"rdap:{base.rstrip('/')}"
    assert nl.errors == [] and fr.errors == []
    assert state.asked == [f"/rdap/ip/{NL_IP}", f"/rdap/ip/{FR_IP}"]


def test_rdap_answers_are_cached_per_address(resolver: DnsResolver, rdap: tuple[Rdap, str]) -> None:
    state, base = rdap
    directory = RdapAbuse(base_url=base, timeout_s=2.0)

    first = lookup("nl.example", resolver=resolver, abuse=directory)
    again = lookup("shop.ads.example", resolver=resolver, abuse=directory)  # same address

    assert first.abuse_email == again.abuse_email == "abuse@hosting.example"
    assert state.asked == [f"/rdap/ip/{NL_IP}"]


def test_rdap_404_is_an_error_and_not_cached(resolver: DnsResolver, rdap: tuple[Rdap, str]) -> None:
    state, base = rdap
    del state.networks[NL_IP]
    directory = RdapAbuse(base_url=base, timeout_s=2.0)

    facts = lookup("nl.example", resolver=resolver, abuse=directory, now=now)

    assert facts.abuse_email == ""
    assert facts.country == "NL"  # the other steps still ran
    assert facts.errors == [f"abuse: RDAP answered 404 for {base}ip/{NL_IP}"]
    state.networks[NL_IP] = ripe_style_network()
    assert lookup("nl.example", resolver=resolver, abuse=directory).abuse_email
    assert len(state.asked) == 2


def test_rdap_that_does_not_answer_in_time_is_an_error(
    resolver: DnsResolver, rdap: tuple[Rdap, str]
) -> None:
    state, base = rdap
    state.slow.add(NL_IP)
    directory = RdapAbuse(base_url=base, timeout_s=0.4)

    started = time.monotonic()
    facts = lookup("nl.example", resolver=resolver, abuse=directory)

    assert time.monotonic() - started < 1.5
    assert facts.addresses == [NL_IP, NL_IP6]
    assert facts.errors == [f"abuse: no RDAP answer for {NL_IP} within 0.4 s"]


def test_rdap_network_without_an_abuse_entity(
    resolver: DnsResolver, rdap: tuple[Rdap, str]
) -> None:
    state, base = rdap
    network = ripe_style_network()
    network["entities"] = network["entities"][:1]
    state.networks[NL_IP] = network

    facts = lookup("nl.example", resolver=resolver, abuse=RdapAbuse(base_url=base))

    assert facts.abuse_email == ""
    assert facts.errors == [f"abuse: the registry names no abuse contact for {NL_IP}"]


def test_the_bootstrap_directory_refuses_reserved_addresses_without_traffic() -> None:
    # ipwhois checks the address before any query, so this never leaves the machine.
    facts = lookup("192.0.2.10", resolver=DnsResolver(nameservers=["127.0.0.1"]), abuse=RdapAbuse())

    assert facts.sources["abuse"] == "rdap:bootstrap"
    assert facts.abuse_email == ""
    assert len(facts.errors) == 2 and facts.errors[1].startswith("abuse: RDAP lookup of")
    assert "192.0.2.10" in facts.errors[1]


def test_abuse_email_from_rdap_tolerates_odd_shapes() -> None:
    assert abuse_email_from_rdap({}) == ""
    assert abuse_email_from_rdap({"entities": [{"roles": ["abuse"]}]}) == ""
    assert abuse_email_from_rdap({"entities": ["x", {"roles": ["abuse"], "vcardArray": 3}]}) == ""
    nested = {
        "entities": [
            {"roles": ["abuse"], "vcardArray": ["vcard", [["email", {}, "text", "a@x.example"]]]}
        ]
    }
    assert abuse_email_from_rdap(nested) == "a@x.example"


def test_an_override_by_domain_wins_over_rdap(
    resolver: DnsResolver, rdap: tuple[Rdap, str]
) -> None:
    state, base = rdap
    overrides = {"ads.example": "reports@ads.example", "AS64500": "abuse@as.example"}

    facts = lookup(
        "shop.ads.example",
        resolver=resolver,
        abuse=RdapAbuse(base_url=base),
        overrides=overrides,
        now=now,
    )

    assert facts.abuse_email == "reports@ads.example"
    assert facts.sources["abuse"] == "override"
    assert state.asked == []  # RDAP not asked at all


def test_an_override_applies_even_when_dns_fails(resolver: DnsResolver) -> None:
    facts = lookup("gone.ads.example", resolver=resolver, overrides={"ads.example": "r@a.example"})

    assert facts.addresses == []
    assert facts.abuse_email == "r@a.example"


# --- ASN ----------------------------------------------------------------------------------


@pytest.fixture
def asn_mmdb(tmp_path: Path) -> str:
    mmdb_writer = pytest.importorskip(
        "mmdb_writer", reason="mmdb-writer (a dev dependency) writes the test's ASN database"
    )
    netaddr = pytest.importorskip("netaddr", reason="mmdb-writer needs netaddr")
    writer = mmdb_writer.MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-ASN",
        languages=["en"],
        description="Tipline test ASN database",
    )
    writer.insert_network(
        netaddr.IPSet(["145.100.0.0/16", "2001:610::/32"]),
        {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Hosting"},
    )
    writer.insert_network(
        netaddr.IPSet(["193.51.0.0/16"]),
        {"autonomous_system_number": 64501, "autonomous_system_organization": "Example Cloud"},
    )
    path = tmp_path / "asn.mmdb"
    writer.to_db_file(str(path))
    return str(path)


def test_asn_from_the_database(resolver: DnsResolver, asn_mmdb: str) -> None:
    database = AsnDatabase(asn_mmdb)

    facts = lookup("nl.example", resolver=resolver, asn_db=database, now=now)

    assert (facts.asn, facts.as_org) == (64500, "Example Hosting")
    assert facts.sources["asn"] == f"mmdb:{asn_mmdb}"
    assert database.lookup(NL_IP6) == (64500, "Example Hosting")
    assert database.lookup("192.0.2.10") == (None, "")
    database.close()


def test_an_override_by_asn_wins_over_rdap(
    resolver: DnsResolver, rdap: tuple[Rdap, str], asn_mmdb: str
) -> None:
    state, base = rdap

    facts = lookup(
        "fr.example",
        resolver=resolver,
        asn_db=AsnDatabase(asn_mmdb),
        abuse=RdapAbuse(base_url=base),
        overrides={"as64501": "abuse-desk@cloud.example"},
    )

    assert facts.abuse_email == "abuse-desk@cloud.example"
    assert facts.sources["abuse"] == "override"
    assert state.asked == []


def test_a_missing_asn_database_is_an_error_and_the_rest_still_runs(
    resolver: DnsResolver, tmp_path: Path
) -> None:
    facts = lookup("fr.example", resolver=resolver, asn_db=AsnDatabase(str(tmp_path / "no.mmdb")))

    assert facts.country == "FR"
    assert facts.asn is None
    assert len(facts.errors) == 1 and facts.errors[0].startswith("asn: FileNotFoundError")


# --- Moves and the cache ------------------------------------------------------------------


def test_moved_names_the_address_and_country_change(resolver: DnsResolver, zone: Zone) -> None:
    before = lookup("ads.example", resolver=resolver)
    zone.records["ads.example."] = [NL_IP]
    in_nl = lookup("ads.example", resolver=resolver)
    zone.records["ads.example."] = [FR_IP]
    in_fr = lookup("ads.example", resolver=resolver)

    assert moved(in_nl, in_fr) == [
        "addresses changed from 145.100.0.1 to 193.51.0.1",
        "country changed from NL to FR",
    ]
    # Country unknown before: only the addresses are a known change.
    assert moved(before, in_nl) == [
        "addresses changed from 192.0.2.10, 198.51.100.7, 2001:db8::1 to 145.100.0.1"
    ]
    assert moved(in_fr, in_fr) == []


def test_moved_names_asn_and_abuse_changes_and_ignores_failed_lookups() -> None:
    def facts(**changes: Any) -> HostingFacts:
        base: dict[str, Any] = {
            "host": "ads.example",
            "addresses": [NL_IP, NL_IP6],
            "country": "NL",
            "countries": ["NL"],
            "asn": 64500,
            "as_org": "Example Hosting",
            "abuse_email": "abuse@hosting.example",
            "sources": {},
            "looked_up_at": NOW,
            "errors": [],
        }
        return HostingFacts(**(base | changes))

    assert moved(facts(), facts(addresses=[NL_IP6, NL_IP])) == []  # order is not a move
    assert moved(facts(), facts(asn=64501, as_org="", abuse_email="abuse@cloud.example")) == [
        "ASN changed from AS64500 (Example Hosting) to AS64501",
        "abuse contact changed from abuse@hosting.example to abuse@cloud.example",
    ]
    assert moved(facts(), facts(countries=["NL", "FR"])) == ["countries changed from NL to NL, FR"]
    failed = facts(
        addresses=[],
        country="",
        countries=[],
        asn=None,
        as_org="",
        abuse_email="",
        errors=["dns: no answer"],
    )
    assert moved(facts(), failed) == []


def test_ttl_cache_expires_and_stays_small() -> None:
    clock = [0.0]
    cache: TtlCache[str, str] = TtlCache(60, max_entries=2, clock=lambda: clock[0])

    cache.put("a", "1")
    cache.put("b", "2")
    assert cache.get("a") == "1"
    clock[0] = 59.9
    assert cache.get("b") == "2"
    clock[0] = 60.0
    assert cache.get("a") is None
    cache.put("c", "3")
    cache.put("d", "4")
    cache.put("e", "5")
    assert len(cache) == 2 and cache.get("c") is None and cache.get("e") == "5"
