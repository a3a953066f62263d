"""A year of a hotline's work written straight into the database, for benchmarks of what
people read (the console, statistics) at a realistic size: `fill(items=1_000_000)`.

It writes what the pipeline, the analysts, the outbox and the takedown follow-up would
have left, in chunked multi-row inserts (`tipline.common.bulk.insert_rows`), never through
the pipeline: 100,000 items take 40 s on SQLite here, a million about 8 minutes (more
when the machine is busy: docs/performance.md, "Console"). The same arguments give the
same rows; ids continue after whatever the tables already hold. Everything is made up:
`.example` sites, fiction-range phone numbers (`tipline.ops.demo`'s pool), documentation
IP addresses and AS numbers, tame ad texts.

What one call writes, for `items` items (the shares are of items unless said otherwise):

- Items, in the order they were first reported, spread evenly over the calendar year
  `year` (its end is the data set's "now"): 83 % pages on 4,000 `.example` sites (a few
  big classifieds sites carry most ads), 14 % pictures, 3 % texts. Themes: trafficking
  40 %, CSAM 20 % (half of them pictures), fraud 15 %, other 10 %, hate 7 %, grooming 4 %,
  terrorism 4 %.
- Reports: 85 % of items have one, 10 % two, 3.5 % three to five, 1.4 % six to thirty,
  0.1 % thirty to three hundred (about 1.6 reports an item). The first is received when
  the item is first reported, the others over the following days. Channels: provider API
  60 %, public form 30 % (a third of those with the reporter's name and contact), partner
  hotlines 10 %. Each report has its `ReportItem` link and its `Analysis` (risk, priority).
- Texts: ad-like excerpts from a few templates, each ending with a contact: a phone (70 %
  of page and text reports), a Telegram handle (6 %), an e-mail (8 %), as `Observable`
  rows with their positions; the indicators Analyze finds in the template are written as
  `IndicatorHit` rows (found by `tipline.analyze.indicators`, once per template).
- Priority (the best of the item's reports): CSAM and grooming skew urgent; overall about
  1.4 % P1, 14 % P2, 33 % P3, 52 % P4.
- Waiting for an assessment (`needs_assessment`, the analysts' queue): `waiting_share`
  of the items (default 5 %), mostly the latest ones: an item reported a time t before
  the year's end waits with probability exp(-t/τ), τ chosen so the share comes out right,
  P1 and P2 items being assessed about twenty and four times sooner.
- Known content: `known_share` of the pictures (default 30 %) match a hash bank entry
  (`ItemAnalysis.known_content`, a `BankMatch`); closed as known, never waiting.
- Everything else is assessed: `assessed_at` from an hour (P1) to several days (P4) after
  the first report; classifications baseline / national / doubtful / not illegal in
  plausible shares by theme; one `item.assess` audit record each, in a valid hash chain.
- Routing: each item's current `Routing`, decided by Orient's own default rules
  (`tipline.orient.core.route`) on its facts; an assessed item also keeps the routing it
  had before its assessment (not current). Hosting: each site has a `HostingLookup` (15 %
  two, the older one elsewhere) in France (home, 30 %), a partner's country (DE, NL, GB,
  BE, ES, IT, US: 45 %), a country without a hotline (17 %), or none found (8 %).
- Dispatches, with the rules' times: proposals waiting for the assessment, queued when
  it comes, sent seconds to minutes later, acknowledged (offices 75 %, partners 85 %)
  hours later, 1 % failed; P1 alerts to the supervisor on duty; proposals cancelled when
  the item proved not illegal; a manual, four-eyes dispatch for 5 % of illegal pictures.
- Takedowns: a page whose host was noticed is followed up: 88 % removed (median about a
  day and a half after the first notice), a second notice after a day for 30 %, a third
  and an escalation for 10 %; half the pages sent to a partner get the partner's removal.
- Networks: about `network_share` of the items (default 25 %: 24 %), trafficking pages
  and texts, belong to networks of 2 to 300 items (8 on average) active for a while; each
  member is linked to the network's first item by the phone they share (`Link`,
  `Membership`, `Network`); traces and text prints are not written.
- Also: a `MediaFile` per picture (fingerprints, no thumbnail in the evidence store), the
  offices, partner hotlines and hosts' abuse desks, a bank of 2,000 entries, and a few
  staff (`scale-analyst-NN`, `scale-senior-NN`).

Time fields are coherent: report received ≥ item first reported; first routing ≤
assessment ≤ dispatch queued ≤ sent ≤ acknowledged; notice sent = takedown opened ≤
removed. Assessments end within the year; deliveries and removals may run a few days
past it. Rows are made in a forked child process while this one writes them.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import queue
import random
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.db.models import Max

from tipline.analyze.indicators import find_indicators
from tipline.analyze.models import (
    Analysis,
    BankEntry,
    BankMatch,
    HashBank,
    HostingLookup,
    IndicatorHit,
    ItemAnalysis,
    Observable,
)
from tipline.common.audit import GENESIS, record_hash
from tipline.common.bulk import insert_rows, prepared_insert, reset_sequences
from tipline.common.models import AuditRecord
from tipline.console import roles
from tipline.console.services import roles_ensure
from tipline.crossref.models import Link, Membership, Network
from tipline.harmonize.core import ItemKind, item_key
from tipline.harmonize.models import Item, MediaFile, ReportItem
from tipline.intake.models import Provider, Report
from tipline.orient import core as orient_core
from tipline.orient.models import Destination, DestinationKind, Dispatch, Routing, Takedown

from .demo import _format_phone, _PhonePool

CHUNK = 10_000
# While filling, a page cache that holds the indexes on random keys (item keys, envelope
# ids, audit hashes): with the usual 64 MB, inserts at a million items wait on the disk.
FILL_CACHE = -(1 << 20)  # KiB: 1 GiB
HOSTS = 4_000
PARTNER_COUNTRIES = ("DE", "NL", "GB", "BE", "ES", "IT", "US")
NO_HOTLINE_COUNTRIES = ("RU", "BG", "SC", "PA", "UA", "VN")
THEMES = (
    ("trafficking", 40),
    ("csam", 20),
    ("fraud", 15),
    ("other", 10),
    ("hate", 7),
    ("grooming", 4),
    ("terrorism", 4),
)
# Priority shares by theme (P1, P2, P3, P4).
PRIORITY_MIX = {
    "csam": (0.04, 0.40, 0.40, 0.16),
    "grooming": (0.05, 0.30, 0.40, 0.25),
    "trafficking": (0.01, 0.10, 0.40, 0.49),
}
PRIORITY_OTHER = (0.0, 0.02, 0.20, 0.78)
PRIORITIES = ("P1", "P2", "P3", "P4")
# How much sooner than a P4 item an item of each priority is assessed.
URGENCY = {"P1": 0.05, "P2": 0.25, "P3": 1.0, "P4": 1.0}
# Median hours from first report to assessment.
ASSESS_HOURS = {"P1": 0.7, "P2": 8.0, "P3": 40.0, "P4": 110.0}
CHANNELS = (("provider", 60), ("public", 30), ("partner", 10))
REPORTER_COUNTRIES = ("FR",) * 10 + ("BE", "BE", "DE", "DE", "ES", "IT", "NL", "CH")
AD_TEXTS = (
    "New in town, sweet and discreet, available 24/7, hotel incall only.",
    "Nouvelle sur Lyon, douce et discrète, disponible jour et nuit, hôtel uniquement.",
    "Young and new, real photos, outcall only, call me now.",
    "Massage relaxant, ambiance zen, sur rendez-vous, quartier gare.",
    "Just arrived for a few days only, available now, text first.",
    "Première fois dans votre ville, disponible, appelle-moi vite.",
    "Sweet student, discreet meetings, no rush, hotel incall.",
    "VIP companion for dinners and events, elegant and discreet.",
)
OTHER_TEXTS = {
    "fraud": "Your parcel is held at customs: pay the fee within 24 hours to release it.",
    "hate": "Forum post reported for its language about a group of people.",
    "terrorism": "Channel reported for sharing propaganda videos.",
    "grooming": "Chat excerpt: an adult asks a young user to move to a private app.",
    "csam": "",
    "other": "Page reported without a description of its content.",
}
DESCRIPTIONS = ("", "", "", "Saw this ad on a classifieds site.", "Looks like a network.")
CLASSIFICATIONS = {
    "csam": (("baseline", 45), ("national", 30), ("not_illegal", 20), ("doubtful", 5)),
    "other": (("national", 55), ("not_illegal", 40), ("doubtful", 5)),
}
DUTY = "duty-supervisor@hotline.example"
HOST_MARK, ABUSE_MARK = "\x00host\x00", "\x00abuse\x00"


_CUMULATIVE: dict[int, tuple[list[str], list[float]]] = {}


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    found = _CUMULATIVE.get(id(weighted))
    if found is None:
        values, total, cumulative = [v for v, _ in weighted], 0.0, []
        for _, w in weighted:
            total += w
            cumulative.append(total)
        found = _CUMULATIVE[id(weighted)] = (values, cumulative)
    return rng.choices(found[0], cum_weights=found[1])[0]


def _waiting_tau(share: float) -> float:
    """τ (in years) such that items wait with probability exp(-age/(τ·urgency)) in the
    proportion `share` overall, given the theme and priority mix."""
    mix: dict[str, float] = dict.fromkeys(PRIORITIES, 0.0)
    total = sum(w for _, w in THEMES)
    for theme, w in THEMES:
        for p, s in zip(PRIORITIES, PRIORITY_MIX.get(theme, PRIORITY_OTHER), strict=True):
            mix[p] += w / total * s

    def mean(tau: float) -> float:
        return sum(
            s * tau * URGENCY[p] * (1 - math.exp(-1 / (tau * URGENCY[p]))) for p, s in mix.items()
        )

    low, high = 1e-9, 1e9
    for _ in range(200):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if mean(mid) < share else (low, mid)
    return low


@dataclass
class _Host:
    name: str
    country: str  # "" when no lookup found it
    abuse_email: str
    destination_id: int | None = None


@dataclass
class _Ids:
    """The next id of each table, continuing after the rows already there."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, model: type[Any], n: int = 1) -> int:
        key = model._meta.label
        if key not in self.next:
            self.next[key] = (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        first = self.next[key]
        self.next[key] = first + n
        return first


@dataclass(frozen=True)
class _Decided:
    decision: orient_core.Decision
    rules: list[str]
    close_as: str
    hold: bool
    escalate: bool
    facts: dict[str, Any]
    key: str


@dataclass
class _Rows:
    reports: list[tuple[Any, ...]] = field(default_factory=list)
    items: list[tuple[Any, ...]] = field(default_factory=list)
    report_items: list[tuple[Any, ...]] = field(default_factory=list)
    analyses: list[tuple[Any, ...]] = field(default_factory=list)
    observables: list[tuple[Any, ...]] = field(default_factory=list)
    hits: list[tuple[Any, ...]] = field(default_factory=list)
    routings: list[tuple[Any, ...]] = field(default_factory=list)
    item_analyses: list[tuple[Any, ...]] = field(default_factory=list)
    bank_matches: list[tuple[Any, ...]] = field(default_factory=list)
    media: list[tuple[Any, ...]] = field(default_factory=list)
    dispatches: list[tuple[Any, ...]] = field(default_factory=list)
    takedowns: list[tuple[Any, ...]] = field(default_factory=list)


REPORT_COLUMNS = (
    "id",
    "channel",
    "received_at",
    "provider",
    "external_id",
    "receipt",
    "category",
    "urls",
    "description",
    "excerpt",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "reporter_country",
    "payload",
    "payload_sha256",
    "state",
    "state_changed_at",
    "attempts",
    "last_error",
    "failed_stage",
)
ITEM_COLUMNS = (
    "id",
    "kind",
    "key",
    "url",
    "host",
    "host_kind",
    "domain",
    "sha256",
    "text",
    "theme",
    "content_type",
    "site_type",
    "classification",
    "assessed_at",
    "needs_assessment",
    "report_count",
    "first_reported_at",
    "last_reported_at",
    "channels",
    "reporter_countries",
    "evidence",
)
ROUTING_COLUMNS = (
    "id",
    "item",
    "facts",
    "facts_key",
    "rules",
    "reason",
    "hold",
    "escalate",
    "close_as",
    "priority",
    "hosting_country",
    "known_content",
    "problems",
    "is_current",
    "decided_at",
)
DISPATCH_COLUMNS = (
    "item",
    "routing",
    "destination",
    "address",
    "kind",
    "state",
    "waiting_for",
    "flag",
    "envelope_id",
    "in_reply_to",
    "body",
    "sequence",
    "attempts",
    "next_attempt_at",
    "last_error",
    "receipt",
    "reference",
    "updates",
    "proposed_by",
    "confirmed_by",
    "cancel_reason",
    "created_at",
    "queued_at",
    "sent_at",
    "acknowledged_at",
    "closed_at",
)
TAKEDOWN_COLUMNS = (
    "item",
    "host",
    "country",
    "state",
    "notices",
    "escalated_at",
    "first_notice_at",
    "last_notice_at",
    "next_check_at",
    "last_check_at",
    "last_check",
    "checks",
    "removed_at",
    "removed_how",
    "opened_at",
)


class _Filler:
    def __init__(
        self,
        *,
        items: int,
        seed: int,
        year: int,
        waiting_share: float,
        known_share: float,
        network_share: float,
    ) -> None:
        self.n = items
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
        self.start = datetime(year, 1, 1, tzinfo=UTC)
        self.end = datetime(year + 1, 1, 1, tzinfo=UTC)
        self.span = (self.end - self.start).total_seconds()
        # Known pictures never wait: the others wait a little more often to make up for them.
        known_items = (
            known_share
            * sum(w * (0.5 if t == "csam" else 0.05) for t, w in THEMES)
            / sum(w for _, w in THEMES)
        )
        self.tau = (
            _waiting_tau(min(0.999, waiting_share / (1 - known_items)))
            if 0 < waiting_share < 1
            else 0.0
        )
        self.waiting_share = waiting_share
        self.known_share = known_share
        self.network_share = network_share
        self.ids = _Ids()
        self.phones = _PhonePool(seed)
        self.rules = orient_core.default_rules()
        self.decisions: dict[tuple[Any, ...], _Decided] = {}
        self.templates = [(t, find_indicators(t)) for t in AD_TEXTS]
        self.other_hits = {k: find_indicators(t) for k, t in OTHER_TEXTS.items()}
        self.counts: dict[str, int] = {}
        # Networks: id per item (-1: none), and the networks taking members.
        self.item_first = self.ids.take(Item, 0)
        self.item_network = np.full(items, -1, dtype=np.int64)
        self.item_time = np.zeros(items, dtype=np.float64)
        self.open_networks: list[list[int]] = []  # [network, members left]
        self.networks = 0
        self.audit: list[tuple[float, int, str, str, str]] = []
        self._setup()

    # --- The directory, banks, people, hosts ------------------------------------------------

    def _setup(self) -> None:
        roles_ensure()
        self.analysts = [self._user(f"scale-analyst-{k:02d}", roles.ANALYST) for k in range(12)]
        self.seniors = [self._user(f"scale-senior-{k:02d}", roles.SENIOR_ANALYST) for k in range(4)]
        self.provider, _ = Provider.objects.get_or_create(
            name="Scale Platform (synthetic)",
            defaults={"token_hash": hashlib.sha256(b"scale").hexdigest(), "token_prefix": "scale"},
        )
        offices = list(Destination.objects.filter(kind=DestinationKind.OFFICE, is_active=True))
        anyone = self._destination(
            f"scale-office-{settings.COUNTRY.lower()}",
            kind=DestinationKind.OFFICE,
            name="National cybercrime office (fictional)",
            country=settings.COUNTRY,
            email="referrals@cyber.police.example",
        )
        # The competent office for each theme, as Orient finds it.
        self.offices = {
            theme: next((o.pk for o in offices if theme in (o.themes or [])), anyone)
            for theme, _ in THEMES
        }
        self.partners = {
            cc: self._destination(
                f"scale-partner-{cc.lower()}",
                kind=DestinationKind.PARTNER,
                name=f"Partner hotline {cc} (fictional)",
                country=cc,
                instance_id=f"https://hotline-{cc.lower()}.example",
                endpoint_url=f"https://hotline-{cc.lower()}.example/exchange/inbox",
            )
            for cc in PARTNER_COUNTRIES
        }
        bank, _ = HashBank.objects.get_or_create(
            name="Scale bank (synthetic)", defaults={"theme": "csam", "classification": "baseline"}
        )
        have = BankEntry.objects.filter(bank=bank).count()
        bank_rng = random.Random(self.seed)  # noqa: S311 - synthetic data
        BankEntry.objects.bulk_create(
            # Not from self.rng: a second fill into the same database draws the same items.
            BankEntry(bank=bank, kind="pdq", value=f"{bank_rng.getrandbits(256):064x}")
            for _ in range(max(0, 2_000 - have))
        )
        self.entries = list(BankEntry.objects.filter(bank=bank).values_list("id", flat=True))
        self._hosts()

    def _user(self, username: str, role: str) -> int:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.groups.add(Group.objects.get(name=role))
        return user.pk

    def _destination(self, code: str, **fields: Any) -> int:
        dest, _ = Destination.objects.get_or_create(code=code, defaults=fields)
        return dest.pk

    def _hosts(self) -> None:
        rng = self.rng
        words = ("annonces", "petites", "rencontres", "escort", "ads", "vivastreet", "city")
        countries = (
            [(settings.COUNTRY, 30)]
            + [(cc, 45 / len(PARTNER_COUNTRIES)) for cc in PARTNER_COUNTRIES]
            + [(cc, 17 / len(NO_HOTLINE_COUNTRIES)) for cc in NO_HOTLINE_COUNTRIES]
            + [("", 8)]
        )
        self.hosts: list[_Host] = []
        lookups: list[tuple[Any, ...]] = []
        destinations: list[Destination] = []
        for k in range(HOSTS):
            name = f"{words[k % len(words)]}{k}.example"
            country = rng.choices([c for c, _ in countries], [w for _, w in countries])[0]
            host = _Host(name, country, f"abuse@{name}" if rng.random() < 0.9 else "")
            self.hosts.append(host)
            if country and host.abuse_email and country not in PARTNER_COUNTRIES:
                destinations.append(
                    Destination(
                        kind=DestinationKind.HOST,
                        code="host-" + hashlib.sha256(host.abuse_email.encode()).hexdigest()[:10],
                        name=f"Abuse desk of {name}",
                        email=host.abuse_email,
                        country=country,
                        language="fr" if country == "FR" else "en",
                        note=f"Found by the hosting lookup of {name}",
                    )
                )
            when = self.start - timedelta(days=rng.uniform(1, 60))
            changes: list[dict[str, str]] = []
            if rng.random() < 0.15:  # it moved: an older lookup elsewhere
                before = rng.choice([c for c, _ in countries if c and c != country])
                lookups.append(self._lookup(name, before, host.abuse_email, when, []))
                when += timedelta(days=rng.uniform(10, 200))
                changes = [{"field": "country", "before": before, "after": country}]
            lookups.append(self._lookup(name, country, host.abuse_email, when, changes))
        Destination.objects.bulk_create(destinations, ignore_conflicts=True)
        codes = dict(
            Destination.objects.filter(kind=DestinationKind.HOST).values_list("email", "id")
        )
        for host in self.hosts:
            if host.country and host.country not in PARTNER_COUNTRIES:
                host.destination_id = codes.get(host.abuse_email)
        insert_rows(
            HostingLookup,
            (
                "host",
                "country",
                "addresses",
                "countries",
                "asn",
                "as_org",
                "abuse_email",
                "sources",
                "errors",
                "changes",
                "looked_up_at",
            ),
            lookups,
        )
        # Popular sites carry most ads: a Zipf-like draw over the hosts.
        weights = np.array([1 / (k + 5) for k in range(HOSTS)])
        self.host_cdf = np.cumsum(weights) / weights.sum()

    def _lookup(
        self, name: str, country: str, abuse: str, when: datetime, changes: list[Any]
    ) -> tuple[Any, ...]:
        k = self.rng.randrange(254)
        asn = 64496 + k % 16
        return (
            name,
            country,
            [f"203.0.113.{k + 1}"],
            [country] if country else [],
            asn if country else None,
            f"Example Hosting {asn}" if country else "",
            abuse if country else "",
            {"dns": "synthetic", "geoip": "synthetic"},
            [] if country else ["no GeoIP answer"],
            changes,
            when,
        )

    # --- Items ---------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        """Rows are made in a forked child and written here as they come: making them and
        inserting them (Django's conversions, SQLite) each take about half the time, and
        there are two cores. The child never touches the database."""
        for model in (Report, Routing):
            self.ids.take(model, 0)  # read before the fork
        context = multiprocessing.get_context("fork")
        chunks: Any = context.Queue(maxsize=2)
        child = context.Process(target=self._make, args=(chunks,), daemon=True)
        child.start()
        cache = _sqlite_cache(FILL_CACHE)
        try:
            while True:
                try:
                    message = chunks.get(timeout=5)
                except queue.Empty:
                    if not child.is_alive():
                        raise RuntimeError("the generating process died") from None
                    continue
                if isinstance(message, list):
                    with transaction.atomic():
                        self._execute(message)
                    continue
                if isinstance(message, str):
                    raise RuntimeError(f"generating failed:\n{message}")
                break
        finally:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
            _sqlite_cache(cache)
        self.item_network, self.item_time, self.audit, made = message
        for what, n in made.items():
            self._count(what, n)
        with transaction.atomic():
            self._write_networks()
            self._write_audit()
        reset_sequences(
            Report, Item, Routing, Network, Link, Dispatch, Takedown, AuditRecord, MediaFile
        )
        return self.counts

    def _make(self, chunks: Any) -> None:
        """In the child: every chunk's rows, then what the writer needs at the end."""
        try:
            for first in range(0, self.n, CHUNK):
                rows = _Rows()
                for k in range(first, min(self.n, first + CHUNK)):
                    self._item(k, rows)
                self._count("items", len(rows.items))
                chunks.put(self._statements(rows))
            chunks.put((self.item_network, self.item_time, self.audit, self.counts))
        except BaseException:  # the parent raises it
            chunks.put(traceback.format_exc())

    def _count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def _item(self, k: int, rows: _Rows) -> None:
        rng = self.rng
        item_id = self.item_first + k
        frac = (k + rng.random()) / self.n
        first_at = self.start + timedelta(seconds=frac * self.span)
        self.item_time[k] = first_at.timestamp()
        theme = _pick(rng, THEMES)
        roll = rng.random()
        media_share = 0.5 if theme == "csam" else 0.05
        text_share = 0.4 if theme == "grooming" else 0.01
        kind = (
            ItemKind.MEDIA
            if roll < media_share
            else ItemKind.TEXT
            if roll < media_share + text_share
            else ItemKind.URL
        )
        priority = rng.choices(PRIORITIES, PRIORITY_MIX.get(theme, PRIORITY_OTHER))[0]
        host = self.hosts[int(np.searchsorted(self.host_cdf, rng.random()))]
        if kind == ItemKind.URL:
            url = f"https://{host.name}/{theme}/{item_id}"
            identity, sha = url, ""
        else:
            url = ""
            sha = hashlib.sha256(f"scale/{item_id}".encode()).hexdigest()
            identity = sha
        # Networks: pages and texts of ads, a while each.
        network = -1
        if (
            kind != ItemKind.MEDIA
            and theme == "trafficking"
            and rng.random() < min(1.0, self.network_share / 0.4)
        ):
            network = self._network()
            self.item_network[k] = network

        # Reports.
        r = rng.random()
        n_reports = (
            1
            if r < 0.85
            else 2
            if r < 0.95
            else rng.randint(3, 5)
            if r < 0.985
            else rng.randint(6, 30)
            if r < 0.999
            else rng.randint(31, 300)
        )
        report_first = self.ids.take(Report, n_reports)
        times = [first_at]
        for _ in range(n_reports - 1):
            times.append(min(times[-1] + timedelta(hours=rng.expovariate(1 / 30)), self.end))
        channels: set[str] = set()
        countries: set[str] = set()
        phone_index = network if network >= 0 else 40_000 + rng.randrange(60_000)
        phone = self.phones.number(phone_index % 103_500)
        for j, received in enumerate(times):
            rid = report_first + j
            channel = _pick(rng, CHANNELS)
            channels.add(channel)
            country = rng.choice(REPORTER_COUNTRIES)
            countries.add(country)
            named = channel == "public" and rng.random() < 0.33
            if theme == "trafficking" or (theme == "other" and kind == ItemKind.URL):
                body, hits = self.templates[rng.randrange(len(self.templates))]
            else:
                body, hits = OTHER_TEXTS[theme], self.other_hits[theme]
            excerpt, contacts = self._contact(body, phone, kind, rid)
            rows.reports.append(
                (
                    rid,
                    channel,
                    received,
                    self.provider.pk if channel == "provider" else None,
                    f"scale-{rid}" if channel == "provider" else None,
                    f"S{rid:015d}",
                    theme if channel != "provider" else f"{theme} (provider label)",
                    [url] if url else [],
                    rng.choice(DESCRIPTIONS),
                    excerpt,
                    f"Reporter {rid}" if named else "",
                    f"reporter{rid}@mailbox.example" if named else "",
                    _format_phone(self.phones.number(rid % 103_500), 0) if named else "",
                    country,
                    {"scale": rid},
                    "",
                    "oriented",
                    received + timedelta(seconds=rng.uniform(2, 60)),
                    0,
                    "",
                    "",
                )
            )
            rows.report_items.append(
                (rid, item_id, url or f"upload-{rid}.jpg", "new_work" if j == 0 else "inherited")
            )
            report_priority = priority if j == 0 else rng.choice((priority, "P4"))
            rows.analyses.append(
                (
                    rid,
                    {"P1": 85, "P2": 60, "P3": 35}.get(report_priority, 10) + rng.randrange(10),
                    report_priority,
                    False,
                    [],
                    received + timedelta(seconds=rng.uniform(1, 30)),
                )
            )
            for type_, value, start, end in contacts:
                rows.observables.append((rid, "excerpt", type_, value, start, end))
            for h in hits:
                rows.hits.append((rid, "excerpt", h.code, h.start, h.end, h.weight))
        self._count("reports", n_reports)
        last_at = times[-1]

        # What became of it.
        known = kind == ItemKind.MEDIA and rng.random() < self.known_share
        age = (self.end - first_at).total_seconds() / self.span
        waiting = not known and (
            self.waiting_share >= 1
            or (self.tau > 0 and rng.random() < math.exp(-age / (self.tau * URGENCY[priority])))
        )
        decided = first_at + timedelta(seconds=rng.uniform(5, 120))
        assessed_at = None
        classification = "unassessed"
        if not waiting and not known:
            hours = ASSESS_HOURS[priority] * math.exp(rng.gauss(0, 0.8))
            assessed_at = min(decided + timedelta(hours=hours), self.end - timedelta(seconds=1))
            assessed_at = max(assessed_at, decided + timedelta(seconds=30))
            classification = _pick(rng, CLASSIFICATIONS["csam" if theme == "csam" else "other"])
            actor = rng.choice(self.analysts)
            self.audit.append(
                (
                    assessed_at.timestamp(),
                    item_id,
                    f"scale-analyst-{self.analysts.index(actor):02d}",
                    theme,
                    classification,
                )
            )
        if waiting:
            self._count("waiting")
        if known:
            self._count("known_content")
            rows.item_analyses.append((item_id, True, "csam", "baseline", decided))
            rows.bank_matches.append(
                (item_id, rng.choice(self.entries), rng.randrange(20), decided)
            )
        if kind == ItemKind.MEDIA:
            rows.media.append(
                (
                    sha,
                    sha[:32],
                    sha[:40],
                    f"{rng.getrandbits(256):064x}",
                    100,
                    640,
                    480,
                    "JPEG",
                    "",
                    "",
                )
            )
        rows.items.append(
            (
                item_id,
                kind,
                item_key(kind, identity),
                url,
                host.name if url else "",
                "name" if url else "",
                host.name if url else "",
                sha,
                OTHER_TEXTS["grooming"] if kind == ItemKind.TEXT else "",
                theme,
                {ItemKind.URL: "link", ItemKind.MEDIA: "image"}.get(kind, "text"),
                "classified_ads" if theme == "trafficking" and url else "",
                classification,
                assessed_at,
                waiting,
                n_reports,
                first_at,
                last_at,
                sorted(channels),
                sorted(countries),
                [],
            )
        )
        self._routings(
            rows,
            item_id=item_id,
            kind=kind,
            theme=theme,
            priority=priority,
            host=host if url else None,
            channels=tuple(sorted(channels)),
            known=known,
            decided=decided,
            assessed_at=assessed_at,
            classification=classification,
        )

    def _contact(
        self, body: str, phone: str, kind: str, rid: int
    ) -> tuple[str, list[tuple[str, str, int, int]]]:
        """The report's text: the template, then a way to reach the advertiser."""
        rng = self.rng
        if kind == ItemKind.MEDIA or not body:
            return body, []
        roll = rng.random()
        if roll < 0.70:
            written = _format_phone(phone, 0)
            excerpt = f"{body} {written}"
            return excerpt, [("phone", phone, len(body) + 1, len(excerpt))]
        if roll < 0.76:
            handle = f"@ad_{rid % 997}_{rid % 89}"
            excerpt = f"{body} telegram {handle}"
            return excerpt, [("handle", f"telegram:{handle}", len(body) + 10, len(excerpt))]
        if roll < 0.84:
            email = f"contact{rid % 5003}@mailbox.example"
            excerpt = f"{body} {email}"
            start = len(body) + 1
            return excerpt, [
                ("email", email, start, len(excerpt)),
                ("domain", "mailbox.example", start + email.index("@") + 1, len(excerpt)),
            ]
        return body, []

    def _network(self) -> int:
        """A network for a new member: mostly one of those active now, sometimes a new one
        (sizes 2 to 300, most small)."""
        rng = self.rng
        if not self.open_networks or rng.random() < 0.12:
            size = min(300, max(2, int(2 / (1 - rng.random()) ** (1 / 1.2))))
            self.open_networks.append([self.networks, size])
            self.networks += 1
        slot = rng.randrange(max(0, len(self.open_networks) - 300), len(self.open_networks))
        entry = self.open_networks[slot]
        entry[1] -= 1
        if entry[1] <= 0:
            self.open_networks.pop(slot)
        return entry[0]

    # --- Routing, dispatches, takedowns -----------------------------------------------------

    def _decide(self, **facts: Any) -> _Decided:
        """The rules' decision on these facts (item_id 0), cached: many items share the
        same facts but for their id."""
        key = tuple(facts.values())
        found = self.decisions.get(key)
        if found is None:
            decision = orient_core.route(orient_core.ItemFacts(item_id=0, **facts), self.rules)
            shape = asdict(orient_core.ItemFacts(item_id=0, **facts))
            found = _Decided(
                decision=decision,
                rules=[f.rule for f in decision.fired],
                close_as=decision.close_as,
                hold=decision.hold,
                escalate=decision.escalate,
                facts=shape,
                key=hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest(),
            )
            self.decisions[key] = found
        return found

    def _routings(
        self,
        rows: _Rows,
        *,
        item_id: int,
        kind: str,
        theme: str,
        priority: str,
        host: _Host | None,
        channels: tuple[str, ...],
        known: bool,
        decided: datetime,
        assessed_at: datetime | None,
        classification: str,
    ) -> None:
        rng = self.rng
        country = host.country if host else ""
        hosting = (
            "unknown"
            if not country
            else "home"
            if country == settings.COUNTRY
            else "partner"
            if country in PARTNER_COUNTRIES
            else "none"
        )
        base = {
            "kind": str(kind),
            "theme": theme,
            "priority": priority,
            "risk": {"P1": 85, "P2": 60, "P3": 35}.get(priority, 10),
            "channels": channels,
            "known_content": known,
            "hosting": hosting if kind == ItemKind.URL else "unknown",
            "hosting_country": country if kind == ItemKind.URL else "",
            # Marks, replaced in the reason: decisions are then shared across sites.
            "host": HOST_MARK if host else "",
            "abuse_email": ABUSE_MARK if host and country and host.abuse_email else "",
        }
        name = host.name if host else ""
        abuse = host.abuse_email if host and country else ""
        stages = [(self._decide(**base, classification="unassessed", assessed=False), decided)]
        if assessed_at is not None:
            after = self._decide(**base, classification=classification, assessed=True)
            stages.append((after, assessed_at))
        routing_ids = []
        decisions = []
        for n, (decided_, at) in enumerate(stages):
            rid = self.ids.take(Routing)
            routing_ids.append(rid)
            decisions.append(decided_.decision)
            rows.routings.append(
                (
                    rid,
                    item_id,
                    {**decided_.facts, "item_id": item_id, "host": name, "abuse_email": abuse},
                    hashlib.sha256(f"{decided_.key}/{item_id}/{name}".encode()).hexdigest(),
                    decided_.rules,
                    decided_.decision.reason.replace(HOST_MARK, name).replace(ABUSE_MARK, abuse)
                    if name
                    else decided_.decision.reason,
                    decided_.hold,
                    decided_.escalate,
                    decided_.close_as,
                    priority,
                    base["hosting_country"],
                    known,
                    [] if hosting != "unknown" or kind != ItemKind.URL else ["no hosting lookup"],
                    n == len(stages) - 1,
                    at,
                )
            )
        self._count("routings", len(stages))
        first_routing, last_routing = routing_ids[0], routing_ids[-1]
        if priority == "P1":
            sent = decided + timedelta(seconds=rng.uniform(5, 60))
            rows.dispatches.append(
                self._dispatch(
                    item_id,
                    first_routing,
                    None,
                    "alert",
                    "sent",
                    decided,
                    address=DUTY,
                    queued=decided,
                    sent=sent,
                )
            )
        # What the rules asked for before the assessment: proposals waiting for it.
        wanted = [a for a in decisions[0].actions if a.do in ("dispatch", "notice")]
        final = decisions[-1]
        keeps = {(a.do, a.to) for a in final.actions if a.do in ("dispatch", "notice")}
        for action in wanted:
            dest = self._destination_of(action, theme, country, host)
            if dest is None:
                continue
            dkind = "notice" if action.do == "notice" else "dispatch"
            if assessed_at is None:
                rows.dispatches.append(
                    self._dispatch(
                        item_id,
                        first_routing,
                        dest,
                        dkind,
                        "proposed",
                        decided,
                        waiting=orient_core.WAITING_ASSESSMENT,
                    )
                )
                continue
            if (action.do, action.to) not in keeps:
                rows.dispatches.append(
                    self._dispatch(
                        item_id,
                        first_routing,
                        dest,
                        dkind,
                        "cancelled",
                        decided,
                        cancel=f"routing changed: {final.reason}"[:300],
                        closed=assessed_at,
                    )
                )
                continue
            self._delivered(rows, item_id, first_routing, dest, dkind, decided, assessed_at, host)
        # An analyst sends an illegal picture to the police by hand (four eyes).
        if (
            assessed_at is not None
            and kind != ItemKind.URL
            and classification in ("baseline", "national")
            and rng.random() < 0.05
        ):
            self._delivered(
                rows,
                item_id,
                last_routing,
                self.offices[theme],
                "dispatch",
                assessed_at,
                assessed_at,
                None,
                manual=True,
            )

    def _destination_of(
        self, action: orient_core.Action, theme: str, country: str, host: _Host | None
    ) -> int | None:
        if action.do == "notice":
            return host.destination_id if host else None
        if action.to == "partner":
            return self.partners.get(country)
        return self.offices[theme]

    def _delivered(
        self,
        rows: _Rows,
        item_id: int,
        routing: int,
        dest: int,
        dkind: str,
        created: datetime,
        queued: datetime,
        host: _Host | None,
        *,
        manual: bool = False,
    ) -> None:
        rng = self.rng
        sent = queued + timedelta(seconds=rng.uniform(2, 600))
        partner = dest in self.partners.values()
        proposer = rng.choice(self.analysts) if manual else None
        confirmer = rng.choice(self.seniors) if manual else None
        if dkind == "notice":
            self._notices(rows, item_id, routing, dest, created, queued, sent, host)
            return
        roll = rng.random()
        if roll < 0.01:
            rows.dispatches.append(
                self._dispatch(
                    item_id,
                    routing,
                    dest,
                    dkind,
                    "failed",
                    created,
                    queued=queued,
                    error="HTTP 400 from the receiver",
                    closed=sent,
                    proposer=proposer,
                    confirmer=confirmer,
                )
            )
            return
        acked = None
        if roll < (0.86 if partner else 0.76):
            hours = (2.0 if partner else 20.0) * math.exp(rng.gauss(0, 0.9))
            acked = sent + timedelta(hours=hours)
        rows.dispatches.append(
            self._dispatch(
                item_id,
                routing,
                dest,
                dkind,
                "acknowledged" if acked else "sent",
                created,
                queued=queued,
                sent=sent,
                acked=acked,
                proposer=proposer,
                confirmer=confirmer,
                reference=f"REF-{item_id}" if acked else "",
            )
        )
        if partner and rng.random() < 0.5:
            removed = sent + timedelta(hours=30 * math.exp(rng.gauss(0, 1.0)))
            rows.takedowns.append(
                (
                    item_id,
                    host.name if host else "",
                    host.country if host else "",
                    "removed",
                    0,
                    None,
                    None,
                    None,
                    None,
                    None,
                    "",
                    0,
                    removed,
                    "partner hotline reported removal",
                    sent,
                )
            )
            self._count("takedowns")

    def _notices(
        self,
        rows: _Rows,
        item_id: int,
        routing: int,
        dest: int,
        created: datetime,
        queued: datetime,
        sent: datetime,
        host: _Host | None,
    ) -> None:
        rng = self.rng
        roll = rng.random()
        notices = 1 if roll < 0.7 else 2 if roll < 0.9 else 3
        removed = None
        if rng.random() < 0.88:
            removed = sent + timedelta(hours=36 * math.exp(rng.gauss(0, 1.0)))
            notices = min(notices, 1 + int((removed - sent).total_seconds() // 86400))
        for seq in range(1, notices + 1):
            at = sent + timedelta(days=seq - 1)
            rows.dispatches.append(
                self._dispatch(
                    item_id,
                    routing,
                    dest,
                    "notice",
                    "sent",
                    created if seq == 1 else at,
                    queued=queued if seq == 1 else at,
                    sent=at,
                    sequence=seq,
                )
            )
        last_notice = sent + timedelta(days=notices - 1)
        checks = (
            int(((removed or last_notice + timedelta(days=1)) - sent).total_seconds() // 21600) + 1
        )
        last_check = (removed or last_notice + timedelta(hours=20)) if checks else None
        rows.takedowns.append(
            (
                item_id,
                host.name if host else "",
                host.country if host else "",
                "removed" if removed else "open",
                notices,
                last_notice if notices >= 3 else None,
                sent,
                last_notice,
                None if removed else (last_check or sent) + timedelta(hours=6),
                last_check,
                "HTTP 404: gone" if removed else "HTTP 200: still online",
                checks,
                removed,
                "re-check saw HTTP 404: gone" if removed else "",
                sent,
            )
        )
        self._count("takedowns")

    def _dispatch(
        self,
        item_id: int,
        routing: int,
        dest: int | None,
        kind: str,
        state: str,
        created: datetime,
        *,
        address: str = "",
        waiting: str = "",
        queued: datetime | None = None,
        sent: datetime | None = None,
        acked: datetime | None = None,
        closed: datetime | None = None,
        cancel: str = "",
        error: str = "",
        sequence: int = 1,
        proposer: int | None = None,
        confirmer: int | None = None,
        reference: str = "",
    ) -> tuple[Any, ...]:
        self._count("dispatches")
        return (
            item_id,
            routing,
            dest,
            address,
            kind,
            state,
            waiting,
            "",
            _envelope(item_id, kind, dest, sequence),
            "",
            {},
            sequence,
            1 if sent or error else 0,
            None,
            error,
            "",
            reference,
            [],
            proposer,
            confirmer,
            cancel,
            created,
            queued,
            sent,
            acked,
            closed or acked,
        )

    # --- Writing -------------------------------------------------------------------------

    def _statements(self, rows: _Rows) -> list[tuple[str, list[list[Any]]]]:
        """One chunk's INSERTs with their parameters, converted (in the child)."""
        return [
            prepared_insert(Report, REPORT_COLUMNS, rows.reports),
            prepared_insert(Item, ITEM_COLUMNS, rows.items),
            prepared_insert(
                ReportItem, ("report", "item", "as_reported", "effect"), rows.report_items
            ),
            prepared_insert(
                Analysis,
                ("report", "risk", "priority", "partial", "problems", "analyzed_at"),
                rows.analyses,
            ),
            prepared_insert(
                Observable, ("report", "field", "type", "value", "start", "end"), rows.observables
            ),
            prepared_insert(
                IndicatorHit, ("report", "field", "code", "start", "end", "weight"), rows.hits
            ),
            prepared_insert(Routing, ROUTING_COLUMNS, rows.routings),
            prepared_insert(
                ItemAnalysis,
                (
                    "item",
                    "known_content",
                    "proposed_theme",
                    "proposed_classification",
                    "updated_at",
                ),
                rows.item_analyses,
            ),
            prepared_insert(
                BankMatch, ("item", "entry", "distance", "matched_at"), rows.bank_matches
            ),
            prepared_insert(
                MediaFile,
                (
                    "sha256",
                    "md5",
                    "sha1",
                    "pdq",
                    "pdq_quality",
                    "width",
                    "height",
                    "format",
                    "thumbnail_sha256",
                    "problem",
                ),
                rows.media,
            ),
            prepared_insert(Dispatch, DISPATCH_COLUMNS, rows.dispatches),
            prepared_insert(Takedown, TAKEDOWN_COLUMNS, rows.takedowns),
        ]

    def _execute(self, statements: list[tuple[str, list[list[Any]]]]) -> None:
        with connection.cursor() as cursor:
            for sql, params in statements:
                if params:
                    cursor.executemany(sql, params)

    def _write_networks(self) -> None:
        """Networks, memberships and links, once every item's network is known: each
        member linked to the network's first item by the phone they share."""
        members: dict[int, list[int]] = {}
        for k in np.flatnonzero(self.item_network >= 0).tolist():
            members.setdefault(int(self.item_network[k]), []).append(k)
        kept = [ks for ks in members.values() if len(ks) >= 2]
        first_network = self.ids.take(Network, len(kept))
        networks, memberships, links = [], [], []
        for n, ks in enumerate(kept):
            nid = first_network + n
            start = datetime.fromtimestamp(self.item_time[ks[0]], UTC)
            end = datetime.fromtimestamp(self.item_time[ks[-1]], UTC)
            networks.append((nid, start, end, len(ks)))
            hub = self.item_first + ks[0]
            phone = self.phones.number(int(self.item_network[ks[0]]) % 103_500)
            for k in ks:
                memberships.append((self.item_first + k, nid))
            for k in ks[1:]:
                at = datetime.fromtimestamp(self.item_time[k], UTC) + timedelta(seconds=90)
                links.append(
                    (
                        hub,
                        self.item_first + k,
                        "shared_phone",
                        phone,
                        {"value": phone},
                        "active",
                        at,
                        "",
                    )
                )
        insert_rows(Network, ("id", "created_at", "updated_at", "item_count"), networks)
        insert_rows(Membership, ("item", "network"), memberships)
        insert_rows(
            Link,
            ("item_a", "item_b", "kind", "value", "evidence", "state", "created_at", "reason"),
            links,
        )
        self.counts.update(networks=len(networks), links=len(links))

    def _write_audit(self) -> None:
        """One `item.assess` record per assessment, in time order, chained by hash onto
        whatever the log already holds."""
        last = AuditRecord.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = last if last else (0, GENESIS)
        rows = []
        for at_ts, item_id, actor, theme, classification in sorted(self.audit):
            seq += 1
            at = datetime.fromtimestamp(int(at_ts), UTC)
            target = f"item:{item_id}"
            detail = {"theme": theme, "classification": classification}
            h = record_hash(
                prev_hash=prev,
                seq=seq,
                at=at,
                actor=actor,
                action="item.assess",
                target=target,
                detail=detail,
            )
            rows.append((seq, at, actor, "item.assess", target, detail, prev, h))
            prev = h
            if len(rows) >= 50_000:
                insert_rows(AuditRecord, _AUDIT_COLUMNS, rows)
                rows = []
        insert_rows(AuditRecord, _AUDIT_COLUMNS, rows)
        self.counts["audit_records"] = len(self.audit)


def _sqlite_cache(size: int | None) -> int | None:
    """Set SQLite's cache_size (negative: KiB, positive: pages) on this connection, and
    return the one it had."""
    if size is None or connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {int(size)}")
    return before


def _envelope(item_id: int, kind: str, dest: int | None, sequence: int) -> uuid.UUID:
    """A stable envelope id, unique as item ids are (a random one would repeat in a second
    fill with the same seed)."""
    digest = hashlib.blake2b(f"{item_id}/{kind}/{dest}/{sequence}".encode(), digest_size=16)
    return uuid.UUID(bytes=digest.digest(), version=4)


_AUDIT_COLUMNS = ("seq", "at", "actor", "action", "target", "detail", "prev_hash", "hash")


def fill(
    *,
    items: int,
    seed: int = 1,
    year: int = 2025,
    waiting_share: float = 0.05,
    known_share: float = 0.3,
    network_share: float = 0.25,
) -> dict[str, Any]:
    """Write `items` items and everything around them (see the module's docstring);
    return what was written, counted, and the seconds it took."""
    if items < 0:
        raise ValueError(f"items must be at least 0, not {items}")
    if not 0 <= waiting_share <= 1:
        raise ValueError(f"waiting_share must be within [0, 1], not {waiting_share}")
    started = time.perf_counter()
    with transaction.atomic():
        filler = _Filler(
            items=items,
            seed=seed,
            year=year,
            waiting_share=waiting_share,
            known_share=known_share,
            network_share=network_share,
        )
    counts = filler.run()
    return {
        **dict.fromkeys(("waiting", "known_content", "takedowns", "dispatches"), 0),
        **counts,
        "seconds": round(time.perf_counter() - started, 1),
    }
