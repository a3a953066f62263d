"""The console's pages: signing in (password, then a TOTP code — enrolling an
authenticator on first sign-in), and the analysts' queue."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from tipline.common.audit import audit_record
from tipline.common.evidence import default_store
from tipline.crossref import selectors as crossref_selectors
from tipline.crossref import services as crossref_services
from tipline.harmonize.models import Item, MediaFile
from tipline.harmonize.taxonomy import AgeCategory, Classification, Theme
from tipline.intake.choices import Channel
from tipline.orient import selectors as orient_selectors
from tipline.orient import services as orient_services
from tipline.orient.models import Dispatch
from tipline.orient.services import item_classify

from . import selectors, services

PENDING = "tipline_pending_user"
View = Callable[..., HttpResponse]


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("console:queue")
    # A path on this site only: redirect() would take "queue" or "*" for a view's name.
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return reverse("console:queue")
    return target


def staff_required(perm: str) -> Callable[[View], View]:
    """Signed in (with the second factor when required) and holding `perm`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated or not user.is_staff:
                return redirect(f"{reverse('console:login')}?next={request.path}")
            if settings.REQUIRE_2FA and not user.is_verified():  # type: ignore[union-attr,attr-defined]
                return redirect(f"{reverse('console:login')}?next={request.path}")
            if _idle_too_long(request):
                audit_record(actor=user, action="staff.logout", detail={"idle": True})
                logout(request)
                return redirect(f"{reverse('console:login')}?next={request.path}&idle=1")
            with translation.override(selectors.language_of(user)):
                if not user.has_perm(perm):
                    raise PermissionDenied(_("Your role does not allow this page."))
                return view(request, *args, **kwargs)

        return wrapped

    return decorate


SEEN = "tipline_seen_at"


def _idle_too_long(request: HttpRequest) -> bool:
    """A session left idle past CONSOLE_IDLE_S ends (the 8-hour absolute limit is the
    session cookie's age). Activity is written at most once a minute."""
    now = time.time()
    seen = request.session.get(SEEN)
    if seen is not None and now - float(seen) > settings.CONSOLE_IDLE_S:
        return True
    if seen is None or now - float(seen) > 60:
        request.session[SEEN] = now
    return False


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """What django-axes answers after too many failed sign-ins."""
    return render(
        request,
        "console/login.html",
        {
            "error": _(
                "Too many failed sign-ins: this account is locked from this address for a "
                "while. Try again later, or ask an administrator."
            ),
            "next": _next(request),
        },
        status=429,
    )


def login_view(request: HttpRequest) -> HttpResponse:
    """Step one: username and password."""
    if request.method == "POST":
        username = request.POST.get("username", "")
        # No one's username is longer than the model allows (and django-axes, counting the
        # failure, could not store it): wrong, without asking.
        longest = get_user_model()._meta.get_field("username").max_length or 150
        user = (
            authenticate(request, username=username, password=request.POST.get("password", ""))
            if len(username) <= longest
            else None
        )
        if user is None or not user.is_staff:
            error = _("Wrong username or password.")
            return render(
                request, "console/login.html", {"error": error, "next": _next(request)}, status=401
            )
        if not settings.REQUIRE_2FA:
            login(request, user)
            audit_record(actor=user, action="staff.login", detail={"second_factor": False})
            return redirect(_next(request))
        request.session[PENDING] = user.pk
        return redirect(f"{reverse('console:code')}?next={_next(request)}")
    context = {"next": _next(request)}
    if request.GET.get("idle"):
        context["error"] = _("You were signed out after a while without activity.")
    return render(request, "console/login.html", context)


def code_view(request: HttpRequest) -> HttpResponse:
    """Step two: the code from the authenticator app; on the first sign-in, enrol it."""
    pending = request.session.get(PENDING)
    user = get_user_model().objects.filter(pk=pending, is_active=True).first() if pending else None
    if user is None:
        return redirect(reverse("console:login"))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if device is None:
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": "authenticator"}
        )
    context: dict[str, Any] = {"next": _next(request), "enrolling": enrolling}
    if enrolling:
        context["qr_svg"] = segno.make(device.config_url, micro=False).svg_inline(scale=4)
        context["secret"] = base64.b32encode(device.bin_key).decode()
    if request.method == "POST":
        token = request.POST.get("token", "").replace(" ", "")
        allowed, _why = device.verify_is_allowed()
        if not allowed:
            # Each wrong code doubles the wait before the next one is even looked at.
            context["error"] = _("Too many wrong codes: wait a few seconds, then try again.")
            return render(request, "console/code.html", context, status=429)
        if token.isdigit() and device.verify_token(token):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            del request.session[PENDING]
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            audit_record(actor=user, action="staff.login", detail={"second_factor": True})
            return redirect(_next(request))
        context["error"] = _("That code is not right. Codes change every 30 seconds.")
        return render(request, "console/code.html", context, status=401)
    return render(request, "console/code.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(actor=request.user, action="staff.logout")
    logout(request)
    return redirect(reverse("console:login"))


@staff_required("orient.view_routing")
def queue(request: HttpRequest) -> HttpResponse:
    """Items waiting for an assessment, P1 first then the oldest, with their SLA."""
    network = request.GET.get("network", "")
    filters = selectors.QueueFilters(
        theme=request.GET.get("theme", ""),
        priority=request.GET.get("priority", "")
        if request.GET.get("priority", "") in ("P1", "P2", "P3", "P4")
        else "",
        channel=request.GET.get("channel", ""),
        country=request.GET.get("country", "")[:2],
        # ASCII digits only ("²".isdigit() too), and few enough to be a 64-bit id.
        network=int(network)
        if network.isascii() and network.isdigit() and len(network) < 19
        else None,
        mine=request.GET.get("mine") == "1",
    )
    result = selectors.queue_for_analyst(user=request.user, filters=filters, limit=100)
    return render(
        request,
        "console/queue.html",
        {
            "queue": result,
            "filters": filters,
            "themes": [t.value for t in Theme],
            "priorities": ("P1", "P2", "P3", "P4"),
            "channels": [c.value for c in Channel],
        },
    )


@require_POST
@staff_required("orient.assess_item")
def claim(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        if request.POST.get("release"):
            services.item_release(item_id=item_id, user=request.user)
        else:
            services.item_claim(item_id=item_id, user=request.user)
    except services.ClaimRefused as exc:
        return render(request, "console/refused.html", {"error": str(exc)}, status=exc.status)
    # Back to the queue as it was (filters kept); htmx swaps only this item's row.
    return redirect(_next(request))


@staff_required("orient.view_routing")
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    """One item, whole; viewing it is recorded. POST: an assessment."""
    if request.method == "POST":
        if not request.user.has_perm("orient.assess_item"):
            raise PermissionDenied(_("Your role does not allow you to assess items."))
        theme, classification = (
            request.POST.get("theme", ""),
            request.POST.get("classification", ""),
        )
        if theme not in Theme.__members__.values() or classification not in (
            Classification.__members__.values()
        ):
            return render(
                request,
                "console/refused.html",
                {"error": _("Choose a theme and a classification.")},
                status=422,
            )
        age = request.POST.get("age_category", "")
        if age and age not in AgeCategory.__members__.values():
            return render(
                request,
                "console/refused.html",
                {"error": _("Choose an age category from the list.")},
                status=422,
            )
        item_classify(
            item_id=item_id,
            theme=Theme(theme),
            classification=Classification(classification),
            age_category=AgeCategory(age) if age else None,
            user=request.user,  # type: ignore[arg-type]  # staff_required: signed in
        )
        return redirect(reverse("console:item", args=[item_id]))
    page = selectors.item_page(item_id=item_id, user=request.user)
    if page is None:
        raise Http404(_("There is no such item."))
    audit_record(actor=request.user, action="item.view", target=f"item:{item_id}")
    page["media"] = selectors.item_media(page["item"])
    page["exposure"] = selectors.exposure_today(request.user)
    page["shown"] = request.GET.get("shown", "")
    page["measured"] = request.GET.get("measured") == "1"
    page["prefs"] = selectors.preferences_of(request.user)
    page["unblur_s"] = round(settings.CONSOLE_UNBLUR_S)
    page["beat_s"] = round(settings.CONSOLE_EXPOSURE_BEAT_S)
    page["age_categories"] = [a.value for a in AgeCategory]
    return render(request, "console/item.html", page)


GRANT = "tipline_unblurred"


@require_POST
@staff_required("orient.view_routing")
def media_unblur(request: HttpRequest, item_id: int) -> HttpResponse:
    """Un-blur one picture, on an explicit click: logged and counted (welfare)."""
    sha256 = request.POST.get("sha256", "")
    media = {m["sha256"]: m for m in selectors.item_media(get_item_or_404(item_id))}
    if sha256 not in media:
        raise Http404(_("This picture is not part of this item."))
    # The page's script says it will measure the viewing time in beats; without it, the
    # whole allowance is counted now and the page blurs the picture again after it.
    measured = request.POST.get("measured") == "1"
    try:
        services.media_unblur(
            user=request.user,
            item_id=item_id,
            sha256=sha256,
            known=media[sha256]["known"],
            seconds=settings.CONSOLE_EXPOSURE_BEAT_S if measured else settings.CONSOLE_UNBLUR_S,
        )
    except services.ExposureCapped as exc:
        return render(request, "console/refused.html", {"error": str(exc)}, status=429)
    # One picture at a time: the grant is for this one, and is used up by showing it.
    request.session[GRANT] = sha256
    then = "&measured=1" if measured else ""
    return redirect(f"{reverse('console:item', args=[item_id])}?shown={sha256}{then}#media")


@staff_required("orient.view_routing")
def media_file(request: HttpRequest, item_id: int, sha256: str, variant: str) -> HttpResponse:
    """A picture's blurred grayscale thumbnail, or (once, after an un-blur) the picture."""
    media = {m["sha256"]: m for m in selectors.item_media(get_item_or_404(item_id))}
    if sha256 not in media or selectors.exposure_today(request.user)["capped"]:
        raise Http404(_("This picture is not shown."))
    row = MediaFile.objects.filter(sha256=sha256).values("thumbnail_sha256", "format").first()
    if variant == "original":
        if request.session.get(GRANT) == sha256:
            del request.session[GRANT]
        elif not selectors.preferences_of(request.user)["blur"] and not media[sha256]["known"]:
            # This person switched blurring off: each picture shown is still logged and
            # counted, as an un-blur would be.
            try:
                services.media_unblur(
                    user=request.user,
                    item_id=item_id,
                    sha256=sha256,
                    known=False,
                    seconds=settings.CONSOLE_UNBLUR_S,
                    automatic=True,
                )
            except services.ExposureCapped as exc:
                raise Http404(str(exc)) from exc
        else:
            raise PermissionDenied(_("Un-blur the picture first: it is logged."))
        data = _evidence(sha256)
        fmt = str(row["format"]).lower() if row else ""
        content_type = (
            f"image/{fmt}" if fmt in ("jpeg", "png", "gif", "webp") else "application/octet-stream"
        )
    else:
        if not row or not row["thumbnail_sha256"]:
            raise Http404(_("This picture has no thumbnail."))
        data = _evidence(row["thumbnail_sha256"])
        content_type = "image/jpeg"
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = "inline"
    return response


def _evidence(sha256: str) -> bytes:
    try:
        return default_store().get(sha256)
    except FileNotFoundError as exc:  # deleted by retention (tipline retention)
        raise Http404(_("This file was deleted when its retention period ended.")) from exc


def get_item_or_404(item_id: int) -> Item:
    item = Item.objects.filter(id=item_id).first()
    if item is None:
        raise Http404(_("There is no such item."))
    return item


@require_POST
@staff_required("orient.view_dispatch")  # every role, liaison officers included
def language(request: HttpRequest) -> HttpResponse:
    """Switch the console's language for this person; it stays their choice."""
    try:
        services.language_set(user=request.user, language=request.POST.get("language", ""))
    except ValueError as exc:
        return render(request, "console/refused.html", {"error": str(exc)}, status=422)
    return redirect(_next(request))


@staff_required("crossref.view_network")
def network_detail(request: HttpRequest, network_id: int) -> HttpResponse:
    """A network: the graph (drawn in the browser from the JSON below) beside the same
    data as tables, its timeline and hosting countries, and search by value."""
    summary = crossref_selectors.network_summary(network_id)
    if summary is None:
        raise Http404(_("There is no such network."))
    if summary["id"] != network_id:  # merged into another: show the one that took it
        return redirect(reverse("console:network", args=[summary["id"]]))
    audit_record(actor=request.user, action="network.view", target=f"network:{network_id}")
    return render(request, "console/network.html", {"network": summary})


@staff_required("crossref.view_network")
def network_json(request: HttpRequest, network_id: int) -> JsonResponse:
    summary = crossref_selectors.network_summary(network_id)
    if summary is None:
        raise Http404(_("There is no such network."))
    return JsonResponse(selectors.network_graph(summary))


@staff_required("crossref.view_network")
def search(request: HttpRequest) -> HttpResponse:
    """Search by phone, e-mail, handle, wallet, domain or image hash."""
    kind, value = request.GET.get("type", "phone"), request.GET.get("value", "").strip()
    found, error = None, ""
    if value:
        try:
            found = crossref_selectors.items_for_value(type_=kind, value=value, limit=200)
        except crossref_selectors.UnknownType as exc:
            error = str(exc)
        else:
            audit_record(actor=request.user, action="value.search", detail={kind: value})
    return render(
        request,
        "console/search.html",
        {"found": found, "error": error, "type": kind, "value": value, "types": SEARCH_TYPES},
    )


SEARCH_TYPES = ("phone", "email", "handle", "wallet", "domain", "image")


@require_POST
@staff_required("orient.view_routing")
def item_action(request: HttpRequest, item_id: int) -> HttpResponse:
    """The item page's actions: a note, proposing, confirming or cancelling a dispatch,
    cutting a wrong link. Each needs its permission; the services keep four eyes."""
    get_item_or_404(item_id)
    action = request.POST.get("action", "")
    needed = {
        "note": "orient.assess_item",
        "propose": "orient.propose_dispatch",
        "confirm": "orient.confirm_dispatch",
        "cancel": "orient.cancel_dispatch",
        "cut": "crossref.cut_link",
        "duplicate": "orient.assess_item",
    }.get(action)
    if needed is None:
        return render(request, "console/refused.html", {"error": _("Unknown action.")}, status=400)
    if not request.user.has_perm(needed):
        raise PermissionDenied(_("Your role does not allow this action."))
    user: Any = request.user
    try:
        if action == "note":
            services.note_add(user=user, item_id=item_id, text=request.POST.get("text", ""))
        elif action == "propose":
            orient_services.dispatch_propose(
                item_id=item_id,
                destination_code=request.POST.get("destination", ""),
                user=user,
                note=request.POST.get("text", ""),
            )
        elif action in ("confirm", "cancel"):
            dispatch_id = int(request.POST.get("dispatch", "0") or 0)
            if not Dispatch.objects.filter(id=dispatch_id, item_id=item_id).exists():
                raise Http404(_("There is no such dispatch on this item."))
            if action == "confirm":
                orient_services.dispatch_confirm(dispatch_id=dispatch_id, user=user)
            else:
                orient_services.dispatch_cancel(
                    dispatch_id=dispatch_id, user=user, reason=request.POST.get("text", "")
                )
        elif action == "duplicate":
            other = request.POST.get("of_item", "").strip().lstrip("#")
            if not other.isdigit():
                raise ValueError(_("Give the number of the item it duplicates, e.g. 42."))
            orient_services.item_close_duplicate(
                item_id=item_id, of_item_id=int(other), note=request.POST.get("text", ""), user=user
            )
        else:
            link_id = int(request.POST.get("link", "0") or 0)
            crossref_services.link_cut(
                link_id=link_id, by=user, reason=request.POST.get("text", "")
            )
    except (ValueError, orient_services.OrientError, crossref_services.CrossrefError) as exc:
        status = getattr(exc, "status", 422)
        return render(request, "console/refused.html", {"error": str(exc)}, status=status)
    return redirect(reverse("console:item", args=[item_id]))


@require_POST
@staff_required("orient.view_routing")
def exposure_beat(request: HttpRequest) -> JsonResponse:
    """The item page's script: an un-blurred picture is still on screen and the tab
    visible. Answers today's total; once the cap is reached the page hides media."""
    try:
        services.exposure_add(user=request.user, seconds=settings.CONSOLE_EXPOSURE_BEAT_S)
    except services.ExposureCapped:
        pass
    return JsonResponse(selectors.exposure_today(request.user))


@staff_required("orient.view_routing")
def preferences(request: HttpRequest) -> HttpResponse:
    """Each person's own welfare settings: blur and grayscale (on by default)."""
    if request.method == "POST":
        services.preferences_set(
            user=request.user,
            blur=request.POST.get("blur") == "1",
            grayscale=request.POST.get("grayscale") == "1",
        )
        return redirect(reverse("console:preferences"))
    return render(
        request, "console/preferences.html", {"prefs": selectors.preferences_of(request.user)}
    )


@staff_required("orient.view_dispatch")
def dispatches(request: HttpRequest) -> HttpResponse:
    """What was dispatched to offices: a liaison officer sees their own office's, and
    records its acknowledgement; hotline staff see every office's."""
    user: Any = request.user
    if request.method == "POST":
        if not user.has_perm("orient.acknowledge_dispatch"):
            raise PermissionDenied(_("Your role does not allow this action."))
        dispatch_id = int(request.POST.get("dispatch", "0") or 0)
        if not Dispatch.objects.filter(id=dispatch_id).exists():
            raise Http404(_("There is no such dispatch."))
        try:
            orient_services.dispatch_acknowledge(
                dispatch_id=dispatch_id, reference=request.POST.get("reference", ""), user=user
            )
        except orient_services.OrientError as exc:
            return render(request, "console/refused.html", {"error": str(exc)}, status=exc.status)
        return redirect(reverse("console:dispatches"))
    rows = orient_selectors.dispatches_for_liaison(user)
    audit_record(actor=user, action="dispatches.view", detail={"shown": len(rows)})
    return render(request, "console/dispatches.html", {"dispatches": rows})
