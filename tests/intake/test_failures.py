"""When what intake depends on fails: the evidence store, the database."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from tipline.intake.models import Report, ReportMedia

pytestmark = pytest.mark.django_db


def png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_report_whose_files_cannot_be_stored_is_refused_whole_and_can_be_resent(
    api, settings, tmp_path: Path
) -> None:
    # The evidence store's directory cannot be created: a real OS error, as on a full or
    # read-only disk.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.EVIDENCE_DIR = blocker / "evidence"
    report = {
        "external_id": "m-1",
        "urls": ["https://ads.example/1"],
        "media": [{"filename": "ad.png", "content_base64": png()}],
    }
    refused = api.post("/api/v1/reports", report, content_type="application/json")
    assert refused.status_code == 503
    assert refused["Retry-After"] == "60"
    assert "could not store evidence file" in refused.json()["detail"]
    assert "send the report again later" in refused.json()["detail"]
    assert not Report.objects.exists() and not ReportMedia.objects.exists()

    settings.EVIDENCE_DIR = tmp_path / "evidence"  # the disk is back
    accepted = api.post("/api/v1/reports", report, content_type="application/json")
    assert accepted.status_code == 201
    assert ReportMedia.objects.get().report_id == accepted.json()["id"]
