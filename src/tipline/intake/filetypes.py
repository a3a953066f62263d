"""What a file claims to be (its name, its declared Content-Type) against what its bytes
are. Pure: intake refuses disagreeing files at the door."""

from __future__ import annotations

import mimetypes
from typing import Final

# File name extensions and Content-Types of image formats, by Pillow format name.
_EXTENSION_FORMATS: Final = {
    **dict.fromkeys(("jpg", "jpeg", "jpe", "jfif", "pjpeg", "pjp"), "JPEG"),
    **dict.fromkeys(("png", "apng"), "PNG"),
    "gif": "GIF",
    "webp": "WEBP",
    **dict.fromkeys(("bmp", "dib"), "BMP"),
    **dict.fromkeys(("tif", "tiff"), "TIFF"),
    **dict.fromkeys(("heic", "heif"), "HEIF"),
    "avif": "AVIF",
    "jxl": "JPEG XL",
    **dict.fromkeys(("jp2", "j2k", "jpf", "jpx"), "JPEG 2000"),
    "ico": "ICO",
    **dict.fromkeys(("svg", "svgz"), "SVG"),
    "psd": "PSD",
}
_CONTENT_TYPE_FORMATS: Final = {
    **dict.fromkeys(("image/jpeg", "image/jpg", "image/pjpeg", "image/jfif"), "JPEG"),
    **dict.fromkeys(("image/png", "image/apng", "image/x-png"), "PNG"),
    "image/gif": "GIF",
    "image/webp": "WEBP",
    **dict.fromkeys(("image/bmp", "image/x-bmp", "image/x-ms-bmp"), "BMP"),
    "image/tiff": "TIFF",
    **dict.fromkeys(("image/heic", "image/heif"), "HEIF"),
    "image/avif": "AVIF",
    "image/jxl": "JPEG XL",
    **dict.fromkeys(("image/jp2", "image/jpx"), "JPEG 2000"),
    **dict.fromkeys(("image/x-icon", "image/vnd.microsoft.icon"), "ICO"),
    "image/svg+xml": "SVG",
    "image/vnd.adobe.photoshop": "PSD",
}
# Content-Types that say nothing about the content.
_GENERIC_TYPES: Final = {
    "",
    "application/octet-stream",
    "binary/octet-stream",
    "application/binary",
    "application/unknown",
    "application/x-unknown",
    "application/download",
    "application/force-download",
    "image/*",
    "*/*",
}
# Python's mimetypes calls these application/octet-stream (or does not know them), yet a
# name that presents an image as a program is exactly what an analyst should see.
_PROGRAM_EXTENSIONS: Final = {
    "exe", "dll", "com", "scr", "msi", "pif", "cpl", "bat", "cmd", "ps1", "vbs", "jar",
    "apk", "app", "dmg", "elf", "bin", "so",
}  # fmt: skip
# Pillow's format names for the same format.
_SAME_FORMAT: Final = {"MPO": "JPEG"}
_FORMAT_LABELS: Final = {"WEBP": "WebP"}
# The built-in table only, so the answer does not depend on the host's /etc/mime.types.
_MIMETYPES = mimetypes.MimeTypes()


def claimed_type_problem(
    filename: str, content_type: str | None, detected_format: str
) -> str | None:
    """Why a file's name or declared Content-Type disagrees with what its bytes are, or None.

    detected_format is Pillow's format name (MediaFingerprint.format). A name without an
    extension, an unknown extension and a generic Content-Type claim nothing.
    """
    detected = detected_format.strip().upper()
    detected = _SAME_FORMAT.get(detected, detected)
    what = f"its bytes are a {_FORMAT_LABELS.get(detected, detected)} image"
    problems = []
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].rstrip(" .")
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower() if dot and stem else ""
    if ext in _EXTENSION_FORMATS:
        claimed = _EXTENSION_FORMATS[ext]
        if claimed != detected:
            problems.append(f"{name!r} is named as a {claimed} image, but {what}")
    elif ext in _PROGRAM_EXTENSIONS:
        problems.append(f"{name!r} is named as a program (.{ext}), but {what}")
    elif ext:
        guessed, _ = _MIMETYPES.guess_type(f"file.{ext}")
        if guessed and guessed not in _GENERIC_TYPES:
            problems.append(f"{name!r} is named as {guessed} (.{ext}), but {what}")
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared in _CONTENT_TYPE_FORMATS:
        if _CONTENT_TYPE_FORMATS[declared] != detected:
            problems.append(f"it was sent as {declared}, but {what}")
    elif declared not in _GENERIC_TYPES and not declared.startswith("image/"):
        # An unknown image/* subtype may well be this format under another name.
        problems.append(f"it was sent as {declared}, but {what}")
    return "; ".join(problems) or None
