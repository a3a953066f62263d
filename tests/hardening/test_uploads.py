"""Hostile files at every door (provider API inline and multipart, the public form).

Decompression bombs are refused from their header, never decoded, with a message naming
the file. Polyglots — files that are two things at once — are refused when they do not
start as an image; when they do, the bytes are kept as evidence (they are what was
reported) but are only ever served as a picture: a re-encoded thumbnail, or the original
with its image type and `nosniff`, so no browser reads the other thing in them."""

from __future__ import annotations

import base64
import io
import resource
import struct
import time
import zipfile
import zlib
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from tipline.common.evidence import default_store
from tipline.harmonize.models import Item
from tipline.intake.models import Report

from ..conftest import drain, staff_user

pytestmark = pytest.mark.django_db

SCRIPT = b"<html><body><script>alert(document.domain)</script></body></html>"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int, height: int, *, rows: int | None = None) -> bytes:
    """An all-black 1-bit PNG of width x height; `rows` limits the rows actually compressed
    (a header-only bomb). Built row by row: no test ever holds its pixels."""
    row = b"\0" * (1 + (width + 7) // 8)  # the filter byte, then 8 pixels a byte
    rows = height if rows is None else rows
    packer = zlib.compressobj(9)
    per_write = max(1, (1 << 20) // len(row))
    idat = b"".join(
        packer.compress(row * min(per_write, rows - done)) for done in range(0, rows, per_write)
    )
    idat += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def picture(fmt: str, **save: Any) -> bytes:
    image = Image.new("RGB", (64, 48), (30, 120, 200))
    for x in range(0, 64, 8):  # some edges, so the thumbnail is a real picture
        image.paste((230, 200, 40), (x, 0, x + 4, 48))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


BOMBS = {
    # 2.5 gigapixels declared in a 128-byte file: Pillow's own guard refuses it at open.
    "header-50000x50000": bomb_png(50_000, 50_000, rows=8),
    # A whole, valid PNG: 100 megapixels (100 MB decoded) in 12 KB.
    "complete-10000x10000": bomb_png(10_000, 10_000),
    # Over Tipline's 50 megapixels though under Pillow's warning (89): our own limit.
    "over-our-limit-8000x8000": bomb_png(8_000, 8_000),
}


@pytest.fixture
def api(provider: Any) -> Client:
    return Client(headers={"Authorization": f"Bearer {provider[1]}"})


def _refused_fast_and_small(send: Any) -> Any:
    """Run send(); the answer must come quickly, and the process must not have grown."""
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.monotonic()
    response = send()
    assert time.monotonic() - started < 5, "the bomb was decoded"
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 100, f"memory grew by {grown_mib:.0f} MiB"
    return response


@pytest.mark.parametrize("name", BOMBS)
def test_a_bomb_sent_inline_is_refused_naming_the_file(api: Client, name: str) -> None:
    body = {
        "urls": ["https://ads.example/1"],
        "media": [
            {"filename": f"{name}.png", "content_base64": base64.b64encode(BOMBS[name]).decode()}
        ],
    }
    response = _refused_fast_and_small(
        lambda: api.post("/api/v1/reports", body, content_type="application/json")
    )
    assert response.status_code == 422, response.content
    [error] = response.json()["errors"]
    assert error["field"] == "media[0].content_base64"
    assert error["message"].startswith(f"{name}.png: image ")
    assert (
        "too large to decode safely" in error["message"]
        or "exceeds 50000000 pixels" in error["message"]
    )
    assert not Report.objects.exists()


@pytest.mark.parametrize("name", BOMBS)
def test_a_bomb_sent_as_a_file_is_refused_naming_the_file(api: Client, name: str) -> None:
    upload = io.BytesIO(BOMBS[name])
    upload.name = f"{name}.png"
    response = _refused_fast_and_small(
        lambda: api.post(
            "/api/v1/reports", {"report": '{"urls": ["https://ads.example/1"]}', "media": upload}
        )
    )
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == "media[0]"
    assert f"{name}.png: image " in response.json()["detail"]
    assert not Report.objects.exists()


@pytest.mark.parametrize("path", ["/report/", "/fr/signaler/"])
def test_a_bomb_on_the_public_form_is_refused_by_the_image_field(path: str) -> None:
    client = Client()
    client.get(path)
    upload = io.BytesIO(BOMBS["header-50000x50000"])
    upload.name = "capture.png"
    form = {
        "category": "fraud",
        "urls": "https://phish.example/login",
        "consent": "on",
        "image": upload,
    }
    response = _refused_fast_and_small(lambda: client.post(path, form))
    assert response.status_code == 400
    page = response.content.decode()
    assert "capture.png" in page
    if path.startswith("/fr/"):
        assert "capture.png\u00a0: image trop grande pour être ouverte sans risque" in page
    else:
        assert "capture.png: image too large to decode safely" in page
    assert not Report.objects.exists()


# --- Polyglots ---------------------------------------------------------------------------

NOT_IMAGES_FIRST = {
    "html-then-png": SCRIPT + picture("PNG"),
    "zip-holding-a-png": zip_of("a.png", picture("PNG")),
    "pdf-then-jpeg": b"%PDF-1.7\n%" + picture("JPEG"),
    "svg-with-script": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
}


@pytest.mark.parametrize("name", NOT_IMAGES_FIRST)
def test_a_polyglot_that_does_not_start_as_an_image_is_refused(api: Client, name: str) -> None:
    body = {
        "urls": ["https://ads.example/1"],
        "media": [
            {
                "filename": "picture.png",
                "content_base64": base64.b64encode(NOT_IMAGES_FIRST[name]).decode(),
            }
        ],
    }
    response = api.post("/api/v1/reports", body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert "picture.png: not an image" in response.json()["errors"][0]["message"]
    assert not Report.objects.exists()


IMAGES_FIRST = {
    # A valid PNG and a valid ZIP archive (readers find the archive from the end).
    "png-zip.png": ("image/png", picture("PNG") + zip_of("readme.html", SCRIPT)),
    # HTML in the GIF's comment and after its trailer.
    "gif-html.gif": ("image/gif", picture("GIF", comment=SCRIPT) + SCRIPT),
    # HTML in a JPEG comment segment.
    "jpeg-html.jpg": ("image/jpeg", picture("JPEG", comment=SCRIPT)),
}


@pytest.mark.parametrize("name", IMAGES_FIRST)
def test_a_polyglot_that_is_an_image_is_kept_but_only_ever_served_as_a_picture(
    api: Client, name: str
) -> None:
    content_type, data = IMAGES_FIRST[name]
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # really an image
    if name == "png-zip.png":
        assert zipfile.ZipFile(io.BytesIO(data)).read("readme.html") == SCRIPT  # really a ZIP
    body = {
        "urls": [f"https://ads.example/{name}"],
        "media": [{"filename": name, "content_base64": base64.b64encode(data).decode()}],
    }
    response = api.post("/api/v1/reports", body, content_type="application/json")
    assert response.status_code == 201, response.content
    drain()
    [item] = Item.objects.filter(kind="media")
    assert default_store().get(item.sha256) == data  # the evidence, byte for byte

    client = Client()
    client.force_login(staff_user("ana", "analyst"))
    page = client.get(f"/console/items/{item.id}/")
    assert page.status_code == 200
    assert b"alert(document.domain)" not in page.content

    thumbnail = client.get(f"/console/items/{item.id}/media/{item.sha256}/blurred")
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"
    assert thumbnail["X-Content-Type-Options"] == "nosniff"
    assert thumbnail.content.startswith(b"\xff\xd8")  # a fresh JPEG...
    assert b"<script" not in thumbnail.content and b"PK\x03\x04" not in thumbnail.content

    client.post(f"/console/items/{item.id}/unblur", {"sha256": item.sha256})
    original = client.get(f"/console/items/{item.id}/media/{item.sha256}/original")
    assert original.status_code == 200
    assert original.content == data
    assert original["Content-Type"] == content_type  # never text/html, nor a guess
    assert original["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in original["Content-Security-Policy"]


@pytest.mark.parametrize("filename", ["page.html", "archive.zip", "run.exe"])
def test_a_polyglot_named_as_its_other_self_is_refused(api: Client, filename: str) -> None:
    _, data = IMAGES_FIRST["png-zip.png"]
    body = {
        "urls": ["https://ads.example/1"],
        "media": [{"filename": filename, "content_base64": base64.b64encode(data).decode()}],
    }
    response = api.post("/api/v1/reports", body, content_type="application/json")
    assert response.status_code == 422, response.content
    message = response.json()["errors"][0]["message"]
    assert f"'{filename}' is named as" in message and "its bytes are a PNG image" in message
    assert not Report.objects.exists()
