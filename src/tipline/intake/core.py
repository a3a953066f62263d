"""Intake's pure logic: what a report must look like, and how bodies are read.

No Django here. Every rejection names the field (and for bulk bodies, the entry) and
says what to send instead. Messages the public form can show are %-templates marked with
gettext_noop, their values kept apart, so the form can show them translated.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import io
import json
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import pycountry
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from tipline.common.i18n import gettext_noop
from tipline.common.urls import InvalidURL
from tipline.common.urls import parse as parse_url

from .filetypes import claimed_type_problem

MAX_URLS = 100
MAX_MEDIA = 10
MAX_DESCRIPTION_CHARS = 20_000
MAX_EXCERPT_CHARS = 100_000
# Images only: what Pillow opens safely. 50 megapixels stops decompression bombs.
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
MAX_IMAGE_PIXELS = 50_000_000

# Whitespace (any Unicode space) or an ASCII control character, found in one pass.
_BAD_URL_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def _english(template: str, params: Mapping[str, Any] | None) -> str:
    # As in Django's ValidationError: without params, a message is text, not a %-template.
    return template % params if params else template


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field: `message` in English, or `template` and `params` to
    translate (the public form shows gettext(template) % params)."""

    field: str
    template: str
    params: Mapping[str, Any] | None = None

    @property
    def message(self) -> str:
        return _english(self.template, self.params)

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class IntakeError(Exception):
    """A body or report we cannot accept; `status` is the HTTP answer it deserves.

    `detail` is English; with `params`, the `detail` given is a template, kept as `template`.
    """

    status = 400

    def __init__(
        self,
        detail: str,
        errors: list[FieldError] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = detail
        self.params = params or {}
        self.detail = _english(detail, self.params)
        super().__init__(self.detail)
        self.errors = errors or []


class ReportInvalid(IntakeError):
    status = 422


class BodyInvalid(IntakeError):
    status = 400


class UnsupportedMediaType(IntakeError):
    status = 415


class TooLarge(IntakeError):
    status = 413


class Conflict(IntakeError):
    status = 409


# --- The report's JSON shape -------------------------------------------------------------

Text200 = Annotated[str, Field(max_length=200)]


def _refused(template: str, **params: Any) -> PydanticCustomError:
    """A validator's refusal. Pydantic keeps the template as the error's msg (it fills only
    {braces}) and the params as its ctx; errors_from_validation turns both into a FieldError."""
    return PydanticCustomError("refused", template, params)


class ReporterIn(BaseModel):
    """Who reported (all optional: anonymous reports are welcome)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text200 = ""
    email: Annotated[str, Field(max_length=254)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    country: Annotated[str, Field(max_length=2, description="ISO 3166-1 alpha-2")] = ""

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if v and not _EMAIL.match(v):
            raise _refused(gettext_noop("not an e-mail address (expected name@domain.example)"))
        return v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        if v and not re.fullmatch(r"[0-9+()./\- ]{3,40}", v):
            raise _refused(
                gettext_noop("a phone number may hold only digits, spaces and + ( ) . / -")
            )
        return v

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        v = v.upper()
        if v and pycountry.countries.get(alpha_2=v) is None:
            raise ValueError(f"{v!r} is not an ISO 3166-1 alpha-2 country code (e.g. FR, DE)")
        return v


class MediaIn(BaseModel):
    """A file sent inline; for large files use multipart/form-data instead."""

    model_config = ConfigDict(extra="forbid")

    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_base64: str


class ReportIn(BaseModel):
    """One report, as a provider's API call or the public form produces it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: Annotated[
        str | None, Field(max_length=200, description="Your own id; resubmitting it is safe.")
    ] = None
    category: Annotated[str, Field(max_length=200, description="Your label, kept as sent.")] = ""
    urls: Annotated[list[str], Field(max_length=MAX_URLS)] = []
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_CHARS)] = ""
    excerpt: Annotated[
        str,
        Field(max_length=MAX_EXCERPT_CHARS, description="The text of the ad, chat or post."),
    ] = ""
    occurred_at: datetime | None = None
    reporter: ReporterIn = ReporterIn()
    media: Annotated[list[MediaIn], Field(max_length=MAX_MEDIA)] = []

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, v: str | None) -> str | None:
        return v or None

    @field_validator("urls")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        for i, url in enumerate(v):
            problem = url_problem(url)
            if problem:
                template, params = problem
                raise _refused(template, index=i, **params)
        return [u.strip() for u in v]

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return v
        if v.tzinfo is None:
            return v.replace(tzinfo=UTC)
        # Stored in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
        try:
            return v.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("a date before year 1 or after year 9999 once in UTC") from exc


@dataclass(frozen=True)
class MediaDraft:
    filename: str
    content_type: str
    data: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class ReportDraft:
    """A validated report, ready to store: the fields plus decoded media."""

    report: ReportIn
    payload: dict[str, Any]
    payload_sha256: str
    media: list[MediaDraft] = field(default_factory=list)


def url_problem(url: str) -> tuple[str, dict[str, Any]] | None:
    """Why `url` cannot be a reported URL, as (template, params), or None.

    The canonicalizer's rules (shared with Harmonize), plus the door's own: one URL per
    entry, no control characters, and a host name with a dot (not "localhost").
    """
    s = url.strip()
    bad = _BAD_URL_CHAR.search(s)
    if bad and bad.group().isspace():
        return gettext_noop("a URL cannot contain spaces; send one URL per entry"), {}
    if bad:
        return gettext_noop("a URL cannot contain control characters"), {}
    try:
        canonical = parse_url(s)
    except InvalidURL as e:
        return e.template, e.params
    if canonical.host_kind == "domain" and "." not in canonical.host:
        return gettext_noop("no host name: expected something like https://site.example/page"), {}
    return None


def _field_name(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _known_fields(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    # Walk the models along loc to the one that owns the unknown key.
    current: type[BaseModel] = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = current.model_fields[part].annotation
        args = getattr(annotation, "__args__", ())
        nested = [
            a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not nested:
            break
        current = nested[0]
    return list(current.model_fields)


def errors_from_validation(exc: ValidationError) -> list[FieldError]:
    errors = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        name = _field_name(loc)
        params: dict[str, Any] = {}
        if e["type"] == "extra_forbidden":
            known = _known_fields(ReportIn, loc)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            message = f"unknown field; {hint}known fields: {', '.join(known)}"
        elif e["type"] == "refused":  # see _refused: msg is the template, ctx its params
            params = dict(e.get("ctx") or {})
            if "index" in params:
                name += f"[{params.pop('index')}]"
            message = str(e["msg"])
        else:
            message = str(e["msg"]).removeprefix("Value error, ")
        errors.append(FieldError(name or "body", message, params))
    return errors


def _decode_media(media: list[MediaIn], *, max_bytes: int) -> list[MediaDraft]:
    drafts: list[MediaDraft] = []
    errors: list[FieldError] = []
    for i, m in enumerate(media):
        where = f"media[{i}].content_base64"
        if len(m.content_base64) * 3 // 4 > max_bytes + 3:
            raise TooLarge(
                f"{where} is larger than the limit of {max_bytes} bytes",
                [FieldError(where, f"file larger than {max_bytes} bytes")],
            )
        try:
            data = base64.b64decode(m.content_base64, validate=True)
        except (binascii.Error, ValueError):
            errors.append(FieldError(where, gettext_noop("not valid base64")))
            continue
        try:
            drafts.append(check_image(data, m.filename, max_bytes=max_bytes))
        except IntakeError as e:
            errors.append(FieldError(where, e.template, e.params))
    if errors:
        raise ReportInvalid("the report's media could not be accepted", errors)
    return drafts


def check_image(
    data: bytes, filename: str, *, max_bytes: int, content_type: str | None = None
) -> MediaDraft:
    """A media file we accept: an image Pillow can read, within size and pixel limits."""
    params: dict[str, Any] = {"filename": filename}
    if len(data) > max_bytes:
        raise TooLarge(
            gettext_noop("%(filename)s: file larger than %(max_bytes)s bytes"),
            params={**params, "max_bytes": max_bytes},
        )
    if not data:
        raise ReportInvalid(gettext_noop("%(filename)s: empty file"), params=params)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                # Pillow names the multi-picture JPEGs phones write "MPO": still JPEG.
                fmt = "JPEG" if img.format == "MPO" else img.format or ""
                width, height = img.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ReportInvalid(
                        gettext_noop(
                            "%(filename)s: image of %(width)sx%(height)s pixels exceeds "
                            "%(max_pixels)s pixels"
                        ),
                        params={
                            **params,
                            "width": width,
                            "height": height,
                            "max_pixels": MAX_IMAGE_PIXELS,
                        },
                    )
                img.verify()
    except ReportInvalid:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ReportInvalid(
            gettext_noop("%(filename)s: image too large to decode safely"), params=params
        ) from None
    except Exception:  # any decoder failure means "not an image we accept"
        raise ReportInvalid(
            gettext_noop("%(filename)s: not an image (accepted: JPEG, PNG, GIF, WebP)"),
            params=params,
        ) from None
    if fmt not in IMAGE_FORMATS:
        raise ReportInvalid(
            gettext_noop(
                "%(filename)s: %(format)s images are not accepted (accepted: JPEG, PNG, GIF, WebP)"
            ),
            params={**params, "format": fmt or "unknown"},
        )
    mismatch = claimed_type_problem(filename, content_type, fmt)
    if mismatch:
        raise ReportInvalid(f"{filename}: {mismatch}")
    return MediaDraft(filename[:255], IMAGE_FORMATS[fmt], data, width, height)


def payload_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# What identifies a reporter, kept only in the report's encrypted fields.
REPORTER_CONTACT_KEYS = frozenset({"name", "email", "phone"})

# The public form shows its own wording for this one (it does not know these field names).
NOTHING_TO_ACT_ON = FieldError("urls", "a report needs at least one of urls, excerpt or media")


def _fields_holding_nul(obj: Any) -> Iterator[str]:
    """The fields (as errors name them) whose text, or key, holds a NUL character. A loop,
    not recursion: JSON nested a thousand deep must not overflow the stack here."""
    pending: list[tuple[tuple[int | str, ...], Any]] = [((), obj)]
    while pending:
        loc, value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                yield _field_name(loc) or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in str(key):
                    yield _field_name((*loc, str(key)))
                else:
                    pending.append(((*loc, str(key)), item))
        elif isinstance(value, list):
            pending.extend(((*loc, i), item) for i, item in enumerate(value))


def parse_report(
    obj: Any, *, max_media_bytes: int, extra_media: list[MediaDraft] | None = None
) -> ReportDraft:
    """Validate one report object; raise ReportInvalid naming every bad field."""
    if not isinstance(obj, dict):
        raise ReportInvalid(
            "a report must be a JSON object", [FieldError("body", "expected a JSON object")]
        )
    # NUL is not text, and PostgreSQL can store it in no column: refused, not dropped.
    errors = [
        FieldError(name, "a NUL character (\\u0000) is not text: remove it")
        for name in _fields_holding_nul(obj)
    ]
    try:
        report = ReportIn.model_validate(obj)
    except ValidationError as e:
        named = errors_from_validation(e)  # a URL's own check says "control characters"
        errors = named + [err for err in errors if err.field not in {n.field for n in named}]
    if errors:
        raise ReportInvalid("the report has invalid fields", errors)
    media = _decode_media(report.media, max_bytes=max_media_bytes) + list(extra_media or [])
    if not (report.urls or report.excerpt or media):
        raise ReportInvalid("nothing to act on", [NOTHING_TO_ACT_ON])
    # Keep the payload as received, minus inline file bytes (they go to the evidence store).
    payload = dict(obj)
    if "media" in payload:
        payload["media"] = [
            {"filename": m.filename, "sha256": d.sha256}
            for m, d in zip(report.media, media, strict=False)
        ]
    if extra_media:
        payload["media_files"] = [{"filename": d.filename, "sha256": d.sha256} for d in extra_media]
    # The hash covers everything sent (a resubmission is recognised as such); what is kept
    # leaves out the reporter's contact details, which are stored encrypted on their own.
    sha256 = payload_hash(payload)
    if isinstance(payload.get("reporter"), dict):
        payload["reporter"] = {
            k: v for k, v in payload["reporter"].items() if k not in REPORTER_CONTACT_KEYS
        }
    return ReportDraft(report=report, payload=payload, payload_sha256=sha256, media=media)


# Python's JSON reader gives up (RecursionError) past about a thousand nested levels.
TOO_DEEP = "body is not valid JSON: arrays or objects nested too deeply"


def read_bulk(body: bytes, content_type: str, *, max_reports: int) -> list[Any]:
    """The entries of a bulk body: a JSON array, or NDJSON (one object per line)."""
    if content_type == "application/json":
        try:
            entries = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            raise BodyInvalid(f"body is not valid JSON: {e}") from None
        except RecursionError:
            raise BodyInvalid(TOO_DEEP) from None
        if not isinstance(entries, list):
            raise BodyInvalid("a bulk body must be a JSON array of reports (or NDJSON)")
    elif content_type in {"application/x-ndjson", "application/jsonl", "application/ndjson"}:
        entries = []
        for lineno, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except (ValueError, UnicodeDecodeError) as e:
                # Keep the index so the entry is reported as rejected, not silently skipped.
                entries.append(_Unparsable(f"line {lineno} is not valid JSON: {e}"))
            except RecursionError:
                entries.append(_Unparsable(f"line {lineno}: {TOO_DEEP}"))
    else:
        raise UnsupportedMediaType(
            f"Content-Type {content_type or 'missing'} is not accepted: send application/json "
            "(an array) or application/x-ndjson (one report per line)"
        )
    if not entries:
        raise BodyInvalid("the bulk body holds no reports")
    if len(entries) > max_reports:
        raise TooLarge(f"{len(entries)} reports in one body; the limit is {max_reports}")
    return entries


@dataclass(frozen=True)
class _Unparsable:
    message: str


def parse_bulk_entry(entry: Any, *, max_media_bytes: int) -> ReportDraft:
    if isinstance(entry, _Unparsable):
        raise ReportInvalid(entry.message, [FieldError("body", entry.message)])
    try:
        return parse_report(entry, max_media_bytes=max_media_bytes)
    except TooLarge as e:
        raise ReportInvalid(e.detail, e.errors) from None


def read_json_object(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BodyInvalid(f"body is not valid JSON: {e}") from None
    except RecursionError:
        raise BodyInvalid(TOO_DEEP) from None
