"""Media at the door: what a file claims to be must be what its bytes are."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tipline.intake.models import Report, ReportMedia

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str, **save: object) -> bytes:
    image = Image.new("RGB", (48, 32), (30, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def inline(filename: str, data: bytes) -> dict[str, object]:
    return {
        "urls": ["https://ads.example/1"],
        "media": [{"filename": filename, "content_base64": base64.b64encode(data).decode()}],
    }


def test_a_phone_photo_in_multi_picture_jpeg_is_accepted_as_jpeg(api) -> None:
    second = Image.new("RGB", (48, 32), (200, 20, 20))
    mpo = image_bytes("MPO", save_all=True, append_images=[second])
    response = api.post(
        "/api/v1/reports", inline("IMG_0042.JPG", mpo), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert ReportMedia.objects.get().content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("filename", "fmt", "says"),
    [
        ("ad.png", "JPEG", "'ad.png' is named as a PNG image, but its bytes are a JPEG image"),
        ("invoice.pdf", "PNG", "'invoice.pdf' is named as application/pdf (.pdf)"),
        ("setup.exe", "GIF", "'setup.exe' is named as a program (.exe)"),
    ],
)
def test_a_name_that_disagrees_with_the_bytes_is_refused(api, filename, fmt, says) -> None:
    response = api.post(
        "/api/v1/reports", inline(filename, image_bytes(fmt)), content_type="application/json"
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "media[0].content_base64"
    assert says in error["message"]
    assert not Report.objects.exists()


def test_a_declared_type_that_disagrees_with_the_bytes_is_refused(api) -> None:
    upload = SimpleUploadedFile("photo", image_bytes("PNG"), content_type="image/jpeg")
    response = api.post(
        "/api/v1/reports", {"report": '{"urls": ["https://ads.example/1"]}', "media": [upload]}
    )
    assert response.status_code == 422
    assert "sent as image/jpeg, but its bytes are a PNG image" in response.json()["detail"]
    assert not Report.objects.exists()


def test_a_name_without_extension_and_a_generic_type_claim_nothing(api) -> None:
    upload = SimpleUploadedFile(
        "photo", image_bytes("PNG"), content_type="application/octet-stream"
    )
    response = api.post(
        "/api/v1/reports", {"report": '{"urls": ["https://ads.example/1"]}', "media": [upload]}
    )
    assert response.status_code == 201, response.content
