"""Export formats for items and networks: a STIX 2.1 bundle, a CSV sheet, a SHA-256 manifest
and a law-enforcement referral ZIP. Pure code: no Django, no database, no socket.

STIX choices (a partner's platform should ingest the bundle without a custom parser):

- Ids are stable. Every SDO id is a UUIDv5 in ``STIX_NAMESPACE`` over the instance id and
  what the object stands for (the hotline, an item, a report's title and items), so
  exporting the same items twice names the same objects and a consumer updates instead of
  duplicating. SCO ids are the UUIDv5 ids the STIX 2.1 spec itself prescribes (stix2
  derives them from the value), so equal observables from two items are one object. The
  validator's SHOULD check ``uuid-check`` (SDOs "should" use UUIDv4) therefore warns; that
  is a warning, not an error, and the stable ids are the point.
- Objects: an ``identity`` for the hotline (``created_by_ref`` of every SDO, itself
  included); per item the SCOs it has (``url``, ``domain-name`` for the host and the
  registrable domain, ``ipv4-addr``/``ipv6-addr`` for the addresses the host resolved to
  as the host's ``resolves_to_refs``, ``email-addr``, ``file`` with its SHA-256 for media,
  plus the ``url``/``domain``/``ip`` observables); an ``observed-data`` over those SCOs
  (``number_observed`` = report count); a ``note`` with the item's facts; one ``report``
  (``report_types`` ``["observed-data"]``, the vocabulary value for what it carries)
  referring to everything else; the TLP marking definition, in ``object_marking_refs`` of
  every SDO.
- No custom properties. Phones, handles and wallets have no STIX SCO; they are written in
  the note as ``type: value`` lines, which every consumer shows, instead of an ``x_``
  property most would drop. The bundle then validates without custom-content warnings.
- TLP: STIX 2.1 ships the TLP 1.0 markings only. TLP:CLEAR is TLP 2.0's new name for
  TLP:WHITE, so ``"clear"`` (and ``"white"``) export as ``stix2.TLP_WHITE``.
- An item with no observable at all (a text with only phones, say) gets no observed-data,
  which may not be empty; its note refers to the report instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import re
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import stix2  # type: ignore[import-untyped]

# Fixed once and for all: changing it renames every exported object.
STIX_NAMESPACE = uuid.UUID("8fdbef0e-f52e-401b-a626-959e39f5b364")

_TLP_MARKINGS: dict[str, Any] = {
    "clear": stix2.TLP_WHITE,
    "white": stix2.TLP_WHITE,
    "green": stix2.TLP_GREEN,
    "amber": stix2.TLP_AMBER,
    "red": stix2.TLP_RED,
}

_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class ExportItem:
    """One reported item as exported. All values are synthetic in tests."""

    id: int
    kind: str  # "url" | "media" | "text"
    url: str  # canonical URL, "" for media/text
    domain: str  # registrable domain, "" when none
    host: str
    addresses: tuple[str, ...]  # IPv4/IPv6 addresses the host resolved to (may be empty)
    hosting_country: str  # ISO alpha-2 or ""
    theme: str  # e.g. "trafficking"
    classification: str  # e.g. "baseline", "unassessed"
    priority: str  # "P1".."P4"
    first_seen: datetime  # tz-aware UTC
    last_seen: datetime
    report_count: int
    # (type, value): types "phone", "email", "handle", "wallet", "domain", "url", "ip"
    observables: tuple[tuple[str, str], ...]
    sha256: str = ""  # media items: SHA-256 of the file
    network_id: int | None = None


@dataclass(frozen=True)
class ExportContext:
    """Who exports, under which marking, and when."""

    hotline_name: str  # e.g. "Tipline demo hotline (FR)"
    instance_id: str  # e.g. "tipline.fr.example"
    tlp: str = "amber"  # "clear" | "green" | "amber" | "red"
    created: datetime | None = None  # default now (UTC); tests pass a fixed one


# --- STIX --------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: exports need tz-aware times")
    return moment.astimezone(UTC)


def _stable_id(stix_type: str, context: ExportContext, *identity: object) -> str:
    name = "|".join([context.instance_id, stix_type, *(str(part) for part in identity)])
    return f"{stix_type}--{uuid.uuid5(STIX_NAMESPACE, name)}"


def _address(value: str) -> tuple[str, str] | None:
    """("ipv4-addr" | "ipv6-addr", normalised value), or None when not an IP address."""
    try:
        parsed = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    return ("ipv4-addr" if parsed.version == 4 else "ipv6-addr", parsed.compressed)


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@dataclass
class _ItemPlan:
    """The SCOs one item maps to, as (type, value), and the facts left for its note."""

    scos: list[tuple[str, str]]
    note_lines: list[str]


def _plan_item(item: ExportItem, resolutions: dict[str, list[tuple[str, str]]]) -> _ItemPlan:
    scos: list[tuple[str, str]] = []
    extra: list[str] = []

    def add(sco: tuple[str, str]) -> None:
        if sco not in scos:
            scos.append(sco)

    if item.url:
        if _is_url(item.url):
            add(("url", item.url))
        else:
            extra.append(f"url: {item.url}")
    addresses = []
    for value in item.addresses:
        address = _address(value)
        if address is None:
            extra.append(f"address: {value}")
        else:
            addresses.append(address)
            add(address)
    host_address = _address(item.host) if item.host else None
    if host_address is not None:
        add(host_address)
    elif item.host:
        add(("domain-name", item.host))
        known = resolutions.setdefault(item.host, [])
        known.extend(a for a in addresses if a not in known)
    if item.domain and item.domain != item.host:
        add(("domain-name", item.domain))
        resolutions.setdefault(item.domain, [])
    if item.kind == "media" and item.sha256:
        if not _SHA256_RE.fullmatch(item.sha256):
            raise ValueError(f"item {item.id}: sha256 is not 64 hexadecimal digits")
        add(("file", item.sha256.lower()))
    for kind, value in item.observables:
        sco: tuple[str, str] | None = None
        if kind == "email" and "@" in value:
            sco = ("email-addr", value)
        elif kind == "url" and _is_url(value):
            sco = ("url", value)
        elif kind == "domain" and value and _address(value) is None:
            sco = ("domain-name", value)
            resolutions.setdefault(value, [])
        elif kind == "ip":
            sco = _address(value)
        if sco is None:
            extra.append(f"{kind}: {value}")
        else:
            add(sco)

    note_lines = [
        f"Tipline item {item.id} ({item.kind})",
        f"Theme: {item.theme}",
        f"Classification: {item.classification}",
        f"Priority: {item.priority}",
        f"Hosting country: {item.hosting_country or 'unknown'}",
        f"Reports: {item.report_count}",
    ]
    if item.network_id is not None:
        note_lines.append(f"Network: {item.network_id}")
    if item.url:
        note_lines.append(f"URL: {item.url}")
    if extra:
        note_lines.append("Other observables:")
        note_lines.extend(extra)
    return _ItemPlan(scos=scos, note_lines=note_lines)


def _sco(stix_type: str, value: str, resolves_to: list[str]) -> Any:
    if stix_type == "url":
        return stix2.v21.URL(value=value)
    if stix_type == "ipv4-addr":
        return stix2.v21.IPv4Address(value=value)
    if stix_type == "ipv6-addr":
        return stix2.v21.IPv6Address(value=value)
    if stix_type == "email-addr":
        return stix2.v21.EmailAddress(value=value)
    if stix_type == "file":
        return stix2.v21.File(hashes={"SHA-256": value})
    if resolves_to:
        return stix2.v21.DomainName(value=value, resolves_to_refs=resolves_to)
    return stix2.v21.DomainName(value=value)


def stix_bundle(items: Sequence[ExportItem], *, context: ExportContext, title: str) -> str:
    """A STIX 2.1 bundle of ``items`` as indented JSON; see the module docstring."""
    try:
        marking = _TLP_MARKINGS[context.tlp.lower()]
    except KeyError:
        raise ValueError(
            f"unknown TLP level {context.tlp!r}: expected clear, green, amber or red"
        ) from None
    created = _utc(context.created or datetime.now(UTC))
    common: dict[str, Any] = {
        "created": created,
        "modified": created,
        "object_marking_refs": [marking.id],
    }

    identity_id = _stable_id("identity", context, "hotline")
    identity = stix2.v21.Identity(
        id=identity_id,
        name=context.hotline_name,
        identity_class="organization",
        created_by_ref=identity_id,
        **common,
    )
    common["created_by_ref"] = identity_id
    report_id = _stable_id("report", context, title, *sorted(item.id for item in items))

    resolutions: dict[str, list[tuple[str, str]]] = {}
    plans = [_plan_item(item, resolutions) for item in items]

    # SCOs first, domain names last so each carries every address any item saw it resolve to.
    scos: dict[tuple[str, str], Any] = {}
    for plan in plans:
        for stix_type, value in plan.scos:
            if stix_type != "domain-name" and (stix_type, value) not in scos:
                scos[(stix_type, value)] = _sco(stix_type, value, [])
    for plan in plans:
        for stix_type, value in plan.scos:
            if stix_type == "domain-name" and (stix_type, value) not in scos:
                refs = [scos[address].id for address in resolutions.get(value, [])]
                scos[(stix_type, value)] = _sco(stix_type, value, refs)

    sdos: list[Any] = []
    for item, plan in zip(items, plans, strict=True):
        refs = [scos[sco].id for sco in plan.scos]
        note_refs = [report_id]
        if refs:
            first, last = sorted((_utc(item.first_seen), _utc(item.last_seen)))
            observed = stix2.v21.ObservedData(
                id=_stable_id("observed-data", context, "item", item.id),
                first_observed=first,
                last_observed=last,
                # An exported item was reported at least once; STIX caps the count.
                number_observed=min(max(item.report_count, 1), 999_999_999),
                object_refs=refs,
                **common,
            )
            sdos.append(observed)
            note_refs = [observed.id]
        sdos.append(
            stix2.v21.Note(
                id=_stable_id("note", context, "item", item.id),
                abstract=(
                    f"Item {item.id}: {item.theme}, {item.classification}, {item.priority}, "
                    f"hosted in {item.hosting_country or 'unknown'}"
                ),
                content="\n".join(plan.note_lines),
                object_refs=note_refs,
                **common,
            )
        )

    described = [identity, *scos.values(), *sdos]
    report = stix2.v21.Report(
        id=report_id,
        name=title,
        description=(
            f"{len(items)} item(s) exported by {context.hotline_name} "
            f"({context.instance_id}), TLP:{context.tlp.upper()}."
        ),
        published=created,
        report_types=["observed-data"],
        object_refs=[obj.id for obj in described],
        **common,
    )
    bundle = stix2.v21.Bundle(
        objects=[marking, *described, report],
        id=_stable_id("bundle", context, report_id),
    )
    return str(bundle.serialize(pretty=True))


def validate_stix(text: str) -> list[str]:
    """The STIX 2.1 errors in a bundle's JSON text, [] when valid; warnings are not errors.

    Needs the development dependency stix2-validator. Offline: the validator reads its
    bundled schemas from disk (their remote ``$id`` is
    rewritten to the local path); only interop mode or a custom schema directory with
    remote references would fetch, and neither is used here.
    """
    # stix2-validator is a development dependency (the tests check every export with it),
    # and importing it takes seconds: only a caller that validates pays for it.
    import stix2validator  # type: ignore[import-untyped]

    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        return [f"not JSON: {exc}"]
    options = stix2validator.ValidationOptions(version="2.1", silent=True, interop=False)
    try:
        results = stix2validator.validate_parsed_json(parsed, options)
    except stix2validator.ValidationError as exc:  # not a STIX object at all
        return [str(exc)]
    if not isinstance(results, list):
        results = [results]
    return [str(error) for result in results for error in result.errors]


# --- CSV ---------------------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = (
    "item_id",
    "kind",
    "url",
    "domain",
    "host",
    "hosting_country",
    "theme",
    "classification",
    "priority",
    "first_seen",
    "last_seen",
    "report_count",
    "network_id",
    "sha256",
    "observables",
)

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _iso_z(moment: datetime) -> str:
    return _utc(moment).isoformat().replace("+00:00", "Z")


def _safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def items_csv(items: Sequence[ExportItem]) -> str:
    """The items as RFC 4180 CSV (CRLF lines, header row), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        row = (
            str(item.id),
            item.kind,
            item.url,
            item.domain,
            item.host,
            item.hosting_country,
            item.theme,
            item.classification,
            item.priority,
            _iso_z(item.first_seen),
            _iso_z(item.last_seen),
            str(item.report_count),
            "" if item.network_id is None else str(item.network_id),
            item.sha256,
            " | ".join(f"{kind}:{value}" for kind, value in item.observables),
        )
        writer.writerow([_safe_cell(cell) for cell in row])
    return out.getvalue()


# --- Manifest and referral package -------------------------------------------------------

_DRIVE_RE = re.compile(r"[A-Za-z]:")


def _check_name(name: str) -> None:
    """Refuse a file name that could escape the package or break the manifest's lines."""
    if not name:
        raise ValueError("empty file name")
    for bad, why in (
        ("\x00", "a NUL byte"),
        ("\\", "a backslash"),
        ("\n", "a line break"),
        ("\r", "a line break"),
    ):
        if bad in name:
            raise ValueError(f"unsafe file name {name!r}: contains {why}")
    if name.startswith("/") or _DRIVE_RE.match(name):
        raise ValueError(f"unsafe file name {name!r}: absolute path")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise ValueError(f"unsafe file name {name!r}: '..', '.' or empty path segment")


def manifest(files: Mapping[str, bytes]) -> str:
    """A SHA-256 manifest in ``sha256sum`` format (``sha256sum -c`` checks it), by name."""
    for name in files:
        _check_name(name)
    return "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files))


_MANIFEST_LINE_RE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")


def check_manifest(text: str, files: Mapping[str, bytes]) -> list[str]:
    """What is wrong between a manifest and the files it should cover, [] when all good."""
    problems: list[str] = []
    listed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _MANIFEST_LINE_RE.fullmatch(line)
        if match is None:
            problems.append(f"line {number}: not a '<sha256>  <name>' line")
            continue
        digest, name = match.group(1).lower(), match.group(2)
        if name in listed:
            problems.append(f"listed twice: {name}")
        listed[name] = digest
    for name, digest in sorted(listed.items()):
        if name not in files:
            problems.append(f"missing file: {name}")
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            problems.append(f"hash mismatch: {name}")
    problems.extend(f"extra file: {name}" for name in sorted(set(files) - set(listed)))
    return problems


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return _iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def referral_zip(
    *, referral: Mapping[str, Any], evidence: Mapping[str, bytes], created: datetime
) -> bytes:
    """A law-enforcement referral package: referral.json, evidence/<name> for each evidence
    file, and manifest.sha256 over both. The same input gives the same bytes."""
    for name in evidence:
        _check_name(name)
    entries: dict[str, bytes] = {
        "referral.json": (
            json.dumps(
                dict(referral), indent=2, sort_keys=True, ensure_ascii=False, default=_json_default
            )
            + "\n"
        ).encode("utf-8"),
    }
    entries.update({f"evidence/{name}": data for name, data in evidence.items()})
    entries["manifest.sha256"] = manifest(entries).encode("utf-8")

    # ZIP stores local DOS times from 1980 on with 2-second steps; UTC keeps them stable.
    stamp = max(_utc(created), datetime(1980, 1, 1, tzinfo=UTC))
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever platform builds it
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])
    return out.getvalue()
