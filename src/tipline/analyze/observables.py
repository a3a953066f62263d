"""Observables in free text — phones (also when spelled out or disguised), e-mails, URLs,
domains, IP addresses, platform handles and crypto addresses — each with its span.

Pure code: no Django, no network. `extract` never raises on a str and runs in linear time:
every regular expression is anchored by a look-behind and has bounded repeats.

What each kind covers, and the calls made where nothing dictated them:

- phone: E.164, only numbers `phonenumbers.is_valid_number` accepts, 7 digits or more.
  Digits may be ASCII, any Unicode decimal digit (full-width, Arabic-Indic, mathematical…),
  superscript or circled digits, emoji keycaps (1️⃣, 🔟); O/o and l/I count as 0 and 1 only
  when glued to a digit ("0l99OO"). Numbers may be spelled in English (zero, oh/o,
  one…nine, ten…nineteen, twenty…ninety, "twenty-one") or French (zéro, un…neuf,
  dix…seize, dix-sept…dix-neuf, vingt…soixante, soixante-dix…, quatre-vingt(s),
  quatre-vingt-dix-neuf, "vingt et un", "soixante et onze"), "double"/"triple" repeat the
  next digit, and words and digits may be mixed or glued ("2sixseven", "zérosix"). Between
  digits: at most 6 of spaces, line breaks, . - _ / \\ | , ; ( ) [ ] { } * ~ + • and
  zero-width characters, keycap marks and emoji. A national number needs its trunk prefix (0
  in France and the UK) or the country code, except in North America; "+" or "00" makes
  it international. Not phones: digits followed by a currency, unit or age word (150$,
  21 yo, 165 cm, 100 roses, 5'6), split by letters or ":" (23h30, 20:30), after
  ID/ref/post/annonce/order/# (post ids), and digits inside URLs, e-mails, IPs, handles and
  wallets. Where several readings of a run of digits are valid, the longest wins.
- email: lowercased. Also "name [at] host [dot] example", "name(at)host.example",
  "name {at} host (dot) example", "name arobase host point example" and, only when a dot is
  disguised too, "name at host dot example". "name @ host.example" is not read as one.
- url: http(s) URLs as written (trailing punctuation and unbalanced brackets dropped), and
  scheme-less ones that start with www. or have a path ("site.example/anna"), with
  "http://" added. Defanged links ("hxxps://", "agency[.]example", "(.)", "[dot]") are
  read with the scheme and dots put back. A host alone ("site.example") is a domain only.
- domain: the registrable domain (tipline.harmonize.urls.registrable_domain, IDN as
  punycode) of every URL, e-mail and bare host. A bare host needs a well-known TLD from a
  short list (not "ok.je", "notes.md", "Bonjour.Je"); URLs and e-mails take any public
  suffix, and .example/.test/.invalid/.onion.
- ip: IPv4 and IPv6 in canonical form, alone or as a URL's host.
- handle: "telegram:@name" (t.me/, telegram.me/ links; after telegram/tg), "whatsapp:+E164"
  (wa.me/ and api.whatsapp.com/send?phone= links, which are also phones), "snapchat:name"
  (snapchat.com/add/ links; after snapchat/snap/sc/👻), "instagram:name" (instagram.com/
  links; after instagram/insta/ig), "onlyfans:name" (onlyfans.com/ links; after onlyfans).
  After a keyword the name needs ":" / "=" / an arrow or an "@" ("sc" needs ":"), and is
  not a word such as "only" or "dispo". Names are lowercased: the platforms ignore case.
  A phone next to the word WhatsApp stays a phone.
- crypto: "btc:<address>" for base58check P2PKH/P2SH (version 0x00/0x05) and bech32 (v0) /
  bech32m (v1+) segwit addresses, "eth:<EIP-55 address>"; checksums are verified, and a
  mixed-case Ethereum address must carry its EIP-55 checksum (one case: checksummed here).
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

import phonenumbers
import tldextract
from Crypto.Hash import keccak

from tipline.harmonize.urls import InvalidURL, parse, registrable_domain

__all__ = ["TYPES", "Observable", "extract"]

TYPES = ("phone", "email", "url", "domain", "ip", "handle", "crypto")


@dataclass(frozen=True)
class Observable:
    """One thing found in a text: `text[start:end]` is what was matched, `value` its
    normalized form (E.164 phone, lowercased e-mail, "platform:name" handle…)."""

    type: str
    value: str
    start: int
    end: int


def extract(text: str, region: str = "FR") -> list[Observable]:
    """Every observable in `text`, sorted by start, each (type, value, start) once.

    `region` is the ISO country whose national phone numbers are read without a "+".
    """
    found = _Found()
    for step in (_scheme_urls, _emails, _keyword_handles, _bare_urls_and_hosts, _ips, _crypto):
        step(text, found)
        found.commit()
    _phones(text, region.upper() if isinstance(region, str) else "", found)
    unique = {(o.type, o.value, o.start): o for o in found.items}
    return sorted(unique.values(), key=lambda o: (o.start, o.end, o.type, o.value))


class _Found:
    """Observables so far, and the spans they claim: a later, looser extractor must not
    read an e-mail's digits as a phone or a URL's host as a bare domain."""

    def __init__(self) -> None:
        self.items: list[Observable] = []
        # Disjoint spans sorted by start; a pass claims in `pending` (in order, so appending
        # keeps it sorted) and `commit` merges, which keeps every pass linear.
        self.claimed: list[tuple[int, int]] = []
        self.pending: list[tuple[int, int]] = []

    def add(self, type_: str, value: str, start: int, end: int) -> None:
        self.items.append(Observable(type_, value, start, end))

    def claim(self, start: int, end: int) -> None:
        bisect.insort(self.pending, (start, end))

    def commit(self) -> None:
        if self.pending:
            self.claimed = sorted(self.claimed + self.pending)
            self.pending = []

    def overlaps(self, start: int, end: int) -> bool:
        return _overlaps(self.claimed, start, end) or _overlaps(self.pending, start, end)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    # The spans are disjoint, so only the one starting last before `end` can reach into
    # [start, end).
    i = bisect.bisect_left(spans, (end, -1))
    return i > 0 and spans[i - 1][1] > start


# --- Hosts, URLs, e-mails -----------------------------------------------------------------

_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_HOST = rf"(?:{_LABEL}\.){{1,8}}{_LABEL}"
_URL_CHARS = r"[\w\-.~:/?#\[\]@!$&()*+,;=%']"
# Links written to slip past filters: "agency[.]example", "hxxps://…".
_DEFANGED_DOT = r"(?:\.|\[\.\]|\(\.\)|\[dot\]|\(dot\))"
_DEFANGED = re.compile(r"\[\.\]|\(\.\)|\[dot\]|\(dot\)", re.IGNORECASE)
_SCHEME_URL = re.compile(rf"(?<![\w+.\-])h(?:tt|xx)ps?://{_URL_CHARS}{{1,2048}}", re.IGNORECASE)
_BARE = re.compile(
    rf"(?<![\w.@/:\-+#$%&=])(?P<host>(?:{_LABEL}{_DEFANGED_DOT}){{1,8}}{_LABEL})(?P<port>:\d{{1,5}})?(?P<path>/{_URL_CHARS}{{0,2048}})?(?![\w@])",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'*"
_RESERVED_TLDS = frozenset({"example", "test", "invalid", "onion", "localhost"})
# TLDs trusted for a host written alone. Others are too often a word glued after a full
# stop ("ok.je", "merci.tu") or a file name ("notes.md", "run.py").
_BARE_TLDS = _RESERVED_TLDS | frozenset(
    "com net org info biz xyz top site online club vip shop store app dev io co tv cc ws ly "
    "gg pro live link fun space website chat cam sex xxx porn adult sexy dating love date "
    "fr be ch ca uk de es nl eu ru pl pt br ro ua cz se dk fi ie lu mc ma tn dz sn ci cm "
    "jp cn au nz za mx ar gr hu bg hr rs sk si lt lv ee tr il ae th vn ph id my sg hk tw kr "
    "ng ke gh".split()
)


@cache
def _tlds() -> frozenset[str]:
    # The public-suffix list bundled with tldextract; never fetched.
    extractor = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
    )
    return frozenset(s.rsplit(".", 1)[-1] for s in extractor.tlds) | _RESERVED_TLDS


def _known_tld(host: str, *, bare: bool = False) -> bool:
    tld = host.rsplit(".", 1)[-1]
    folded = tld.lower()
    if bare:
        # "Bonjour.Je" is a sentence; "SITE.EXAMPLE" and "site.example" are hosts.
        return folded in _BARE_TLDS and not (tld[0].isupper() and not tld.isupper())
    return folded in _tlds() or folded.startswith("xn--")


def _canonical_host(host: str) -> str:
    """The host as harmonize writes it (lowercase, IDN as punycode, IPv4 dotted)."""
    try:
        return parse("http://" + host + "/").host
    except InvalidURL:
        return host.lower()


def _add_host(found: _Found, host: str, start: int, end: int) -> None:
    """The domain or IP address a URL or e-mail's host (written at start:end) stands for."""
    observable = _host_observable(host)
    if observable is not None:
        found.add(*observable, start, end)


_PLAIN_HOST = re.compile(r"(?:[a-z0-9-]+\.)*[a-z-]*[a-z][a-z-]*", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _host_observable(host: str) -> tuple[str, str] | None:
    # Plain ASCII names need none of canonicalization's work (escapes, IDNA, IPv4 forms).
    canonical = host.lower() if _PLAIN_HOST.fullmatch(host) else _canonical_host(host)
    if not canonical[-1:].isalpha():
        ip = _ip(canonical.strip("[]"))
        if ip is not None:
            return "ip", ip
    domain = registrable_domain(canonical)
    return ("domain", domain) if domain else None


def _ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _trim_url(url: str) -> str:
    """`url` without the punctuation that ends the sentence around it."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in ")]" and url.count(last) > url.count("(" if last == ")" else "["):
            url = url[:-1]
        else:
            break
    return url


def _scheme_urls(text: str, found: _Found) -> None:
    for m in _SCHEME_URL.finditer(text):
        url = _trim_url(m.group())
        start = m.start()
        after_scheme = url.index("://") + 3
        authority_end = len(url)
        for sep in "/?#":
            i = url.find(sep, after_scheme)
            if i >= 0:
                authority_end = min(authority_end, i)
        host_start = after_scheme
        at = url.rfind("@", after_scheme, authority_end)
        if at >= 0:
            host_start = at + 1
        hostport = url[host_start:authority_end]
        if hostport.startswith("["):
            host = hostport[: hostport.find("]") + 1] if "]" in hostport else ""
        else:
            host = hostport.split(":", 1)[0]
        if not host or host.strip("[]") == "":
            continue
        clean = _DEFANGED.sub(".", host)
        scheme = url[: after_scheme - 3]
        if clean != host or scheme[1:3].lower() == "xx":  # refang "hxxp://agency[.]example"
            scheme = scheme.lower().replace("xx", "tt")
            url_value = f"{scheme}://{url[after_scheme:host_start]}{clean}"
            url_value += url[host_start + len(host) :]
        else:
            url_value = url
        found.add("url", url_value, start, start + len(url))
        found.claim(start, start + len(url))
        _add_host(found, clean, start + host_start, start + host_start + len(host))
        _url_handles(found, clean, url[authority_end:], start, start + len(url))


def _bare_urls_and_hosts(text: str, found: _Found) -> None:
    for m in _BARE.finditer(text):
        host = m.group("host")
        path = m.group("path")
        www = host.lower().startswith("www.")
        if path:
            path = _trim_url(path)
        if not _known_tld(_DEFANGED.sub(".", host), bare=not (www or path)):
            continue
        end = m.end("host") if not path else m.start("path") + len(path)
        if found.overlaps(m.start(), end):
            continue
        clean = _DEFANGED.sub(".", host)
        if www or path:
            written = clean + text[m.end("host") : end]
            found.add("url", "http://" + written, m.start(), end)
            _url_handles(found, clean, path or "", m.start(), end)
        found.claim(m.start(), end)
        _add_host(found, clean, m.start(), m.end("host"))


_EMAIL = re.compile(rf"(?<![\w.+\-@])[\w.+\-]{{1,64}}@(?P<host>{_HOST})(?![\w-])")
_AT_DISGUISED = re.compile(
    r"\s{0,3}[\[({<]\s{0,2}(?:at|@|arobase)\s{0,2}[\])}>]\s{0,3}"
    r"|\s{1,3}(?P<word>at|arobase)\s{1,3}(?=\w)",
    re.IGNORECASE,
)
_DOT_DISGUISED = re.compile(
    r"\s{0,3}[\[({<]\s{0,2}(?:dot|point|\.)\s{0,2}[\])}>]\s{0,3}|\s{1,3}(?:dot|point)\s{1,3}",
    re.IGNORECASE,
)
_LOCAL_BEFORE = re.compile(r"(?<![\w.+\-@])[\w.+\-]{1,64}$")
_LABEL_AT = re.compile(_LABEL)


def _emails(text: str, found: _Found) -> None:
    for m in _EMAIL.finditer(text):
        host = m.group("host")
        if found.overlaps(m.start(), m.end()) or not _known_tld(host):
            continue
        found.add("email", m.group().lower(), m.start(), m.end())
        found.claim(m.start(), m.end())
        _add_host(found, host, m.start("host"), m.end())
    found.commit()
    for m in _AT_DISGUISED.finditer(text):
        local = _LOCAL_BEFORE.search(text, max(0, m.start() - 64), m.start())
        if local is None:
            continue
        labels, end, disguised = _disguised_host(text, m.end())
        if len(labels) < 2 or (m.group("word") and not disguised):
            continue
        host = ".".join(labels)
        if not _known_tld(host) or found.overlaps(local.start(), end):
            continue
        found.add("email", f"{local.group()}@{host}".lower(), local.start(), end)
        found.claim(local.start(), end)
        _add_host(found, host, m.end(), end)


def _disguised_host(text: str, pos: int) -> tuple[list[str], int, bool]:
    """The labels of a host written from `pos` with "." or "[dot]"-like separators, where
    it ends, and whether a separator was disguised."""
    labels: list[str] = []
    end = pos
    disguised = False
    while len(labels) < 9:
        label = _LABEL_AT.match(text, pos)
        if label is None:
            break
        labels.append(label.group())
        end = pos = label.end()
        if text.startswith(".", pos) and _LABEL_AT.match(text, pos + 1):
            pos += 1
            continue
        dot = _DOT_DISGUISED.match(text, pos)
        if dot is None or not _LABEL_AT.match(text, dot.end()):
            break
        disguised = True
        pos = dot.end()
    return labels, end, disguised


# --- Handles ------------------------------------------------------------------------------

_NAME_RULES = {
    # platform: (name pattern, characters a name may not end with)
    "telegram": (re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}(?![\w])"), ""),
    "snapchat": (re.compile(r"[A-Za-z][A-Za-z0-9._\-]{2,14}(?![\w.\-])"), "._-"),
    "instagram": (re.compile(r"[A-Za-z0-9._]{1,30}(?![\w.])"), "."),
    "onlyfans": (re.compile(r"[A-Za-z0-9._\-]{1,50}(?![\w.\-])"), "._-"),
}
_KEYWORDS = {
    "telegram": "telegram",
    "télégram": "telegram",
    "tg": "telegram",
    "snapchat": "snapchat",
    "snap": "snapchat",
    "sc": "snapchat",
    "👻": "snapchat",
    "instagram": "instagram",
    "insta": "instagram",
    "ig": "instagram",
    "onlyfans": "onlyfans",
}
_KEYWORD_HANDLE = re.compile(
    r"(?:(?<![\w@])(?P<kw>t[eé]l[eé]gram|tg|snapchat|snap|sc|instagram|insta|ig|onlyfans)"
    r"(?![\w])|(?P<ghost>👻))"
    r"(?:\s{0,3}(?P<sep>[:=>\-\u2013\u2014\u2192\u27a1\uFE0F👻]{1,3})\s{0,3}|\s{0,3}(?=@)|(?<=👻)\s{0,3})"
    r"(?P<at>@?)",
    re.IGNORECASE,
)
# Words that follow "Snap:" or "Telegram -" in ads and are not names.
_NOT_NAMES = frozenset(
    "only uniquement dispo disponible available me moi please pls svp here ici ok yes oui "
    "no non private prive privé link lien add ajoute and et or ou".split()
)
_RESERVED_PATHS = {
    "telegram": frozenset({"joinchat", "addstickers", "addtheme", "share", "proxy", "socks"}),
    "instagram": frozenset(
        {"p", "reel", "reels", "stories", "explore", "accounts", "tv", "direct", "about"}
    ),
    "onlyfans": frozenset({"my", "search", "help", "about", "terms", "privacy", "login"}),
    "snapchat": frozenset(),
}


def _handle_name(platform: str, text: str, pos: int, *, after_at: bool) -> str | None:
    """The name of a `platform` account written at `pos`, or None."""
    pattern, no_end = _NAME_RULES[platform]
    m = pattern.match(text, pos)
    if m is None:
        return None
    name = m.group().rstrip(no_end)
    if not name or (not after_at and name.lower() in _NOT_NAMES):
        return None
    return name


def _keyword_handles(text: str, found: _Found) -> None:
    for m in _KEYWORD_HANDLE.finditer(text):
        keyword = (m.group("kw") or m.group("ghost")).lower()
        platform = _KEYWORDS.get(keyword, "telegram" if "gram" in keyword else "")
        if not platform:
            continue
        has_at = bool(m.group("at"))
        if keyword == "sc" and not m.group("sep"):
            continue  # "sc" is too short a word to stand for Snapchat without "sc:"
        name = _handle_name(platform, text, m.end(), after_at=has_at)
        if name is None:
            continue
        start, end = m.end() - (1 if has_at else 0), m.end() + len(name)
        if text.startswith("/", end) or found.overlaps(start, end):
            continue  # "OnlyFans: onlyfans.com/name" is a link, read as one later
        value = (
            f"telegram:@{name.lower()}" if platform == "telegram" else f"{platform}:{name.lower()}"
        )
        found.add("handle", value, start, end)
        found.claim(start, end)


_WA_PHONE = re.compile(r"[?&]phone=\+?(\d{7,15})")


def _url_handles(found: _Found, host: str, rest: str, start: int, end: int) -> None:
    """Handles a link names: t.me/name, wa.me/number, instagram.com/name…"""
    host = host.lower()
    for prefix in ("www.", "m.", "web."):
        host = host.removeprefix(prefix)
    path = rest.split("?", 1)[0].split("#", 1)[0]
    segments = [s for s in path.split("/") if s]
    platform = {
        "t.me": "telegram",
        "telegram.me": "telegram",
        "telegram.dog": "telegram",
        "instagram.com": "instagram",
        "onlyfans.com": "onlyfans",
        "snapchat.com": "snapchat",
    }.get(host)
    if host in ("wa.me", "api.whatsapp.com", "whatsapp.com"):
        number = segments[0] if host == "wa.me" and segments else None
        if number is None:
            query = _WA_PHONE.search(rest)
            number = query.group(1) if query else None
        if number and number.isascii() and number.lstrip("+").isdigit():
            e164 = _phone_e164(number.lstrip("+"), True, "")
            if e164:
                found.add("handle", f"whatsapp:{e164}", start, end)
                found.add("phone", e164, start, end)
        return
    if platform is None or not segments:
        return
    if platform == "telegram" and segments[0] == "s" and len(segments) > 1:
        segments = segments[1:]  # t.me/s/name is the web preview of the channel
    if platform == "snapchat":
        if segments[0] == "add" and len(segments) > 1:
            segments = segments[1:]
        elif segments[0].startswith("@"):
            segments = [segments[0][1:]]
        else:
            return
    name = segments[0].removeprefix("@") if platform != "snapchat" else segments[0]
    if name.lower() in _RESERVED_PATHS[platform]:
        return
    pattern, _ = _NAME_RULES[platform]
    if not pattern.fullmatch(name):
        return
    value = f"telegram:@{name.lower()}" if platform == "telegram" else f"{platform}:{name.lower()}"
    found.add("handle", value, start, end)


# --- IP addresses -------------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)(?!\w)", re.ASCII)
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]{1,4})?(?![\w:])",
    re.IGNORECASE | re.ASCII,
)


def _ips(text: str, found: _Found) -> None:
    for pattern, cls in ((_IPV4, ipaddress.IPv4Address), (_IPV6, ipaddress.IPv6Address)):
        found.commit()
        for m in pattern.finditer(text):
            written = m.group()
            # "add::" and "cafe::" are words as often as addresses: ask for a digit.
            if found.overlaps(m.start(), m.end()) or not any(c.isdigit() for c in written):
                continue
            try:
                value = str(cls(written))
            except ValueError:
                continue
            found.add("ip", value, m.start(), m.end())
            found.claim(m.start(), m.end())


# --- Crypto addresses ---------------------------------------------------------------------

_ETH = re.compile(r"(?<![0-9A-Za-z])0x[0-9a-fA-F]{40}(?![0-9A-Za-z])")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BTC_BASE58 = re.compile(r"(?<![0-9A-Za-z])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![0-9A-Za-z])")
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BTC_BECH32 = re.compile(
    r"(?<![0-9A-Za-z])(?:bc1[02-9ac-hj-np-z]{6,87}|BC1[02-9AC-HJ-NP-Z]{6,87})(?![0-9A-Za-z])"
)
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3


def _crypto(text: str, found: _Found) -> None:
    for pattern, normalize in (
        (_ETH, eth_checksummed),
        (_BTC_BASE58, _btc_base58),
        (_BTC_BECH32, _btc_bech32),
    ):
        found.commit()
        for m in pattern.finditer(text):
            if found.overlaps(m.start(), m.end()):
                continue
            value = normalize(m.group())
            if value:
                found.add("crypto", value, m.start(), m.end())
                found.claim(m.start(), m.end())


def eth_checksummed(address: str) -> str | None:
    """ "eth:" and the EIP-55 form of a 0x address, or None when a mixed-case address
    carries a wrong checksum."""
    hex_part = address[2:]
    digest = keccak.new(digest_bits=256, data=hex_part.lower().encode("ascii")).hexdigest()
    checksummed = "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c.lower()
        for i, c in enumerate(hex_part)
    )
    mixed = hex_part != hex_part.lower() and hex_part != hex_part.upper()
    if mixed and hex_part != checksummed:
        return None
    return f"eth:0x{checksummed}"


def _btc_base58(address: str) -> str | None:
    number = 0
    for c in address:
        number = number * 58 + _BASE58.index(c)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\0" * (len(address) - len(address.lstrip("1"))) + body
    if len(raw) != 25 or raw[0] not in (0x00, 0x05):
        return None
    check = hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4]
    return f"btc:{address}" if check == raw[21:] else None


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            if (top >> i) & 1:
                checksum ^= generator[i]
    return checksum


def _btc_bech32(address: str) -> str | None:
    """BIP-173 (witness v0, bech32) and BIP-350 (v1+, bech32m) mainnet addresses."""
    address = address.lower()
    if len(address) > 90:
        return None
    data = [_BECH32.index(c) for c in address[3:]]
    hrp = [ord(c) >> 5 for c in "bc"] + [0] + [ord(c) & 31 for c in "bc"]
    const = _bech32_polymod(hrp + data)
    if const not in (_BECH32_CONST, _BECH32M_CONST) or len(data) < 7:
        return None
    version, words = data[0], data[1:-6]
    # 5-bit groups to bytes; the leftover bits must be padding zeros, fewer than 5.
    acc = bits = 0
    program = bytearray()
    for word in words:
        acc = (acc << 5) | word
        bits += 5
        if bits >= 8:
            bits -= 8
            program.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc & ((1 << bits) - 1)):
        return None
    if version > 16 or not 2 <= len(program) <= 40:
        return None
    if version == 0 and (const != _BECH32_CONST or len(program) not in (20, 32)):
        return None
    if version > 0 and const != _BECH32M_CONST:
        return None
    return f"btc:{address}"


# --- Phones -------------------------------------------------------------------------------
#
# The text becomes pieces (digit strings, number words, keycaps), pieces glued by at most
# a few separator characters become runs of digit tokens, and in each run every token may
# start a number: the longest valid one from there wins.

# Superscripts, subscripts, circled and parenthesized digits: not decimal (\d) but digits.
_EXTRA_DIGIT_RANGES = (
    (0xB2, 0xB3),
    (0xB9, 0xB9),
    (0x2070, 0x209F),
    (0x2460, 0x24FF),
    (0x2776, 0x2793),
    (0x1F100, 0x1F10C),
)
_EXTRA_DIGITS = "".join(
    chr(c)
    for low, high in _EXTRA_DIGIT_RANGES
    for c in range(low, high + 1)
    if unicodedata.digit(chr(c), None) is not None
)
_DIGIT_CLASS = rf"\d{re.escape(_EXTRA_DIGITS)}"
# What may stand between the digits of one number: spaces, punctuation, invisible
# characters and emoji (not the dingbat digits ❶…➓), six at most.
_GAP = (
    r"[\s.\-\u2010-\u2014_/\\|,;()\[\]{}*~+•·\u00ad\u200b-\u200f\u2060-\u2064\ufeff\ufe0f"
    r"\u20e3\u2600-\u2775\u2794-\u27bf\U0001F300-\U0001FAFF]{0,6}"
)
# A piece of a number, after the gap before it.
_ATOM = re.compile(
    rf"{_GAP}(?:(?P<keycap>[0-9]\uFE0F?\u20E3)|(?P<ten>\U0001F51F)|(?P<digits>[{_DIGIT_CLASS}]+)"
    rf"|(?P<letters>(?:(?![{_DIGIT_CLASS}])[^\W_]|[\u0300-\u036f])+))"
)
_CONFUSABLES = str.maketrans("OoIl", "0011")
_MAX_WORD = 48


class _Piece(NamedTuple):
    kind: str  # "digits", "unit" (a digit word), "teen", "dix", "tens", "mult", "et"
    value: str  # digits as text; for "mult", how many times
    start: int
    end: int


_WORDS: dict[str, tuple[str, str]] = {
    **{w: ("unit", "0") for w in ("zero", "oh", "o")},
    **{
        w: ("unit", str(i))
        for i, group in enumerate(
            [
                (),
                ("one", "un"),
                ("two", "deux"),
                ("three", "trois"),
                ("four",),
                ("five", "cinq"),
                ("six",),
                ("seven", "sept"),
                ("eight", "huit"),
                ("nine", "neuf"),
            ]
        )
        for w in group
    },
    "quatre": ("quatre", "4"),  # a unit, and with vingt it makes 80
    "dix": ("dix", "10"),
    "ten": ("teen", "10"),
    **{
        w: ("teen", str(10 + i))
        for i, w in enumerate(
            "_ eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
        )
        if i
    },
    **{
        w: ("teen", str(11 + i))
        for i, w in enumerate("onze douze treize quatorze quinze seize".split())
    },
    **{
        w: ("tens", str(20 + 10 * i))
        for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())
    },
    **{
        w: ("tens", str(20 + 10 * i))
        for i, w in enumerate("vingt trente quarante cinquante soixante".split())
    },
    "vingts": ("tens", "20"),
    "double": ("mult", "2"),
    "triple": ("mult", "3"),
    "et": ("et", ""),
}
_INITIALS = frozenset(w[0] for w in _WORDS)
_WORDS_BY_INITIAL: dict[str, list[str]] = {}
for _word in sorted(_WORDS, key=len, reverse=True):
    _WORDS_BY_INITIAL.setdefault(_word[0], []).append(_word)


def _ascii_digits(digits: str) -> str:
    if digits.isascii():
        return digits
    return "".join(str(unicodedata.digit(c)) for c in digits)


def _fold(letters: str) -> tuple[str, list[int]]:
    """`letters` lowercased without accents, and where each folded character came from."""
    folded: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(letters):
        for f in unicodedata.normalize("NFKD", c).lower():
            if not unicodedata.combining(f):
                folded.append(f)
                origin.append(i)
    return "".join(folded), origin


@lru_cache(maxsize=8192)
def _number_words(letters: str) -> tuple[_Piece, ...] | None:
    """`letters` read as number words glued together ("zerosix", "quatrevingt"), with spans
    relative to `letters`, or None when the letters are not only number words."""
    if len(letters) > _MAX_WORD or _fold(letters[0])[0][:1] not in _INITIALS:
        return None
    folded, origin = _fold(letters)
    if not folded:
        return None
    # The word that ends at each reachable position of a split into words.
    best: list[str | None] = [None] * (len(folded) + 1)
    reached = [False] * (len(folded) + 1)
    reached[0] = True
    for i in range(len(folded)):
        if not reached[i]:
            continue
        for word in _WORDS_BY_INITIAL.get(folded[i], ()):
            j = i + len(word)
            if j <= len(folded) and not reached[j] and folded.startswith(word, i):
                reached[j] = True
                best[j] = word
    if not reached[len(folded)]:
        return None
    pieces: list[_Piece] = []
    j = len(folded)
    while j > 0:
        last = best[j]
        assert last is not None  # reached[j] was set with it
        i = j - len(last)
        kind, value = _WORDS[last]
        end = origin[j - 1] + 1 if j < len(folded) else len(letters)
        pieces.append(_Piece(kind, value, origin[i], end))
        j = i
    return tuple(reversed(pieces))


def _segments(text: str, found: _Found) -> Iterator[tuple[list[_Piece], bool]]:
    """The pieces of `text`, in segments that nothing stops from being read as one number
    (a word, a claimed span, too wide a gap), and whether a segment holds number words."""
    segment: list[_Piece] = []
    words = False
    previous_end = 0
    claimed, c = found.claimed, 0  # every pass before phones has committed its claims
    size = len(text)
    for m in _ATOM.finditer(text):
        kind = m.lastgroup
        if kind is None:  # every branch of _ATOM is a named group
            continue
        start, end = m.span(kind)
        if m.start() != previous_end and segment:  # more than a gap since the last piece
            yield segment, words
            segment, words = [], False
        previous_end = end
        if claimed:
            while c < len(claimed) and claimed[c][1] <= start:
                c += 1
            if c < len(claimed) and claimed[c][0] < end:
                if segment:
                    yield segment, words
                    segment, words = [], False
                continue
        if kind == "digits":
            segment.append(_Piece("digits", _ascii_digits(m.group(kind)), start, end))
        elif kind == "keycap":
            segment.append(_Piece("digits", text[start], start, end))
        elif kind == "ten":
            segment.append(_Piece("digits", "10", start, end))
        else:
            letters = m.group(kind)
            glued = (start > 0 and text[start - 1].isdigit()) or (
                end < size and text[end].isdigit()
            )
            pieces = _number_words(letters)
            if glued and not letters.strip("OoIl"):
                segment.append(_Piece("digits", letters.translate(_CONFUSABLES), start, end))
            elif pieces is None or (
                # "et" joins "vingt et un"; anywhere else it is a word like any other
                pieces[0].kind == "et" and not (segment and segment[-1].kind == "tens")
            ):
                if segment:
                    yield segment, words
                    segment, words = [], False
            else:
                words = True
                segment.extend(
                    _Piece(p.kind, p.value, start + p.start, start + p.end) for p in pieces
                )
    if segment:
        yield segment, words


def _runs(text: str, found: _Found) -> Iterator[list[_Piece]]:
    """Runs of digit pieces, number words combined into digits ("quatre-vingt-dix" → 90)."""
    for segment, words in _segments(text, found):
        if words:
            yield from _tokens(segment)
        else:
            yield segment


def _tokens(pieces: list[_Piece]) -> Iterator[list[_Piece]]:
    run: list[_Piece] = []
    i, n = 0, len(pieces)

    def at(k: int, *kinds: str) -> bool:
        return k < n and pieces[k].kind in kinds

    def unit_word(k: int) -> bool:
        return at(k, "unit", "quatre") and pieces[k].value != "0"

    while i < n:
        p = pieces[i]
        if p.kind == "mult":
            if at(i + 1, "digits", "unit", "quatre"):
                nxt = pieces[i + 1]
                run.append(
                    _Piece("digits", nxt.value[0] * int(p.value) + nxt.value[1:], p.start, nxt.end)
                )
                i += 2
            else:  # "double" with nothing to double ends the run
                if run:
                    yield run
                run = []
                i += 1
            continue
        if p.kind == "quatre" and at(i + 1, "tens") and pieces[i + 1].value == "20":
            p = _Piece("tens", "80", p.start, pieces[i + 1].end)  # quatre-vingt
            i += 1
        if p.kind == "tens":
            tens = int(p.value)
            k = i + 1 + (1 if at(i + 1, "et") else 0)
            if tens in (60, 80) and at(k, "dix", "teen"):
                teen, k2 = _teen(pieces, k)
                run.append(_Piece("digits", str(tens + teen), p.start, pieces[k2 - 1].end))
                i = k2
            elif unit_word(k):
                run.append(
                    _Piece("digits", str(tens + int(pieces[k].value)), p.start, pieces[k].end)
                )
                i = k + 1
            else:
                run.append(_Piece("digits", str(tens), p.start, p.end))
                i += 1
            continue
        if p.kind in ("dix", "teen"):
            teen, i2 = _teen(pieces, i)
            run.append(_Piece("digits", str(teen), p.start, pieces[i2 - 1].end))
            i = i2
            continue
        if p.kind == "et":
            if run:
                yield run
            run = []
            i += 1
            continue
        run.append(_Piece("digits", p.value, p.start, p.end))
        i += 1
    if run:
        yield run


def _teen(pieces: list[_Piece], i: int) -> tuple[int, int]:
    """The 10-19 that starts at pieces[i] ("dix-sept" is 17), and the index after it."""
    p = pieces[i]
    if (
        p.kind == "dix"
        and i + 1 < len(pieces)
        and pieces[i + 1].kind == "unit"
        and pieces[i + 1].value in ("7", "8", "9")
    ):
        return 10 + int(pieces[i + 1].value), i + 2
    return int(p.value), i + 1


# Before a run: a post id, an ad reference, a price. After a number: a price, an age, a
# size or a time.
_ID_BEFORE = re.compile(
    r"(?:(?<![\w])(?:id|ref|r[ée]f|r[ée]f[ée]rence|reference|post|annonce|ad|listing|order|"
    r"commande|siret|siren|iban|ticket|dossier|code|pin)(?:\s{0,2}(?:n°|no\.?|nr|#|number|"
    r"num[ée]ro))?|#)\s{0,2}[:.#°\-]?\s{0,2}$",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(
    r"\s{0,2}(?:[€$£¥%°\u2032\u2033]|'(?=\s?\d)|(?:yo|y/o|ans?|years?|yrs?|cm|kg|lbs?|h|hr|hrs|min|mins|eur|"
    r"euros?|usd|dollars?|roses?)(?![\w]))",
    re.IGNORECASE,
)
_PLUS_BEFORE = re.compile(r"\+[\s()]{0,2}$")
_MAX_DIGITS = 17  # 15 for E.164, plus "00" or a "(0)" trunk prefix written after "+33"


def _phones(text: str, region: str, found: _Found) -> None:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        region = ""  # international numbers only
    starts = _national_first_digits(region) if region else frozenset()
    for run in _runs(text, found):
        digits = "".join(piece.value for piece in run)
        ending_at: dict[int, int] = {}  # digit count → index of the piece that ends there
        count = 0
        for j, piece in enumerate(run):
            count += len(piece.value)
            ending_at[count] = j
        i = offset = 0
        while i < len(run):
            found_here = _phone_at(text, run, i, digits, offset, ending_at, starts, region)
            if found_here is None:
                offset += len(run[i].value)
                i += 1
                continue
            last, e164, start = found_here
            found.add("phone", e164, start, run[last].end)
            offset += sum(len(piece.value) for piece in run[i : last + 1])
            i = last + 1


def _phone_at(
    text: str,
    run: list[_Piece],
    i: int,
    digits: str,
    offset: int,
    ending_at: dict[int, int],
    starts: frozenset[str],
    region: str,
) -> tuple[int, str, int] | None:
    """The longest valid number that starts with run[i] (whose first digit is
    digits[offset]): the index of its last piece, its E.164 form and where it starts."""
    first = run[i]
    if i == 0:
        if _ID_BEFORE.search(text, max(0, first.start - 24), first.start):
            return None  # a post id or a reference, not a number to call
        plus = _PLUS_BEFORE.search(text, max(0, first.start - 3), first.start)
        plus_at = plus.start() if plus else -1
    else:
        plus_at = text.rfind("+", run[i - 1].end, first.start)
    international = plus_at >= 0
    if not international and first.value[0] not in starts:
        return None
    window = digits[offset : offset + _MAX_DIGITS]
    for length in _possible_lengths(window[:8], international, region):
        last = ending_at.get(offset + length)
        if last is None:
            continue
        number = window[:length]
        e164 = _phone_e164(number, international, region)
        start = plus_at if international else first.start
        if e164 is None and international:
            e164 = _phone_e164(number, False, region)
            start = first.start  # the "+" belonged to something else ("18+ 0199…")
        if e164 and not _UNIT_AFTER.match(text, run[last].end):
            return last, e164, start
    return None


_ANY_LENGTH = frozenset(range(7, _MAX_DIGITS + 1))


@lru_cache(maxsize=4096)
def _possible_lengths(prefix: str, plus: bool, region: str) -> tuple[int, ...]:
    """How many digits a number that starts with `prefix` can be written with, longest
    first: only those are read as a phone number."""
    international = _international_lengths(prefix) if plus else frozenset()
    plan = _plan(region) if region else None
    lengths = set(international)
    if plan is not None:
        idd = plan.idd.match(prefix) if plan.idd else None
        if idd:
            shift = idd.end()
            lengths |= {shift + n for n in _international_lengths(prefix[shift:])}
        lengths |= _national_lengths(region)
    return tuple(sorted((n for n in lengths if 7 <= n <= _MAX_DIGITS), reverse=True))


def _international_lengths(digits: str) -> frozenset[int]:
    if not digits or digits[0] == "0":
        return frozenset()
    code, _ = _split_country_code(digits[:3])
    return _lengths_after_code(code) if code else frozenset()


@cache
def _lengths_after_code(country_code: int) -> frozenset[int]:
    prefixes = _prefix_lengths(_main_plan(country_code))
    if prefixes is None:
        return _ANY_LENGTH
    code = len(str(country_code))
    return frozenset(code + n + p for n in _nsn_lengths(country_code) for p in prefixes)


@cache
def _national_lengths(region: str) -> frozenset[int]:
    plan = _plan(region)
    if plan is None:
        return frozenset()
    home = _prefix_lengths(plan)
    main = _prefix_lengths(_main_plan(plan.country_code))
    if home is None or main is None:
        return _ANY_LENGTH
    lengths = _nsn_lengths(plan.country_code)
    national = {n + p for n in lengths for p in home}
    # After the country code a prefix may be stripped twice (home, then main region).
    code = len(str(plan.country_code))
    with_code = {code + n + p + q for n in lengths for p in home for q in home | main}
    return frozenset(national | with_code)


def _prefix_lengths(plan: _Plan | None) -> frozenset[int] | None:
    """How long the national prefix phonenumbers strips can be, or None when it is a
    pattern ("0|180020") of no one length."""
    if plan is None:
        return None
    prefix = plan.national_prefix.pattern if plan.national_prefix else ""
    if prefix and not prefix.isdigit():
        return None
    return frozenset({0, len(prefix)})


@cache
def _nsn_lengths(country_code: int) -> frozenset[int]:
    """How long the national significant numbers of a country code's regions can be."""
    lengths: set[int] = set()
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        plan = _plan(region, country_code)
        if plan is not None:
            for type_lengths, _ in plan.types:
                lengths.update(type_lengths or plan.lengths)
    lengths.discard(-1)
    return frozenset(lengths)


@cache
def _national_first_digits(region: str) -> frozenset[str]:
    """The digits a national number can start with in `region` once a trunk prefix is
    required: the trunk prefix, the country code or the international prefix."""
    plan = _plan(region)
    every = frozenset("0123456789")
    if plan is None or not plan.trunk or plan.country_code == 1:
        return every
    idd = plan.idd.pattern if plan.idd else ""
    firsts = {plan.trunk[0], str(plan.country_code)[0]}
    return frozenset(firsts | {idd[0]}) if idd[:1].isdigit() else every


@lru_cache(maxsize=16384)
def _phone_e164(digits: str, international: bool, region: str) -> str | None:
    """The E.164 form of the valid number written as `digits` (after a "+" when
    `international`, else as dialled in `region`), or None."""
    if international:
        if not 7 <= len(digits) <= 16:
            return None
        region = "ZZ"
    else:
        plan = _plan(region) if region else None
        if plan is None:
            return None
        idd = plan.idd is not None and plan.idd.match(digits) is not None
        # Without its trunk prefix a French number is just nine digits, and too many prices
        # and references look like one. North America writes no trunk prefix.
        if not idd and plan.trunk and plan.country_code != 1:
            if not digits.startswith((plan.trunk, str(plan.country_code))):
                return None
    try:
        return _e164_by_metadata(digits, international, region)
    except _Unusual:
        return _e164_by_phonenumbers(digits, international, region)


def _e164_by_phonenumbers(digits: str, international: bool, region: str) -> str | None:
    try:
        number = phonenumbers.parse(("+" if international else "") + digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# phonenumbers.parse and is_valid_number cost 30-60 µs a call, and a megabyte of spaced
# digits holds a million candidates. What follows gives their answer from the same
# metadata with compiled patterns, and hands the rare regions whose national prefix is
# rewritten (Argentina, Brazil…) back to phonenumbers; tests check the two agree.


class _Unusual(Exception):
    """A number only phonenumbers itself can read."""


class _Plan(NamedTuple):
    """A region's numbering plan, as phonenumbers' metadata gives it."""

    country_code: int
    general: re.Pattern[str] | None
    lengths: tuple[int, ...]
    local_lengths: tuple[int, ...]
    types: tuple[tuple[tuple[int, ...], re.Pattern[str]], ...]
    leading: re.Pattern[str] | None
    national_prefix: re.Pattern[str] | None  # the pattern that reads one, for parsing
    rewrites_prefix: bool
    idd: re.Pattern[str] | None
    trunk: str


_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@cache
def _plan(region: str, country_code: int = 0) -> _Plan | None:
    if region == "001":
        metadata = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(country_code)
    else:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None or metadata.country_code is None:
        return None

    def compiled(pattern: str | None) -> re.Pattern[str] | None:
        return re.compile(pattern) if pattern else None

    types = []
    for name in _TYPES:
        desc = getattr(metadata, name)
        pattern = compiled(desc.national_number_pattern) if desc is not None else None
        if desc is not None and pattern is not None:
            types.append((tuple(desc.possible_length), pattern))
    general = metadata.general_desc
    return _Plan(
        country_code=metadata.country_code,
        general=compiled(general.national_number_pattern),
        lengths=tuple(general.possible_length),
        local_lengths=tuple(general.possible_length_local_only),
        types=tuple(types),
        leading=compiled(metadata.leading_digits),
        national_prefix=compiled(metadata.national_prefix_for_parsing),
        rewrites_prefix=bool(metadata.national_prefix_transform_rule),
        idd=compiled(metadata.international_prefix),
        trunk=metadata.national_prefix or "",
    )


def _main_plan(country_code: int) -> _Plan | None:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    return _plan(regions[0], country_code) if regions else None


def _e164_by_metadata(digits: str, international: bool, region: str) -> str | None:
    """phonenumbers.parse + is_valid_number + format_number(E164), step by step."""
    if international:
        if len(digits) <= 2:
            return None
        country_code, national = _split_country_code(digits)
        if not country_code:
            return None
        plan = _main_plan(country_code)
    else:
        home = _plan(region)
        if home is None:
            return None
        idd = home.idd.match(digits) if home.idd else None
        if idd and digits[idd.end() : idd.end() + 1] not in ("0", ""):
            rest = digits[idd.end() :]
            if len(rest) <= 2:
                return None
            country_code, national = _split_country_code(rest)
            if not country_code:
                return None
            plan = _main_plan(country_code)
        else:
            country_code, national, plan = home.country_code, digits, home
            code = str(home.country_code)
            if digits.startswith(code):
                stripped = _strip_national_prefix(digits[len(code) :], home)
                if (
                    not _matches_general(digits, home) and _matches_general(stripped, home)
                ) or _length_check(digits, home) == "too long":
                    national = stripped
                    plan = _main_plan(country_code)
    if len(national) < 2:
        return None
    if plan is not None:
        stripped = _strip_national_prefix(national, plan)
        if _length_check(stripped, plan) not in ("too short", "local only", "invalid length"):
            national = stripped
    if not 2 <= len(national) <= 17:
        return None
    return f"+{country_code}{national}" if _is_valid(country_code, national) else None


def _split_country_code(digits: str) -> tuple[int, str]:
    if digits.startswith("0"):
        return 0, digits
    for size in (1, 2, 3):
        if int(digits[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return int(digits[:size]), digits[size:]
    return 0, digits


def _matches_general(number: str, plan: _Plan) -> bool:
    return plan.general is not None and plan.general.fullmatch(number) is not None


def _strip_national_prefix(number: str, plan: _Plan) -> str:
    if not number or plan.national_prefix is None:
        return number
    prefix = plan.national_prefix.match(number)
    if prefix is None:
        return number
    if plan.rewrites_prefix:
        raise _Unusual
    if _matches_general(number, plan) and not _matches_general(number[prefix.end() :], plan):
        return number
    return number[prefix.end() :]


def _length_check(number: str, plan: _Plan) -> str:
    size = len(number)
    if size in plan.local_lengths:
        return "local only"
    if not plan.lengths:
        raise _Unusual
    if size == plan.lengths[0]:
        return "possible"
    if size < plan.lengths[0]:
        return "too short"
    if size > plan.lengths[-1]:
        return "too long"
    return "possible" if size in plan.lengths[1:] else "invalid length"


def _is_valid(country_code: int, national: str) -> bool:
    """phonenumbers.is_valid_number: the first region of the country code whose leading
    digits match, or failing those, whose number types match, must know the number."""
    for step in _region_steps(country_code):
        if isinstance(step, _Plan):
            if _has_type(national, step):
                return True
        else:
            leading, plans = step
            m = leading.match(national)
            if m is not None and m.lastgroup is not None:
                return _has_type(national, plans[int(m.lastgroup[1:])])
    return False


@cache
def _region_steps(
    country_code: int,
) -> tuple[_Plan | tuple[re.Pattern[str], tuple[_Plan, ...]], ...]:
    """The regions of a country code in phonenumbers' order, neighbours told apart by their
    leading digits merged into one pattern (North America has 25 of them)."""
    plans = [
        _plan(r, country_code)
        for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    ]
    present = [p for p in plans if p is not None]
    if len(present) == 1:
        return (present[0],)
    steps: list[_Plan | tuple[re.Pattern[str], tuple[_Plan, ...]]] = []
    group: list[tuple[str, _Plan]] = []

    def close() -> None:
        if group:
            # Alternation tries the regions in order, as phonenumbers does; each region's
            # pattern sits in its own named group, which is the one the match reports.
            merged = "|".join(f"(?P<r{i}>{leading})" for i, (leading, _) in enumerate(group))
            steps.append((re.compile(merged), tuple(plan for _, plan in group)))
            group.clear()

    for plan in present:
        if plan.leading is None:
            close()
            steps.append(plan)
        else:
            group.append((plan.leading.pattern, plan))
    close()
    return tuple(steps)


def _has_type(national: str, plan: _Plan) -> bool:
    size = len(national)
    if plan.lengths and size not in plan.lengths:
        return False
    if not _matches_general(national, plan):
        return False
    return any(
        (not lengths or size in lengths) and pattern.fullmatch(national)
        for lengths, pattern in plan.types
    )
