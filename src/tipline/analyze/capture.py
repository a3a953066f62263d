"""Evidence capture: fetch a reported URL once, safely, and keep what came back.

An edge behind a small interface (`Fetcher`). `SafeFetcher` is the real one; tests use it
against servers on loopback with `allow_loopback=True`.

Safety, hop by hop (the first request and every redirect):
- only http and https;
- the host is resolved once, and the hop is refused if ANY of its addresses is not a
  public unicast address (`address_problem`);
- the connection goes to an address that was checked, never to the name again: the HTTP
  client (httpcore) is given a network backend pinned to the checked addresses, so a DNS
  answer that changes between check and connect (rebinding) cannot steer it. Host header,
  TLS SNI and certificate verification still use the real host name;
- one deadline covers the whole fetch (DNS, connects, TLS, redirects, body), and the body
  is dropped, not truncated, once it grows past `max_bytes`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit

import httpcore

Resolver = Callable[[str, int], list[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Named only so a refusal says what the address is; every one of them is refused anyway.
CLOUD_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean…
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
SHARED_NETWORK = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
NAT64_NETWORK = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are IPv4


@dataclass(frozen=True)
class Capture:
    """One fetch of a URL: what came back, from where, when.

    `redirects` lists every redirect target followed or attempted (absolute URLs, in
    order); hop 0 is `requested_url` and hop i is `redirects[i-1]`. `addresses` holds the
    address each hop's connection was made to, so it is shorter than the hops when a hop
    failed before connecting. `fetched_at` is when the fetch began (one deadline bounds
    the rest). `ok` means the fetch completed: a 404 page is captured too.
    """

    requested_url: str
    final_url: str
    status: int | None
    headers: dict[str, str]
    body: bytes | None
    body_sha256: str
    content_type: str
    fetched_at: datetime
    redirects: list[str]
    addresses: list[str]
    error: str

    @property
    def ok(self) -> bool:
        return not self.error


class Fetcher(Protocol):
    def fetch(self, url: str) -> Capture:
        """Fetch `url` and return what happened; never raises."""
        ...


def address_problem(ip: str, *, allow_loopback: bool = False) -> str | None:
    """Why `ip` must not be connected to, or None when it is a public unicast address.

    The rule: refuse unspecified, loopback (unless `allow_loopback`), link-local (which
    holds the 169.254.169.254 cloud metadata service), private (RFC 1918, IPv6 unique
    local, which holds AWS's fd00:ec2::254), shared carrier-grade NAT (100.64/10),
    multicast, reserved, and anything else the IANA registries do not mark globally
    reachable (documentation, benchmarking, 6to4 relays, Teredo…). IPv6 addresses that
    carry an IPv4 address (IPv4-mapped ::ffff:0:0/96, 6to4 2002::/16, NAT64 64:ff9b::/96)
    are judged by the IPv4 address inside them.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return f"{ip!r} is not an IP address"
    kind = _address_kind(address, allow_loopback=allow_loopback)
    return None if kind is None else f"{ip} is {kind}"


def _address_kind(address: Address, *, allow_loopback: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        for inner, how in (
            (address.ipv4_mapped, "IPv4-mapped"),
            (address.sixtofour, "6to4"),
            (_nat64_inner(address), "NAT64"),
        ):
            if inner is not None:
                kind = _address_kind(inner, allow_loopback=allow_loopback)
                return None if kind is None else f"{kind} ({how})"
    if address in CLOUD_METADATA:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if any(address in network for network in PRIVATE_NETWORKS):
        return "a private address"
    if address in SHARED_NETWORK:
        return "a shared (carrier-grade NAT) address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if not address.is_global:
        return "not a globally reachable address"
    return None


def _nat64_inner(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in NAT64_NETWORK:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def system_resolve(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, in its order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class SafeFetcher:
    """Fetches with httpcore over a network backend pinned to the addresses checked."""

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        max_bytes: int = 20 * 1024 * 1024,
        max_redirects: int = 5,
        allow_loopback: bool = False,
        resolve: Resolver | None = None,
        user_agent: str = "Tipline evidence capture",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_loopback = allow_loopback
        self.resolve = resolve or system_resolve
        self.user_agent = user_agent
        # None: httpcore's default, certifi's CA bundle. Tests pass their own CA.
        self.ssl_context = ssl_context

    def fetch(self, url: str) -> Capture:
        progress = _Progress(requested_url=url, fetched_at=datetime.now(UTC))
        deadline = time.monotonic() + self.timeout_s
        try:
            self._follow(url, progress, deadline)
        except _Failed as failure:
            progress.error = failure.reason
        except httpcore.TimeoutException:
            progress.error = self._timeout_message()
        except Exception as exc:  # a capture records failures, it never raises
            progress.error = f"unexpected error: {type(exc).__name__}: {exc}"
        return progress.capture()

    def _follow(self, url: str, progress: _Progress, deadline: float) -> None:
        while True:
            target = _Target.parse(url)
            addresses = self._checked_addresses(target, deadline)
            self._exchange(target, url, addresses, progress, deadline)
            location = progress.headers.get("location", "")
            if progress.status not in REDIRECT_STATUSES or not location:
                return
            if len(progress.redirects) >= self.max_redirects:
                raise _Failed(f"too many redirects ({self.max_redirects})")
            url = urljoin(url, location.strip())
            progress.redirects.append(url)

    def _checked_addresses(self, target: _Target, deadline: float) -> list[str]:
        """The addresses to connect to, resolved once; refuses the hop if any is unsafe."""
        if target.ip is not None:
            addresses, source = [target.ip], ""
        else:
            addresses, source = self._resolve(target.host, target.port, deadline), target.host
        for address in addresses:
            problem = address_problem(address, allow_loopback=self.allow_loopback)
            if problem:
                raise _Failed(f"refused: {problem}" + (f" ({source})" if source else ""))
        return addresses

    def _resolve(self, host: str, port: int, deadline: float) -> list[str]:
        # getaddrinfo cannot be given a timeout, so it runs in a thread we can stop waiting
        # for; the whole fetch stays within its deadline even when DNS hangs.
        outcome: list[Any] = []

        def run() -> None:
            try:
                outcome.append(self.resolve(host, port))
            except Exception as exc:
                outcome.append(exc)

        thread = threading.Thread(target=run, name="capture-resolve", daemon=True)
        thread.start()
        thread.join(max(0.0, deadline - time.monotonic()))
        if not outcome:
            raise _Failed(self._timeout_message())
        answer = outcome[0]
        if isinstance(answer, Exception):
            reason = getattr(answer, "strerror", None) or str(answer)
            raise _Failed(f"DNS: no address for {host} ({reason})")
        addresses = [str(a) for a in answer]
        if not addresses:
            raise _Failed(f"DNS: no address for {host}")
        return addresses

    def _exchange(
        self,
        target: _Target,
        url: str,
        addresses: list[str],
        progress: _Progress,
        deadline: float,
    ) -> None:
        """One request to one checked address; the body is read unless it is a redirect."""
        backend = _PinnedBackend(target.host, addresses, deadline, progress.addresses)
        remaining = _remaining(deadline)
        request_url = httpcore.URL(
            scheme=target.scheme.encode(),
            host=target.host.encode(),
            port=target.port,
            target=target.request_target.encode(),
        )
        headers = [
            (b"Host", target.host_header.encode()),
            (b"User-Agent", self.user_agent.encode()),
            (b"Accept", b"*/*"),
            # Without it any content coding is acceptable (RFC 9110): ask for the bytes as is.
            (b"Accept-Encoding", b"identity"),
        ]
        timeouts = {"connect": remaining, "read": remaining, "write": remaining, "pool": remaining}
        with (
            httpcore.ConnectionPool(
                ssl_context=self.ssl_context,
                max_connections=1,
                retries=0,
                network_backend=backend,
            ) as pool,
            _network_errors(backend),
            pool.stream("GET", request_url, headers=headers, extensions={"timeout": timeouts}) as r,
        ):
            progress.final_url = url
            progress.status = r.status
            progress.headers = _header_dict(r.headers)
            progress.body = None
            if r.status in REDIRECT_STATUSES and progress.headers.get("location"):
                return
            progress.body = self._read_body(r, progress.headers)

    def _read_body(self, response: httpcore.Response, headers: dict[str, str]) -> bytes:
        too_large = _Failed(f"body larger than {_size(self.max_bytes)}")
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks, size = [], 0
        for chunk in response.iter_stream():
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    def _timeout_message(self) -> str:
        return f"timeout after {self.timeout_s:g} s"


@dataclass
class _Progress:
    """What a fetch has learnt so far, so a failure still reports how far it got."""

    requested_url: str
    fetched_at: datetime
    final_url: str = ""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    redirects: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    error: str = ""

    def capture(self) -> Capture:
        body = None if self.error else self.body
        return Capture(
            requested_url=self.requested_url,
            final_url=self.final_url,
            status=self.status,
            headers=self.headers,
            body=body,
            body_sha256=hashlib.sha256(body).hexdigest() if body is not None else "",
            content_type=self.headers.get("content-type", "").split(";")[0].strip().lower(),
            fetched_at=self.fetched_at,
            redirects=self.redirects,
            addresses=self.addresses,
            error=self.error,
        )


class _Failed(Exception):
    """A fetch stopped for a reason worth recording."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Target:
    """A URL taken apart once, so what is checked is exactly what is connected to."""

    scheme: str
    host: str  # as in the URL: an ASCII name, or an IP address without brackets
    ip: str | None  # set when the host is an IP address
    port: int
    request_target: str

    @classmethod
    def parse(cls, url: str) -> _Target:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise _Failed(f"invalid URL: {exc}") from exc
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            shown = scheme or "no scheme"
            raise _Failed(f"refused: only http and https URLs are fetched, not {shown}")
        host = parts.hostname or ""
        if not host:
            raise _Failed("invalid URL: no host")
        ip: str | None = None
        try:
            ipaddress.ip_address(host)
            ip = host
        except ValueError:
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError as exc:
                raise _Failed(f"invalid URL: {host!r} is not a valid host name") from exc
        if port == 0:
            raise _Failed("invalid URL: port 0")
        path = quote(parts.path or "/", safe="/%!$&'()*+,;=:@~")
        query = quote(parts.query, safe="/%!$&'()*+,;=:@~?")
        return cls(
            scheme=scheme,
            host=host,
            ip=ip,
            port=port or DEFAULT_PORTS[scheme],
            request_target=path + (f"?{query}" if query else ""),
        )

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the checked addresses, in order, whatever host it is asked for."""

    def __init__(
        self, host: str, addresses: list[str], deadline: float, connected_log: list[str]
    ) -> None:
        self.host = host
        self.addresses = addresses
        self.deadline = deadline
        self.connected: str | None = None
        self.connected_log = connected_log  # the fetch's addresses, one per hop
        self.failures: list[str] = []
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if host != self.host:  # cannot happen without proxies; refuse rather than resolve
            raise httpcore.ConnectError(f"refused: {host} was not checked")
        for address in self.addresses:
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    timeout=_clamp(timeout, self.deadline, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:
                # Unreachable over IPv6, listening over IPv4: try the next checked address.
                self.failures.append(_connect_failure(address, port, exc))
                continue
            self.connected = address
            self.connected_log.append(address)
            return _DeadlineStream(stream, self.deadline)
        raise httpcore.ConnectError("; ".join(self.failures))

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    """Never lets one read or write wait past the fetch's deadline (a slow drip of bytes
    would otherwise keep a per-read timeout happy forever)."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout, self._deadline, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout, self._deadline, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, self._deadline, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, timeout), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpcore.ConnectTimeout("deadline passed")
    return remaining


def _clamp(timeout: float | None, deadline: float, expired: type[Exception]) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise expired("deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


@contextmanager
def _network_errors(backend: _PinnedBackend) -> Iterator[None]:
    """Turns httpcore's network errors into reasons an analyst can read."""
    try:
        yield
    except httpcore.TimeoutException:
        raise
    except httpcore.ConnectError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLError):
            raise _Failed(f"TLS: {_ssl_reason(cause)}") from exc
        if backend.connected is None:
            raise _Failed(str(exc) or "cannot connect") from exc
        raise _Failed(f"connection to {backend.connected} lost: {_reason(exc)}") from exc
    except (httpcore.RemoteProtocolError, httpcore.LocalProtocolError) as exc:
        raise _Failed(f"protocol error from {backend.connected}: {exc}") from exc
    except httpcore.NetworkError as exc:
        raise _Failed(f"connection to {backend.connected} lost: {_reason(exc)}") from exc


def _connect_failure(address: str, port: int, exc: Exception) -> str:
    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    if isinstance(exc.__cause__ or exc.__context__, ConnectionRefusedError):
        return f"connection refused ({where})"
    return f"cannot connect to {where}: {_reason(exc)}"


def _reason(exc: Exception) -> str:
    """The operating system's words for a network error httpcore wrapped, if it has them."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, OSError) and (cause.strerror or str(cause)):
        return cause.strerror or str(cause)
    return str(exc) or type(exc).__name__


def _ssl_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    return exc.reason or str(exc)


def _header_dict(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"
