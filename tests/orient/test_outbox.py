"""The outbox against real servers on loopback: mail handed to an SMTP server, a mail
server that is down, a partner that refuses or fails, backoff, giving up, leases."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tipline.harmonize.taxonomy import Classification, Theme
from tipline.orient import outbox, services
from tipline.orient.models import Dispatch, DispatchKind, DispatchState

from ..conftest import drain
from .conftest import hosted, report_page
from .servers import PartnerStub, SMTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    server = SMTPServer().start()
    yield server
    server.stop()


def use_smtp(settings, port: int) -> None:  # type: ignore[no-untyped-def]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assessed_page(url: str, host: str, analyst) -> int:  # type: ignore[no-untyped-def]
    """A page hosted at home, assessed: its referral and notice are queued. Not delivered."""
    item = report_page(url)
    hosted(host, "FR", f"abuse@{host}")
    services.item_classify(
        item_id=item.id,
        theme=Theme.TRAFFICKING,
        classification=Classification.NATIONAL,
        user=analyst,
    )
    return item.id


def test_notices_and_referrals_go_through_a_real_smtp_server(settings, smtp, analyst) -> None:
    use_smtp(settings, smtp.port)
    item_id = assessed_page("https://smtp.example/ad", "smtp.example", analyst)
    drain()
    assert {tuple(to) for to, _ in smtp.received} == {
        ("referrals@trafficking.police.example",),
        ("abuse@smtp.example",),
    }
    notice = next(m for to, m in smtp.received if to == ["abuse@smtp.example"])
    row = Dispatch.objects.get(item_id=item_id, kind=DispatchKind.NOTICE)
    assert notice["X-Tipline-Reference"] == row.reference
    assert row.reference in notice["Subject"]
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, "")


def test_a_mail_server_that_is_down_is_tried_again_with_backoff(settings, analyst) -> None:
    port = closed_port()
    use_smtp(settings, port)
    settings.OUTBOX_RETRY_BASE_S = 30.0
    item_id = assessed_page("https://down.example/ad", "down.example", analyst)
    notice = Dispatch.objects.get(item_id=item_id, kind=DispatchKind.NOTICE)
    t0 = timezone.now()
    assert outbox.dispatch_deliver(dispatch_id=notice.id, now=t0) == DispatchState.PENDING
    notice.refresh_from_db()
    assert notice.attempts == 1
    assert "mail not sent" in notice.last_error and "refused" in notice.last_error.lower()
    assert notice.next_attempt_at == t0 + timedelta(seconds=30)
    # Not due yet: nothing is tried.
    assert outbox.dispatch_deliver(dispatch_id=notice.id, now=t0 + timedelta(seconds=10)) == (
        "pending"
    )
    notice.refresh_from_db()
    assert notice.attempts == 1
    # Second failure doubles the wait.
    t1 = t0 + timedelta(seconds=31)
    outbox.dispatch_deliver(dispatch_id=notice.id, now=t1)
    notice.refresh_from_db()
    assert (notice.attempts, notice.next_attempt_at) == (2, t1 + timedelta(seconds=60))
    # The server comes back on that port: the notice goes, once.
    smtp = SMTPServer(port).start()
    try:
        state = outbox.dispatch_deliver(dispatch_id=notice.id, now=t1 + timedelta(seconds=61))
        assert state == DispatchState.SENT
        assert [to for to, _ in smtp.received] == [["abuse@down.example"]]
    finally:
        smtp.stop()


def test_after_the_maximum_age_a_message_is_undeliverable_and_the_duty_is_alerted(
    settings, analyst
) -> None:
    use_smtp(settings, closed_port())
    settings.OUTBOX_MAX_AGE_S = 3600
    item_id = assessed_page("https://gone.example/ad", "gone.example", analyst)
    notice = Dispatch.objects.get(item_id=item_id, kind=DispatchKind.NOTICE)
    later = timezone.now() + timedelta(hours=2)
    assert outbox.dispatch_deliver(dispatch_id=notice.id, now=later) == "undeliverable"
    notice.refresh_from_db()
    assert notice.closed_at == later
    [alert] = Dispatch.objects.filter(kind=DispatchKind.ALERT)
    assert alert.address == settings.ESCALATION_EMAIL
    assert f"#{notice.id}" in alert.body["subject"] and "undeliverable" in alert.body["subject"]
    assert "Connection refused" in alert.body["text"] or "refused" in alert.body["text"]
    # The console lists it; an operator puts it back once the mail server is fixed.
    from tipline.orient.selectors import outbox_problems

    assert [d.id for d in outbox_problems()] == [notice.id]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    services.dispatch_retry(dispatch_id=notice.id)
    drain()
    notice.refresh_from_db()
    assert notice.state == "sent"
    assert any(m.to == ["abuse@gone.example"] for m in mail.outbox)


@pytest.mark.parametrize(
    ("status", "state"),
    [(403, "failed"), (400, "failed"), (500, "pending"), (503, "pending"), (429, "pending")],
)
def test_a_partner_that_refuses_fails_at_once_one_that_errs_is_tried_again(
    partner_de, analyst, status: int, state: str
) -> None:
    dest, _ = partner_de
    stub = PartnerStub(status, {"detail": "unknown sender"}).start()
    try:
        dest.endpoint_url = stub.url
        dest.save()
        item = report_page("https://partner-err.example/x")
        hosted("partner-err.example", "DE", "abuse@partner-err.example")
        services.item_classify(
            item_id=item.id, theme=Theme.CSAM, classification=Classification.BASELINE, user=analyst
        )
        d = Dispatch.objects.get(item=item, destination=dest)
        assert outbox.dispatch_deliver(dispatch_id=d.id) == state
        d.refresh_from_db()
        assert f"answered {status}" in d.last_error
        assert len(stub.tokens) == 1 and stub.tokens[0].count(".") == 4  # a JWE compact token
        alerts = Dispatch.objects.filter(kind=DispatchKind.ALERT).count()
        assert alerts == (1 if state == "failed" else 0)
    finally:
        stub.stop()


def test_an_answer_without_a_valid_receipt_is_not_an_acknowledgement(partner_de, analyst) -> None:
    dest, _ = partner_de
    stub = PartnerStub(200, {"receipt": "not.a.receipt"}).start()
    try:
        dest.endpoint_url = stub.url
        dest.save()
        item = report_page("https://noreceipt.example/x")
        hosted("noreceipt.example", "DE", "")
        services.item_classify(
            item_id=item.id, theme=Theme.CSAM, classification=Classification.BASELINE, user=analyst
        )
        d = Dispatch.objects.get(item=item, destination=dest)
        assert outbox.dispatch_deliver(dispatch_id=d.id) == "pending"
        d.refresh_from_db()
        assert "without a valid receipt" in d.last_error
    finally:
        stub.stop()


def test_a_row_being_delivered_is_not_sent_twice_nor_cancelled(analyst) -> None:
    item_id = assessed_page("https://lease.example/ad", "lease.example", analyst)
    notice = Dispatch.objects.get(item_id=item_id, kind=DispatchKind.NOTICE)
    now = timezone.now()
    Dispatch.objects.filter(id=notice.id).update(claimed_until=now + timedelta(minutes=5))
    assert outbox.dispatch_deliver(dispatch_id=notice.id, now=now) == "pending"
    assert not any(m.to == ["abuse@lease.example"] for m in mail.outbox)
    with pytest.raises(services.OrientError, match="being delivered right now"):
        services.dispatch_cancel(dispatch_id=notice.id, user=analyst, reason="x")
    # A worker that died holding it: the lease runs out and another worker sends it.
    assert outbox.dispatch_deliver(dispatch_id=notice.id, now=now + timedelta(minutes=6)) == (
        "sent"
    )
    assert sum(m.to == ["abuse@lease.example"] for m in mail.outbox) == 1


def test_rows_no_task_is_delivering_are_queued_again(analyst) -> None:
    item_id = assessed_page("https://stalled.example/ad", "stalled.example", analyst)
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the tasks were lost
    later = timezone.now() + timedelta(minutes=5)
    assert outbox.outbox_requeue_stalled(now=later) == 2
    drain()
    states = set(Dispatch.objects.filter(item_id=item_id).values_list("state", flat=True))
    assert states == {"sent"}
    assert outbox.outbox_requeue_stalled(now=later) == 0


def test_a_task_finding_its_row_leased_comes_back_when_the_lease_ends(analyst) -> None:
    """A worker died mid-send: the task taken back from it finds the row still leased. It
    must come back when the lease runs out, not at once in a loop for the whole lease."""
    from django_tasks_db.models import DBTaskResult

    item_id = assessed_page("https://leased.example/ad", "leased.example", analyst)
    notice = Dispatch.objects.get(item_id=item_id, kind=DispatchKind.NOTICE)
    lease_end = timezone.now() + timedelta(minutes=5)
    Dispatch.objects.filter(id=notice.id).update(claimed_until=lease_end)
    DBTaskResult.objects.all().delete()
    outbox.deliver_dispatches.call(dispatch_ids=[notice.id])
    [again] = DBTaskResult.objects.filter(task_path__endswith="deliver_dispatches")
    assert again.args_kwargs["kwargs"] == {"dispatch_ids": [notice.id]}
    assert again.run_after == lease_end
    notice.refresh_from_db()
    assert (notice.state, notice.attempts) == ("pending", 0)
