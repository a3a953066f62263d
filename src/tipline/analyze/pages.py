"""What a captured page shows: the images it embeds. Pure: no Django."""

from __future__ import annotations

import contextlib
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

MAX_IMAGES = 10


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img":
            return
        found = dict(attrs)
        for name in ("src", "data-src"):
            value = (found.get(name) or "").strip()
            if value:
                self.sources.append(value)
                return


def image_urls(html: bytes, *, base_url: str, limit: int = MAX_IMAGES) -> list[str]:
    """Absolute http(s) URLs of the images a page embeds, in page order, each once."""
    parser = _Images()
    # A broken page still gives the images read before the break.
    with contextlib.suppress(Exception):
        parser.feed(html.decode("utf-8", "replace"))
        parser.close()
    urls: list[str] = []
    for source in parser.sources:
        url = urljoin(base_url, source)
        if urlsplit(url).scheme in ("http", "https") and url not in urls:
            urls.append(url)
        if len(urls) == limit:
            break
    return urls
