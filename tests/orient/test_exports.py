"""Orient's export formats: the STIX bundle and its offline validation, the CSV sheet, the
SHA-256 manifest and the referral ZIP. Pure: no database, and no socket (every test runs
with the network switched off)."""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import shutil
import socket
import subprocess
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stix2  # type: ignore[import-untyped]
import stix2validator.validator  # type: ignore[import-untyped]

from tipline.orient.exports import (
    CSV_COLUMNS,
    ExportContext,
    ExportItem,
    check_manifest,
    items_csv,
    manifest,
    referral_zip,
    stix_bundle,
    validate_stix,
)

CREATED = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
CONTEXT = ExportContext(
    hotline_name="Tipline demo hotline (FR)", instance_id="tipline.fr.example", created=CREATED
)
IMAGE = b"\x89PNG synthetic test image, drawn for the test suite"
IMAGE_SHA256 = hashlib.sha256(IMAGE).hexdigest()

PAGE_1 = ExportItem(
    id=101,
    kind="url",
    url="https://www.annonces-demo.example/ad/7781",
    domain="annonces-demo.example",
    host="www.annonces-demo.example",
    addresses=("192.0.2.10", "2001:db8::10"),
    hosting_country="FR",
    theme="trafficking",
    classification="baseline",
    priority="P1",
    first_seen=datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
    last_seen=datetime(2025, 3, 10, 18, 45, tzinfo=UTC),
    report_count=4,
    observables=(
        ("phone", "+33199000101"),
        ("email", "lina.contact@mail-demo.example"),
        ("handle", "@lina_demo"),
        ("wallet", "bc1qdemo0000000000000000000000000000000"),
    ),
    network_id=7,
)
PAGE_2 = ExportItem(
    id=102,
    kind="url",
    url="https://escort-demo.example/profil/nora",
    domain="escort-demo.example",
    host="escort-demo.example",
    addresses=("192.0.2.10", "198.51.100.20"),  # shares one address with PAGE_1
    hosting_country="NL",
    theme="trafficking",
    classification="unassessed",
    priority="P2",
    first_seen=datetime(2025, 3, 5, 12, 0, tzinfo=UTC),
    last_seen=datetime(2025, 3, 5, 12, 0, tzinfo=UTC),
    report_count=1,
    observables=(("phone", "+33261910202"), ("email", "nora@mail-demo.example")),
    network_id=7,
)
MEDIA = ExportItem(
    id=103,
    kind="media",
    url="",
    domain="",
    host="",
    addresses=(),
    hosting_country="",
    theme="sexual_exploitation",
    classification="unassessed",
    priority="P3",
    first_seen=datetime(2025, 3, 8, 7, 15, tzinfo=UTC),
    last_seen=datetime(2025, 3, 9, 7, 15, tzinfo=UTC),
    report_count=2,
    observables=(),
    sha256=IMAGE_SHA256,
)
ITEMS = (PAGE_1, PAGE_2, MEDIA)


class NetworkAttempt(AssertionError):
    pass


@pytest.fixture(autouse=True)
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Switch the network off for every test here, recording each attempt, so a validator
    that fetched a schema or a list would fail instead of quietly going online."""
    attempts: list[str] = []

    def refuse(what: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise NetworkAttempt(f"network access during an export test: {what}")

        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    yield attempts
    assert attempts == []


def bundle_objects(text: str) -> list[dict[str, Any]]:
    bundle = json.loads(text)
    assert bundle["type"] == "bundle"
    objects: list[dict[str, Any]] = bundle["objects"]
    return objects


def of_type(objects: list[dict[str, Any]], stix_type: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["type"] == stix_type]


def refs_of(obj: dict[str, Any]) -> list[str]:
    refs: list[str] = []
    for key, value in obj.items():
        if key.endswith("_refs"):
            refs.extend(value)
        elif key.endswith("_ref"):
            refs.append(value)
    return refs


# --- STIX --------------------------------------------------------------------------------


def test_bundle_of_pages_and_media_is_valid_stix() -> None:
    text = stix_bundle(ITEMS, context=CONTEXT, title="Network 7, March 2025")
    assert validate_stix(text) == []
    assert text.startswith("{\n")  # indented for people who open it


def test_bundle_holds_one_object_per_thing_and_references_stay_inside() -> None:
    objects = bundle_objects(stix_bundle(ITEMS, context=CONTEXT, title="Network 7"))
    counts = Counter(obj["type"] for obj in objects)
    assert counts == {
        "marking-definition": 1,
        "identity": 1,
        "url": 2,
        # www.annonces-demo.example, annonces-demo.example, escort-demo.example
        "domain-name": 3,
        "ipv4-addr": 2,  # 192.0.2.10 seen by both pages is one object
        "ipv6-addr": 1,
        "email-addr": 2,
        "file": 1,
        "observed-data": 3,
        "note": 3,
        "report": 1,
    }
    ids = [obj["id"] for obj in objects]
    assert len(ids) == len(set(ids))
    for obj in objects:
        assert set(refs_of(obj)) <= set(ids), obj["id"]

    by_value = {obj.get("value"): obj for obj in objects if "value" in obj}
    address_ids = {by_value[value]["id"] for value in ("192.0.2.10", "2001:db8::10")}
    assert set(by_value["www.annonces-demo.example"]["resolves_to_refs"]) == address_ids
    assert "resolves_to_refs" not in by_value["annonces-demo.example"]
    assert set(by_value["escort-demo.example"]["resolves_to_refs"]) == {
        by_value["192.0.2.10"]["id"],
        by_value["198.51.100.20"]["id"],
    }
    assert by_value["lina.contact@mail-demo.example"]["type"] == "email-addr"
    (media_file,) = of_type(objects, "file")
    assert media_file["hashes"] == {"SHA-256": IMAGE_SHA256}


def test_every_sdo_is_marked_and_attributed_to_the_hotline() -> None:
    objects = bundle_objects(stix_bundle(ITEMS, context=CONTEXT, title="Network 7"))
    (identity,) = of_type(objects, "identity")
    assert identity["name"] == "Tipline demo hotline (FR)"
    assert identity["identity_class"] == "organization"
    sdos = [obj for obj in objects if obj["type"] not in {"marking-definition", "bundle"}]
    sdos = [obj for obj in sdos if "created" in obj]  # SCOs have no created
    assert {obj["type"] for obj in sdos} == {"identity", "observed-data", "note", "report"}
    for obj in sdos:
        assert obj["object_marking_refs"] == [stix2.TLP_AMBER.id], obj["id"]
        assert obj["created_by_ref"] == identity["id"], obj["id"]
        assert obj["created"] == obj["modified"] == "2025-03-14T09:30:00.000Z"


def test_observed_data_carries_each_items_window_count_and_observables() -> None:
    objects = bundle_objects(stix_bundle(ITEMS, context=CONTEXT, title="Network 7"))
    by_id = {obj["id"]: obj for obj in objects}
    observed = of_type(objects, "observed-data")
    by_count = {obj["number_observed"]: obj for obj in observed}
    assert sorted(by_count) == [1, 2, 4]
    page_1 = by_count[4]
    assert page_1["first_observed"] == "2025-03-01T08:00:00Z"
    assert page_1["last_observed"] == "2025-03-10T18:45:00Z"
    values = {by_id[ref].get("value") for ref in page_1["object_refs"]}
    assert values == {
        "https://www.annonces-demo.example/ad/7781",
        "www.annonces-demo.example",
        "annonces-demo.example",
        "192.0.2.10",
        "2001:db8::10",
        "lina.contact@mail-demo.example",
    }
    (media_ref,) = by_count[2]["object_refs"]
    assert by_id[media_ref]["type"] == "file"


def test_notes_carry_the_assessment_and_the_observables_stix_has_no_object_for() -> None:
    text = stix_bundle(ITEMS, context=CONTEXT, title="Network 7")
    objects = bundle_objects(text)
    notes = {obj["content"].splitlines()[0]: obj for obj in of_type(objects, "note")}
    page_1 = notes["Tipline item 101 (url)"]["content"]
    for line in (
        "Theme: trafficking",
        "Classification: baseline",
        "Priority: P1",
        "Hosting country: FR",
        "phone: +33199000101",
        "handle: @lina_demo",
        "wallet: bc1qdemo0000000000000000000000000000000",
    ):
        assert line in page_1.splitlines()
    assert "Hosting country: unknown" in notes["Tipline item 103 (media)"]["content"]
    # No custom properties anywhere: the decision the module docstring records.
    assert not [key for obj in objects for key in obj if key.startswith("x_")]


def test_report_names_the_export_and_covers_every_object() -> None:
    objects = bundle_objects(stix_bundle(ITEMS, context=CONTEXT, title="Network 7, March"))
    (report,) = of_type(objects, "report")
    assert report["name"] == "Network 7, March"
    assert report["published"] == "2025-03-14T09:30:00Z"
    assert report["report_types"] == ["observed-data"]
    others = {obj["id"] for obj in objects if obj["type"] not in {"report", "marking-definition"}}
    assert set(report["object_refs"]) == others
    assert "3 item(s)" in report["description"]


def test_exporting_twice_gives_the_same_ids_and_another_hotline_gets_its_own() -> None:
    first = stix_bundle(ITEMS, context=CONTEXT, title="Network 7")
    assert stix_bundle(ITEMS, context=CONTEXT, title="Network 7") == first
    # Same items, another moment: same objects, newer timestamps.
    later = replace(CONTEXT, created=datetime(2025, 4, 1, tzinfo=UTC))
    ids = [obj["id"] for obj in bundle_objects(first)]
    assert [
        obj["id"] for obj in bundle_objects(stix_bundle(ITEMS, context=later, title="Network 7"))
    ] == ids
    other = replace(CONTEXT, instance_id="tipline.be.example")
    other_ids = {
        obj["id"] for obj in bundle_objects(stix_bundle(ITEMS, context=other, title="Network 7"))
    }
    sdo_ids = {
        i for i in ids if i.split("--")[0] in {"identity", "note", "report", "observed-data"}
    }
    assert not sdo_ids & other_ids
    # Observables are the same things wherever they were seen (spec-defined UUIDv5).
    assert {i for i in ids if i.startswith("ipv4-addr--")} <= other_ids


def test_default_creation_time_is_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    text = stix_bundle([PAGE_1], context=replace(CONTEXT, created=None), title="Now")
    (report,) = of_type(bundle_objects(text), "report")
    published = datetime.fromisoformat(report["published"].replace("Z", "+00:00"))
    assert before <= published <= datetime.now(UTC)
    assert validate_stix(text) == []


@pytest.mark.parametrize(
    ("tlp", "marking"),
    [
        ("clear", stix2.TLP_WHITE),
        ("green", stix2.TLP_GREEN),
        ("amber", stix2.TLP_AMBER),
        ("RED", stix2.TLP_RED),
    ],
)
def test_each_tlp_level_marks_every_sdo(tlp: str, marking: Any) -> None:
    text = stix_bundle(ITEMS, context=replace(CONTEXT, tlp=tlp), title="Marked")
    assert validate_stix(text) == []
    objects = bundle_objects(text)
    (definition,) = of_type(objects, "marking-definition")
    assert definition["id"] == marking.id
    assert definition["definition"] == {"tlp": marking.definition.tlp}
    for obj in objects:
        if "created_by_ref" in obj:
            assert obj["object_marking_refs"] == [marking.id]


def test_unknown_tlp_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown TLP level 'amber\\+strict'"):
        stix_bundle(ITEMS, context=replace(CONTEXT, tlp="amber+strict"), title="x")


def test_text_item_with_only_phones_and_an_empty_export_still_validate() -> None:
    text_item = replace(
        PAGE_2,
        id=104,
        kind="text",
        url="",
        domain="",
        host="",
        addresses=(),
        observables=(("phone", "+33353010404"), ("handle", "@nora_demo")),
    )
    text = stix_bundle([text_item], context=CONTEXT, title="Text only")
    assert validate_stix(text) == []
    objects = bundle_objects(text)
    assert of_type(objects, "observed-data") == []  # STIX forbids an empty one
    (note,) = of_type(objects, "note")
    (report,) = of_type(objects, "report")
    assert note["object_refs"] == [report["id"]]
    assert "phone: +33353010404" in note["content"]

    empty = stix_bundle([], context=CONTEXT, title="Nothing this week")
    assert validate_stix(empty) == []


def test_naive_times_are_refused_rather_than_guessed() -> None:
    naive = replace(MEDIA, first_seen=datetime(2025, 3, 8, 7, 15))
    with pytest.raises(ValueError, match="naive datetime"):
        stix_bundle([naive], context=CONTEXT, title="x")
    with pytest.raises(ValueError, match="naive datetime"):
        items_csv([naive])


def test_validation_really_runs_and_reports_a_broken_bundle() -> None:
    bundle = json.loads(stix_bundle(ITEMS, context=CONTEXT, title="Network 7"))
    broken = copy.deepcopy(bundle)
    observed = next(obj for obj in broken["objects"] if obj["type"] == "observed-data")
    del observed["number_observed"]
    errors = validate_stix(json.dumps(broken))
    assert errors
    assert any("number_observed" in error for error in errors)

    bad_time = copy.deepcopy(bundle)
    report = next(obj for obj in bad_time["objects"] if obj["type"] == "report")
    report["published"] = "last Tuesday"
    assert any("published" in error for error in validate_stix(json.dumps(bad_time)))

    assert validate_stix("{not json") and validate_stix("{not json")[0].startswith("not JSON")
    assert validate_stix(json.dumps({"hello": "world"}))  # not a STIX object at all


def test_validation_opens_no_network_connection(
    network_attempts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The guard is live: a connection attempt is refused and recorded.
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with probe, pytest.raises(NetworkAttempt):
        probe.connect(("192.0.2.1", 80))
    assert network_attempts == ["socket.connect(('192.0.2.1', 80),)"]
    network_attempts.clear()

    # Cold caches, so schemas and their references are loaded during this very run.
    module = stix2validator.validator
    for cache in ("_HTTP_SCHEMAS", "_FILE_SCHEMAS", "_PATCHED_SCHEMAS", "_SCHEMAS_FOUND"):
        monkeypatch.setattr(module, cache, {})
    assert validate_stix(stix_bundle(ITEMS, context=CONTEXT, title="Offline")) == []
    assert network_attempts == []
    assert module._FILE_SCHEMAS  # references were resolved, from the bundled files
    assert module._HTTP_SCHEMAS == {}  # ...and none over HTTP


# --- CSV ---------------------------------------------------------------------------------


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_has_a_header_and_one_row_per_item_that_parse_back() -> None:
    text = items_csv(ITEMS)
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")  # RFC 4180 lines
    rows = parse_csv(text)
    assert [row["item_id"] for row in rows] == ["101", "102", "103"]
    first = rows[0]
    assert first == {
        "item_id": "101",
        "kind": "url",
        "url": "https://www.annonces-demo.example/ad/7781",
        "domain": "annonces-demo.example",
        "host": "www.annonces-demo.example",
        "hosting_country": "FR",
        "theme": "trafficking",
        "classification": "baseline",
        "priority": "P1",
        "first_seen": "2025-03-01T08:00:00Z",
        "last_seen": "2025-03-10T18:45:00Z",
        "report_count": "4",
        "network_id": "7",
        "sha256": "",
        "observables": (
            "phone:+33199000101 | email:lina.contact@mail-demo.example | handle:@lina_demo"
            " | wallet:bc1qdemo0000000000000000000000000000000"
        ),
    }
    media = rows[2]
    assert media["network_id"] == "" and media["sha256"] == IMAGE_SHA256
    assert media["observables"] == "" and media["url"] == ""
    assert items_csv([]) == ",".join(CSV_COLUMNS) + "\r\n"


def test_csv_converts_other_time_zones_to_utc() -> None:
    from zoneinfo import ZoneInfo

    paris = datetime(2025, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    (row,) = parse_csv(items_csv([replace(MEDIA, first_seen=paris)]))
    assert row["first_seen"] == "2025-03-01T08:00:00Z"


@pytest.mark.parametrize(
    "payload",
    [
        '=HYPERLINK("https://evil.example","click")',
        "+33199000101",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas(payload: str) -> None:
    hostile = replace(PAGE_1, theme=payload, host=payload, observables=())
    (row,) = parse_csv(items_csv([hostile]))
    assert row["theme"] == "'" + payload
    assert row["host"] == "'" + payload
    assert row["classification"] == "baseline"  # harmless cells are left alone


def test_csv_keeps_unicode_commas_quotes_and_line_breaks() -> None:
    item = replace(
        PAGE_1,
        url="https://www.annonces-demo.example/ad/été-😀",
        domain="bücher-demo.example",
        theme='trafficking, "urgent"\nsecond line',
        observables=(("handle", "@ナオミ_demo"), ("phone", "+33199000101")),
    )
    (row,) = parse_csv(items_csv([item]))
    assert row["url"] == "https://www.annonces-demo.example/ad/été-😀"
    assert row["domain"] == "bücher-demo.example"
    assert row["theme"] == 'trafficking, "urgent"\nsecond line'
    assert row["observables"] == "handle:@ナオミ_demo | phone:+33199000101"


# --- Manifest ----------------------------------------------------------------------------

FILES = {
    "shot-2.png": IMAGE,
    "capture/page.html": "<p>Annonce démo</p>".encode(),
    "a-first.txt": b"",
}


def test_manifest_is_sha256sum_format_sorted_by_name() -> None:
    text = manifest(FILES)
    assert text.splitlines() == [
        f"{hashlib.sha256(b'').hexdigest()}  a-first.txt",
        f"{hashlib.sha256(FILES['capture/page.html']).hexdigest()}  capture/page.html",
        f"{IMAGE_SHA256}  shot-2.png",
    ]
    assert text.endswith("\n")
    assert manifest({}) == ""


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils sha256sum")
def test_sha256sum_accepts_the_manifest(tmp_path: Path) -> None:
    for name, data in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "MANIFEST").write_text(manifest(FILES))
    result = subprocess.run(
        ["sha256sum", "--check", "--strict", "MANIFEST"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_manifest_finds_tampered_missing_and_extra_files() -> None:
    text = manifest(FILES)
    assert check_manifest(text, FILES) == []

    tampered = {**FILES, "shot-2.png": IMAGE + b"!"}
    assert check_manifest(text, tampered) == ["hash mismatch: shot-2.png"]

    missing = {name: data for name, data in FILES.items() if name != "a-first.txt"}
    assert check_manifest(text, missing) == ["missing file: a-first.txt"]

    extra = {**FILES, "z-late.txt": b"added after signing"}
    assert check_manifest(text, extra) == ["extra file: z-late.txt"]

    edited = text.replace("  shot-2.png", "  shot-3.png") + "garbage line\n"
    assert check_manifest(edited, FILES) == [
        "line 4: not a '<sha256>  <name>' line",
        "missing file: shot-3.png",
        "extra file: shot-2.png",
    ]
    assert check_manifest(text + text.splitlines(keepends=True)[0], FILES) == [
        "listed twice: a-first.txt"
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("C:/Windows/evil.dll", "absolute"),
        ("../outside.png", r"'\.\.'"),
        ("capture/../../outside.png", r"'\.\.'"),
        ("capture\\page.html", "backslash"),
        ("shot\x00.png", "NUL"),
        ("shot\n.png", "line break"),
        ("", "empty"),
        ("capture//page.html", "empty path segment"),
    ],
)
def test_unsafe_names_are_refused(name: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        manifest({name: b"x"})
    with pytest.raises(ValueError, match=reason):
        referral_zip(referral={}, evidence={name: b"x"}, created=CREATED)


def test_dots_inside_a_name_are_fine() -> None:
    assert manifest({"shot..2.png": b"x"}).endswith("  shot..2.png\n")


# --- Referral package --------------------------------------------------------------------

REFERRAL = {
    "referral_id": "REF-2025-0042",
    "to": "Office mineurs (OFMIN) demo desk",
    "summary": "Réseau d'annonces démo, 3 items",
    "items": [101, 102, 103],
    "sent_at": CREATED,
}
EVIDENCE = {"101/page.html": b"<html>demo ad</html>", "103/image.png": IMAGE}


def test_referral_zip_holds_referral_evidence_and_a_manifest_that_checks_out() -> None:
    data = referral_zip(referral=REFERRAL, evidence=EVIDENCE, created=CREATED)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert (
            names
            == sorted(names)
            == [
                "evidence/101/page.html",
                "evidence/103/image.png",
                "manifest.sha256",
                "referral.json",
            ]
        )
        contents = {name: archive.read(name) for name in names}
        assert {info.date_time for info in archive.infolist()} == {(2025, 3, 14, 9, 30, 0)}

    referral = json.loads(contents["referral.json"].decode("utf-8"))
    assert referral == {**REFERRAL, "sent_at": "2025-03-14T09:30:00Z"}
    assert "Réseau d'annonces démo" in contents["referral.json"].decode("utf-8")  # not \u-escaped
    assert contents["evidence/103/image.png"] == IMAGE

    listed = contents.pop("manifest.sha256").decode()
    assert check_manifest(listed, contents) == []
    assert len(listed.splitlines()) == 3


def test_referral_zip_is_byte_identical_for_identical_input() -> None:
    first = referral_zip(referral=REFERRAL, evidence=EVIDENCE, created=CREATED)
    reordered = dict(reversed(list(EVIDENCE.items())))
    assert (
        referral_zip(
            referral=dict(reversed(list(REFERRAL.items()))), evidence=reordered, created=CREATED
        )
        == first
    )
    later = referral_zip(
        referral=REFERRAL, evidence=EVIDENCE, created=datetime(2025, 3, 15, tzinfo=UTC)
    )
    assert later != first
