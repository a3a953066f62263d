"""Hash banks: reading bank files, importing them, matching media exactly and by PDQ."""

from __future__ import annotations

import base64
import io
import os
import random
import threading

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from PIL import Image, ImageDraw

from tipline.analyze import matching
from tipline.analyze.banks import parse_bank_file
from tipline.analyze.models import BankEntry, BankMatch, HashBank, ItemAnalysis
from tipline.harmonize.models import Item, MediaFile
from tipline.intake import core, services
from tipline.intake.choices import Channel

MD5 = "0123456789abcdef0123456789abcdef"
SHA = "ab" * 32
PDQ = "f" * 16 + "0" * 48


def test_both_file_formats_are_read_and_bad_lines_reported_by_number() -> None:
    content = "\n".join(
        [
            "hash,type,label",  # header
            f"{MD5},md5,series A",
            f"{SHA.upper()},SHA256",
            f"pdq {PDQ}",  # ThreatExchange local file
            f"video_md5,{MD5[::-1]},tag1 tag2",  # signal CSV
            "# a comment",
            "",
            "nothing useful here",
            f"{MD5[:30]},md5",
            f"pdq {PDQ[:-1]}z",
            f"{SHA},sha1",
        ]
    )
    good, bad = parse_bank_file(content)
    assert [(g.line, g.kind, g.value, g.label) for g in good] == [
        (2, "md5", MD5, "series A"),
        (3, "sha256", SHA, ""),
        (4, "pdq", PDQ, ""),
        (5, "md5", MD5[::-1], "tag1 tag2"),
    ]
    assert [b.line for b in bad] == [8, 9, 10, 11]
    assert "32 hexadecimal digits" in bad[1].reason
    assert "expected 'hash,type[,label]'" in bad[0].reason


def picture(seed: int) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), (rng.randrange(256), 60, 120))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        box = sorted(rng.sample(range(320), 2)) + sorted(rng.sample(range(240), 2))
        draw.rectangle(
            (box[0], box[2], box[1], box[3]), fill=tuple(rng.randrange(256) for _ in "rgb")
        )
    return image


def encoded(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def report_with(data: bytes, run_tasks, name: str = "a.png") -> Item:  # type: ignore[no-untyped-def]
    draft = core.parse_report(
        {"media": [{"filename": name, "content_base64": base64.b64encode(data).decode()}]},
        max_media_bytes=1 << 24,
    )
    services.reports_receive(drafts=[(0, draft)], channel=Channel.PUBLIC)
    run_tasks()
    return Item.objects.filter(kind="media").latest("id")


def bank(**fields: object) -> HashBank:
    return HashBank.objects.create(
        name=str(fields.pop("name", "Known series")),
        theme="csam",
        classification="baseline",
        **fields,
    )


@pytest.mark.django_db
def test_an_exact_sha256_match_marks_known_content(run_tasks) -> None:
    data = encoded(picture(1))
    known = bank()
    first = report_with(data, run_tasks)  # not in a bank yet
    assert not BankMatch.objects.exists() and first.needs_assessment
    matching.bank_import(bank=known, content=f"{first.sha256},sha256,seen before")
    again = report_with(data, run_tasks)
    assert again.id == first.id  # same file, same item
    matching.items_match_banks(item_ids=[again.id])
    [match] = BankMatch.objects.all()
    assert (match.item_id, match.entry.kind, match.distance) == (first.id, "sha256", 0)
    first.refresh_from_db()
    assert not first.needs_assessment
    proposal = ItemAnalysis.objects.get(item=first)
    assert (proposal.known_content, proposal.proposed_theme, proposal.proposed_classification) == (
        True,
        "csam",
        "baseline",
    )


@pytest.mark.django_db
def test_a_near_duplicate_matches_by_pdq_and_an_unrelated_image_does_not(run_tasks) -> None:
    original = picture(2)
    reencoded = encoded(original.resize((300, 225)), "JPEG", quality=70)
    reference = report_with(encoded(original), run_tasks)
    pdq = MediaFile.objects.get(sha256=reference.sha256).pdq
    Item.objects.all().delete()
    matching.bank_import(bank=bank(), content=f"pdq {pdq}")
    near = report_with(reencoded, run_tasks, "a.jpg")
    other = report_with(encoded(picture(99)), run_tasks)
    [match] = BankMatch.objects.all()
    assert match.item_id == near.id and 0 < match.distance <= 31
    assert not BankMatch.objects.filter(item=other).exists()


@pytest.mark.django_db
def test_a_disabled_entry_or_bank_stops_matching_without_touching_the_rest(run_tasks) -> None:
    one, two = encoded(picture(3)), encoded(picture(4))
    items = [report_with(one, run_tasks), report_with(two, run_tasks)]
    known = bank()
    matching.bank_import(bank=known, content="\n".join(f"{i.sha256},sha256" for i in items))
    false_positive = BankEntry.objects.get(value=items[0].sha256)
    matching.bank_entry_disable(entry_id=false_positive.id)
    BankMatch.objects.all().delete()
    matching.items_match_banks(item_ids=[i.id for i in items])
    assert list(BankMatch.objects.values_list("item_id", flat=True)) == [items[1].id]
    HashBank.objects.filter(id=known.id).update(enabled=False)
    BankMatch.objects.all().delete()
    assert matching.items_match_banks(item_ids=[i.id for i in items]) == 0


@pytest.mark.django_db
def test_importing_again_adds_nothing_twice_and_the_command_reports_bad_lines(
    tmp_path, capsys
) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(f"{MD5},md5\nnot a hash line\n{SHA},sha256\n")
    call_command("banks", "import", "Series B", str(path), "--theme", "csam")
    call_command("banks", "import", "Series B", str(path))
    out = capsys.readouterr()
    assert "2 hashes added, 0 already there, 1 bad lines skipped" in out.out
    assert "0 hashes added, 2 already there, 1 bad lines skipped" in out.out
    assert f"{path}:2: expected" in out.err
    assert BankEntry.objects.count() == 2


@pytest.mark.django_db
def test_importing_a_bank_finds_media_received_before(run_tasks, tmp_path, capsys) -> None:
    item = report_with(encoded(picture(5)), run_tasks)
    assert item.needs_assessment
    path = tmp_path / "later.csv"
    path.write_text(f"{item.sha256},sha256\n")
    call_command("banks", "import", "Found later", str(path))
    assert "1 matches among the media already received" in capsys.readouterr().out
    item.refresh_from_db()
    assert not item.needs_assessment
    assert BankMatch.objects.get().item_id == item.id


def flipped(pdq: str, bits: int) -> str:
    return f"{int(pdq, 16) ^ ((1 << bits) - 1):064x}"


@pytest.mark.django_db
def test_a_worker_starts_from_the_saved_index_and_adds_only_newer_entries(
    settings, monkeypatch
) -> None:
    monkeypatch.setattr(matching.SyncedPDQIndex, "SAVE_AFTER", 2)
    known = bank()
    matching.bank_import(bank=known, content=f"pdq {PDQ}\npdq {flipped(PDQ, 200)}\n")
    first = matching.SyncedPDQIndex("pdq-index", matching._bank_rows_after)
    assert [d for _, d in first.search(PDQ)] == [0]
    assert (settings.DATA_DIR / "pdq-index" / "meta.json").exists()  # saved for next start

    later = matching.SyncedPDQIndex(
        "pdq-index", matching._bank_rows_after
    )  # another worker starting
    matching.bank_import(bank=known, content=f"pdq {flipped(PDQ, 5)}\n")
    assert [d for _, d in later.search(PDQ)] == [0, 5]
    assert later.last_id == BankEntry.objects.order_by("-id").first().id  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_row_changed_since_it_was_indexed_never_makes_a_match(run_tasks) -> None:
    item = report_with(encoded(picture(6)), run_tasks)
    pdq = MediaFile.objects.get(sha256=item.sha256).pdq
    matching.bank_import(bank=bank(), content=f"pdq {pdq}")
    matching._bank_index.search(pdq)  # indexed with the item's hash
    BankEntry.objects.update(value=flipped(pdq, 128))  # the row now holds another hash
    assert matching.items_match_banks(item_ids=[item.id]) == 0


@pytest.mark.skipif(
    not os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"),
    reason="SQLite has one writer at a time, committing in id order",
)
@pytest.mark.django_db(transaction=True)
def test_an_entry_committed_after_a_newer_one_is_still_indexed(monkeypatch) -> None:
    """PostgreSQL hands out ids before commit: entry N can become visible after N+1. The
    index, having seen N+1, must look for N again (and not save past it)."""
    monkeypatch.setattr(matching.SyncedPDQIndex, "SAVE_AFTER", 1)
    known = bank()
    index = matching.SyncedPDQIndex(
        "pdq-index", matching._bank_rows_after, matching._bank_rows_among
    )
    late = flipped(PDQ, 3)
    started, release = threading.Event(), threading.Event()
    taken: list[int] = []

    def slow_import() -> None:
        with transaction.atomic():
            matching.bank_import(bank=known, content=f"pdq {late}\n")  # takes id N
            taken.append(BankEntry.objects.get(value=late).pk)
            started.set()
            release.wait(30)
        connection.close()

    thread = threading.Thread(target=slow_import)
    thread.start()
    assert started.wait(30)
    matching.bank_import(bank=known, content=f"pdq {PDQ}\n")  # id N+1, committed first
    assert [d for _, d in index.search(PDQ)] == [0]
    [late_id] = taken
    assert late_id in index.gaps
    mark = settings.DATA_DIR / "pdq-index.last-id"  # saved, if at all, before the gap
    assert not mark.exists() or int(mark.read_text()) < late_id
    release.set()
    thread.join(30)
    assert sorted(d for _, d in index.search(PDQ)) == [0, 3]
    assert late_id not in index.gaps
    restarted = matching.SyncedPDQIndex(
        "pdq-index", matching._bank_rows_after, matching._bank_rows_among
    )
    assert sorted(d for _, d in restarted.search(PDQ)) == [0, 3]
