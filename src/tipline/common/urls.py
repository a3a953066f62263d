"""URL canonicalization to the Safe Browsing v4 / Web Risk rules.

Shared by intake (which refuses what cannot be a URL, at the door) and harmonize (which
turns each URL into one item). The rules, from Google's "URLs and hashing" documentation:
strip tab/CR/LF; drop the fragment; add http:// when the scheme is missing; percent-unescape
until nothing changes; host: drop userinfo and port, strip leading/trailing dots, collapse
runs of dots, lowercase, normalise every IPv4 notation to dotted decimal; path: resolve
/./ and /../, collapse runs of slashes (not in the query); finally percent-escape every byte
<= 0x20, >= 0x7F, '#' and '%' with uppercase hex. Where the documentation is silent we
follow Google's reference client (github.com/google/safebrowsing, urls.go).

Tipline's own policy on top: only http, https and ftp URLs are accepted (javascript:,
data:, mailto: … are not web content to take down), IDN hosts become punycode, and IPv6
hosts are written in their compressed form so one address has one spelling.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote_to_bytes

from tipline.common.i18n import gettext_noop

MAX_URL_CHARS = 8192
ACCEPTED_SCHEMES = frozenset({"http", "https", "ftp"})
_MAX_UNESCAPE_PASSES = 1024

HostKind = Literal["domain", "ipv4", "ipv6", "onion"]


class InvalidURL(ValueError):
    """Input that cannot be a reportable URL. `template` % `params` is the English message;
    the public form shows it translated."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)


@dataclass(frozen=True)
class CanonicalURL:
    scheme: str
    host: str  # escaped, as in the canonical string
    path: str
    query: str | None  # None: no '?' at all; "" : a bare '?'

    def __str__(self) -> str:
        query = "" if self.query is None else "?" + self.query
        return f"{self.scheme}://{self.host}{self.path}{query}"

    @property
    def host_kind(self) -> HostKind:
        return host_kind(self.host)


def canonicalize(url: str) -> str:
    """The canonical form of `url`; raises InvalidURL, and nothing else, on any str."""
    return str(parse(url))


def parse(url: str) -> CanonicalURL:
    """`url` split into its canonical parts; raises InvalidURL, and nothing else."""
    if not isinstance(url, str):
        raise InvalidURL(gettext_noop("a URL must be text"))
    if len(url) > MAX_URL_CHARS:
        raise InvalidURL(
            gettext_noop("longer than %(max_chars)s characters"), max_chars=MAX_URL_CHARS
        )
    text = url.split("#", 1)[0].strip()
    text = text.replace("\t", "").replace("\r", "").replace("\n", "")
    raw = _unescape_fully(text.encode("utf-8", "surrogatepass"))
    if not raw:
        raise InvalidURL(gettext_noop("empty URL"))

    scheme, rest = _split_scheme(raw)
    rest, sep, query = rest.partition(b"?")
    if scheme:
        name = scheme.decode("ascii").lower()
        if name not in ACCEPTED_SCHEMES:
            raise InvalidURL(
                gettext_noop("scheme %(scheme)r not accepted: use http, https or ftp"),
                scheme=name,
            )
        if not rest.startswith(b"//"):
            raise InvalidURL(
                gettext_noop("missing '//': expected %(scheme)s://site.example/page"), scheme=name
            )
        rest = rest[2:]
    else:
        name = "http"
        if rest.startswith(b"//"):  # protocol-relative, as scraped from a page
            rest = rest[2:]
    slash = rest.find(b"/")
    hostish, path = (rest, b"") if slash < 0 else (rest[:slash], rest[slash:])
    host = _canonical_host(hostish)
    return CanonicalURL(
        scheme=name,
        host=_escape(host),
        path=_escape(_canonical_path(path)),
        query=_escape(query) if sep else None,
    )


def host_kind(host: str) -> HostKind:
    """What a canonical host is: an IPv4 or IPv6 address, a Tor onion service or a domain."""
    if host.startswith("["):
        return "ipv6"
    if _DOTTED_QUAD.fullmatch(host):
        return "ipv4"
    if host == "onion" or host.endswith(".onion"):
        return "onion"
    return "domain"


# --- The steps ----------------------------------------------------------------------------

_HEX = frozenset(b"0123456789abcdefABCDEF")
_SCHEME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")
_PORT_AT = re.compile(rb":\d+(?:/|$)")
_PORT_END = re.compile(rb":\d+$")
_DOTS = re.compile(rb"\.{2,}")
_MAYBE_IPV4 = re.compile(rb"(?:0x[0-9a-f]+|[0-9.])+", re.IGNORECASE)
_DOTTED_QUAD = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_HOSTNAME_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _unescape_fully(raw: bytes) -> bytes:
    for _ in range(_MAX_UNESCAPE_PASSES):
        if b"%" not in raw:
            return raw
        decoded = unquote_to_bytes(raw)
        if decoded == raw:
            return raw
        raw = decoded
    raise InvalidURL(gettext_noop("escaped too many times to be read"))


def _escape(raw: bytes) -> str:
    out = []
    for byte in raw:
        if byte <= 0x20 or byte >= 0x7F or byte in (0x23, 0x25):  # '#', '%'
            out.append(f"%{byte:02X}")
        else:
            out.append(chr(byte))
    return "".join(out)


def _split_scheme(raw: bytes) -> tuple[bytes, bytes]:
    """(scheme, rest) as the reference client reads them: 'host.example:8080/' has none."""
    for i, byte in enumerate(raw):
        if byte == 0x3A:  # ':'
            if i == 0:
                return b"", raw
            if _PORT_AT.match(raw, i):
                continue  # a port, not a scheme: keep reading
            return raw[:i], raw[i + 1 :]
        if byte not in _SCHEME_CHARS or (i == 0 and not chr(byte).isalpha()):
            return b"", raw
    return b"", raw


def _canonical_host(hostish: bytes) -> bytes:
    host = hostish.rpartition(b"@")[2]  # drop user:password@
    # Port and stray dots, until neither is left ("a.example.:80.", "0:0.").
    while True:
        trimmed = _DOTS.sub(b".", _PORT_END.sub(b"", host)).strip(b".")
        if trimmed == host:
            break
        host = trimmed
    if any(byte >= 0x80 for byte in host):
        host = _idna(host)
    if not host:
        raise InvalidURL(
            gettext_noop("no host name: expected something like https://site.example/page")
        )
    if host.startswith(b"["):
        return _canonical_ipv6(host)
    return _canonical_ipv4(host) or host.lower()


def _canonical_ipv6(host: bytes) -> bytes:
    end = host.find(b"]")
    if end < 0:
        raise InvalidURL(gettext_noop("an IPv6 address must end with ']'"))
    literal = host[1:end].decode("ascii", "replace")
    try:
        address = ipaddress.IPv6Address(literal.split("%", 1)[0])
    except ValueError:
        raise InvalidURL(gettext_noop("%(host)r is not an IPv6 address"), host=literal) from None
    return f"[{address.compressed}]".encode()


def _canonical_ipv4(host: bytes) -> bytes | None:
    """Dotted decimal for any IPv4 notation (decimal, octal, hex, 1 to 4 parts), else None."""
    if not _MAYBE_IPV4.fullmatch(host):
        return None
    parts = host.split(b".")
    if len(parts) > 4:
        return None
    values = []
    for part in parts:
        try:
            if part[:2].lower() == b"0x":
                values.append(int(part[2:], 16))
            elif len(part) > 1 and part.startswith(b"0"):
                values.append(int(part, 8))
            else:
                values.append(int(part))
        except ValueError:
            return None  # e.g. "08": not octal, so a name, not an address
    *leading, last = values
    if any(v > 0xFF for v in leading) or last >= 256 ** (5 - len(parts)):
        return None
    number = last
    for i, v in enumerate(leading):
        number |= v << (8 * (3 - i))
    return str(ipaddress.IPv4Address(number)).encode()


def _idna(host: bytes) -> bytes:
    try:
        text = host.decode("utf-8")
    except UnicodeDecodeError:
        return host  # not text: kept as bytes, escaped on output
    labels = []
    for label in text.lower().split("."):
        if label.isascii():
            labels.append(label.encode())
            continue
        if any(ch.isascii() and ch not in _HOSTNAME_ASCII for ch in label):
            return host  # not a name IDNA can spell: kept as bytes, escaped on output
        try:
            labels.append(label.encode("idna"))
        except UnicodeError:
            # IDNA 2003 refuses some labels; punycode alone still gives one spelling.
            try:
                labels.append(b"xn--" + label.encode("punycode"))
            except UnicodeError:
                return host
    return b".".join(labels)


def _canonical_path(path: bytes) -> bytes:
    """Go's path.Clean on a rooted path, keeping a trailing slash the input had."""
    kept: list[bytes] = []
    for segment in path.split(b"/"):
        if segment in (b"", b"."):
            continue
        if segment == b"..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    clean = b"/" + b"/".join(kept)
    if path.endswith(b"/") and not clean.endswith(b"/"):
        clean += b"/"
    return clean
