"""A synthetic corpus of escort-style ad reports organised into networks, with the ground
truth a cross-reference benchmark scores a linker against. Pure: no Django, no network.

Everything is made up: texts are tame (no explicit content, every age 20 or over), phone
numbers come only from ranges reserved for fiction, domains end in .example, pictures are
abstract shapes drawn with Pillow. `generate(reports=..., seed=...)` streams the reports:
the same arguments give the same corpus, and memory stays flat: only the network
definitions are held, about a hundred bytes each in arrays.

The corpus, by default:

- Shares: 60% network ads, 25% unrelated ads, 15% noise (`NETWORK_SHARE`, `UNRELATED_SHARE`).
- Networks: about one per 15 reports (`REPORTS_PER_NETWORK`), 2 to 60 ads each, drawn from
  a power law (P(size) ~ size^-1.55: about a quarter have 2 ads, one in twelve has 30 or more;
  mean 9), then nudged so the sizes add up to the network share exactly.
- A network has 1-3 text templates (a template ad differs from its siblings only by name,
  city, price, age and which of the network's phones it shows), 1-3 phones used across its
  2-6 cities and 1-4 names, a Telegram handle (35% of networks), an e-mail (20%), its own
  site `<word><n>.example` (25%: named in the text and hosting some of its ads), and 1-4
  base pictures; half of its ads show one, most as a small edit of the original.
- Each template fixes how its phone is written: spaced, compact, dots, dashes, slashes,
  "+33 (0)1…", O/l for 0/1 glued to a digit ("0l 99 OO 12 34"), digits spaced one by
  one, or spelled out in English or French. All of them are read back by
  `tipline.analyze.observables.extract` (tested).
- Connectivity: ad k < (number of templates) of a network is written with template k and the
  network's first phone, every other ad with one of the templates, so each ad shares a
  template with an anchor and the anchors share a phone: every network is connected in
  truth. `DemoReport.signals` lists what each ad carries.
- Unrelated ads: the same vocabulary, composed phrase by phrase from a bank, each with a
  phone of its own (20% also show a picture of their own, 10% a Telegram handle of their
  own): they share no signal with any other report.
- Noise: a URL on one of the big classifieds sites, a vague description ("saw this ad") and
  at most a line such as "page not found": no phone, handle, e-mail or picture.
- All ads are posted on ten big classifieds sites shared by everyone, network ads sometimes
  on their network's own site. Reporters are in FR, BE, DE, ES, IT or NL; categories are
  "sex ad", "trafficking" and "exploitation".

Phones: France 01 99 00 xx xx, 02 61 91 xx xx, 03 53 01 xx xx, 04 65 71 xx xx, 05 36 49 xx xx
and 09 77 40 xx xx (60,000 numbers), North America NXX-555-0100 to 0199 in 415 geographic
area codes (41,500) and the UK's 020 7946 0xxx and 0161 496 0xxx (2,000): `PHONE_POOL_SIZE`
numbers, four in five French while they last. Networks take theirs first (1.3 each on average),
then each unrelated ad takes the next one; once the pool is spent (past about 300,000
reports) an unrelated ad gives a unique Telegram handle or e-mail instead, and a network
phone beyond the pool (past about 1,200,000 reports) becomes a unique Telegram handle, so
no two reports outside one network ever share a signal.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import math
import random
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

__all__ = [
    "BIG_SITES",
    "CATEGORIES",
    "COUNTRIES",
    "KINDS",
    "NETWORK_SHARE",
    "PHONE_POOL_SIZE",
    "REPORTS_PER_NETWORK",
    "UNRELATED_SHARE",
    "DemoImage",
    "DemoReport",
    "generate",
]

NETWORK_SHARE: Final = 0.60
UNRELATED_SHARE: Final = 0.25
REPORTS_PER_NETWORK: Final = 15
MIN_NETWORK_SIZE: Final = 2
MAX_NETWORK_SIZE: Final = 60
_SIZE_EXPONENT = 1.55
_NETWORK_IMAGE_SHARE = 0.5
_UNRELATED_IMAGE_SHARE = 0.2
_DESCRIPTION_SHARE = 0.35  # ads whose reporter wrote something

KINDS: Final = ("network_ad", "unrelated_ad", "noise")
CATEGORIES: Final = ("sex ad", "trafficking", "exploitation")
COUNTRIES: Final = ("FR", "BE", "DE", "ES", "IT", "NL")


def _stable_int(*parts: object) -> int:
    """A 64-bit integer from `parts`, the same in every process (unlike hash())."""
    data = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def _seeded(*parts: object) -> random.Random:
    # Reproducibility is the point here, not unpredictability: no secret comes from these.
    return random.Random(_stable_int(*parts))  # noqa: S311


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text.lower()).split())


# --- Pictures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoImage:
    """A picture in an ad: `picture` names the base picture ("n12-p3": network 12's fourth,
    "u88-p0": unrelated report 88's), `variant` 0 is the original and any other number a
    small edit of it (trimmed evenly by at most 1% of its width and height, brightness
    within 10%, a small caption, JPEG re-encoding) within PDQ distance 31 of the original."""

    picture: str
    variant: int = 0

    def render(self) -> bytes:
        """The picture as JPEG bytes, 280-400 pixels a side; the same bytes every time."""
        img = _base_picture(self.picture)
        quality = 92
        if self.variant:
            img, quality = _edited(img, self.picture, self.variant)
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", quality=quality)
        return buffer.getvalue()

    @property
    def filename(self) -> str:
        return f"{self.picture}-v{self.variant}.jpg"


def _base_picture(picture: str) -> Image.Image:
    # A gradient under some forty overlapping shapes, softened: enough structure at PDQ's
    # 64x64 scale for a quality of 100, and for two pictures to be ~128 bits apart.
    r = _seeded("picture", picture)
    width, height = r.randrange(280, 401), r.randrange(280, 401)
    start = np.array([r.randrange(256) for _ in range(3)], dtype=np.float32)
    end = np.array([r.randrange(256) for _ in range(3)], dtype=np.float32)
    angle = r.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = math.cos(angle) * xs / width + math.sin(angle) * ys / height
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    pixels = start * (1 - ramp[..., None]) + end * ramp[..., None]
    img = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    shapes = r.randrange(40, 60)
    for i in range(shapes):
        color = (r.randrange(256), r.randrange(256), r.randrange(256))
        scale = 6 if i < shapes // 3 else 3  # a few large shapes first, then smaller ones
        w = r.randrange(width // 12, width // 12 * scale)
        h = r.randrange(height // 12, height // 12 * scale)
        x0, y0 = r.randrange(-w // 2, width), r.randrange(-h // 2, height)
        kind = r.random()
        if kind < 0.45:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=color)
        elif kind < 0.75:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=color)
        else:
            corners = [(x0 + r.randrange(w), y0 + r.randrange(h)) for _ in range(r.randrange(3, 6))]
            draw.polygon(corners, fill=color)
    return img.filter(ImageFilter.GaussianBlur(3))


_CAPTIONS = ("NEW", "real photos", "100% real", "call me", "new in town", "xx", "24/7", "VIP")


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _edited(img: Image.Image, picture: str, variant: int) -> tuple[Image.Image, int]:
    """The variant's edits of `img`, and the JPEG quality to save it with. PDQ shrugs off
    brightness, captions and re-encoding; crops move its bits most, so they stay small."""
    r = _seeded("variant", picture, variant)
    width, height = img.size
    if r.random() < 0.6:
        # Trimmed evenly from opposite sides: a shift moves PDQ's bits far more than a zoom.
        dx = max(2, round(width * r.uniform(0.004, 0.01)))
        dy = max(2, round(height * r.uniform(0.004, 0.01)))
        left, top = dx // 2, dy // 2
        img = img.crop((left, top, width - (dx - left), height - (dy - top)))
    if r.random() < 0.6:
        img = ImageEnhance.Brightness(img).enhance(r.uniform(0.9, 1.1))
    if r.random() < 0.5:
        width, height = img.size
        draw = ImageDraw.Draw(img)
        x = r.randrange(4, width // 3)
        y = r.choice((4, height - 20))
        shade = r.choice(((255, 255, 255), (20, 20, 20), (255, 80, 160)))
        draw.text((x, y), r.choice(_CAPTIONS), fill=shade, font=_font(r.randrange(11, 15)))
    return img, r.randrange(60, 91)


# --- Reports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoReport:
    """One synthetic report and its ground truth.

    `network` is the network the ad belongs to (None for unrelated ads and noise).
    `signals` is what links it to other reports, in truth: "phone:+33199001234",
    "email:…", "handle:telegram:@…", "domain:<network site>", "picture:n3-p1" (whatever
    the variant) and "template:n3-t0". Only ads of one network share any of them.
    """

    index: int
    network: int | None
    kind: str
    url: str
    excerpt: str
    description: str
    category: str
    reporter_country: str
    image: DemoImage | None
    signals: tuple[str, ...] = ()

    def payload(self, *, with_media: bool = True) -> dict[str, object]:
        """The report as JSON for POST /api/v1/reports."""
        body: dict[str, object] = {
            "external_id": f"demo-{self.index}",
            "category": self.category,
            "urls": [self.url],
            "description": self.description,
            "excerpt": self.excerpt,
            "reporter": {"country": self.reporter_country},
        }
        if with_media and self.image is not None:
            content = base64.b64encode(self.image.render()).decode("ascii")
            body["media"] = [{"filename": self.image.filename, "content_base64": content}]
        return body


def generate(*, reports: int, seed: int, spread: float = 0.1) -> Iterator[DemoReport]:
    """`reports` reports, index 0 to reports-1, the same ones for the same arguments.

    A network is active for a while, not all year: its ads fall within a stretch of about
    `spread` of the stream (the stream is cut into 1/spread windows, each holding its share
    of networks, unrelated ads and noise, shuffled). `spread=1` spreads every network over
    the whole stream.
    """
    if reports < 0:
        raise ValueError(f"reports must be at least 0, not {reports}")
    if not 0 < spread <= 1:
        raise ValueError(f"spread must be in (0, 1], not {spread}")
    if reports == 0:
        return
    corpus = _Corpus(reports, seed)
    rng = _seeded("stream", seed, reports)
    regions = (
        corpus.network_ads,
        corpus.unrelated_ads,
        reports - corpus.network_ads - corpus.unrelated_ads,
    )
    k = max(1, min(reports, round(1 / spread)))
    index = 0
    for w in range(k):
        lows = [size * w // k for size in regions]
        parts = [size * (w + 1) // k - low for size, low in zip(regions, lows, strict=True)]
        size = sum(parts)
        if not size:
            continue
        shuffle = _Shuffle(size, _stable_int("window", seed, w, k))
        block = 1 << 14
        for first in range(0, size, block):
            offsets = shuffle(np.arange(first, min(size, first + block), dtype=np.uint64))
            for o in offsets.tolist():
                if o < parts[0]:
                    slot = lows[0] + o
                    network = int(np.searchsorted(corpus.ends, slot, side="right"))
                    yield corpus.network_ad(index, network, slot - corpus.start(network), rng)
                elif o < parts[0] + parts[1]:
                    yield corpus.unrelated_ad(index, lows[1] + o - parts[0], rng)
                else:
                    yield corpus.noise(index, rng)
                index += 1


class _Shuffle:
    """A pseudo-random permutation of range(n), one index at a time in O(1): a 4-round
    Feistel network on the next even power of two, walking cycles back into range."""

    def __init__(self, n: int, seed: int) -> None:
        bits = max(2, (n - 1).bit_length())
        bits += bits & 1
        self.n = n
        self.half = np.uint64(bits // 2)
        self.mask = np.uint64((1 << (bits // 2)) - 1)
        self.keys = [np.uint64(_stable_int("shuffle", seed, n, r)) for r in range(4)]

    def _rounds(self, x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        left, right = x >> self.half, x & self.mask
        for key in self.keys:
            left, right = right, left ^ (_mix(right ^ key) & self.mask)
        return (left << self.half) | right

    def __call__(self, x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        y = self._rounds(x)
        outside = y >= self.n
        while outside.any():
            y[outside] = self._rounds(y[outside])
            outside = y >= self.n
        return y


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # splitmix64's finaliser; uint64 arrays wrap on overflow, which is what it wants.
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


# --- Phones -------------------------------------------------------------------------------

# National significant numbers without their last four digits (01 99 00 xx xx is 19900xxxx).
_FR_BLOCKS = ("19900", "26191", "35301", "46571", "53649", "97740")
_NA_AREAS = tuple(
    int(code)
    for code in """
    201 202 203 204 205 206 207 208 209 210 212 213 214 215 216 217 218 219 220 223 224 225
    226 227 228 229 231 234 235 236 239 240 248 249 250 251 252 253 254 256 257 260 262 263
    267 269 270 272 273 274 276 279 281 283 289 301 302 303 304 305 306 307 308 309 310 312
    313 314 315 316 317 318 319 320 321 323 324 325 326 327 329 330 331 332 334 336 337 339
    341 343 346 347 350 351 352 353 354 360 361 363 364 365 367 368 369 380 382 385 386 401
    402 403 404 405 406 407 408 409 410 412 413 414 415 416 417 418 419 423 424 425 428 430
    431 432 434 435 437 438 440 442 443 445 447 448 450 458 463 464 468 469 470 472 474 475
    478 479 480 484 501 502 503 504 505 506 507 508 509 510 512 513 514 515 516 517 518 519
    520 530 531 534 539 540 541 548 551 557 559 561 562 563 564 567 570 571 572 573 574 575
    579 580 581 582 584 585 586 587 601 602 603 604 605 606 607 608 609 610 612 613 614 615
    616 617 618 619 620 623 626 628 629 630 631 636 639 640 641 645 646 647 650 651 656 657
    659 660 661 662 667 669 672 678 680 681 682 683 686 689 701 702 703 704 705 706 707 708
    709 712 713 714 715 716 717 718 719 720 724 725 726 727 728 730 731 732 734 737 738 740
    742 743 747 748 753 754 757 760 762 763 765 769 770 771 772 773 774 775 778 779 780 781
    782 785 786 801 802 803 804 805 806 807 808 810 812 813 814 815 816 817 818 819 820 821
    825 826 828 830 831 832 835 838 839 840 843 845 847 848 850 854 856 857 858 859 860 862
    863 864 865 867 870 872 873 878 879 901 902 903 904 905 906 907 908 909 910 912 913 914
    915 916 917 918 919 920 925 928 929 930 931 934 936 937 938 940 941 942 943 945 947 948
    949 951 952 954 956 959 970 971 972 973 975 978 979 980 983 984 985 986 989
    """.split()
)
_UK_BLOCKS = ("2079460", "1614960")  # 020 7946 0xxx, 0161 496 0xxx
_FR_SIZE = len(_FR_BLOCKS) * 10_000
_OTHER_SIZE = len(_NA_AREAS) * 100 + len(_UK_BLOCKS) * 1_000
PHONE_POOL_SIZE: Final = _FR_SIZE + _OTHER_SIZE
# Four French numbers in five until the French ones run out.
_INTERLEAVED = _FR_SIZE // 4 * 5


class _PhonePool:
    """The fictional numbers in a seeded order, as E.164: number(i) differs for every i in
    range(PHONE_POOL_SIZE)."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(_stable_int("phones", seed))
        self.fr = rng.permutation(_FR_SIZE).astype(np.uint32)
        self.other = rng.permutation(_OTHER_SIZE).astype(np.uint32)

    def number(self, i: int) -> str:
        if i < _INTERLEAVED:
            q, r = divmod(i, 5)
            if r < 4:
                return self._fr(q * 4 + r)
            return self._other(q)
        return self._other(i - _INTERLEAVED + _INTERLEAVED // 5)

    def _fr(self, j: int) -> str:
        j = int(self.fr[j])
        return f"+33{_FR_BLOCKS[j // 10_000]}{j % 10_000:04d}"

    def _other(self, j: int) -> str:
        j = int(self.other[j])
        if j < len(_NA_AREAS) * 100:
            return f"+1{_NA_AREAS[j // 100]}555{100 + j % 100:04d}"
        j -= len(_NA_AREAS) * 100
        return f"+44{_UK_BLOCKS[j // 1_000]}{j % 1_000:03d}"


_EN_DIGITS = "zero one two three four five six seven eight nine".split()
_FR_DIGITS = "zéro un deux trois quatre cinq six sept huit neuf".split()
_LOOKALIKE = {"0": "O", "1": "l"}
_LOOKALIKE_I = {"0": "O", "1": "I"}

# How a French number is written, and how often a template writes it so.
_FR_STYLES = (
    ("spaced", 30),
    ("compact", 10),
    ("dots", 12),
    ("dashes", 5),
    ("slashes", 3),
    ("intl", 8),
    ("intl0", 5),
    ("e164", 3),
    ("lookalike", 6),
    ("lookalike_i", 3),
    ("one_by_one", 5),
    ("words_en", 5),
    ("words_fr", 5),
)
_STYLE_NAMES = tuple(name for name, _ in _FR_STYLES)
_STYLE_WEIGHTS = np.array([w for _, w in _FR_STYLES], dtype=float) / sum(w for _, w in _FR_STYLES)


def _lookalike(pair: str, table: dict[str, str]) -> str:
    # One look-alike letter per pair, next to a digit: the extractor reads "0l" and "l2" as
    # digits only when a letter is glued to a digit.
    a, b = pair[0], pair[1]
    if b in table:
        return a + table[b]
    if a in table:
        return table[a] + b
    return pair


def _format_phone(e164: str, style: int) -> str:
    """`e164` as an ad writes it in style number `style` (an index into the French styles;
    other countries have fewer styles and take it modulo their count)."""
    if e164.startswith("+33"):
        nsn = e164[3:]
        national = "0" + nsn
        pairs = [national[i : i + 2] for i in range(0, 10, 2)]
        rest = " ".join(nsn[i : i + 2] for i in range(1, 9, 2))
        name = _STYLE_NAMES[style % len(_STYLE_NAMES)]
        if name == "spaced":
            return " ".join(pairs)
        if name == "compact":
            return national
        if name == "dots":
            return ".".join(pairs)
        if name == "dashes":
            return "-".join(pairs)
        if name == "slashes":
            return "/".join(pairs)
        if name == "intl":
            return f"+33 {nsn[0]} {rest}"
        if name == "intl0":
            return f"+33 (0){nsn[0]} {rest}"
        if name == "e164":
            return e164
        if name == "lookalike":
            return " ".join(_lookalike(p, _LOOKALIKE) for p in pairs)
        if name == "lookalike_i":
            return " ".join(_lookalike(p, _LOOKALIKE_I) for p in pairs)
        if name == "one_by_one":
            return " ".join(national)
        if name == "words_en":
            return " ".join(_EN_DIGITS[int(d)] for d in national)
        return " ".join(_FR_DIGITS[int(d)] for d in national)
    if e164.startswith("+1"):
        area, exchange, line = e164[2:5], e164[5:8], e164[8:]
        return (
            f"+1 {area}-{exchange}-{line}",
            f"+1 ({area}) {exchange}-{line}",
            f"+1.{area}.{exchange}.{line}",
            e164,
            f"+1 {area} {exchange} {line}",
        )[style % 5]
    nsn = e164[3:]
    cut = 2 if nsn.startswith("20") else 3  # 20 7946 0xxx, 161 496 0xxx
    area, middle, line = nsn[:cut], nsn[cut:-4], nsn[-4:]
    return (
        f"+44 {area} {middle} {line}",
        f"+44 (0){area} {middle} {line}",
        e164,
        f"+44 {area}-{middle}-{line}",
    )[style % 4]


# --- Words --------------------------------------------------------------------------------

NAMES: Final = tuple(
    """Lina Sofia Anna Maya Nina Elena Jade Lola Mila Chloé Camila Valentina Bianca Daria
    Irina Natasha Alina Kim Mei Lucia Paola Inès Yasmine Leila Amira Sara Eva Clara Julia
    Vanessa Luna Stella Bella Kiara Naomi Zara Rosa Carla Diana Tania Olga Vera Lara Alice
    Emma Manon Léa Océane Lily Nora Selena Kenza Aya Jasmine Angela Monica Gina Roxana
    Andreea Ioana Bianka Svetlana Katia Mira Noémie Laura Sonia Ambre Flora Giulia""".split()
)
CITIES: Final = (
    "Paris",
    "Lyon",
    "Marseille",
    "Toulouse",
    "Nice",
    "Nantes",
    "Strasbourg",
    "Montpellier",
    "Bordeaux",
    "Lille",
    "Rennes",
    "Reims",
    "Toulon",
    "Grenoble",
    "Dijon",
    "Angers",
    "Nîmes",
    "Clermont-Ferrand",
    "Le Havre",
    "Saint-Étienne",
    "Aix-en-Provence",
    "Metz",
    "Tours",
    "Amiens",
    "Perpignan",
    "Limoges",
    "Annecy",
    "Cannes",
    "Bruxelles",
    "Liège",
    "Genève",
    "Lausanne",
    "Luxembourg",
)
_NAME_SLUGS = tuple(_slug(n) for n in NAMES)
_CITY_SLUGS = tuple(_slug(c) for c in CITIES)
_HANDLE_WORDS = tuple(
    "rose velvet honey angel lux star moon silk pearl ruby bloom sugar kiss dream amber "
    "coral lotus lily peach cherry".split()
)
_SITE_WORDS = tuple(
    "velvetnights rosegarden pearlclub silkmoon luxdreams sweetangels honeyhouse starlounge "
    "rubyroom lotusspa amberglow coralbay bloomagency dreamdates cherryclub".split()
)
_MAIL_DOMAINS = ("mailbox.example", "postbox.example", "webmail.example", "inbox.example")
# (domain, first path segment): shared by every network and unrelated ad.
BIG_SITES: Final = (
    ("annonces-lyon.example", "annonce"),
    ("annonces-paris.example", "annonce"),
    ("classifieds-one.example", "ads"),
    ("classifieds-two.example", "listing"),
    ("petites-annonces.example", "pa"),
    ("citylistings.example", "city"),
    ("nightlist.example", "post"),
    ("rencontres-sud.example", "rencontre"),
    ("quickads.example", "ad"),
    ("escort-guide.example", "profile"),
)

# Sections of an ad, in order: title, intro, self, offer, availability, place, rates, photos,
# rules, contact, telegram, e-mail, site, closing. Slots: {name} {city} {age} {price}
# {phone} {handle} {email} {site}.
_TITLE, _PHOTOS, _RULES, _CONTACT, _TELEGRAM, _EMAIL, _SITE, _CLOSING = 0, 7, 8, 9, 10, 11, 12, 13
_SECTIONS = 14
_SKIP = 255  # a section left out

_EN: tuple[tuple[str, ...], ...] = (
    (
        "New in {city}!",
        "Just arrived in {city}",
        "{name}, new in town",
        "Sweet {name}, first time in {city}",
        "Back in {city} for a few days",
        "{name} visiting {city} this week",
        "Real photos: {name} in {city}",
        "Discreet company in {city}",
        "{city} - {name} is waiting for you",
        "Only a few days in {city}, don't miss me",
        "Brand new face in {city}",
        "Elegant {name}, now in {city}",
        "Your sweet secret in {city}",
        "Just landed in {city}: {name}",
    ),
    (
        "Hello gentlemen, my name is {name} and I am {age} years old.",
        "Hi, I'm {name}, {age} yo, passing through your city.",
        "Hey there, {name} here, {age}, just arrived.",
        "Good evening, I am {name}, a friendly woman of {age}.",
        "My name is {name}, I am {age} and new in town.",
        "I'm {name}, {age} years old, visiting for a short time.",
        "Let me introduce myself: {name}, {age}, smiling and relaxed.",
        "Hello, this is {name}, {age}, on my first tour here.",
        "Nice to meet you, I am {name}, {age} years old.",
        "{name}, {age}, a sweet girl from abroad.",
        "Hi boys, {name} speaking, {age} years young.",
        "Welcome, I am {name} and I am {age}.",
    ),
    (
        "I am sweet, smiling and always in a good mood.",
        "Young and sweet, with a natural look and a soft voice.",
        "Elegant, discreet and very feminine.",
        "Slim figure, long dark hair and a big smile.",
        "Curvy, cheerful and easy to talk to.",
        "Blonde with blue eyes, gentle and attentive.",
        "Tall brunette with a warm personality.",
        "Natural beauty, calm and caring.",
        "Sporty, fresh and full of energy.",
        "Classy lady, refined and cultured.",
        "Exotic look, soft skin and a lovely smile.",
        "Shy at first, then very sweet.",
        "Red hair, green eyes and a playful mind.",
    ),
    (
        "I offer moments of relaxation and pleasant company.",
        "Relaxing massage and good company for respectful gentlemen.",
        "Perfect company for dinners, evenings or a quiet moment.",
        "Let me help you forget a stressful day.",
        "Come and enjoy a warm and friendly moment together.",
        "I like to take my time and make you feel comfortable.",
        "Girlfriend experience, tender and attentive.",
        "Ideal for a business traveller looking for company.",
        "A relaxing time in a calm atmosphere.",
        "Soft music, good mood and a nice chat.",
        "Everything in a relaxed and respectful atmosphere.",
        "Conversation, massage and a glass of wine if you like.",
    ),
    (
        "Available 24/7.",
        "Available day and night, weekends too.",
        "Available from morning until late at night.",
        "Only here this week, book quickly.",
        "Last days in town, available all day.",
        "Available now, last minute welcome.",
        "Open every day from noon to midnight.",
        "Available evenings and nights.",
        "Reachable at any time, even late.",
        "Short stay, limited places left.",
        "Available without appointment most of the day.",
        "Available today and tomorrow only.",
    ),
    (
        "Outcall and hotel visits only.",
        "Incall in a clean and discreet apartment near the station.",
        "I receive in a private apartment downtown, parking nearby.",
        "Hotel visits in {city} and around.",
        "Outcall to your hotel or home.",
        "Discreet incall, easy access by tram.",
        "Private flat, shower available, very discreet.",
        "I can come to you, hotel or home.",
        "Quiet place near the city centre.",
        "Incall or outcall, as you prefer.",
        "Hotel visits preferred, discretion guaranteed.",
        "Apartment close to the airport, easy parking.",
    ),
    (
        "{price}€ the hour, no negotiation.",
        "Rates from {price}€.",
        "One hour {price}€, cash only.",
        "{price} euros per hour, payment in advance.",
        "Gift: {price} roses for one hour.",
        "Special price this week: {price}€.",
        "Prices from {price}€, ask for details.",
        "{price}€ for a nice moment together.",
        "Reasonable rates, starting at {price}€.",
        "Tribute {price}€, no bargaining please.",
        "The hour is {price}€, half hour on request.",
        "{price}€, no haggling.",
    ),
    (
        "Real photos, no bad surprises.",
        "100% real photos.",
        "My photos are recent and real.",
        "Photos verified, no fake.",
        "What you see is what you get.",
        "Genuine pictures taken last week.",
        "No photo tricks, I am exactly like this.",
        "Real girl, real photos.",
        "All photos are mine and recent.",
        "Pictures are real, no filter.",
    ),
    (
        "No hidden numbers, no SMS without a name.",
        "Respectful men only, hygiene required.",
        "Discretion assured and expected.",
        "Please no rush, I like to take my time.",
        "Polite and generous gentlemen only.",
        "No drugs, no alcohol abuse.",
        "Serious requests only.",
        "Please be on time.",
        "Please introduce yourself in your first message.",
        "No time wasters please.",
    ),
    (
        "Call or text me at {phone}.",
        "Contact: {phone}",
        "Tel {phone}, WhatsApp too.",
        "Call {phone} between noon and midnight.",
        "For appointments call {phone}.",
        "My number: {phone} (calls only)",
        "Reach me on {phone}.",
        "Phone {phone}, answers quickly.",
        "Book now: {phone}",
        "Text first please: {phone}",
        "Just call {phone}.",
        "SMS or call {phone}.",
    ),
    (
        "Telegram: @{handle}",
        "Also on Telegram @{handle}",
        "Write me on telegram: @{handle}",
        "Telegram @{handle} for photos",
        "More pictures on Telegram: @{handle}",
        "Tg: @{handle}",
    ),
    (
        "Email: {email}",
        "Mail me at {email}",
        "Write to {email}",
        "Contact by email: {email}",
        "Bookings: {email}",
    ),
    (
        "More photos on {site}",
        "Visit {site} for more",
        "My website: {site}",
        "Agenda and photos: {site}",
    ),
    (
        "Kisses, {name}",
        "See you soon!",
        "Don't wait, I'm only here for a short time.",
        "Looking forward to meeting you. {name}",
        "Hugs and see you soon.",
        "Thank you for reading, {name}",
        "Waiting for your call.",
        "Bye for now, {name}",
        "Have a nice day, gentlemen.",
        "Big smile, {name}",
        "xoxo {name}",
        "Until soon.",
    ),
)

_FR: tuple[tuple[str, ...], ...] = (
    (
        "Nouvelle à {city} !",
        "Tout juste arrivée à {city}",
        "{name}, nouvelle en ville",
        "Douce {name}, première fois à {city}",
        "De retour à {city} pour quelques jours",
        "{name} de passage à {city} cette semaine",
        "Vraies photos : {name} à {city}",
        "Compagnie discrète à {city}",
        "{city} - {name} vous attend",
        "Seulement quelques jours à {city}",
        "Nouveau visage à {city}",
        "Élégante {name}, maintenant à {city}",
        "Votre petit secret à {city}",
        "{name}, juste arrivée à {city}",
    ),
    (
        "Bonjour messieurs, je m'appelle {name} et j'ai {age} ans.",
        "Coucou, moi c'est {name}, {age} ans, de passage dans votre ville.",
        "Salut, ici {name}, {age} ans, tout juste arrivée.",
        "Bonsoir, je suis {name}, une femme souriante de {age} ans.",
        "Je m'appelle {name}, j'ai {age} ans et je suis nouvelle en ville.",
        "Je suis {name}, {age} ans, de passage pour peu de temps.",
        "Je me présente : {name}, {age} ans, souriante et détendue.",
        "Bonjour, c'est {name}, {age} ans, pour ma première tournée ici.",
        "Enchantée, je suis {name}, {age} ans.",
        "{name}, {age} ans, jeune femme venue de l'étranger.",
        "Coucou les hommes, {name}, {age} ans.",
        "Bienvenue, je suis {name} et j'ai {age} ans.",
    ),
    (
        "Je suis douce, souriante et toujours de bonne humeur.",
        "Jeune et douce, au naturel, avec une voix calme.",
        "Élégante, discrète et très féminine.",
        "Silhouette fine, longs cheveux bruns et grand sourire.",
        "Pulpeuse, joyeuse et facile à vivre.",
        "Blonde aux yeux bleus, douce et attentionnée.",
        "Grande brune au caractère chaleureux.",
        "Beauté naturelle, calme et attentionnée.",
        "Sportive, fraîche et pleine d'énergie.",
        "Femme raffinée et cultivée.",
        "Look exotique, peau douce et joli sourire.",
        "Timide au début, puis très gentille.",
        "Rousse aux yeux verts, espiègle et drôle.",
    ),
    (
        "Je propose des moments de détente et une agréable compagnie.",
        "Massage relaxant et bonne compagnie pour messieurs respectueux.",
        "Compagnie idéale pour dîner, sortir le soir ou se poser au calme.",
        "Laissez-moi vous faire oublier une journée stressante.",
        "Venez passer un moment chaleureux et convivial.",
        "Je prends mon temps pour que vous soyez à l'aise.",
        "Moment complice, tendre et attentionné.",
        "Idéal pour l'homme d'affaires de passage.",
        "Détente assurée dans une ambiance calme.",
        "Musique douce, bonne humeur et discussion agréable.",
        "Tout se passe dans le respect et la bonne humeur.",
        "Discussion, massage et verre de vin si vous voulez.",
    ),
    (
        "Disponible 24h/24 et 7j/7.",
        "Dispo jour et nuit, week-end compris.",
        "Disponible du matin jusqu'à tard le soir.",
        "Seulement cette semaine, réservez vite.",
        "Derniers jours en ville, disponible toute la journée.",
        "Disponible maintenant, dernière minute bienvenue.",
        "Ouverte tous les jours de midi à minuit.",
        "Disponible en soirée et la nuit.",
        "Joignable à toute heure, même tard.",
        "Court séjour, peu de places.",
        "Disponible sans rendez-vous la plupart du temps.",
        "Disponible aujourd'hui et demain seulement.",
    ),
    (
        "Déplacement et hôtel uniquement.",
        "Je reçois dans un appartement propre et discret près de la gare.",
        "Je reçois dans un appartement privé au centre-ville, parking à côté.",
        "Visites à l'hôtel à {city} et environs.",
        "Je me déplace à votre hôtel ou à domicile.",
        "Réception discrète, accès facile en tram.",
        "Appartement privé, douche à disposition, très discret.",
        "Je peux venir chez vous ou à l'hôtel.",
        "Endroit calme près du centre.",
        "Réception ou déplacement, comme vous préférez.",
        "Hôtel de préférence, discrétion assurée.",
        "Appartement près de l'aéroport, parking facile.",
    ),
    (
        "{price}€ l'heure, non négociable.",
        "Tarifs à partir de {price}€.",
        "Une heure {price}€, en espèces.",
        "{price} euros de l'heure, paiement d'avance.",
        "Cadeau : {price} roses pour une heure.",
        "Prix spécial cette semaine : {price}€.",
        "À partir de {price}€, demandez les détails.",
        "{price}€ pour passer ensemble un moment agréable.",
        "Tarifs raisonnables dès {price}€.",
        "{price}€ l'heure, pas de marchandage svp.",
        "L'heure à {price}€, demi-heure sur demande.",
        "{price}€ sans négociation.",
    ),
    (
        "Vraies photos, pas de mauvaise surprise.",
        "Photos 100% réelles.",
        "Mes photos sont récentes et réelles.",
        "Photos vérifiées, pas de fake.",
        "Ce que vous voyez est ce que vous aurez.",
        "Photos authentiques prises la semaine dernière.",
        "Pas de retouche, je suis exactement comme ça.",
        "Vraie fille, vraies photos.",
        "Toutes les photos sont de moi et récentes.",
        "Photos réelles, sans filtre.",
    ),
    (
        "Pas de numéros masqués, pas de SMS sans prénom.",
        "Hommes respectueux uniquement, hygiène exigée.",
        "Discrétion assurée et demandée.",
        "Pas de précipitation, j'aime prendre mon temps.",
        "Messieurs polis et généreux uniquement.",
        "Pas de drogue, pas d'abus d'alcool.",
        "Demandes sérieuses uniquement.",
        "Merci d'être à l'heure.",
        "Merci de vous présenter dans votre premier message.",
        "Pas de perte de temps svp.",
    ),
    (
        "Appelez-moi au {phone}.",
        "Contact : {phone}",
        "Tél {phone}, WhatsApp aussi.",
        "Appelez le {phone} entre midi et minuit.",
        "Pour rendez-vous appelez le {phone}.",
        "Mon numéro : {phone} (appels uniquement)",
        "Joignable au {phone}.",
        "Téléphone {phone}, réponse rapide.",
        "Réservez vite : {phone}",
        "SMS d'abord svp : {phone}",
        "Appelez simplement le {phone}.",
        "SMS ou appel au {phone}.",
    ),
    (
        "Telegram : @{handle}",
        "Aussi sur Telegram @{handle}",
        "Écrivez-moi sur telegram : @{handle}",
        "Telegram @{handle} pour les photos",
        "Plus de photos sur Telegram : @{handle}",
        "Tg : @{handle}",
    ),
    (
        "Email : {email}",
        "Écrivez-moi à {email}",
        "Contact par mail : {email}",
        "Réservations : {email}",
        "Mail : {email}",
    ),
    (
        "Plus de photos sur {site}",
        "Mon site : {site}",
        "Agenda et photos : {site}",
        "Visitez {site}",
    ),
    (
        "Bisous, {name}",
        "À très vite !",
        "N'attendez pas, je ne reste pas longtemps.",
        "Au plaisir de vous rencontrer. {name}",
        "Gros bisous et à bientôt.",
        "Merci de m'avoir lue, {name}",
        "J'attends votre appel.",
        "À bientôt, {name}",
        "Bonne journée messieurs.",
        "Grand sourire, {name}",
        "Bises, {name}",
        "À tout de suite.",
    ),
)
_BANKS = (_EN, _FR)
_BANK_SIZES = np.array([[len(s) for s in bank] for bank in _BANKS], dtype=np.uint8)
# Sections an ad may leave out, and how often it keeps them.
_OPTIONAL = {2: 0.75, 3: 0.75, 5: 0.8, _PHOTOS: 0.6, _RULES: 0.5}

_REPORTER_NOTES = (
    "Same girl on several sites with different names.",
    "I think she is not free to leave.",
    "This looks like trafficking.",
    "The same phone number is in many ads.",
    "Ad reposted every day in a different city.",
    "She does not seem to speak the language, someone else answers the phone.",
    "Possible exploitation, please check.",
    "Suspicious ad.",
    "Même fille sur plusieurs sites, prénoms différents.",
    "Je pense qu'elle n'est pas libre.",
    "Annonce suspecte, merci de vérifier.",
    "Un homme répond au téléphone à sa place.",
    "Annonce republiée chaque jour dans une autre ville.",
)
_NOISE_NOTES = (
    "saw this ad",
    "please check",
    "not sure if this is relevant",
    "spam?",
    "check this site",
    "I don't know who else to tell",
    "bad site",
    "weird page",
    "vu cette annonce",
    "merci de vérifier",
    "site bizarre",
    "je ne sais pas à qui le signaler",
)
_NOISE_EXCERPTS = ("", "", "", "ad no longer online", "page not found", "annonce supprimée")
# Weighted draws as uniform choices from repeated entries: cheaper than random.choices.
_COUNTRY_DRAW = ("FR",) * 10 + ("BE",) * 3 + ("DE",) * 2 + ("ES",) * 2 + ("IT",) * 2 + ("NL",) * 2
_CATEGORY_DRAW = ("sex ad",) * 11 + ("trafficking",) * 6 + ("exploitation",) * 3
_PRICES = (80, 100, 120, 150, 150, 180, 200, 200, 250, 300)


def _compose(lang: int, choices: Sequence[int]) -> str:
    """The text of an ad with slots, from one phrase per section (or _SKIP)."""
    bank = _BANKS[lang]
    body = " ".join(bank[s][choices[s]] for s in range(1, _CONTACT) if choices[s] != _SKIP)
    contact = "\n".join(
        bank[s][choices[s]] for s in range(_CONTACT, _CLOSING) if choices[s] != _SKIP
    )
    title, closing = bank[_TITLE][choices[_TITLE]], bank[_CLOSING][choices[_CLOSING]]
    return f"{title}\n{body}\n{contact}\n{closing}"


def _sized_networks(rng: np.random.Generator, count: int, total: int) -> npt.NDArray[np.int64]:
    """`count` sizes between the bounds, skewed (many small, some large), adding up to `total`."""
    sizes_range = np.arange(MIN_NETWORK_SIZE, MAX_NETWORK_SIZE + 1)
    weights = sizes_range.astype(np.float64) ** -_SIZE_EXPONENT
    sizes = rng.choice(sizes_range, size=count, p=weights / weights.sum()).astype(np.int64)
    while (gap := total - int(sizes.sum())) != 0:
        room = sizes < MAX_NETWORK_SIZE if gap > 0 else sizes > MIN_NETWORK_SIZE
        candidates = np.flatnonzero(room)
        picked = rng.choice(candidates, size=min(abs(gap), len(candidates)), replace=False)
        sizes[picked] += 1 if gap > 0 else -1
    return sizes


class _Corpus:
    """The plan of one corpus: how many reports of each kind, and every network's
    definition, as arrays (about a hundred bytes a network)."""

    def __init__(self, reports: int, seed: int) -> None:
        network_ads = round(reports * NETWORK_SHARE)
        count = min(max(1, round(reports / REPORTS_PER_NETWORK)), network_ads // MIN_NETWORK_SIZE)
        self.network_ads = network_ads if count else 0
        self.unrelated_ads = min(round(reports * UNRELATED_SHARE), reports - self.network_ads)
        self.networks = count
        self.phones = _PhonePool(seed)
        rng = np.random.default_rng(_stable_int("networks", seed, reports))
        sizes = _sized_networks(rng, count, self.network_ads)
        self.ends = np.cumsum(sizes)
        n_phones = np.where(sizes <= 3, 1, rng.choice([1, 2, 3], size=count, p=[0.6, 0.3, 0.1]))
        self.n_phones = n_phones
        self.phone_ends = np.cumsum(n_phones)
        self.network_phones = int(self.phone_ends[-1]) if count else 0
        self.n_templates = np.minimum(
            sizes, rng.choice([1, 2, 3], size=count, p=[0.5, 0.35, 0.15])
        ).astype(np.uint8)
        self.lang = (rng.random(count) < 0.5).astype(np.uint8)
        self.n_names = rng.integers(1, 5, size=count, dtype=np.uint8)
        self.names = rng.integers(0, len(NAMES), size=(count, 4), dtype=np.uint8)
        self.n_cities = rng.integers(2, 7, size=count, dtype=np.uint8)
        self.cities = rng.integers(0, len(CITIES), size=(count, 6), dtype=np.uint8)
        self.price = rng.choice(np.array(_PRICES, dtype=np.uint16), size=count)
        self.age = rng.integers(20, 31, size=count, dtype=np.uint8)
        self.n_pictures = rng.integers(1, 5, size=count, dtype=np.uint8)
        self.word = rng.integers(0, len(_HANDLE_WORDS), size=count, dtype=np.uint8)
        self.mail = rng.integers(0, len(_MAIL_DOMAINS), size=count, dtype=np.uint8)
        self.site = np.where(
            rng.random(count) < 0.25, rng.integers(0, len(_SITE_WORDS), size=count), -1
        ).astype(np.int8)
        has_handle = rng.random(count) < 0.35
        has_email = rng.random(count) < 0.2
        # Templates: one phrase per section, per network and template slot.
        bounds = np.broadcast_to(_BANK_SIZES[self.lang][:, None, :], (count, 3, _SECTIONS))
        templates = rng.integers(0, bounds, dtype=np.uint8)
        keep = rng.random((count, 3, _SECTIONS), dtype=np.float32)
        for section, share in _OPTIONAL.items():
            templates[:, :, section][keep[:, :, section] >= share] = _SKIP
        for section, has, share in (
            (_TELEGRAM, has_handle, 0.8),
            (_EMAIL, has_email, 0.7),
            (_SITE, self.site >= 0, 0.5),
        ):
            shown = has[:, None] & (keep[:, :, section] < share)
            templates[:, :, section][~shown] = _SKIP
        self.templates = templates
        self.style = rng.choice(len(_STYLE_NAMES), size=(count, 3), p=_STYLE_WEIGHTS).astype(
            np.uint8
        )

    def start(self, network: int) -> int:
        return int(self.ends[network - 1]) if network else 0

    def _contact(self, network: int, phone: int) -> tuple[str, str]:
        """(signal, text written in a {phone} slot) of the network's phone number `phone`."""
        i = int(self.phone_ends[network]) - int(self.n_phones[network]) + phone
        if i < PHONE_POOL_SIZE:
            e164 = self.phones.number(i)
            return f"phone:{e164}", e164
        handle = f"{self._handle(network)}_{phone}"
        return f"handle:telegram:@{handle}", f"Telegram @{handle}"

    def _handle(self, network: int) -> str:
        name = _NAME_SLUGS[int(self.names[network, 0])].replace("-", "")
        return f"{name}_{_HANDLE_WORDS[int(self.word[network])]}{network}"

    def network_ad(self, index: int, network: int, position: int, rng: random.Random) -> DemoReport:
        n_templates = int(self.n_templates[network])
        anchor = position < n_templates
        # Ad k < n_templates is template k's anchor, with the first phone: see the docstring.
        template = position if anchor else rng.randrange(n_templates)
        phone = 0 if anchor or rng.random() < 0.5 else rng.randrange(int(self.n_phones[network]))
        lang = int(self.lang[network])
        choices = tuple(self.templates[network, template].tolist())
        contact_signal, contact = self._contact(network, phone)
        if contact.startswith("+"):
            contact = _format_phone(contact, int(self.style[network, template]))
        name_index = int(self.names[network, rng.randrange(int(self.n_names[network]))])
        name = NAMES[name_index]
        city_index = int(self.cities[network, rng.randrange(int(self.n_cities[network]))])
        signals = [contact_signal, f"template:n{network}-t{template}"]
        handle = email = site = ""
        if choices[_TELEGRAM] != _SKIP:
            handle = self._handle(network)
            signals.append(f"handle:telegram:@{handle}")
        if choices[_EMAIL] != _SKIP:
            name0 = _NAME_SLUGS[int(self.names[network, 0])]
            word = _HANDLE_WORDS[int(self.word[network])]
            email = f"{name0}.{word}{network}@{_MAIL_DOMAINS[int(self.mail[network])]}"
            signals.append(f"email:{email}")
        own_site = int(self.site[network])
        if own_site >= 0:
            site = f"{_SITE_WORDS[own_site]}{network}.example"
            if choices[_SITE] != _SKIP:
                signals.append(f"domain:{site}")
        excerpt = _compose(lang, choices).format(
            name=name,
            city=CITIES[city_index],
            age=int(self.age[network]) + rng.randrange(3),
            price=int(self.price[network]) + rng.choice((0, 0, 0, 20, 50)),
            phone=contact,
            handle=handle,
            email=email,
            site=site,
        )
        if site and rng.random() < 0.3:
            url = f"https://{site}/{_NAME_SLUGS[name_index]}/{index}"
            if f"domain:{site}" not in signals:
                signals.append(f"domain:{site}")
        else:
            url = _big_site_url(index, city_index, name_index, rng)
        image = None
        if rng.random() < _NETWORK_IMAGE_SHARE:
            picture = f"n{network}-p{rng.randrange(int(self.n_pictures[network]))}"
            image = DemoImage(picture, 0 if rng.random() < 0.4 else rng.randrange(1, 100))
            signals.append(f"picture:{picture}")
        return DemoReport(
            index=index,
            network=network,
            kind="network_ad",
            url=url,
            excerpt=excerpt,
            description=_description(rng),
            category=rng.choice(_CATEGORY_DRAW),
            reporter_country=rng.choice(_COUNTRY_DRAW),
            image=image,
            signals=tuple(signals),
        )

    def unrelated_ad(self, index: int, ordinal: int, rng: random.Random) -> DemoReport:
        lang = rng.randrange(2)
        bank = _BANKS[lang]
        choices = [rng.randrange(len(section)) for section in bank]
        for section, share in _OPTIONAL.items():
            if rng.random() >= share:
                choices[section] = _SKIP
        choices[_SITE] = _SKIP
        name_index = rng.randrange(len(NAMES))
        name = NAMES[name_index]
        city_index = rng.randrange(len(CITIES))
        # Unique names built from `ordinal`; network ones end in their number instead.
        own = f"{_NAME_SLUGS[rng.randrange(len(NAMES))].replace('-', '')}{ordinal}"
        word = _HANDLE_WORDS[rng.randrange(len(_HANDLE_WORDS))]
        handle = f"{own}_{word}"
        email = f"{own}.{word}@{_MAIL_DOMAINS[rng.randrange(len(_MAIL_DOMAINS))]}"
        signals: list[str] = []
        phone = ""
        pool_index = self.network_phones + ordinal
        if pool_index < PHONE_POOL_SIZE:
            e164 = self.phones.number(pool_index)
            phone = _format_phone(e164, rng.randrange(len(_STYLE_NAMES)))
            signals.append(f"phone:{e164}")
            by_email = False
            by_handle = rng.random() < 0.1
        else:  # the fictional numbers are spent: a contact of its own instead
            choices[_CONTACT] = _SKIP
            by_email = rng.random() < 0.4
            by_handle = not by_email
        if by_handle:
            signals.append(f"handle:telegram:@{handle}")
        else:
            choices[_TELEGRAM] = _SKIP
        if by_email:
            signals.append(f"email:{email}")
        else:
            choices[_EMAIL] = _SKIP
        excerpt = _compose(lang, choices).format(
            name=name,
            city=CITIES[city_index],
            age=rng.randrange(20, 36),
            price=rng.choice(_PRICES),
            phone=phone,
            handle=handle,
            email=email,
            site="",
        )
        url = _big_site_url(index, city_index, name_index, rng)
        image = None
        if rng.random() < _UNRELATED_IMAGE_SHARE:
            image = DemoImage(f"u{index}-p0")
            signals.append(f"picture:{image.picture}")
        return DemoReport(
            index=index,
            network=None,
            kind="unrelated_ad",
            url=url,
            excerpt=excerpt,
            description=_description(rng),
            category=rng.choice(_CATEGORY_DRAW),
            reporter_country=rng.choice(_COUNTRY_DRAW),
            image=image,
            signals=tuple(signals),
        )

    def noise(self, index: int, rng: random.Random) -> DemoReport:
        domain, path = BIG_SITES[rng.randrange(len(BIG_SITES))]
        return DemoReport(
            index=index,
            network=None,
            kind="noise",
            url=f"https://{domain}/{path}/{index}",
            excerpt=rng.choice(_NOISE_EXCERPTS),
            description=rng.choice(_NOISE_NOTES),
            category=rng.choice(_CATEGORY_DRAW),
            reporter_country=rng.choice(_COUNTRY_DRAW),
            image=None,
        )


def _big_site_url(index: int, city: int, name: int, rng: random.Random) -> str:
    domain, path = BIG_SITES[rng.randrange(len(BIG_SITES))]
    return f"https://{domain}/{path}/{_CITY_SLUGS[city]}/{_NAME_SLUGS[name]}-{index}"


def _description(rng: random.Random) -> str:
    return rng.choice(_REPORTER_NOTES) if rng.random() < _DESCRIPTION_SHARE else ""
