"""Media at the door: PDQ against the reference vectors, digests, refusals, safe thumbnails."""

from __future__ import annotations

import hashlib
import io
import json
import random
import resource
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageDraw, ImageStat

from tipline.harmonize.media import (
    PDQ_MATCH_THRESHOLD,
    PDQ_QUALITY_FLOOR,
    MediaRefused,
    analyse,
    fingerprint,
    pdq_distance,
    pdq_hash,
    safe_thumbnail,
)
from tipline.intake.core import MAX_IMAGE_PIXELS
from tipline.intake.filetypes import claimed_type_problem

# A clone of the repository with shared/ beside it, in development as in CI.
PDQ_VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "pdq"
_NO_VECTORS = (
    f"PDQ conformance vectors not found at {PDQ_VECTORS} (expected shared/ beside the repo)"
)
needs_vectors = pytest.mark.skipif(not PDQ_VECTORS.is_dir(), reason=_NO_VECTORS)


def _vector_cases() -> list[Any]:
    if not PDQ_VECTORS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=_NO_VECTORS), id="missing")]
    lines = (PDQ_VECTORS / "expected.jsonl").read_text().splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    return [pytest.param(case, id=case["file"]) for case in cases]


def _encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def _photo(size: tuple[int, int] = (400, 300)) -> Image.Image:
    """A synthetic picture with enough structure for a reliable PDQ hash."""
    img = Image.new("RGB", size, (40, 90, 160))
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle((0, h * 2 // 3, w, h), fill=(60, 140, 60))
    draw.ellipse((w // 10, h // 10, w // 3, h // 2), fill=(250, 220, 80))
    draw.polygon([(w // 2, h // 5), (w * 9 // 10, h * 2 // 3), (w // 3, h * 2 // 3)], fill="white")
    return img


def _png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG, built row by row so no test ever holds its pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then 8 pixels a byte
    packer = zlib.compressobj(9)
    rows_per_write = max(1, (1 << 20) // len(row))
    idat = b"".join(
        packer.compress(row * min(rows_per_write, height - done))
        for done in range(0, height, rows_per_write)
    )
    idat += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _thumb(data: bytes, **params: Any) -> Image.Image:
    img = Image.open(io.BytesIO(safe_thumbnail(data, **params)))
    img.load()
    return img


# --- PDQ ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _vector_cases())
def test_pdq_reproduces_the_reference_hashes(case: dict[str, Any]) -> None:
    pdq, quality = pdq_hash(PDQ_VECTORS / case["file"])
    assert pdq_distance(pdq, case["pdq"]) <= case["max_distance"]
    assert 0 <= quality <= 100


@needs_vectors
def test_pdq_is_not_rotation_invariant() -> None:
    folder = PDQ_VECTORS / "images" / "dih"
    original, _ = pdq_hash(folder / "bridge-1-original.jpg")
    variants = sorted(p for p in folder.iterdir() if p.name != "bridge-1-original.jpg")
    assert len(variants) == 7
    for path in variants:
        assert pdq_distance(original, pdq_hash(path)[0]) > PDQ_MATCH_THRESHOLD, path.name


@needs_vectors
def test_pdq_matches_edited_copies() -> None:
    folder = PDQ_VECTORS / "images" / "bridge-mods"
    original, quality = pdq_hash(folder / "aaa-orig.jpg")
    assert quality >= PDQ_QUALITY_FLOOR
    edits = sorted(p for p in folder.iterdir() if p.name != "aaa-orig.jpg")
    assert edits
    for path in edits:
        assert pdq_distance(original, pdq_hash(path)[0]) <= PDQ_MATCH_THRESHOLD, path.name


def test_pdq_hash_takes_bytes_or_a_path(tmp_path: Path) -> None:
    data = _encode(_photo(), "JPEG")
    (tmp_path / "photo.jpg").write_bytes(data)
    assert (
        pdq_hash(data) == pdq_hash(tmp_path / "photo.jpg") == pdq_hash(str(tmp_path / "photo.jpg"))
    )
    pdq, quality = pdq_hash(data)
    assert len(pdq) == 64 and int(pdq, 16) >= 0
    assert quality >= PDQ_QUALITY_FLOOR


def test_pdq_survives_reencoding_and_resizing() -> None:
    photo = _photo((800, 600))
    original, _ = pdq_hash(_encode(photo, "PNG"))
    smaller = _encode(photo.resize((300, 225)), "JPEG", quality=60)
    assert pdq_distance(original, pdq_hash(smaller)[0]) <= PDQ_MATCH_THRESHOLD
    different = _encode(photo.transpose(Image.Transpose.ROTATE_180), "PNG")
    assert pdq_distance(original, pdq_hash(different)[0]) > PDQ_MATCH_THRESHOLD


def test_pdq_distance() -> None:
    zeros, ones = "0" * 64, "f" * 64
    assert pdq_distance(zeros, zeros) == 0
    assert pdq_distance(zeros, ones) == 256
    assert pdq_distance(zeros, "0" * 63 + "1") == 1
    assert pdq_distance("8" + "0" * 63, zeros) == 1
    assert pdq_distance("a5" * 32, "5a" * 32) == 256
    assert pdq_distance("AB" * 32, "ab" * 32) == 0
    assert pdq_distance("0f" * 32, "00" * 32) == 128


@pytest.mark.parametrize("bad", ["0" * 63, "0" * 65, "g" * 64, "0x" + "0" * 62, " " + "0" * 63, ""])
def test_pdq_distance_refuses_what_is_not_a_hash(bad: str) -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        pdq_distance(bad, "0" * 64)


# --- Fingerprint and refusals ------------------------------------------------------------


def test_fingerprint_digests_equal_hashlib() -> None:
    # Noise does not compress: over a megabyte, so the one-pass digests cross a chunk edge.
    noise = Image.frombytes("RGB", (700, 700), random.Random(7).randbytes(700 * 700 * 3))
    data = _encode(noise, "PNG")
    assert len(data) > 1 << 20
    fp = fingerprint(data)
    assert fp.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert fp.sha1 == hashlib.sha1(data, usedforsecurity=False).hexdigest()
    assert fp.sha256 == hashlib.sha256(data).hexdigest()
    assert (fp.width, fp.height, fp.format) == (700, 700, "PNG")


def test_fingerprint_describes_the_image() -> None:
    data = _encode(_photo((400, 300)), "JPEG")
    fp = fingerprint(data)
    assert (fp.width, fp.height, fp.format) == (400, 300, "JPEG")
    assert (fp.pdq, fp.pdq_quality) == pdq_hash(data)
    assert fp.pdq_is_reliable
    assert fp.sha256 == hashlib.sha256(data).hexdigest()


def test_featureless_image_is_flagged_unreliable() -> None:
    fp = fingerprint(_encode(Image.new("RGB", (300, 300), "gray"), "PNG"))
    assert fp.pdq_quality < PDQ_QUALITY_FLOOR
    assert not fp.pdq_is_reliable


def test_analyse_equals_fingerprint_and_thumbnail() -> None:
    data = _encode(_photo(), "JPEG")
    fp, thumbnail = analyse(data)
    assert fp == fingerprint(data)
    assert thumbnail == safe_thumbnail(data)
    fp_big, big = analyse(data, max_side=600)  # above the PDQ input size: decoded twice
    assert fp_big == fp
    assert big == safe_thumbnail(data, max_side=600)


def test_decompression_bomb_is_refused_without_decoding() -> None:
    bomb = _png(20_000, 20_000)  # 400 megapixels, 1.2 GB once decoded to RGB
    assert len(bomb) < 200_000
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # Pillow's own guard would refuse it
        with Image.open(io.BytesIO(bomb)) as img:
            assert img.size == (20_000, 20_000)  # a real PNG header, not garbage
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    for attempt in (fingerprint, safe_thumbnail, analyse, pdq_hash):
        with pytest.raises(MediaRefused, match="too large"):
            attempt(bomb)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 100


def test_image_over_the_pixel_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Over intake's limit though under Pillow's own bomb warning (89 megapixels).
    side = int(MAX_IMAGE_PIXELS**0.5) + 10
    with pytest.raises(MediaRefused, match=f"exceeds {MAX_IMAGE_PIXELS} pixels"):
        fingerprint(_png(side, side))
    # Our limit holds even where Pillow's guard has been switched off.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(MediaRefused, match=f"exceeds {MAX_IMAGE_PIXELS} pixels"):
        fingerprint(_png(20_000, 20_000))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(random.Random(1).randbytes(5000), id="random"),
        pytest.param(b"\xff\xd8\xff\xe0" + random.Random(2).randbytes(3000), id="jpeg-magic"),
        pytest.param(b"%PDF-1.7\n" + b"0" * 100, id="pdf"),
        pytest.param(_encode(_photo(), "BMP"), id="bmp-not-accepted"),
        pytest.param(_encode(_photo(), "TIFF"), id="tiff-not-accepted"),
    ],
)
def test_what_is_not_an_accepted_image_is_refused(data: bytes) -> None:
    with pytest.raises(MediaRefused, match="not an image"):
        fingerprint(data)
    with pytest.raises(MediaRefused):
        safe_thumbnail(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_truncated_image_is_refused(fmt: str) -> None:
    data = _encode(_photo((600, 400)), fmt)
    # WebP is decoded as it is opened, so its truncation shows there.
    with pytest.raises(MediaRefused, match=r"could not be decoded|a broken one"):
        fingerprint(data[: len(data) // 2])
    with pytest.raises(MediaRefused):
        analyse(data[: len(data) // 2])


def _mutants(draw: st.DrawFn) -> bytes:
    seed = _encode(_photo((40, 30)), draw(st.sampled_from(["JPEG", "PNG", "GIF", "WEBP"])))
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=4096), st.composite(_mutants)()))
def test_fingerprint_raises_nothing_but_media_refused(data: bytes) -> None:
    try:
        fp = fingerprint(data)
    except MediaRefused as e:
        assert e.message
    else:
        assert len(fp.pdq) == 64 and fp.width >= 1 and fp.height >= 1


# --- Thumbnails --------------------------------------------------------------------------


def test_thumbnail_is_small_grayscale_jpeg_without_metadata() -> None:
    exif = Image.Exif()
    exif[0x010F] = "Example Camera Maker"  # Make
    exif[0x0131] = "Example Editor 1.0"  # Software
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(_photo((1000, 800)), "JPEG", exif=exif, icc_profile=icc, comment=b"note")
    with Image.open(io.BytesIO(data)) as original:  # the metadata really is in the input
        assert original.getexif()[0x010F] == "Example Camera Maker"
        assert "icc_profile" in original.info
    raw = safe_thumbnail(data)
    thumb = _thumb(data)
    assert thumb.format == "JPEG"
    assert thumb.mode == "L"
    assert thumb.size == (256, 205)
    assert not thumb.getexif()
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(thumb.info)
    assert b"Example" not in raw


@pytest.mark.parametrize("max_side", [1, 32, 100, 300, 700])
def test_thumbnail_fits_max_side_and_never_enlarges(max_side: int) -> None:
    data = _encode(_photo((640, 320)), "PNG")
    thumb = _thumb(data, max_side=max_side)
    assert max(thumb.size) == min(max_side, 640)
    assert thumb.size[0] >= thumb.size[1]


def test_thumbnail_refuses_a_senseless_size() -> None:
    with pytest.raises(ValueError, match="max_side"):
        safe_thumbnail(_encode(_photo(), "PNG"), max_side=0)


def test_thumbnail_is_blurred_beyond_recognition() -> None:
    # Squares about a tenth of the picture wide, the scale of a face's features: sharp
    # after a plain downscale, a near-uniform gray once blurred. A blur radius under about
    # max_side/20 leaves more than a tenth of the contrast, and fails here.
    square, side = 96, 1024
    board = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(board)
    for y in range(0, side, square):
        for x in range((y // square) % 2 * square, side, 2 * square):
            draw.rectangle((x, y, x + square - 1, y + square - 1), fill=255)
    plain = board.resize((256, 256))
    thumb = _thumb(_encode(board, "PNG"))
    assert thumb.size == (256, 256)
    plain_spread = ImageStat.Stat(plain).stddev[0]
    assert plain_spread > 100
    assert ImageStat.Stat(thumb).stddev[0] < plain_spread / 10


def test_thumbnail_is_upright_but_pdq_hashes_the_stored_pixels() -> None:
    photo = _photo((400, 200))
    rotated = Image.Exif()
    rotated[0x0112] = 6  # Orientation: shown turned 90 degrees clockwise
    tagged = _encode(photo, "JPEG", exif=rotated, quality=95)
    untagged = _encode(photo, "JPEG", quality=95)
    assert _thumb(untagged).size == (256, 128)
    assert _thumb(tagged).size == (128, 256)
    # As the reference hashers do, so the hash compares with hashes others share.
    assert pdq_hash(tagged) == pdq_hash(untagged)
    assert fingerprint(tagged).width == 400


def test_animated_gif_uses_its_first_frame() -> None:
    frames = [Image.new("RGB", (120, 80), "white"), Image.new("RGB", (120, 80), "black")]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    fp, thumbnail = analyse(data)
    assert (fp.format, fp.width, fp.height) == ("GIF", 120, 80)
    thumb = Image.open(io.BytesIO(thumbnail))
    assert thumb.mode == "L"
    assert ImageStat.Stat(thumb).mean[0] > 240


def test_animated_webp_uses_its_first_frame() -> None:
    frames = [Image.new("RGB", (120, 80), "black"), Image.new("RGB", (120, 80), "white")]
    data = _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    fp, thumbnail = analyse(data)
    assert fp.format == "WEBP"
    assert ImageStat.Stat(Image.open(io.BytesIO(thumbnail))).mean[0] < 15


def test_transparent_png_shows_on_white() -> None:
    img = Image.new("RGBA", (200, 200), (0, 0, 0, 0))  # transparent black
    ImageDraw.Draw(img).rectangle((90, 90, 110, 110), fill=(0, 0, 0, 255))
    fp, thumbnail = analyse(_encode(img, "PNG"))
    assert fp.format == "PNG"
    thumb = Image.open(io.BytesIO(thumbnail))
    assert thumb.getpixel((0, 0)) == pytest.approx(255, abs=3)


@pytest.mark.parametrize(
    "img, fmt",
    [
        pytest.param(_photo().convert("CMYK"), "JPEG", id="cmyk-jpeg"),
        pytest.param(_photo().convert("L"), "JPEG", id="gray-jpeg"),
        pytest.param(_photo().convert("P"), "PNG", id="palette-png"),
        pytest.param(_photo().convert("1"), "PNG", id="1-bit-png"),
        pytest.param(_photo().convert("LA"), "PNG", id="gray-alpha-png"),
        pytest.param(_photo().convert("RGBA"), "WEBP", id="rgba-webp"),
    ],
)
def test_every_mode_is_hashed_and_thumbnailed(img: Image.Image, fmt: str) -> None:
    data = _encode(img, fmt)
    fp, thumbnail = analyse(data)
    assert fp.format == fmt
    assert fp.pdq_is_reliable
    # The same picture in plain RGB hashes alike, whatever the mode it was stored in.
    reference, _ = pdq_hash(_encode(_photo(), "PNG"))
    if img.mode != "1":  # dithering to black and white changes the picture itself
        assert pdq_distance(fp.pdq, reference) <= PDQ_MATCH_THRESHOLD
    assert Image.open(io.BytesIO(thumbnail)).mode == "L"


def test_multi_picture_jpeg_is_hashed_as_its_first_picture() -> None:
    # Cameras write MPO (a JPEG followed by more JPEGs); Pillow names its format MPO.
    photo = _photo()
    data = _encode(photo, "MPO", save_all=True, append_images=[Image.new("RGB", (400, 300))])
    fp = fingerprint(data)
    assert fp.format == "MPO"
    assert pdq_distance(fp.pdq, pdq_hash(_encode(photo, "JPEG"))[0]) <= PDQ_MATCH_THRESHOLD
    assert claimed_type_problem("camera.jpg", "image/jpeg", fp.format) is None


def test_16_bit_png_keeps_its_gray_levels() -> None:
    img = Image.new("I;16", (64, 64), 40_000)
    data = _encode(img, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    thumb = Image.open(io.BytesIO(safe_thumbnail(data)))
    assert thumb.getpixel((32, 32)) == pytest.approx(40_000 // 256, abs=3)  # not clipped to 255
    assert fingerprint(data).format == "PNG"


# --- Claimed type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, content_type, detected",
    [
        ("photo.jpg", "image/jpeg", "JPEG"),
        ("photo.JPEG", None, "JPEG"),
        ("photo.jpe", "image/pjpeg", "JPEG"),
        ("photo.jfif", "image/jpg", "JPEG"),
        ("camera.jpg", "image/jpeg", "MPO"),
        ("shot.png", "image/png; charset=binary", "PNG"),
        ("anim.gif", "IMAGE/GIF", "GIF"),
        ("pic.webp", "image/webp", "WEBP"),
        ("no-extension", None, "JPEG"),
        ("upload", "application/octet-stream", "PNG"),
        ("mystery.xyz", None, "PNG"),
        ("photo.jpg", "", "JPEG"),
        ("photo.jpg", "image/x-unknown-subtype", "JPEG"),
        (".png", None, "JPEG"),  # a hidden file's name, not an extension
        ("C:\\Users\\someone\\photo.jpg", None, "JPEG"),
        ("photo.jpg.", None, "JPEG"),
    ],
)
def test_consistent_claims_raise_no_problem(
    filename: str, content_type: str | None, detected: str
) -> None:
    assert claimed_type_problem(filename, content_type, detected) is None


@pytest.mark.parametrize(
    "filename, content_type, detected, expected",
    [
        (
            "ad.png",
            None,
            "JPEG",
            "'ad.png' is named as a PNG image, but its bytes are a JPEG image",
        ),
        ("ad.jpg", None, "WEBP", "named as a JPEG image, but its bytes are a WebP image"),
        ("x.exe", None, "JPEG", "'x.exe' is named as a program (.exe)"),
        ("x.pdf", None, "PNG", "'x.pdf' is named as application/pdf (.pdf), but its bytes"),
        ("photo.jpg.exe", None, "JPEG", "named as a program (.exe)"),
        ("notes.txt", None, "GIF", "named as text/plain"),
        ("photo", "image/png", "JPEG", "it was sent as image/png, but its bytes are a JPEG image"),
        ("photo.jpg", "application/pdf", "JPEG", "it was sent as application/pdf"),
        ("photo.jpg", "text/html; charset=utf-8", "JPEG", "it was sent as text/html"),
    ],
)
def test_contradicting_claims_are_named(
    filename: str, content_type: str | None, detected: str, expected: str
) -> None:
    problem = claimed_type_problem(filename, content_type, detected)
    assert problem is not None
    assert expected in problem


def test_both_claims_wrong_are_both_named() -> None:
    problem = claimed_type_problem("ad.gif", "image/png", "JPEG")
    assert problem is not None
    assert "'ad.gif' is named as a GIF image" in problem
    assert "sent as image/png" in problem
