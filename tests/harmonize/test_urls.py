"""URL canonicalization (Safe Browsing v4 / Web Risk), item URLs and registrable domains."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipline.harmonize import urls
from tipline.harmonize.urls import InvalidURL, canonicalize, item_url, registrable_domain

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "urls"


def load_vectors() -> list[dict[str, str]]:
    path = VECTORS / "webrisk_canonicalization.jsonl"
    if not path.exists():
        pytest.skip(f"reference vectors not found at {path}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_every_published_example_is_canonicalized_exactly() -> None:
    vectors = load_vectors()
    assert len(vectors) >= 30
    wrong = [
        (v["input"], canonicalize(v["input"]), v["canonical"])
        for v in vectors
        if canonicalize(v["input"]) != v["canonical"]
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # The rules behind the examples, on inputs that are not among them.
        ("http://Example.EXAMPLE/%7Euser/%61%62c", "http://example.example/~user/abc"),
        ("ftp://files.example/a//b/./c/../d/", "ftp://files.example/a/b/d/"),
        ("https://a.example/x?q=a//b/../c", "https://a.example/x?q=a//b/../c"),
        ("http://a.example/é", "http://a.example/%C3%A9"),
        ("http://a.example/%e9", "http://a.example/%E9"),
        ("http://a.example/a b", "http://a.example/a%20b"),
        ("HTTPS://A.example", "https://a.example/"),
        ("//cdnless.example/p", "http://cdnless.example/p"),
        ("site.example:8080/page", "http://site.example/page"),
        ("http://user:secret@host.example:81/", "http://host.example/"),
        ("http://..host..example../", "http://host.example/"),
        # IPv4 in every notation.
        ("http://192.0.2.1/", "http://192.0.2.1/"),
        ("http://3221225985/", "http://192.0.2.1/"),
        ("http://0xC0000201/", "http://192.0.2.1/"),
        ("http://030000001001/", "http://192.0.2.1/"),
        ("http://0300.0.02.1/", "http://192.0.2.1/"),
        ("http://0xc0.0x0.0x2.0x1/", "http://192.0.2.1/"),
        ("http://192.0.513/", "http://192.0.2.1/"),
        ("http://192.513/", "http://192.0.2.1/"),
        ("http://%31%39%32.0.2.1/", "http://192.0.2.1/"),
        ("http://256.1.1.1/", "http://256.1.1.1/"),  # not an address: stays a name
        ("http://1.2.3.4.5/", "http://1.2.3.4.5/"),
        # IPv6: one spelling per address.
        ("http://[2001:DB8:0:0:0:0:0:1]:8080/", "http://[2001:db8::1]/"),
        ("http://[::FFFF:192.0.2.1]/", "http://[::ffff:c000:201]/"),
        # IDN and punycode: one spelling.
        ("http://BÜCHER.example/", "http://xn--bcher-kva.example/"),
        ("http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/"),
        ("http://b%C3%BCcher.example/", "http://xn--bcher-kva.example/"),
        ("http://bücher.example.:8080./", "http://xn--bcher-kva.example/"),
    ],
)
def test_the_rules_hold_beyond_the_examples(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical


@pytest.mark.parametrize("url", ["http://ü:80/", "0:0.", "http://a.example.:80./", "%0\x800"])
def test_cases_once_found_not_idempotent(url: str) -> None:
    once = canonicalize(url)
    assert canonicalize(once) == once


def test_a_bracket_left_after_stray_dots_is_not_an_address() -> None:
    with pytest.raises(InvalidURL, match="must end with"):
        canonicalize("http://.[/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "scheme 'javascript' not accepted"),
        ("JavaScript://x.example/%0Aalert(1)", "scheme 'javascript' not accepted"),
        ("data:text/html;base64,PHNjcmlwdD4=", "scheme 'data' not accepted"),
        ("mailto:abuse@x.example", "scheme 'mailto' not accepted"),
        ("file:///etc/passwd", "scheme 'file' not accepted"),
        ("http:x.example", "missing '//'"),
        ("", "empty URL"),
        (" \t\r\n", "empty URL"),
        ("http://", "no host name"),
        ("http://.../", "no host name"),
        ("http://[::1/", "must end with ']'"),
        ("http://[not:an:address]/", "is not an IPv6 address"),
        ("http://x.example/" + "a" * 100_000, "longer than 8192 characters"),
        ("http://x.example/%" + "25" * 1100, "escaped too many times"),
    ],
)
def test_what_cannot_be_a_url_gets_a_clear_message(url: str, message: str) -> None:
    with pytest.raises(InvalidURL, match=message.replace("(", r"\(").replace(")", r"\)")):
        canonicalize(url)


def test_invalid_url_keeps_a_template_to_translate() -> None:
    with pytest.raises(InvalidURL) as exc:
        canonicalize("javascript:alert(1)")
    assert exc.value.template % exc.value.params == str(exc.value)
    assert exc.value.params == {"scheme": "javascript"}


url_like = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda scheme, host, path: f"{scheme}{host}{path}",
        st.sampled_from(["", "http://", "https://", "HTTP://", "ftp://", "//", "x:"]),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
        | st.from_regex(r"[a-z0-9.%\[\]:@-]{0,40}", fullmatch=True),
        st.text(alphabet="/.%?#&=aZ09 ü\t", max_size=40),
    ),
)


@settings(max_examples=2000, deadline=None)
@given(url_like)
def test_canonicalize_is_idempotent_and_raises_only_invalid_url(url: str) -> None:
    try:
        once = canonicalize(url)
    except InvalidURL:
        return
    assert canonicalize(once) == once
    assert once.isascii() and " " not in once and "#" not in once


@pytest.mark.parametrize(
    "spelling",
    [
        "https://Ads.Example/escort/42",
        "https://ads.example./escort/42",
        "https://ads.example/%65scort/42",
        "https://ads.example/escort/42#photos",
        "https://ads.example/escort/42?utm_source=x&utm_medium=y&fbclid=abc",
        "https://ads.example/escort/./42",
    ],
)
def test_spellings_of_one_page_give_one_item_url(spelling: str) -> None:
    assert str(item_url(spelling)) == "https://ads.example/escort/42"


def test_real_parameters_still_tell_pages_apart() -> None:
    assert item_url("https://ads.example/v?id=1&utm_source=a") != item_url(
        "https://ads.example/v?id=2&utm_source=a"
    )
    assert str(item_url("https://ads.example/v?id=1&gclid=z")) == "https://ads.example/v?id=1"
    assert item_url("http://ads.example/") != item_url("https://ads.example/")


@pytest.mark.parametrize(
    ("url", "domain", "kind"),
    [
        ("https://ads.example.co.uk/x", "example.co.uk", "domain"),
        ("https://a.b.escorts.example/x", "escorts.example", "domain"),
        ("http://user.blogspot.com/", "blogspot.com", "domain"),
        (
            "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion/x",
            "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion",
            "onion",
        ),
        ("http://0xC0000201/", None, "ipv4"),
        ("http://[2001:db8::1]/", None, "ipv6"),
        ("http://localhost/", None, "domain"),
    ],
)
def test_registrable_domain_and_host_kind(url: str, domain: str | None, kind: str) -> None:
    assert registrable_domain(url) == domain
    assert item_url(url).host_kind == kind


def test_the_public_suffix_list_is_never_fetched(monkeypatch) -> None:
    def no_network(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    urls._extractor.cache_clear()
    assert registrable_domain("https://www.ads.example.com.au/x") == "example.com.au"
    assert urls._extractor().suffix_list_urls == ()
