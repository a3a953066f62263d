"""The takedown follow-up against a real HTTP server on loopback: a host is noticed, the page
is fetched again on a schedule (each check kept as evidence), re-noticed while it stays up,
escalated after enough notices, and recorded as removed when the server says it is gone.

Time is driven explicitly: each re-check is given its `now`, and the outbox delivers what
the check queued at that same moment (`deliver_at`), as a worker would then.
"""

from __future__ import annotations

import ipaddress
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tipline.analyze.models import Capture
from tipline.harmonize.models import Item
from tipline.harmonize.taxonomy import Classification, Theme
from tipline.orient import outbox, selectors, services, takedown, tasks
from tipline.orient.models import (
    Dispatch,
    DispatchKind,
    DispatchState,
    Takedown,
    TakedownState,
)

from ..analyze.test_capture import Site, connects  # noqa: F401 - the tripwire fixture
from ..conftest import drain
from .conftest import hosted, report_page

pytestmark = pytest.mark.django_db

ABUSE = "abuse@host.example"
AD_PAGE = (
    b"<html><head><title>Nouvelle en ville</title></head><body>"
    b"<p>Nouvelle en ville, dispo ce soir, 100 roses/30 min. Appelez le 01 99 00 12 34</p>"
    b"</body></html>"
)
CHECK_TASK = "tipline.orient.tasks.takedowns_check"


@pytest.fixture
def site(settings: Any, connects: list[tuple[str, int]]) -> Iterator[Site]:
    """A hosting provider's server on loopback, serving one synthetic ad; captures may reach
    it, hosting lookups stay on loopback (RDAP is asked at a port where nothing listens)."""
    settings.ANALYZE_NETWORK = True
    settings.CAPTURE_ALLOW_LOOPBACK = True
    settings.CAPTURE_TIMEOUT_S = 5.0
    settings.RDAP_URL = "http://127.0.0.1:9"
    settings.DNS_SERVERS = ["127.0.0.1:9"]
    s = Site().start()
    s.page("/ad/1", AD_PAGE)
    yield s
    if not s.stopping.is_set():
        s.stop()
    # The tripwire refuses anything else, but the code under test may swallow the refusal.
    assert connects and all(ipaddress.ip_address(host).is_loopback for host, _ in connects)


@dataclass
class Noticed:
    item: Item
    takedown: Takedown
    notice: Dispatch


def notice_page(site: Site, path: str, analyst: User) -> Noticed:
    """Report a page of `site`, state its hosting (France), assess it: the host is noticed."""
    item = report_page(site.url(path))
    hosted("127.0.0.1", "FR", ABUSE)
    services.item_classify(
        item_id=item.id,
        theme=Theme.TRAFFICKING,
        classification=Classification.NATIONAL,
        user=analyst,
    )
    drain()
    notice = Dispatch.objects.get(item=item, kind=DispatchKind.NOTICE)
    return Noticed(item=item, takedown=Takedown.objects.get(item=item), notice=notice)


@pytest.fixture
def noticed(site: Site, analyst: User) -> Noticed:
    return notice_page(site, "/ad/1", analyst)


def reload(t: Takedown) -> Takedown:
    return Takedown.objects.get(id=t.id)


def notices_to_host() -> list[Any]:
    return [m for m in mail.outbox if m.to == [ABUSE]]


def deliver_at(now: datetime) -> list[str]:
    """What a worker does at `now`: deliver every outbox row that is due."""
    due = Dispatch.objects.filter(state=DispatchState.PENDING, next_attempt_at__lte=now)
    return [
        outbox.dispatch_deliver(dispatch_id=i, now=now) for i in due.values_list("id", flat=True)
    ]


def renotice_due(t: Takedown, settings: Any) -> datetime:
    """The first moment a re-check may notice the host again."""
    assert t.last_notice_at is not None
    return t.last_notice_at + timedelta(seconds=settings.TAKEDOWN_RENOTICE_S + 1)


# --- The first notice ------------------------------------------------------------------------


def test_assessing_a_page_notices_its_host_and_opens_the_follow_up(noticed, settings) -> None:
    item, t = noticed.item, noticed.takedown
    assert item.host == "127.0.0.1"
    # The page was captured when it was reported: the notice carries that evidence.
    [first_capture] = Capture.objects.filter(item=item)
    assert (first_capture.status, first_capture.error) == (200, "")
    [notice] = notices_to_host()
    assert "contenu illicite" in notice.subject  # the host is in France: in French
    assert notice.extra_headers["X-Tipline-Reference"] in notice.body
    assert first_capture.body_sha256 in notice.body
    assert noticed.notice.state == DispatchState.SENT and noticed.notice.sequence == 1
    assert (t.state, t.notices, t.host, t.country) == (TakedownState.OPEN, 1, "127.0.0.1", "FR")
    assert t.first_notice_at == t.last_notice_at == noticed.notice.sent_at
    assert t.next_check_at == t.first_notice_at + timedelta(seconds=settings.TAKEDOWN_CHECK_S)
    assert t.checks == 0 and t.last_check == ""


def test_the_notice_names_the_address_the_page_is_served_at(noticed, site) -> None:
    [notice] = notices_to_host()
    assert site.url("/ad/1") in notice.body


# --- 1. still online -------------------------------------------------------------------------


def test_a_page_still_online_is_recorded_with_evidence(noticed, site, settings) -> None:
    t = noticed.takedown
    assert t.next_check_at is not None
    early = t.next_check_at - timedelta(seconds=1)
    assert takedown.takedowns_due(now=early) == []
    assert takedown.takedowns_due(now=t.next_check_at) == [t.id]
    served = len(site.requests)
    captures = Capture.objects.filter(item=noticed.item).count()

    now = t.next_check_at
    seen = takedown.takedown_check(takedown_id=t.id, now=now)

    assert seen == "HTTP 200: still online"
    assert len(site.requests) == served + 1  # the server was really asked again
    t = reload(t)
    assert (t.state, t.last_check, t.last_check_at, t.checks) == ("open", seen, now, 1)
    assert t.next_check_at == now + timedelta(seconds=settings.TAKEDOWN_CHECK_S)
    assert takedown.takedowns_due(now=now) == []
    check = Capture.objects.filter(item=noticed.item).order_by("-id").first()
    assert Capture.objects.filter(item=noticed.item).count() == captures + 1
    assert check is not None and (check.status, check.attempt, check.error) == (200, 1, "")
    assert check.body_sha256  # what the server returned is kept
    # Four hours after the notice is too early to notice the host again.
    assert Dispatch.objects.filter(item=noticed.item, kind=DispatchKind.NOTICE).count() == 1
    assert t.notices == 1


# --- 2. re-notice ----------------------------------------------------------------------------


def test_still_online_a_day_after_the_notice_the_host_is_reminded(noticed, settings) -> None:
    t = noticed.takedown
    now = renotice_due(t, settings)

    assert takedown.takedown_check(takedown_id=t.id, now=now) == "HTTP 200: still online"

    [first, second] = Dispatch.objects.filter(item=noticed.item, kind=DispatchKind.NOTICE).order_by(
        "sequence"
    )
    assert first.id == noticed.notice.id
    assert (second.sequence, second.state, second.destination_id) == (
        2,
        DispatchState.PENDING,
        first.destination_id,
    )
    assert second.body == {"renotice_of": first.id}
    # A second check before the reminder has gone queues nothing more.
    later = now + timedelta(seconds=settings.TAKEDOWN_RENOTICE_S + 1)
    takedown.takedown_check(takedown_id=t.id, now=later)
    assert Dispatch.objects.filter(item=noticed.item, kind=DispatchKind.NOTICE).count() == 2

    # The worker's delivery task runs on the real clock: the reminder is not due before `now`.
    drain()
    assert len(notices_to_host()) == 1
    assert deliver_at(later) == [DispatchState.SENT]
    [notice, reminder] = notices_to_host()
    # The host is in France: its notices are in French.
    assert "Rappel 2" in reminder.subject and "Reminder" not in reminder.subject
    assert "Ceci est la notification n° 2" in reminder.body
    assert f"{t.first_notice_at:%Y-%m-%d %H:%M} UTC" in reminder.body
    reference = reminder.extra_headers["X-Tipline-Reference"]
    assert reference in reminder.subject
    assert reference != notice.extra_headers["X-Tipline-Reference"]
    t = reload(t)
    assert (t.notices, t.last_notice_at, t.first_notice_at) == (
        2,
        later,
        noticed.takedown.first_notice_at,
    )
    assert t.state == TakedownState.OPEN


def test_an_english_speaking_host_gets_reminder_2(site, analyst, settings) -> None:
    item = report_page(site.url("/ad/1"))
    # Served from Britain, where we have no partner: the host is noticed, in English.
    hosted("127.0.0.1", "GB", "abuse@uk-host.example")
    services.item_classify(
        item_id=item.id,
        theme=Theme.TRAFFICKING,
        classification=Classification.NATIONAL,
        user=analyst,
    )
    drain()
    t = Takedown.objects.get(item=item)
    assert t.country == "GB" and t.notices == 1
    now = renotice_due(t, settings)
    takedown.takedown_check(takedown_id=t.id, now=now)
    deliver_at(now)
    subjects = [m.subject for m in mail.outbox if m.to == ["abuse@uk-host.example"]]
    assert len(subjects) == 2
    assert "Reminder" not in subjects[0]
    assert "Reminder 2:" in subjects[1]


def test_a_reminder_shows_the_check_that_saw_the_page_still_online(noticed, site, settings) -> None:
    t = noticed.takedown
    now = t.next_check_at
    assert now is not None
    # Checked every 4 h (the default) for a day; the ad's view counter changes each time.
    for views in range(1, 7):
        site.page("/ad/1", AD_PAGE + f"<!-- vues : {views} -->".encode())
        takedown.takedown_check(takedown_id=t.id, now=now)
        checked, now = now, now + timedelta(seconds=settings.TAKEDOWN_CHECK_S)
    assert Dispatch.objects.filter(item=noticed.item, kind=DispatchKind.NOTICE).count() == 2
    deliver_at(checked)
    [_, reminder] = notices_to_host()
    last = Capture.objects.filter(item=noticed.item).latest("id")
    assert last.body_sha256 in reminder.body


def test_two_overlapping_checks_remind_the_host_once(noticed, settings, monkeypatch) -> None:
    """Housekeeping starts a takedowns_check every minute on every worker while checks are
    due; a slow page is then fetched by two tasks at once. Forced here: while one check is
    fetching the page, the other checks it, queues the reminder and a worker sends it."""
    t = noticed.takedown
    now = renotice_due(t, settings)
    fetch = takedown.capture_item_run
    overlapped: list[str] = []

    def slow_fetch(*, item_id: int, attempt: int) -> Capture:
        if not overlapped:
            overlapped.append("fetching")
            overlapped[0] = takedown.takedown_check(takedown_id=t.id, now=now)
            deliver_at(now)
        return fetch(item_id=item_id, attempt=attempt)

    monkeypatch.setattr(takedown, "capture_item_run", slow_fetch)
    seen = takedown.takedown_check(takedown_id=t.id, now=now + timedelta(seconds=5))
    deliver_at(now + timedelta(seconds=5))

    # The second check found the takedown claimed by the first and left it alone.
    assert overlapped == ["not due: another check holds it"]
    assert seen == "HTTP 200: still online"
    assert [m.subject.split("] ")[1][:9] for m in notices_to_host()[1:]] == ["Rappel 2 "]
    assert Dispatch.objects.filter(item=noticed.item, kind=DispatchKind.NOTICE).count() == 2
    assert reload(t).notices == 2


# --- 3. escalation ---------------------------------------------------------------------------


def test_after_enough_notices_the_supervisor_is_alerted_once(noticed, settings) -> None:
    settings.TAKEDOWN_ESCALATE_AFTER = 2
    t = noticed.takedown
    first = renotice_due(t, settings)
    takedown.takedown_check(takedown_id=t.id, now=first)
    deliver_at(first)
    t = reload(t)
    assert t.notices == 2 and t.escalated_at is None

    second = renotice_due(t, settings)
    assert takedown.takedown_check(takedown_id=t.id, now=second) == "HTTP 200: still online"
    t = reload(t)
    assert t.escalated_at == second
    [alert] = Dispatch.objects.filter(item=noticed.item, kind=DispatchKind.ALERT)
    assert alert.address == settings.ESCALATION_EMAIL
    assert deliver_at(second) == [DispatchState.SENT]
    [sent] = [m for m in mail.outbox if m.to == [settings.ESCALATION_EMAIL]]
    assert sent.subject == f"[Tipline] Takedown escalation: item {noticed.item.id} still online"
    assert "still online after 2 notices" in sent.body
    assert "127.0.0.1, FR" in sent.body
    # No third notice, and later checks do not escalate again.
    third = second + timedelta(seconds=2 * settings.TAKEDOWN_RENOTICE_S)
    takedown.takedown_check(takedown_id=t.id, now=third)
    deliver_at(third)
    assert Dispatch.objects.filter(item=noticed.item, kind=DispatchKind.NOTICE).count() == 2
    assert Dispatch.objects.filter(item=noticed.item, kind=DispatchKind.ALERT).count() == 1
    assert len(notices_to_host()) == 2
    t = reload(t)
    assert (t.notices, t.escalated_at, t.checks, t.state) == (2, second, 3, TakedownState.OPEN)


# --- 4. removed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gone",
    [
        pytest.param(None, id="404-unknown-path"),
        pytest.param(410, id="410-gone"),
        pytest.param(451, id="451-legal"),
    ],
)
def test_a_page_the_server_stops_serving_is_removed(noticed, site, gone) -> None:
    if gone is None:
        del site.routes["/ad/1"]  # the server answers 404 for what it no longer has
    else:
        site.page("/ad/1", b"<html>not available</html>", status=gone)
    status = gone or 404
    t = noticed.takedown
    assert t.first_notice_at is not None
    now = t.first_notice_at + timedelta(hours=7, minutes=3)

    seen = takedown.takedown_check(takedown_id=t.id, now=now)

    assert seen == f"HTTP {status}: gone"
    t = reload(t)
    assert (t.state, t.removed_at, t.checks, t.last_check) == (TakedownState.REMOVED, now, 1, seen)
    assert str(status) in t.removed_how
    assert t.next_check_at is None
    assert t.time_to_removal_s == (now - t.first_notice_at).total_seconds() == 7 * 3600 + 180
    check = Capture.objects.filter(item=noticed.item).order_by("-id").first()
    assert check is not None and check.status == status  # the answer is kept as evidence
    # Closed: nothing is due any more, and a later check does not fetch the page again.
    assert takedown.takedowns_due(now=now + timedelta(days=30)) == []
    served = len(site.requests)
    assert takedown.takedown_check(takedown_id=t.id, now=now + timedelta(days=1)) == (
        "already removed"
    )
    assert len(site.requests) == served


def test_removal_times_by_host_and_country(site, analyst) -> None:
    for n in (1, 2, 3):
        site.page(f"/ad/{n}", AD_PAGE)
    pages = [notice_page(site, f"/ad/{n}", analyst) for n in (1, 2, 3)]
    durations = [timedelta(hours=5), timedelta(hours=30)]
    for n, (page, took) in enumerate(zip(pages[:2], durations, strict=True), start=1):
        del site.routes[f"/ad/{n}"]
        assert page.takedown.first_notice_at is not None
        now = page.takedown.first_notice_at + took
        assert takedown.takedown_check(takedown_id=page.takedown.id, now=now) == "HTTP 404: gone"
    third = pages[2].takedown
    assert third.next_check_at is not None
    assert takedown.takedown_check(takedown_id=third.id, now=third.next_check_at).endswith(
        "still online"
    )
    seconds = [d.total_seconds() for d in durations]
    expected = {
        "removed": 2,
        "online": 1,
        "median_s": statistics.median(seconds),
        "max_s": max(seconds),
    }
    assert selectors.removal_times(by="host") == [{"host": "127.0.0.1", **expected}]
    assert selectors.removal_times(by="country") == [{"country": "FR", **expected}]
    with pytest.raises(ValueError, match="by must be"):
        selectors.removal_times(by="asn")


# --- 5. unreachable --------------------------------------------------------------------------


def test_an_unreachable_server_is_not_taken_for_a_removal(noticed, site, settings) -> None:
    site.stop()  # nothing listens on the port any more: connection refused
    t = noticed.takedown
    now = renotice_due(t, settings)  # late enough for a reminder, were the page seen online

    seen = takedown.takedown_check(takedown_id=t.id, now=now)

    assert seen.startswith("not reachable: ")
    assert "refused" in seen.lower()
    t = reload(t)
    assert (t.state, t.removed_at, t.last_check, t.checks) == (TakedownState.OPEN, None, seen, 1)
    assert t.next_check_at == now + timedelta(seconds=settings.TAKEDOWN_CHECK_S)
    # Nobody is reminded of a page we could not see.
    assert Dispatch.objects.filter(item=noticed.item, kind=DispatchKind.NOTICE).count() == 1
    assert selectors.removal_times(by="host") == [
        {"host": "127.0.0.1", "removed": 0, "online": 1, "median_s": None, "max_s": None}
    ]


# --- 6. housekeeping -------------------------------------------------------------------------


def check_tasks() -> int:
    return DBTaskResult.objects.filter(task_path=CHECK_TASK).count()


def test_housekeeping_starts_checks_only_when_some_are_due(site, analyst, settings) -> None:
    noticed = notice_page(site, "/ad/1", analyst)
    # The first check is four hours away: nothing to start.
    assert tasks.housekeeping()["checks_started"] == 0
    assert check_tasks() == 0

    # The time of the first check comes.
    due = timezone.now()
    Takedown.objects.filter(id=noticed.takedown.id).update(next_check_at=due)
    served = len(site.requests)
    assert tasks.housekeeping()["checks_started"] == 1
    assert check_tasks() == 1
    drain()
    assert len(site.requests) == served + 1
    t = reload(noticed.takedown)
    assert (t.checks, t.last_check, t.state) == (1, "HTTP 200: still online", "open")
    assert t.last_check_at is not None and t.last_check_at >= due
    assert t.next_check_at is not None and t.next_check_at > due
    assert tasks.housekeeping()["checks_started"] == 0


def test_housekeeping_check_sees_a_removal(site, analyst, settings) -> None:
    settings.TAKEDOWN_CHECK_S = 0  # due as soon as the notice is sent
    noticed = notice_page(site, "/ad/1", analyst)
    site.page("/ad/1", b"gone", status=410)
    assert tasks.housekeeping()["checks_started"] == 1
    drain()
    t = reload(noticed.takedown)
    assert t.state == TakedownState.REMOVED and "410" in t.removed_how
    assert tasks.housekeeping()["checks_started"] == 0


# --- 7. an analyst's word --------------------------------------------------------------------


def test_an_analyst_records_the_removal_once(noticed, site) -> None:
    t = noticed.takedown
    assert t.first_notice_at is not None
    when = t.first_notice_at + timedelta(hours=2)

    closed = services.item_removed(
        item_id=noticed.item.id, how="analyst checked: page gone", when=when
    )

    assert (closed.id, closed.state, closed.removed_at) == (t.id, TakedownState.REMOVED, when)
    again = services.item_removed(
        item_id=noticed.item.id, how="the host said so", when=when + timedelta(days=1)
    )
    assert (again.removed_at, again.removed_how) == (when, "analyst checked: page gone")
    t = reload(t)
    assert (t.state, t.removed_at, t.removed_how) == (
        TakedownState.REMOVED,
        when,
        "analyst checked: page gone",
    )
    assert t.time_to_removal_s == 7200
    assert t.next_check_at is None
    served = len(site.requests)
    assert takedown.takedown_check(takedown_id=t.id, now=when + timedelta(hours=5)) == (
        "already removed"
    )
    assert len(site.requests) == served


def test_a_reminder_queued_before_the_removal_is_not_sent(noticed, settings) -> None:
    t = noticed.takedown
    now = renotice_due(t, settings)
    takedown.takedown_check(takedown_id=t.id, now=now)
    reminder = Dispatch.objects.get(item=noticed.item, kind=DispatchKind.NOTICE, sequence=2)
    assert reminder.state == DispatchState.PENDING
    # Before the reminder goes (the mail server is slow, say), an analyst sees the page gone.
    services.item_removed(item_id=noticed.item.id, how="analyst checked: page gone", when=now)

    deliver_at(now + timedelta(minutes=5))

    assert len(notices_to_host()) == 1  # no "Reminder 2: ... still online" after removal
    reminder.refresh_from_db()
    assert reminder.state == DispatchState.CANCELLED
    assert reload(t).notices == 1
