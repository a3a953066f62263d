"""Console writes: staff roles and accounts, claims on items."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tipline.common.audit import audit_record
from tipline.harmonize.models import Item
from tipline.orient.models import Destination

from . import roles
from .models import Claim, Exposure, Note, Preference


class ClaimRefused(Exception):
    """The item is someone else's for now (or gone); `status` is the HTTP answer."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@transaction.atomic
def roles_ensure() -> None:
    """Create the role groups and give them their permissions (idempotent)."""
    for role in roles.ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for dotted in roles.PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.add(*perms)


@transaction.atomic
def first_analyst_create(*, username: str = "analyst") -> tuple[User, str] | None:
    """On a fresh install, create one analyst with a random password; None if staff exist."""
    if User.objects.filter(is_staff=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=roles.ANALYST))
    return user, password


@transaction.atomic
def staff_create(*, username: str, role: str, offices: tuple[str, ...] = ()) -> tuple[User, str]:
    """A staff account with one role and a random password (shown once); a liaison
    officer is attached to the offices whose dispatches they will see."""
    if role not in roles.ROLES:
        raise ValueError(f"role {role!r}: expected one of {', '.join(roles.ROLES)}")
    if User.objects.filter(username=username).exists():
        raise ValueError(f"there is already a user {username!r}")
    found = {d.code: d for d in Destination.objects.filter(code__in=offices, kind="office")}
    missing = [code for code in offices if code not in found]
    if missing:
        raise ValueError(f"no office with code {', '.join(missing)}")
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    for office in found.values():
        office.liaisons.add(user)
    audit_record(
        actor=None,
        action="staff.create",
        target=f"user:{username}",
        detail={"role": role, "offices": sorted(found)},
    )
    return user, password


@transaction.atomic
def item_claim(*, item_id: int, user: Any) -> Claim:
    """Take an item to assess it. Claiming again extends your claim; an item someone else
    holds is refused until they release it or their claim lapses."""
    now = timezone.now()
    if not Item.objects.select_for_update().filter(id=item_id).exists():
        raise ClaimRefused(f"there is no item {item_id}", status=404)
    expires = now + timedelta(seconds=settings.CONSOLE_CLAIM_S)
    claim = Claim.objects.select_related("user").filter(item_id=item_id).first()
    if claim is not None and claim.user_id != user.pk and claim.expires_at > now:
        raise ClaimRefused(
            f"item {item_id} is claimed by {claim.user.get_username()} until "
            f"{claim.expires_at:%H:%M} UTC"
        )
    if claim is None:
        claim = Claim.objects.create(item_id=item_id, user=user, claimed_at=now, expires_at=expires)
    else:
        Claim.objects.filter(id=claim.id).update(user=user, claimed_at=now, expires_at=expires)
        claim.refresh_from_db()
    audit_record(actor=user, action="item.claim", target=f"item:{item_id}")
    return claim


@transaction.atomic
def item_release(*, item_id: int, user: Any) -> None:
    """Give an item back to the queue. Only its holder releases a live claim."""
    claim = Claim.objects.select_for_update().filter(item_id=item_id).first()
    if claim is None:
        return
    if claim.user_id != user.pk and claim.expires_at > timezone.now():
        raise ClaimRefused(f"item {item_id} is claimed by someone else", status=403)
    claim.delete()
    audit_record(actor=user, action="item.release", target=f"item:{item_id}")


def language_set(*, user: Any, language: str) -> Preference:
    """The language the console speaks to this person (English or French)."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(
            f"language {language!r}: expected one of {', '.join(dict(settings.LANGUAGES))}"
        )
    pref, _ = Preference.objects.update_or_create(user=user, defaults={"language": language})
    audit_record(actor=user, action="setting.language", detail={"language": language})
    return pref


class ExposureCapped(Exception):
    """The daily cap of un-blurred viewing is reached: media stay hidden until tomorrow."""


def _exposure_locked(user: Any) -> Exposure:
    exposure, _ = Exposure.objects.select_for_update().get_or_create(
        user=user, day=timezone.now().date()
    )
    if exposure.seconds >= settings.CONSOLE_EXPOSURE_CAP_S:
        raise ExposureCapped(
            "your viewing time for today is used up: media stay blurred until tomorrow"
        )
    return exposure


@transaction.atomic
def media_unblur(
    *, user: Any, item_id: int, sha256: str, known: bool, seconds: float, automatic: bool = False
) -> Exposure:
    """Show one picture un-blurred: logged, and `seconds` counted against the day's cap
    at once (the first beat with JavaScript, the whole fixed allowance without).
    `automatic`: shown because this person switched blurring off."""
    exposure = _exposure_locked(user)
    Exposure.objects.filter(id=exposure.id).update(
        seconds=F("seconds") + seconds, unblurs=F("unblurs") + 1
    )
    detail: dict[str, Any] = {"sha256": sha256}
    if automatic:
        detail["blur_off"] = True
    audit_record(
        actor=user,
        action="media.unblur_known" if known else "media.unblur",
        target=f"item:{item_id}",
        detail=detail,
    )
    exposure.refresh_from_db()
    return exposure


@transaction.atomic
def exposure_add(*, user: Any, seconds: float) -> Exposure:
    """A beat from the page: an un-blurred picture stayed on screen `seconds` more."""
    exposure = _exposure_locked(user)
    seconds = max(0.0, min(seconds, settings.CONSOLE_EXPOSURE_BEAT_S))
    Exposure.objects.filter(id=exposure.id).update(seconds=F("seconds") + seconds)
    exposure.refresh_from_db()
    return exposure


def preferences_set(*, user: Any, blur: bool, grayscale: bool) -> Preference:
    """Welfare settings, each person's own: recorded in the audit log when changed."""
    pref, _ = Preference.objects.get_or_create(user=user)
    if (pref.blur, pref.grayscale) != (blur, grayscale):
        Preference.objects.filter(id=pref.id).update(blur=blur, grayscale=grayscale)
        audit_record(
            actor=user, action="setting.welfare", detail={"blur": blur, "grayscale": grayscale}
        )
        pref.refresh_from_db()
    return pref


def note_add(*, user: Any, item_id: int, text: str) -> Note:
    """A note on an item, for colleagues; recorded in the audit log too."""
    text = text.strip()
    if not text:
        raise ValueError("a note needs some text")
    note = Note.objects.create(
        item_id=item_id, user=user, text=text[:5000], created_at=timezone.now()
    )
    audit_record(actor=user, action="item.note", target=f"item:{item_id}", detail={"note": note.pk})
    return note
