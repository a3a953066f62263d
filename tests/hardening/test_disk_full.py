"""The evidence store's disk full (a real ENOSPC, on a small tmpfs): uploads are refused
whole and can be sent again; thumbnails and captures written later are recorded as
failed and tried again, and kept once there is room."""

from __future__ import annotations

import base64
import errno
import io
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from PIL import Image

from tipline.analyze.models import Capture
from tipline.common.evidence import default_store
from tipline.harmonize.models import MediaFile
from tipline.intake.choices import ReportState
from tipline.intake.models import Report, ReportMedia

from ..analyze.test_analyze import site  # noqa: F401 - the loopback ad page fixture

pytestmark = pytest.mark.django_db


class SmallDisk:
    """A 256 KiB tmpfs holding the evidence store, filled up or freed on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()

    def temp_files(self) -> list[Path]:
        return list(self.root.rglob(".tmp-*"))

    def kept(self) -> list[Path]:
        return [p for p in (self.root / "evidence").rglob("*") if p.is_file()]


@pytest.fixture
def disk(tmp_path: Path, settings) -> Iterator[SmallDisk]:  # type: ignore[no-untyped-def]
    root = tmp_path / "small-disk"
    root.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("no mount command here to make a small disk")
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        (root / "evidence").mkdir()
        settings.EVIDENCE_DIR = root / "evidence"
        yield SmallDisk(root)
    finally:
        subprocess.run(["umount", str(root)], check=True)


def picture(seed: int) -> bytes:
    """A generated PNG of a few kilobytes (noise does not compress)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (48, 48))
    image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(48 * 48)])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def api_report(seed: int) -> dict[str, Any]:
    return {
        "external_id": f"full-{seed}",
        "urls": [f"https://ads.example/full/{seed}"],
        "media": [
            {"filename": "ad.png", "content_base64": base64.b64encode(picture(seed)).decode()}
        ],
    }


def test_an_api_upload_on_a_full_disk_is_refused_whole_and_the_resend_works(
    api: Client, disk: SmallDisk
) -> None:
    disk.fill()
    refused = api.post("/api/v1/reports", api_report(1), content_type="application/json")
    assert refused.status_code == 503 and refused["Retry-After"] == "60"
    detail = refused.json()["detail"]
    assert "the disk is full" in detail and "nothing was stored" in detail, detail
    assert not Report.objects.exists() and not ReportMedia.objects.exists()
    assert disk.kept() == [] and disk.temp_files() == []

    disk.free()
    accepted = api.post("/api/v1/reports", api_report(1), content_type="application/json")
    assert accepted.status_code == 201
    [media] = ReportMedia.objects.all()
    assert default_store().get(media.sha256) == picture(1)
    assert disk.temp_files() == []


@pytest.mark.parametrize("path", ["/report/", "/fr/signaler/"])
def test_a_picture_sent_through_the_public_form_on_a_full_disk_is_refused_and_can_be_resent(
    disk: SmallDisk, path: str
) -> None:
    client = Client()

    def send() -> Any:
        upload = io.BytesIO(picture(2))
        upload.name = "capture.png"
        form = {"category": "fraud", "urls": "https://phish.example/login", "consent": "on"}
        return client.post(path, {**form, "image": upload})

    disk.fill()
    refused = send()
    assert refused.status_code == 503 and refused["Retry-After"] == "60"
    text = refused.content.decode()
    assert "Nothing was stored: please try again in a few minutes" in text
    assert "Rien n'a été enregistré" in text
    assert not Report.objects.exists() and disk.kept() == [] and disk.temp_files() == []

    disk.free()
    accepted = send()
    assert accepted.status_code == 302
    assert ReportMedia.objects.get().report_id == Report.objects.get().id
    assert disk.temp_files() == []


def run_retries_now(run_tasks: Any) -> None:
    """As if the retry delays had passed: every waiting task runs now."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    run_tasks()


def test_a_thumbnail_that_cannot_be_kept_fails_the_stage_for_now_and_is_made_later(
    api: Client, disk: SmallDisk, run_tasks: Any, settings
) -> None:
    settings.PIPELINE_MAX_ATTEMPTS = 2  # a full disk does not use them up
    # The upload is kept; the disk fills up before the worker makes its thumbnail.
    report_id = api.post("/api/v1/reports", api_report(3), content_type="application/json").json()[
        "id"
    ]
    disk.fill()
    run_tasks()
    report = Report.objects.get(id=report_id)
    assert report.state == ReportState.RECEIVED and report.attempts == 1  # not done, not lost
    assert "the disk is full" in report.last_error, report.last_error
    assert not MediaFile.objects.exists() and disk.temp_files() == []
    assert DBTaskResult.objects.filter(status="READY", id=report.task_id).exists()
    run_retries_now(run_tasks)
    run_retries_now(run_tasks)
    report.refresh_from_db()
    assert report.state == ReportState.RECEIVED and report.attempts == 3  # still not failed

    disk.free()
    run_retries_now(run_tasks)
    report.refresh_from_db()
    assert report.state == ReportState.ORIENTED
    thumbnail = MediaFile.objects.get().thumbnail_sha256
    assert thumbnail and default_store().exists(thumbnail)


def test_a_page_captured_onto_a_full_disk_is_recorded_as_failed_and_captured_later(
    api: Client, disk: SmallDisk, run_tasks: Any, settings, site: str
) -> None:
    settings.ANALYZE_NETWORK = True
    settings.CAPTURE_ALLOW_LOOPBACK = True
    settings.DNS_SERVERS = ["127.0.0.1:9"]  # no lookup leaves the machine
    settings.RDAP_URL = "http://127.0.0.1:9"
    disk.fill()
    report = {"external_id": "page-1", "urls": [f"{site}/ad/1"]}
    assert api.post("/api/v1/reports", report, content_type="application/json").status_code == 201
    run_tasks()
    [failed] = Capture.objects.all()
    assert failed.body_sha256 == "" and "the disk is full" in failed.error, failed.error
    retry = DBTaskResult.objects.get(
        task_path="tipline.analyze.tasks.capture_items", status="READY"
    )
    assert retry.args_kwargs["kwargs"] == {"item_ids": [failed.item_id], "attempt": 2}
    assert disk.temp_files() == []

    disk.free()
    run_retries_now(run_tasks)
    kept = Capture.objects.exclude(body_sha256="").get()
    assert kept.attempt == 2 and kept.error == ""
    assert b"synthetic ad page" in default_store().get(kept.body_sha256)
