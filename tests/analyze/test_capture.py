"""Evidence capture against real HTTP servers on loopback.

Every socket connect in this module goes through a tripwire that records it and lets only
loopback through, so the SSRF tests prove refusals happen before any connection is tried
(and a regression could not reach a private or public address from the test run).
"""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tipline.analyze.capture import Capture, Fetcher, SafeFetcher, _size, address_problem

Route = Callable[[BaseHTTPRequestHandler], None]


class Site:
    """A real HTTP server on a loopback address; tests give it pages by path."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []  # path, headers (lowercased)
        self.connections = 0
        self.stopping = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = site.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                else:
                    route(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request: Any, client_address: Any) -> None:
                site.connections += 1
                super().process_request(request, client_address)

        self.server = Server((host, port), Handler)
        self.host, self.port = host, self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> Site:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "/", host: str | None = None, scheme: str = "http") -> str:
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    @property
    def hosts_seen(self) -> list[str]:
        return [headers.get("host", "") for _, headers in self.requests]

    # --- pages ------------------------------------------------------------------------
    def page(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        def route(h: BaseHTTPRequestHandler) -> None:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(body)

        self.routes[path] = route

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.page(path, b"moved", status=status, headers={"Location": location})

    def undeclared(self, path: str, body: bytes) -> None:
        """A body without Content-Length, delimited by closing the connection."""

        def route(h: BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/octet-stream")
            h.end_headers()
            h.wfile.write(body)

        self.routes[path] = route

    def slow(self, path: str) -> None:
        """Answers nothing until the test ends."""

        def route(h: BaseHTTPRequestHandler) -> None:
            self.stopping.wait(10)

        self.routes[path] = route

    def drip(self, path: str) -> None:
        """Headers at once, then one byte every 50 ms for 2 s: each read is quick, the whole
        is not (and the body never completes)."""

        def route(h: BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Length", "1000")
            h.end_headers()
            for _ in range(40):
                if self.stopping.wait(0.05):
                    return
                h.wfile.write(b"x")
                h.wfile.flush()

        self.routes[path] = route


@pytest.fixture(autouse=True)
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every connect attempted during the test; only loopback ones are let through."""
    attempts: list[tuple[str, int]] = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        host, port = str(address[0]), int(address[1])
        attempts.append((host, port))
        if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            raise OSError(f"test tripwire: no connection to {host} outside loopback")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site().start()
    yield s
    s.stop()


class Resolver:
    """A resolver from a table, counting its calls; never asks real DNS."""

    def __init__(self, answers: dict[str, list[str] | list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        answer = self.answers[host]
        if answer and isinstance(answer[0], list):  # successive answers, the last one sticks
            asked = sum(1 for h, _ in self.calls if h == host)
            return list(answer[min(asked, len(answer)) - 1])
        return [str(a) for a in answer]


def loopback_fetcher(resolver: Resolver | None = None, **kwargs: Any) -> SafeFetcher:
    return SafeFetcher(allow_loopback=True, resolve=resolver, **kwargs)


# --- capturing pages ------------------------------------------------------------------


def test_a_page_is_captured_with_what_the_server_sent(site: Site) -> None:
    body = "<html><title>Annonce à Créteil</title>Appelez le 01 99 00 12 34</html>".encode()
    site.page("/ad", body, headers={"X-Served-By": "test"})
    before = datetime.now(UTC)

    capture = loopback_fetcher().fetch(site.url("/ad"))

    assert capture.ok and capture.error == ""
    assert capture.requested_url == capture.final_url == site.url("/ad")
    assert capture.status == 200
    assert capture.headers["content-type"] == "text/html; charset=utf-8"
    assert capture.headers["x-served-by"] == "test"
    assert capture.content_type == "text/html"
    assert capture.body == body
    assert capture.body_sha256 == hashlib.sha256(body).hexdigest()
    assert capture.fetched_at.tzinfo is UTC and before <= capture.fetched_at <= datetime.now(UTC)
    assert capture.redirects == []
    assert capture.addresses == ["127.0.0.1"]
    _, sent = site.requests[0]
    assert sent["user-agent"] == "Tipline evidence capture"
    assert sent["accept-encoding"] == "identity"


def test_an_error_page_is_captured_too(site: Site) -> None:
    capture = loopback_fetcher().fetch(site.url("/gone"))

    assert capture.ok
    assert capture.status == 404
    assert capture.body and capture.body_sha256


def test_the_server_sees_the_reported_host_name_not_the_address(site: Site) -> None:
    site.page("/", b"hello")
    resolver = Resolver({"site.example": ["127.0.0.1"]})

    capture = loopback_fetcher(resolver).fetch(site.url("/", host="site.example"))

    assert capture.ok and capture.body == b"hello"
    assert site.hosts_seen == [f"site.example:{site.port}"]
    assert resolver.calls == [("site.example", site.port)]
    assert capture.addresses == ["127.0.0.1"]


def test_fetcher_is_the_interface() -> None:
    fetcher: Fetcher = SafeFetcher()
    assert isinstance(fetcher.fetch("ftp://files.example/"), Capture)


# --- redirects --------------------------------------------------------------------------


def test_redirects_are_followed_and_recorded(site: Site) -> None:
    final = site.url("/end", host="site.example")
    site.redirect("/start", "/middle?from=start", status=301)  # relative
    site.redirect("/middle", final, status=307)  # absolute, another host name
    site.page("/end", b"the end")
    resolver = Resolver({"site.example": ["127.0.0.1"]})

    capture = loopback_fetcher(resolver).fetch(site.url("/start"))

    assert capture.ok and capture.body == b"the end" and capture.status == 200
    assert capture.redirects == [site.url("/middle?from=start"), final]
    assert capture.final_url == final
    assert capture.addresses == ["127.0.0.1"] * 3
    assert [path for path, _ in site.requests] == ["/start", "/middle?from=start", "/end"]
    assert site.hosts_seen[-1] == f"site.example:{site.port}"
    assert "location" not in capture.headers


@pytest.mark.parametrize(("hops", "ok"), [(3, True), (4, False)])
def test_at_most_max_redirects_are_followed(site: Site, hops: int, ok: bool) -> None:
    for i in range(hops):
        site.redirect(f"/{i}", f"/{i + 1}")
    site.page(f"/{hops}", b"arrived")

    capture = loopback_fetcher(max_redirects=3).fetch(site.url("/0"))

    assert capture.ok is ok
    if ok:
        assert capture.body == b"arrived" and len(capture.redirects) == 3
    else:
        assert capture.error == "too many redirects (3)"
        assert capture.status == 302 and capture.final_url == site.url("/3")
        assert capture.body is None
        assert len(site.requests) == 4


def test_a_redirect_loop_stops(site: Site) -> None:
    site.redirect("/loop", "/loop")

    capture = loopback_fetcher().fetch(site.url("/loop"))

    assert capture.error == "too many redirects (5)"
    assert capture.redirects == [site.url("/loop")] * 5
    assert len(site.requests) == 6


# --- limits -----------------------------------------------------------------------------


def test_a_body_of_exactly_max_bytes_is_kept(site: Site) -> None:
    site.undeclared("/fits", b"x" * 1000)

    capture = loopback_fetcher(max_bytes=1000).fetch(site.url("/fits"))

    assert capture.ok and capture.body == b"x" * 1000


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_over_max_bytes_is_dropped(site: Site, declared: bool) -> None:
    if declared:
        site.page("/big", b"x" * 5000)
    else:
        site.undeclared("/big", b"x" * 5000)

    capture = loopback_fetcher(max_bytes=1000).fetch(site.url("/big"))

    assert capture.error == "body larger than 1000 bytes"
    assert not capture.ok
    assert capture.body is None and capture.body_sha256 == ""
    assert capture.status == 200  # what was learnt before stopping is kept


def test_the_default_limit_reads_as_megabytes() -> None:
    assert SafeFetcher().max_bytes == 20 * 1024 * 1024
    assert _size(20 * 1024 * 1024) == "20 MB"


def test_a_silent_server_times_out(site: Site) -> None:
    site.slow("/slow")
    started = time.monotonic()

    capture = loopback_fetcher(timeout_s=0.3).fetch(site.url("/slow"))

    assert capture.error == "timeout after 0.3 s"
    assert time.monotonic() - started < 1.5
    assert capture.status is None and capture.final_url == ""
    assert capture.addresses == ["127.0.0.1"]


def test_the_timeout_covers_the_whole_fetch_not_each_read(site: Site) -> None:
    site.drip("/drip")  # each byte arrives well within any per-read timeout
    started = time.monotonic()

    capture = loopback_fetcher(timeout_s=0.5).fetch(site.url("/drip"))

    assert capture.error == "timeout after 0.5 s"
    assert time.monotonic() - started < 1.5
    assert capture.status == 200 and capture.body is None


def test_a_hanging_resolver_counts_against_the_timeout() -> None:
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(10)
        return ["127.0.0.1"]

    started = time.monotonic()
    capture = SafeFetcher(timeout_s=0.3, resolve=hanging).fetch("http://slow-dns.example/")
    release.set()

    assert capture.error == "timeout after 0.3 s"
    assert time.monotonic() - started < 1.5


# --- refusals (SSRF) ----------------------------------------------------------------------


def test_loopback_is_refused_without_reaching_the_server(
    site: Site, connects: list[tuple[str, int]]
) -> None:
    site.page("/", b"internal")

    capture = SafeFetcher().fetch(site.url("/"))

    assert capture.error == "refused: 127.0.0.1 is a loopback address"
    assert capture.body is None and capture.status is None and capture.addresses == []
    assert site.requests == [] and site.connections == 0
    assert connects == []


def test_localhost_from_the_system_resolver_is_refused(
    site: Site, connects: list[tuple[str, int]]
) -> None:
    capture = SafeFetcher().fetch(site.url("/", host="localhost"))

    assert capture.error.startswith("refused: ")
    assert capture.error.endswith("is a loopback address (localhost)")
    assert site.connections == 0 and connects == []


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("10.0.0.5", "10.0.0.5 is a private address"),
        ("192.168.1.1", "192.168.1.1 is a private address"),
        ("172.20.0.1", "172.20.0.1 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a cloud metadata address"),
        ("169.254.1.1", "169.254.1.1 is a link-local address"),
        ("::1", "::1 is a loopback address"),
        ("fd00::1", "fd00::1 is a private address"),
        ("fd00:ec2::254", "fd00:ec2::254 is a cloud metadata address"),
        ("fe80::1", "fe80::1 is a link-local address"),
        ("100.64.0.1", "100.64.0.1 is a shared (carrier-grade NAT) address"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1 is a loopback address (IPv4-mapped)"),
        ("::ffff:10.0.0.5", "::ffff:10.0.0.5 is a private address (IPv4-mapped)"),
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),  # noqa: S104 - an answer, not a bind
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("240.0.0.1", "240.0.0.1 is a reserved address"),
        ("192.0.2.7", "192.0.2.7 is not a globally reachable address"),
    ],
)
def test_names_resolving_to_internal_addresses_are_refused_before_connecting(
    answer: str, reason: str, connects: list[tuple[str, int]]
) -> None:
    resolver = Resolver({"ads.example": [answer]})

    capture = SafeFetcher(resolve=resolver).fetch("http://ads.example/page")

    assert capture.error == f"refused: {reason} (ads.example)"
    assert capture.addresses == [] and capture.status is None
    assert connects == []
    assert len(resolver.calls) == 1


def test_one_internal_answer_among_public_ones_refuses_the_name(
    connects: list[tuple[str, int]],
) -> None:
    resolver = Resolver({"mixed.example": ["8.8.8.8", "10.0.0.5"]})

    capture = SafeFetcher(resolve=resolver).fetch("https://mixed.example/")

    assert capture.error == "refused: 10.0.0.5 is a private address (mixed.example)"
    assert connects == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.5/", "10.0.0.5 is a private address"),
        ("http://[::1]/", "::1 is a loopback address"),
        (
            "http://[::ffff:127.0.0.1]:8080/x",
            "::ffff:127.0.0.1 is a loopback address (IPv4-mapped)",
        ),
    ],
)
def test_address_urls_are_checked_without_resolving(
    url: str, reason: str, connects: list[tuple[str, int]]
) -> None:
    resolver = Resolver({})

    capture = SafeFetcher(resolve=resolver).fetch(url)

    assert capture.error == f"refused: {reason}"
    assert resolver.calls == [] and connects == []


def test_a_redirect_to_a_private_address_is_refused_at_that_hop(
    site: Site, connects: list[tuple[str, int]]
) -> None:
    site.redirect("/go", "http://10.1.2.3/admin")

    capture = loopback_fetcher().fetch(site.url("/go"))

    assert capture.error == "refused: 10.1.2.3 is a private address"
    assert capture.redirects == ["http://10.1.2.3/admin"]
    assert capture.final_url == site.url("/go") and capture.status == 302
    assert capture.addresses == ["127.0.0.1"]
    assert connects == [("127.0.0.1", site.port)]


def test_a_redirect_to_a_name_with_a_private_address_is_refused_at_that_hop(
    site: Site, connects: list[tuple[str, int]]
) -> None:
    site.redirect("/go", "https://intranet.example/")
    resolver = Resolver({"intranet.example": ["192.168.1.1"]})

    capture = loopback_fetcher(resolver).fetch(site.url("/go"))

    assert capture.error == "refused: 192.168.1.1 is a private address (intranet.example)"
    assert capture.redirects == ["https://intranet.example/"]
    assert connects == [("127.0.0.1", site.port)]


def test_dns_rebinding_cannot_move_the_connection(connects: list[tuple[str, int]]) -> None:
    """The name answers 127.0.0.1 when checked and 127.0.0.2 afterwards: only the checked
    address is ever connected to, and the name is resolved once."""
    checked = Site("127.0.0.1").start()
    try:
        rebound = Site("127.0.0.2", checked.port).start()
    except OSError:
        checked.stop()
        pytest.skip("127.0.0.2 is not available")
    try:
        checked.page("/", b"checked")
        rebound.page("/", b"rebound")
        resolver = Resolver({"rebind.example": [["127.0.0.1"], ["127.0.0.2"]]})

        capture = loopback_fetcher(resolver).fetch(checked.url("/", host="rebind.example"))

        assert capture.ok and capture.body == b"checked"
        assert resolver.calls == [("rebind.example", checked.port)]
        assert connects == [("127.0.0.1", checked.port)]
        assert capture.addresses == ["127.0.0.1"]
        assert checked.connections == 1 and rebound.connections == 0
    finally:
        checked.stop()
        rebound.stop()


def test_every_hop_is_resolved_and_checked_again(
    site: Site, connects: list[tuple[str, int]]
) -> None:
    """A redirect to the same name gets a fresh answer, checked like the first."""
    site.redirect("/first", "/second")
    resolver = Resolver({"rebind.example": [["127.0.0.1"], ["10.0.0.5"]]})

    capture = loopback_fetcher(resolver).fetch(site.url("/first", host="rebind.example"))

    assert capture.error == "refused: 10.0.0.5 is a private address (rebind.example)"
    assert len(resolver.calls) == 2
    assert connects == [("127.0.0.1", site.port)]
    assert [path for path, _ in site.requests] == ["/first"]


# --- failures ---------------------------------------------------------------------------


def test_a_name_without_address_is_an_error(connects: list[tuple[str, int]]) -> None:
    capture = SafeFetcher(resolve=Resolver({"nowhere.example": []})).fetch(
        "http://nowhere.example/"
    )

    assert capture.error == "DNS: no address for nowhere.example"
    assert capture.final_url == "" and capture.status is None and connects == []


def test_a_resolver_failure_is_an_error() -> None:
    def failing(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    capture = SafeFetcher(resolve=failing).fetch("http://nowhere.example/")

    assert capture.error == "DNS: no address for nowhere.example (Name or service not known)"


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("ftp://127.0.0.1/file", "ftp"),
        ("file:///etc/passwd", "file"),
        ("gopher://127.0.0.1:70/_", "gopher"),
        ("javascript:alert(1)", "javascript"),
        ("ads.example/page", "no scheme"),
    ],
)
def test_other_schemes_are_refused(url: str, scheme: str, connects: list[tuple[str, int]]) -> None:
    capture = loopback_fetcher().fetch(url)

    assert capture.error == f"refused: only http and https URLs are fetched, not {scheme}"
    assert connects == []


def test_a_redirect_to_another_scheme_is_refused(site: Site) -> None:
    site.redirect("/go", "file:///etc/passwd")

    capture = loopback_fetcher().fetch(site.url("/go"))

    assert capture.error == "refused: only http and https URLs are fetched, not file"
    assert capture.redirects == ["file:///etc/passwd"]


@pytest.mark.parametrize("url", ["http://[::1/", "http://127.0.0.1:99999/", "http:///path"])
def test_malformed_urls_are_errors(url: str) -> None:
    capture = loopback_fetcher().fetch(url)

    assert capture.error.startswith("invalid URL")


def test_a_closed_port_is_connection_refused(connects: list[tuple[str, int]]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    capture = loopback_fetcher().fetch(f"http://127.0.0.1:{port}/")

    assert capture.error == f"connection refused (127.0.0.1:{port})"
    assert capture.addresses == [] and capture.status is None


def test_the_next_checked_address_is_tried_when_one_refuses(
    site: Site, connects: list[tuple[str, int]]
) -> None:
    site.page("/", b"over IPv4")
    resolver = Resolver({"dual.example": ["::1", "127.0.0.1"]})  # nothing listens on ::1

    capture = loopback_fetcher(resolver).fetch(site.url("/", host="dual.example"))

    assert capture.ok and capture.body == b"over IPv4"
    assert capture.addresses == ["127.0.0.1"]
    assert connects == [("::1", site.port), ("127.0.0.1", site.port)]


# --- TLS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for site.example (and only that name)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-subj", "/CN=site.example", "-addext", "subjectAltName=DNS:site.example"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_site(certificate: tuple[Path, Path]) -> Iterator[tuple[Site, list[str | None]]]:
    cert, key = certificate
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def remember_name(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = remember_name
    s = Site()
    s.server.socket = context.wrap_socket(s.server.socket, server_side=True)
    s.start()
    yield s, names
    s.stop()


def test_https_verifies_the_certificate_for_the_reported_name(
    tls_site: tuple[Site, list[str | None]], certificate: tuple[Path, Path]
) -> None:
    site, sni = tls_site
    site.page("/", b"secure")
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    resolver = Resolver({"site.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    fetcher = loopback_fetcher(resolver, ssl_context=trusted)

    good = fetcher.fetch(site.url("/", host="site.example", scheme="https"))
    bad = fetcher.fetch(site.url("/", host="other.example", scheme="https"))

    assert good.ok and good.body == b"secure" and good.addresses == ["127.0.0.1"]
    assert sni[0] == "site.example"
    assert site.hosts_seen == [f"site.example:{site.port}"]
    assert bad.error.startswith("TLS: certificate verify failed")
    assert "other.example" in bad.error
    assert bad.addresses == ["127.0.0.1"] and bad.status is None


def test_https_without_trust_in_the_certificate_fails(
    tls_site: tuple[Site, list[str | None]],
) -> None:
    site, _ = tls_site
    resolver = Resolver({"site.example": ["127.0.0.1"]})

    capture = loopback_fetcher(resolver).fetch(site.url("/", host="site.example", scheme="https"))

    assert capture.error.startswith("TLS: certificate verify failed")
    assert site.requests == []


# --- the address rule ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    ["8.8.8.8", "2001:4860:4860::8888", "64:ff9b::808:808", "::ffff:8.8.8.8", "100.128.0.1"],
)
def test_public_addresses_pass(ip: str) -> None:
    assert address_problem(ip) is None


@pytest.mark.parametrize(
    ("ip", "problem"),
    [
        ("64:ff9b::a00:5", "64:ff9b::a00:5 is a private address (NAT64)"),
        ("2002:a00:5::1", "2002:a00:5::1 is a private address (6to4)"),
        ("2001:db8::1", "2001:db8::1 is not a globally reachable address"),
        ("ff02::1", "ff02::1 is a multicast address"),
        ("::", ":: is an unspecified address"),
        ("example.org", "'example.org' is not an IP address"),
    ],
)
def test_internal_addresses_are_named(ip: str, problem: str) -> None:
    assert address_problem(ip) == problem


def test_allow_loopback_lets_loopback_only() -> None:
    assert address_problem("127.0.0.1", allow_loopback=True) is None
    assert address_problem("::1", allow_loopback=True) is None
    assert address_problem("::ffff:127.0.0.1", allow_loopback=True) is None
    assert address_problem("10.0.0.5", allow_loopback=True) == "10.0.0.5 is a private address"
    assert address_problem("169.254.169.254", allow_loopback=True) is not None
