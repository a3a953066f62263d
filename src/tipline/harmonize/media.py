"""Media at the door: exact and perceptual (PDQ) hashes of a reported image, and a blurred
grayscale thumbnail an analyst can look at without seeing the content. No Django here."""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pdqhash
from PIL import Image, ImageFilter

from tipline.intake.core import IMAGE_FORMATS, MAX_IMAGE_PIXELS

# Two PDQ hashes match when at most this many of their 256 bits differ (inclusive).
PDQ_MATCH_THRESHOLD: Final = 31
# Below this quality (0-100) a PDQ hash describes a near-featureless image: do not match it.
PDQ_QUALITY_FLOOR: Final = 50
# The reference Python hasher shrinks to fit 512x512 before hashing; doing the same
# reproduces its test hashes bit for bit (hashing at full size puts them up to 12 bits
# off) and is what makes hashing a large photo cheap.
PDQ_INPUT_SIDE: Final = 512
THUMBNAIL_SIDE: Final = 256

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
# Only the formats intake accepts: Image.open tries no other decoder on hostile bytes.
_DECODERS: Final = tuple(IMAGE_FORMATS)
_CHUNK = 1 << 20
# Modes Pillow resamples as they are; any other is converted first (P and 1 would be
# resampled nearest-neighbour, I;16 would be clipped to white).
_RESAMPLABLE = {"RGB", "RGBA", "L", "LA", "CMYK"}
# EXIF Orientation value -> the transpose that shows the picture upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ORIENTATION_TAG = 0x0112
# Blur radius as a fraction of the thumbnail's longer side: at 1/16, a face filling a
# third of the picture is a soft blob.
_BLUR_FRACTION = 1 / 16


class MediaRefused(Exception):
    """Bytes we will not decode: not an image of an accepted format, broken, or too large."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MediaFingerprint:
    """What identifies an image: exact digests of its bytes, its PDQ hash, and its shape.

    width and height are as stored (before any EXIF rotation); format is Pillow's name.
    """

    md5: str
    sha1: str
    sha256: str
    pdq: str
    pdq_quality: int
    width: int
    height: int
    format: str

    @property
    def pdq_is_reliable(self) -> bool:
        return self.pdq_quality >= PDQ_QUALITY_FLOOR


def pdq_hash(image: bytes | str | os.PathLike[str]) -> tuple[str, int]:
    """The PDQ hash of an image (bytes or a path) as 64 hex digits, and its quality 0-100.

    Hashes the pixels as stored, ignoring EXIF orientation, as the reference and
    ThreatExchange's hasher do, so hashes compare with those shared by others.
    """
    data = image if isinstance(image, bytes) else Path(image).read_bytes()
    with _open(data) as img:
        return _pdq(_shrunk(img, PDQ_INPUT_SIDE))


def pdq_distance(a_hex: str, b_hex: str) -> int:
    """How many of the 256 bits differ between two PDQ hashes (Hamming distance)."""
    for h in (a_hex, b_hex):
        if not _HEX64.fullmatch(h):
            raise ValueError(f"not a PDQ hash (expected 64 hex digits): {h!r}")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def fingerprint(data: bytes) -> MediaFingerprint:
    """Hashes and shape of an image; MediaRefused if it is not one we can decode safely."""
    md5, sha1, sha256 = _digests(data)
    with _open(data) as img:
        fmt, (width, height) = img.format or "", img.size
        pdq, quality = _pdq(_shrunk(img, PDQ_INPUT_SIDE))
    return MediaFingerprint(md5, sha1, sha256, pdq, quality, width, height, fmt)


def safe_thumbnail(data: bytes, *, max_side: int = THUMBNAIL_SIDE) -> bytes:
    """A JPEG for analysts: upright, at most max_side, grayscale, heavily blurred, no metadata."""
    _check_side(max_side)
    with _open(data) as img:
        orientation = _orientation(img)
        # Through the PDQ-sized image, as analyse() does, so both give the same bytes.
        small = _shrunk(img, max(max_side, PDQ_INPUT_SIDE))
        return _thumbnail(small, orientation, max_side)


def analyse(data: bytes, *, max_side: int = THUMBNAIL_SIDE) -> tuple[MediaFingerprint, bytes]:
    """fingerprint() and safe_thumbnail() together, decoding the image once.

    A max_side above PDQ_INPUT_SIDE costs a second decode, so the PDQ hash stays the same
    whatever thumbnail size is asked for.
    """
    _check_side(max_side)
    md5, sha1, sha256 = _digests(data)
    with _open(data) as img:
        fmt, (width, height) = img.format or "", img.size
        orientation = _orientation(img)
        small = _shrunk(img, PDQ_INPUT_SIDE)
        pdq, quality = _pdq(small)
        thumbnail = _thumbnail(small, orientation, max_side) if max_side <= PDQ_INPUT_SIDE else None
    if thumbnail is None:
        with _open(data) as img:
            thumbnail = _thumbnail(_shrunk(img, max_side), orientation, max_side)
    return MediaFingerprint(md5, sha1, sha256, pdq, quality, width, height, fmt), thumbnail


# --- Decoding ----------------------------------------------------------------------------


def _check_side(max_side: int) -> None:
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, not {max_side}")


def _digests(data: bytes) -> tuple[str, str, str]:
    # One pass, a chunk at a time, so each chunk is read from memory once for all three.
    md5 = hashlib.md5(usedforsecurity=False)
    sha1 = hashlib.sha1(usedforsecurity=False)
    sha256 = hashlib.sha256()
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        chunk = view[start : start + _CHUNK]
        md5.update(chunk)
        sha1.update(chunk)
        sha256.update(chunk)
    return md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest()


def _open(data: bytes) -> Image.Image:
    """The image, opened lazily (nothing decoded yet) once its size is known to be safe."""
    try:
        # catch_warnings is process-wide, not per thread: the pixel check below is what
        # holds when another thread's filters win.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=_DECODERS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise MediaRefused("image too large to decode safely") from None
    except Exception:  # any failure to parse the header means "not an image we accept"
        raise MediaRefused(
            "not an image, or a broken one (accepted: JPEG, PNG, GIF, WebP)"
        ) from None
    width, height = img.size
    if width < 1 or height < 1:
        img.close()
        raise MediaRefused(f"image of {width}x{height} pixels has no content")
    if width * height > MAX_IMAGE_PIXELS:
        img.close()
        raise MediaRefused(f"image of {width}x{height} pixels exceeds {MAX_IMAGE_PIXELS} pixels")
    return img


def _shrunk(img: Image.Image, side: int) -> Image.Image:
    """The first frame, decoded and shrunk to fit side x side, in a mode from _RESAMPLABLE.

    Shrinks img in place when it can: a JPEG is then decoded at a reduced scale.
    """
    try:
        if img.mode not in _RESAMPLABLE:
            img = _resamplable(img)
        img.thumbnail((side, side))
        img.load()
    except Exception:  # a decoder failure: truncated, corrupt, or lying about itself
        raise MediaRefused("broken image: it could not be decoded") from None
    return img


def _resamplable(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit gray: keep the top 8 bits (Pillow's own conversion clips at 255).
        wide = np.asarray(img).astype(np.int64)
        return Image.fromarray((np.clip(wide, 0, 0xFFFF) >> 8).astype(np.uint8))
    if img.mode == "1":
        return img.convert("L")
    if img.mode in ("P", "PA"):
        transparent = img.mode == "PA" or "transparency" in img.info
        return img.convert("RGBA" if transparent else "RGB")
    return img.convert("RGB")


def _pdq(small: Image.Image) -> tuple[str, int]:
    rgb = small if small.mode == "RGB" else small.convert("RGB")  # alpha dropped, as reference
    bits, quality = pdqhash.compute(np.asarray(rgb))
    # pdqhash gives the bits most significant first: packed big-endian, that is the hex.
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # broken EXIF: show the pixels as stored
        return 1


def _thumbnail(small: Image.Image, orientation: int, max_side: int) -> bytes:
    gray = _gray_on_white(small)
    gray.thumbnail((max_side, max_side))
    if orientation in _UPRIGHT:
        gray = gray.transpose(_UPRIGHT[orientation])
    blurred = gray.filter(ImageFilter.GaussianBlur(max(gray.size) * _BLUR_FRACTION))
    # A fresh image carries no info dict: no EXIF, ICC profile, comment or XMP can leak.
    clean = Image.frombytes("L", blurred.size, blurred.tobytes())
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=75)
    return out.getvalue()


def _gray_on_white(img: Image.Image) -> Image.Image:
    # Transparent parts show as a browser would show them on a white page.
    if img.mode in ("RGBA", "LA"):
        la = img.convert("LA")
        page = Image.new("L", img.size, 255)
        page.paste(la.getchannel("L"), mask=la.getchannel("A"))
        return page
    if img.mode == "CMYK":
        img = img.convert("RGB")
    return img.convert("L")
